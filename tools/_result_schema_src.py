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
    },
    description="A recommendation that applies.",
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
    },
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
    },
    description="One condition evaluated, with the values it read.",
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
        },
        description="What the guideline recommends for these facts, and why.",
    ),
    "$defs": {"conditional": conditional},
}

if __name__ == "__main__":
    out = pathlib.Path(__file__).resolve().parent.parent / "schema" / "result.schema.json"
    out.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
