"""Source of schema/result.schema.json (the JSON an evaluation returns). Run it to regenerate."""

import json
import pathlib
import sys
from typing import get_args

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from interpreter.loading.model import NodeKind
from interpreter.result import ACTION_TEXT_FIELDS

S = {"type": "string"}
NS = {"type": ["string", "null"]}
SL = {"type": "array", "items": S}


def obj(props, required=None, description=""):
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": props,
        "required": list(props) if required is None else required,
        "description": description,
    }


citation = obj({"key": S, "citation": S, "url": S}, ["key", "citation"], "A resolved citation.")
dose = obj(
    {
        "status": {"enum": ["computed", "cannot-compute"]},
        "value": {
            "type": ["number", "null"],
            "description": "The total dose; null when it could not be computed.",
        },
        "value_text": {
            "type": ["string", "null"],
            "description": "The exact decimal text of the total dose.",
        },
        "unit": S,
        "prescribed": S,
        "display": S,
        "calculation": SL,
        "needs": SL,
        "warnings": SL,
    },
    description="A dose with its calculation shown; never computed from missing facts.",
)
action = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type"],
    "description": "A structured action (cautions are listed under `cautions`).",
    "properties": {
        "type": {"enum": ["medication", "monitoring", "stop-drug", "procedure", "referral"]},
        **{k: S for k in ACTION_TEXT_FIELDS},
        "dose": dose,
        "not_before": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "The earliest start the action states (`not_before:`), computed for the patient: "
            "ISO 8601 with the offset of the evaluation's calendar; null when its facts are unknown (the "
            "result is then incomplete). Present only for an action that states one.",
        },
        "not_before_needs": {
            "type": "array",
            "items": S,
            "description": "When `not_before` is null: the facts it needs.",
        },
    },
}
recommendation = obj(
    {
        "id": S,
        "title": NS,
        "text": S,
        "strength": NS,
        "category": NS,
        "citations": {"type": "array", "items": citation, "minItems": 1},
        "actions": {"type": "array", "items": action},
        "via": SL,
        "urgency": {
            "enum": ["immediate", "urgent", "routine"],
            "description": "The urgency the guideline declares (absent: not declared, routine). "
            "Recommendations are listed by urgency, then in the order of the walk.",
        },
    },
    ["id", "title", "text", "strength", "category", "citations", "actions", "via"],
    description="A recommendation that applies.",
)
superseded = obj(
    {
        "id": S,
        "title": NS,
        "superseded_by": {
            "type": "array",
            "minItems": 1,
            "items": obj(
                {"id": S, "reason": NS}, description="A recommendation that applied and supersedes it."
            ),
        },
    },
    description="A recommendation that applied but is not shown: another one that applied supersedes it.",
)
caution = obj(
    {"recommendation": S, "text": S, "citations": {"type": "array", "items": citation}, "note": S},
    ["recommendation", "text", "citations"],
    "A caution from an applying recommendation.",
)
cannot = obj(
    {"node": S, "branch": {"type": "integer"}, "label": NS, "condition": S, "needs": SL, "applied": SL},
    description="A decision that could not be made because a condition was unknown.",
)
alternative = obj(
    {
        "branch": {"type": "integer", "description": "The branch index; -1 for `otherwise`."},
        "when": {"type": "string", "description": "The condition that selects it, as written; `otherwise`."},
        "label": NS,
        "recommendations": {
            "type": "array",
            "items": recommendation,
            "description": "What it would recommend, in the shape of firm recommendations (doses computed "
            "where the known facts allow).",
        },
        "cautions": {"type": "array", "items": caution},
        "conditional": {
            "type": "array",
            "items": {"$ref": "#/$defs/conditional"},
            "description": "Nodes under this alternative that the known facts cannot decide either.",
        },
        "note": {
            "type": ["string", "null"],
            "description": "Why something under it is not shown (a limit, a condition or dose that fails).",
        },
        "superseded": {
            "type": "array",
            "items": superseded,
            "description": "Recommendations it would apply that are superseded (by one of its own, a firm "
            "one or one of an enclosing alternative); present only when there are some.",
        },
    },
    ["branch", "when", "label", "recommendations", "cautions", "conditional", "note"],
    description="One alternative the known facts leave open (an alternative whose condition is false for "
    "the known facts is left out).",
)
conditional = obj(
    {
        "node": S,
        "question": NS,
        "selects": {
            "enum": ["first", "each"],
            "description": "first: the first alternative whose condition holds applies (a choice node); "
            "each: every alternative whose condition holds applies (a collect node).",
        },
        "needs": SL,
        "via": SL,
        "alternatives": {"type": "array", "items": alternative},
        "omitted": {"type": "integer", "minimum": 0, "description": "Alternatives not shown (a limit)."},
        "note": NS,
    },
    description="Conditional advice of an undecided node: never part of the firm recommendations; the result "
    "stays incomplete.",
)
needed = obj(
    {
        "name": S,
        "reason": {"enum": ["missing", "stale", "undated", "insufficient"]},
        "description": S,
        "detail": S,
        "needed_by": SL,
    },
    description="A fact the result still needs.",
)
branch = obj(
    {
        "index": {"type": "integer"},
        "label": NS,
        "condition": S,
        "outcome": {"enum": ["true", "false", "unknown", "otherwise"]},
        "values": {"type": "object"},
        "decided_for_every_value_of": {
            **SL,
            "description": "Present when the condition was decided although facts were unknown: the same "
            "outcome for every value of these (a score is shown with the range it can still reach).",
        },
    },
    ["index", "label", "condition", "outcome", "values"],
    description="One condition evaluated, with the values it read.",
)
NUM = {"type": "number"}
score_item = {
    "type": "object",
    "additionalProperties": False,
    "required": ["label", "points"],
    "properties": {
        "label": S,
        "points": {"type": ["number", "null"], "description": "The item's points; null when unknown."},
        "min": {**NUM, "description": "When unknown: the least points it can still give."},
        "max": {**NUM, "description": "When unknown: the most points it can still give."},
        "possible": {"type": "array", "items": NUM, "description": "When unknown: every points value left."},
        "needs": {**SL, "description": "When unknown: the facts that would settle it."},
    },
    "description": "One item of a score: its points, or (unknown) its range and the facts it needs.",
}
score = obj(
    {
        "name": S,
        "value": {"type": ["number", "null"], "description": "The sum; null when an item is unknown."},
        "min": {**NUM, "description": "The least the score can be (the value when known)."},
        "max": {**NUM, "description": "The most the score can be (the value when known)."},
        "needs": {**SL, "description": "The facts of the unknown items."},
        "items": {"type": "array", "items": score_item},
    },
    description="A score of the guideline: its value or bounds and each item's contribution.",
)
assumed = obj(
    {
        "fact": {"type": "string", "description": "The input's name."},
        "value": {
            "description": "The value assumed, as `facts` shows values: a decimal string in the input's "
            "unit, true/false, a word, or a list of words.",
            "anyOf": [
                {"type": "string"},
                {"type": "boolean"},
                {"type": "array", "items": {"type": "string"}},
            ],
        },
        "unit": {"type": "string", "description": "The input's unit (quantities only)."},
        "reason": {"enum": ["not given", "given as null"], "description": "Why the default was used."},
    },
    required=["fact", "value", "reason"],
    description="A value assumed for an absent fact: the input's `default:` in the guideline. A stale, "
    "undated or refused value is never replaced by a default.",
)
step = obj(
    {
        "node": S,
        "kind": {"enum": list(get_args(NodeKind))},
        "title": NS,
        "outcome": {"enum": ["branch", "otherwise", "cannot-decide", "none"]},
        "taken": SL,
        "branches": {"type": "array", "items": branch},
    },
    description="One node visited.",
)
schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.org/guideline-interpreter/result.schema.json",
    "title": "Guideline evaluation result",
    **obj(
        {
            "format": {"const": "guideline-result/1"},
            "guideline": obj(
                {
                    "id": S,
                    "version": S,
                    "title": S,
                    "status": {"enum": ["draft", "in-review", "approved", "retired"]},
                    "content_hash": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
                },
                description="Which guideline produced this result.",
            ),
            "as_of": {"type": "string", "description": "The as-of time of the evaluation (ISO 8601)."},
            "status": {
                "enum": ["complete", "incomplete"],
                "description": "incomplete: some decision needs facts that are missing or stale.",
            },
            "recommendations": {"type": "array", "items": recommendation},
            "cautions": {"type": "array", "items": caution},
            "conditional": {
                "type": "array",
                "items": {"$ref": "#/$defs/conditional"},
                "description": "Advice that depends on facts not known: one entry per undecided node, with "
                "the alternatives its known facts leave open.",
            },
            "cannot_decide": {"type": "array", "items": cannot},
            "needed_facts": {"type": "array", "items": needed},
            "unrecognized_facts": {"type": "array", "items": obj({"name": S, "suggestion": NS})},
            "facts": {"type": "object", "description": "The facts as checked and converted."},
            "trace": {"type": "array", "items": step},
            "disclaimer": NS,
            "scores": {"type": "array", "items": score,
                       "description": "Present when the guideline has scores (docs/language.md, Scores)."},
            # issue 10: present only when the facts came from FHIR (interpreter/ext/fhir)
            "fhir": {
                "type": "object",
                "description": "Where the facts came from when they were read from FHIR R4: the hash of the "
                "bindings in effect, each fact's source resources, and why resources were dropped.",
                "required": ["bindings_hash", "provenance", "notes"],
                "properties": {
                    "bindings_hash": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
                    "site_file": NS,
                    "provenance": {"type": "object"},
                    "notes": {"type": "array", "items": {"type": "object"}},
                    "asserted": SL,
                    "missing": SL,
                },
            },
            "superseded": {
                "type": "array",
                "items": superseded,
                "description": "Recommendations hidden by precedence (`supersedes`); absent when none.",
            },
            "assumed": {
                "type": "array",
                "items": assumed,
                "description": "Present when a default was used: every value assumed for an absent fact. "
                "The result can still be complete.",
            },
        },
        ["format", "guideline", "as_of", "status", "recommendations", "cautions", "conditional",
         "cannot_decide", "needed_facts", "unrecognized_facts", "facts", "trace", "disclaimer"],
        description="What the guideline recommends for these facts, and why.",
    ),
    "$defs": {"conditional": conditional},
}

# `fhir` is there only for results read from FHIR (issue 10)
schema["required"] = [k for k in schema["required"] if k != "fhir"]

if __name__ == "__main__":
    out = pathlib.Path(__file__).resolve().parent.parent / "schema" / "result.schema.json"
    out.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
