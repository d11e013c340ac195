"""Source of schema/guideline.schema.json. Run `python tools/_schema_src.py` to regenerate the JSON.

Kept in Python so that shared pieces (dates, targets, quantities) are written once.
"""

import json
import pathlib
import sys
from typing import get_args

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from interpreter.loading.model import NodeKind

DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "A calendar date, YYYY-MM-DD."}
ID = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
NAME = r"^[a-z][a-z0-9_]*$"
DURATION = {
    "type": "string",
    "pattern": r"^P(?!$)(\d{1,5}W)?(\d{1,5}D)?(T(?=\d)(\d{1,5}H)?(\d{1,5}M)?)?$",
    "description": "An ISO 8601 duration in weeks, days, hours or minutes, e.g. PT48H, P2D, P1W.",
}
UNIT = {
    "type": "string",
    "minLength": 1,
    "maxLength": 64,
    "description": "A UCUM unit code, e.g. 10*9/L, /uL, kg, [lb_av], cm, ug/kg, m2.",
}
EXPR = {
    "type": "string",
    "minLength": 1,
    "maxLength": 2000,
    "description": "An expression in the guideline expression language (see docs/language.md).",
}
NUMBER = {"type": "number", "description": "A number, written as the clinician means it (kept exact)."}
# Bounds on numbers that flow into arithmetic (integers, so that exact decimals compare exactly); the finer
# rules (lowest round_to, digits of precision) are the static check `dose-number-range`.
DOSE_MAX = 1_000_000
PLAUSIBLE = {"type": "number", "minimum": -1_000_000_000, "maximum": 1_000_000_000}
TARGET_ONE = {"type": "string", "pattern": ID, "description": "The id of a node or recommendation."}
# One id or a list of ids. Written with a type list rather than oneOf: string keywords (pattern) apply only
# to strings and array keywords only to arrays, so the meaning is the same, validation is faster and errors
# are direct (no branch to pick).
TARGET = {
    "description": "What to apply: one node or recommendation id, or a list of them (all are applied).",
    "type": ["string", "array"],
    "pattern": ID,
    "items": TARGET_ONE,
    "minItems": 1,
    "uniqueItems": True,
}
TEXT = {"type": "string", "minLength": 1}


def obj(props, required=(), description=None, **extra):
    d = {"type": "object", "additionalProperties": False, "properties": props}
    if required:
        d["required"] = list(required)
    if description:
        d["description"] = description
    d.update(extra)
    return d


def desc(schema, text):
    out = dict(schema)
    out["description"] = text
    return out


person = obj(
    {
        "name": desc(TEXT, "Full name."),
        "role": desc(TEXT, "Role, e.g. haematologist, clinical informaticist."),
        "organization": desc(TEXT, "Organization or department."),
        "date": desc(DATE, "Date of the review or sign-off."),
    },
    ["name"],
    "A person who wrote or reviewed the guideline.",
)

coding = obj(
    {
        "system": {
            "type": "string",
            "enum": ["loinc", "snomed", "rxnorm", "ucum", "icd10"],
            "description": "The terminology the code comes from.",
        },
        "code": desc(TEXT, "The code in that terminology."),
        "display": desc(TEXT, "The human-readable name of the code."),
    },
    ["system", "code"],
    "A terminology code that identifies this input in an EHR.",
)

plausible = obj(
    {
        "min": desc(PLAUSIBLE, "The lowest plausible value, in the input's unit. Lower ones are refused."),
        "max": desc(PLAUSIBLE, "The highest plausible value, in the input's unit. Higher ones are refused."),
    },
    ["min", "max"],
    "The range of physiologically plausible values; anything outside is refused as an error.",
)

# FHIR R4 bindings of an input (issue 10; interpreter/ext/fhir reads them, analysis/fhir_bindings.py checks
# that each fits its input's type). Code systems are FHIR URIs (http://loinc.org, http://snomed.info/sct,
# http://www.nlm.nih.gov/research/umls/rxnorm).
FHIR_URI = {"type": "string", "pattern": r"^(https?://|urn:oid:|urn:uuid:)[^\s]{1,240}$", "maxLength": 256}
fhir_coding = obj(
    {
        "system": desc(FHIR_URI, "The code system, as a FHIR URI, e.g. http://loinc.org."),
        "code": {"type": "string", "pattern": r"^[^\s]+( [^\s]+)*$", "maxLength": 256,
                 "description": "The code in that system."},
        "display": desc(TEXT, "The human-readable name of the code."),
    },
    ["system", "code"],
    "A FHIR Coding: a code and the URI of its system.",
)
# At most 200 codes per list (analysis/fhir_bindings.py; the fast schema path has no maxItems).
FHIR_CODES = {"type": "array", "items": fhir_coding, "minItems": 1}
FHIR_RESOURCES = ["Observation", "Patient", "MedicationRequest", "MedicationStatement", "Condition"]
fhir_binding = obj(
    {
        "resource": {
            "description": "Where the fact is found: Observation (quantity, series: valueQuantity), Patient "
            "(an age quantity from birthDate), MedicationRequest / MedicationStatement (active ones; a list "
            "of both for either), Condition (active ones).",
            "anyOf": [
                {"type": "string", "enum": FHIR_RESOURCES},
                {
                    "type": "array",
                    "items": {"type": "string", "enum": ["MedicationRequest", "MedicationStatement"]},
                    "minItems": 1,
                    "uniqueItems": True,
                },
            ],
        },
        "codes": desc(FHIR_CODES, "The codes that identify the resource (Observation.code, the medication, "
                      "Condition.code); any one of them matches."),
        "values": {
            "type": "object",
            "propertyNames": {"pattern": NAME},
            "additionalProperties": FHIR_CODES,
            "minProperties": 1,
            "description": "For a code input: each value with the codes that mean it (a Condition or an "
            "active medication in that list).",
        },
        "count": {"type": "number", "minimum": 1, "maximum": 1000,
                  "description": "Observations: how many of the newest results the prefetch query asks for "
                  "(`_count`, a whole number); default 1 for a quantity, 100 for a series."},
        "window": desc(DURATION, "Series: only results this recent count (default: every result; the "
                       "input's max_age still applies to the newest)."),
        "absent_is_false": {"type": "boolean", "description": "Boolean inputs: no matching resource "
                            "means false (default: the fact is missing)."},
        "asserted": {"type": "boolean", "description": "true: no FHIR query answers this input, the user "
                     "asserts it (false is refused: leave the key out)."},
        "note": desc(TEXT, "Why the binding is what it is."),
    },
    description="How the input is found in FHIR R4 (docs/integration.md). Either `resource` or "
    "`asserted: true`.",
    oneOf=[{"required": ["resource"]}, {"required": ["asserted"]}],
)

input_schema = obj(
    {
        "type": {
            "type": "string",
            "enum": ["number", "quantity", "boolean", "code", "datetime", "series", "code-set", "date"],
            "description": "number: a plain number; quantity: a number with a UCUM unit; "
            "boolean: true/false; code: one of a closed list of values; "
            "code-set: several values of a closed list at once (a list; [] is a known empty set), "
            "tested with 'word' in name; "
            "datetime: an ISO 8601 time with a time zone; "
            "date: a calendar date YYYY-MM-DD without a time of day (the whole day); "
            "series: timestamped quantities (e.g. daily ANC results).",
        },
        "description": desc(
            TEXT, "What the input is, in words a clinician and an integrator both understand."
        ),
        "unit": desc(
            UNIT,
            "For quantity and series: the canonical UCUM unit. Values are converted to it and "
            "every threshold on this input is written in it.",
        ),
        "accepted_units": {
            "type": "array",
            "items": UNIT,
            "uniqueItems": True,
            "description": "Other UCUM units a host may send; each is converted to `unit` on arrival.",
        },
        "bare_number": {
            "type": "boolean",
            "description": "For quantity and series: accept a bare number as a value in `unit`. "
            "Default false: the host must send {value, unit}.",
        },
        "plausible": plausible,
        "values": {
            "type": "array",
            "items": {"type": "string", "pattern": NAME},
            "minItems": 1,
            "uniqueItems": True,
            "description": "For code and code-set: the closed list of values allowed.",
        },
        "required": {
            "type": "boolean",
            "description": "If true, the result is incomplete whenever this fact is missing, even if no "
            "branch needed it. Default false.",
        },
        "time": {
            "type": "string",
            "enum": ["past", "future"],
            "description": "For datetime and date (by calendar day): past - the time may not be after the "
            "as-of time (when the last "
            "dose was given); future - it may not be before it (when the next dose is due). Otherwise the "
            "fact is refused as implausible.",
        },
        "default": {
            "description": "For an optional number, quantity, boolean, code or code-set input: the value "
            "assumed when the host does not send the fact (absent or null), written as the host would send "
            "it (a number in `unit`, true/false, a word of `values`, a list of words). Never used for a "
            "stale, undated or refused value. The result lists it under `assumed`. Checked at load like a "
            "host's value (plausible range, list); not allowed with `required: true`.",
            "anyOf": [
                {"type": "number"},
                {"type": "boolean"},
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}},
            ],
        },
        "max_age": desc(
            DURATION,
            "How old a value may be at the as-of time. Older values count as unknown "
            "(stale); a value without a time stamp counts as unknown (undated).",
        ),
        "codes": {
            "type": "array",
            "items": coding,
            "description": "Terminology codes (LOINC, SNOMED CT, RxNorm).",
        },
        "fhir": fhir_binding,
    },
    ["type", "description"],
    "One fact the host sends: its type, unit, plausible range and age limit.",
    allOf=[
        {
            "if": {"properties": {"type": {"enum": ["quantity", "series"]}}},
            "then": {"required": ["unit", "plausible"]},
            "else": {
                "not": {
                    "anyOf": [
                        {"required": ["unit"]},
                        {"required": ["accepted_units"]},
                        {"required": ["bare_number"]},
                    ]
                }
            },
        },
        {"if": {"properties": {"type": {"const": "number"}}}, "then": {"required": ["plausible"]}},
        {
            "if": {"properties": {"type": {"not": {"enum": ["datetime", "date"]}}}},
            "then": {"not": {"required": ["time"]}},
        },
        {
            "if": {"properties": {"type": {"enum": ["boolean", "code", "datetime", "code-set", "date"]}}},
            "then": {"not": {"required": ["plausible"]}},
        },
        {
            "if": {"properties": {"type": {"enum": ["code", "code-set"]}}},
            "then": {"required": ["values"]},
            "else": {"not": {"required": ["values"]}},
        },
    ],
)

POINTS = {"type": "number", "minimum": -1000, "maximum": 1000,
          "description": "Points (at most 1000 either way)."}
score_band = obj(
    {
        "when": desc(EXPR, "The condition of this band, e.g. `sbp < 90` (unit-checked like any condition)."),
        "points": desc(POINTS, "The points when this band is the first whose condition holds."),
    },
    ["when", "points"],
    "One band of a numeric item: the first band whose condition holds gives its points.",
)
score_item = obj(
    {
        "label": desc(TEXT, "What the item is, shown in the result (default: the input or condition)."),
        "input": {"type": "string", "pattern": NAME,
                  "description": "A boolean input (points when true) or a code input (points per word)."},
        "when": desc(EXPR, "A condition: the item gives `points` when it holds, 0 when it does not."),
        "points": {
            "description": "For a boolean input or `when`: the points when true. For a code input: a "
                           "mapping word -> points; words not listed give 0; each word must be one of the "
                           "input's values.",
            "type": ["number", "object"],
            "minimum": -1000,
            "maximum": 1000,
            "propertyNames": {"pattern": NAME},
            "additionalProperties": POINTS,
            "minProperties": 1,
        },
        "bands": {"type": "array", "items": score_band, "minItems": 1,
                  "description": "Numeric bands, in order: the first band whose condition holds counts."},
        "otherwise": desc(POINTS, "With `bands`: the points when no band holds (default 0)."),
    },
    (),
    "One item of a score: `input` with `points`, `when` with `points`, or `bands` (with `otherwise`).",
    oneOf=[
        {"required": ["input", "points"], "not": {"anyOf": [{"required": ["when"]}, {"required": ["bands"]},
                                                             {"required": ["otherwise"]}]}},
        {"required": ["when", "points"], "not": {"anyOf": [{"required": ["input"]}, {"required": ["bands"]},
                                                            {"required": ["otherwise"]}]}},
        {"required": ["bands"], "not": {"anyOf": [{"required": ["input"]}, {"required": ["when"]},
                                                   {"required": ["points"]}]}},
    ],
)
score = obj(
    {
        "description": desc(TEXT, "What the score measures and where it comes from."),
        "items": {"type": "array", "items": score_item, "minItems": 1,
                  "description": "The items whose points are added."},
    },
    ["description", "items"],
    "A points-based score: the sum of its items' points, used in conditions by its name as a number. With "
    "items unknown it has a known minimum and maximum; a comparison the bounds decide is decided.",
)

derived = obj(
    {
        "description": desc(TEXT, "What the value means."),
        "type": {
            "type": "string",
            "enum": ["number", "quantity", "boolean"],
            "description": "The type of the result.",
        },
        "unit": desc(UNIT, "For quantity: the UCUM unit of the result."),
        "expr": desc(EXPR, "The expression that computes the value from inputs and earlier derived values."),
    },
    ["description", "type", "expr"],
    "A named value computed from the inputs, such as body surface area.",
    allOf=[
        {
            "if": {"properties": {"type": {"const": "quantity"}}},
            "then": {"required": ["unit"]},
            "else": {"not": {"required": ["unit"]}},
        }
    ],
)

branch = obj(
    {
        "when": desc(EXPR, "The condition. true, false or unknown (a fact it needs is missing or stale)."),
        "then": TARGET,
        "label": desc(TEXT, "A short name for the branch, shown in traces and diagrams."),
    },
    ["when", "then"],
    "A condition and what to apply when it holds.",
)

node = obj(
    {
        "id": {
            "type": "string",
            "pattern": ID,
            "description": "A unique id (kebab-case), shared with recommendations.",
        },
        "kind": {
            "type": "string",
            "enum": list(get_args(NodeKind)),
            "description": "choice: take the first branch whose condition holds. "
            "collect: apply every branch whose condition holds.",
        },
        "title": desc(TEXT, "A short title shown in diagrams and explanations."),
        "description": desc(TEXT, "What this decision is about."),
        "branches": {
            "type": "array",
            "items": branch,
            "minItems": 1,
            "description": "The branches, in order.",
        },
        "otherwise": desc(TARGET, "What to apply when no condition holds. Required for choice nodes."),
        "unknown": {
            "description": "What happens when a condition that would decide the path is unknown: "
            "`cannot-decide` (report what is needed) or target ids to apply as well (the result "
            "stays incomplete).",
            # `cannot-decide` has the form of an id; checks.py refuses it as a node or recommendation id.
            **{k: v for k, v in TARGET.items() if k != "description"},
            "examples": ["cannot-decide"],
        },
    },
    ["id", "kind", "branches"],
    "A decision point. Choice nodes need `otherwise` and `unknown` (checked as "
    "choice-missing-otherwise / choice-missing-unknown).",
)

dose = obj(
    {
        "amount": {
            "description": "The amount per unit of basis (or the fixed amount): a number or an expression.",
            "type": ["number", "string"],
            "minLength": 1,
            "maxLength": 2000,
            "maximum": DOSE_MAX,
        },
        "unit": desc(
            UNIT,
            "The UCUM unit of `amount`: per basis (ug/kg, ug/m2) when `basis` is given, else an "
            "amount unit (ug, mg).",
        ),
        "basis": {
            "type": "string",
            "pattern": NAME,
            "description": "The input or derived value the amount is multiplied by: body weight (kg) or "
            "body surface area (m2).",
        },
        "round_to": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 1000,
            "description": "Round the total to a multiple of this, in the total's unit (half up); from 0.001 "
            "to 1000.",
        },
        "min": {
            "type": "number",
            "maximum": DOSE_MAX,
            "minimum": 0,
            "description": "Raise a smaller total to this (shown in the calculation).",
        },
        "max": {
            "type": "number",
            "maximum": DOSE_MAX,
            "exclusiveMinimum": 0,
            "description": "Cap a larger total at this (shown in the calculation).",
        },
        "warn_below": {
            "type": "number",
            "maximum": DOSE_MAX,
            "minimum": 0,
            "description": "Flag (without changing) a total below this, e.g. below the smallest safe volume.",
        },
        "warn_above": {
            "type": "number",
            "maximum": DOSE_MAX,
            "exclusiveMinimum": 0,
            "description": "Flag (without changing) a total above this.",
        },
        "warn_below_text": {
            "type": "string",
            "minLength": 1,
            "maxLength": 500,
            "description": "What to do when the total is below `warn_below`, in the author's words (shown "
            "after the warning instead of \"review before giving\").",
        },
        "warn_above_text": {
            "type": "string",
            "minLength": 1,
            "maxLength": 500,
            "description": "What to do when the total is above `warn_above`, in the author's words.",
        },
    },
    ["amount", "unit"],
    "How to compute the dose. Never computed when a fact it needs is missing.",
)

ACTION_COMMON = {"note": desc(TEXT, "Extra detail for the clinician.")}
ROUTES = ["subcutaneous", "intravenous", "oral"]
med = obj(
    {
        "type": {"const": "medication", "description": "Give a medication."},
        "drug": desc(TEXT, "The drug's generic name, e.g. filgrastim."),
        "dose": dose,
        "route": {
            "description": "The route, or the routes the clinician may choose from. Leave it out when the "
            "source gives none (the result then shows no route rather than a guessed one).",
            "anyOf": [
                {"type": "string", "enum": ROUTES},
                {
                    "type": "array",
                    "items": {"type": "string", "enum": ROUTES},
                    "minItems": 1,
                    "uniqueItems": True,
                },
            ],
        },
        "frequency": desc(TEXT, "How often, e.g. once daily, twice daily."),
        "timing": desc(TEXT, "When to start, e.g. 24-72 h after the last chemotherapy dose."),
        "infusion": desc(TEXT, "For infusions: how it is given, e.g. over no more than 24 hours."),
        "until": desc(TEXT, "When to stop, in words."),
        "target": desc(TEXT, "The target to titrate to, e.g. ANC 1.0-5.0 x10^9/L."),
        "rxnorm": desc(TEXT, "RxNorm code of the ingredient."),
        "not_before": desc(
            EXPR,
            "The earliest time to start, computed for the patient: an expression of datetime type, e.g. "
            "time_after(last_chemo_at, q(24, 'h')). Shown as a clock time in the evaluation's calendar; "
            "when its facts are unknown the result is incomplete and names them.",
        ),
        **ACTION_COMMON,
    },
    ["type", "drug", "frequency"],
    "Give a medication.",
)
monitoring = obj(
    {
        "type": {"const": "monitoring", "description": "Monitor a test or sign."},
        "test": desc(TEXT, "What to measure, e.g. CBC with differential."),
        "interval": desc(TEXT, "How often, e.g. every 2 weeks."),
        "until": desc(TEXT, "When monitoring stops or changes."),
        "not_before": desc(
            EXPR,
            "The earliest time to start, computed for the patient: an expression of datetime type, e.g. "
            "time_after(last_chemo_at, q(24, 'h')). Shown as a clock time in the evaluation's calendar; "
            "when its facts are unknown the result is incomplete and names them.",
        ),
        **ACTION_COMMON,
    },
    ["type", "test", "interval"],
    "Monitor a test or sign.",
)
stop = obj(
    {
        "type": {"const": "stop-drug", "description": "Stop, hold or permanently discontinue a drug."},
        "drug": desc(TEXT, "The drug's generic name."),
        "mode": {
            "type": "string",
            "enum": ["hold", "stop", "discontinue-permanently"],
            "description": "hold: pause and resume later; stop: stop now; "
            "discontinue-permanently: never restart.",
        },
        "resume_when": desc(TEXT, "When it may be restarted, and at what dose."),
        **ACTION_COMMON,
    },
    ["type", "drug", "mode"],
    "Stop, hold or permanently discontinue a drug.",
)
procedure = obj(
    {
        "type": {
            "type": "string",
            "enum": ["procedure", "referral"],
            "description": "A procedure or a referral.",
        },
        "name": desc(TEXT, "What to do, e.g. blood cultures, bone marrow examination."),
        "timing": desc(TEXT, "When, e.g. before antibiotics."),
        **ACTION_COMMON,
    },
    ["type", "name"],
    "A procedure or a referral.",
)
caution = obj(
    {
        "type": {"const": "caution", "description": "A caution: something not to do."},
        "text": desc(TEXT, "The caution, e.g. Do not give doses below 180 mcg."),
        **ACTION_COMMON,
    },
    ["type", "text"],
    'A caution ("do not ..."); results list cautions separately.',
)


def _action_types(schema):
    t = schema["properties"]["type"]
    return [t["const"]] if "const" in t else list(t["enum"])


# An action is discriminated by `type`: the if/then pairs pick the one closed schema that applies (an unknown
# `type` fails the enum once, instead of five oneOf branches failing in five ways).
ACTION_KINDS = [med, monitoring, stop, procedure, caution]
ACTION = {
    "type": "object",
    "description": "A structured action; `type` says which kind, and so which keys are allowed.",
    "required": ["type"],
    "properties": {
        "type": {
            "type": "string",
            "enum": [t for k in ACTION_KINDS for t in _action_types(k)],
            "description": "The kind of action.",
        }
    },
    "allOf": [
        {"if": {"properties": {"type": {"enum": _action_types(k)}}, "required": ["type"]}, "then": k}
        for k in ACTION_KINDS
    ],
}

SUPERSEDES_ONE = {
    "description": "A recommendation this one supersedes: its id, or {id, reason}.",
    "type": ["string", "object"],
    "pattern": ID,
    "additionalProperties": False,
    "properties": {
        "id": desc(TARGET_ONE, "The id of the recommendation superseded."),
        "reason": desc(TEXT, "Why this one takes precedence; shown with the result."),
    },
    "required": ["id"],
}
SUPERSEDES = {
    "type": "array",
    "items": SUPERSEDES_ONE,
    "minItems": 1,
    "description": "Recommendations this one supersedes: when both apply, the superseded one is not shown "
    "among the recommendations; the result lists it under `superseded` (see docs/language.md).",
}

recommendation = obj(
    {
        "id": {
            "type": "string",
            "pattern": ID,
            "description": "A unique id (kebab-case), shared with nodes.",
        },
        "title": desc(TEXT, "A short title."),
        "text": desc(TEXT, "The recommendation, in words for the clinician."),
        "strength": desc(TEXT, "The strength or category, where the source gives one."),
        "category": {
            "type": "string",
            "enum": [
                "treatment",
                "observation",
                "prophylaxis",
                "monitoring",
                "drug-change",
                "diagnostic",
                "caution",
                "not-covered",
            ],
            "description": 'What kind of recommendation this is. caution: a warning ("do not ..."); '
            "not-covered: the source says nothing here; clinical judgment applies.",
        },
        "cite": {
            "type": "array",
            "items": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"},
            "minItems": 1,
            "uniqueItems": True,
            "description": "Keys of `references` that support this.",
        },
        "actions": {"type": "array", "items": ACTION, "description": "Structured actions."},
        "supersedes": SUPERSEDES,
        "urgency": {
            "type": "string",
            "enum": ["immediate", "urgent", "routine"],
            "description": "How soon this must be done (default routine). Results list immediate "
            "recommendations first, then urgent, then routine; within a level, in the order of the walk.",
        },
    },
    ["id", "text", "cite"],
    "What the guideline recommends; a leaf of the tree.",
)

reference = obj(
    {
        "citation": desc(TEXT, "The full citation."),
        "url": {"type": "string", "pattern": "^https?://", "description": "Where to read it."},
        "note": desc(TEXT, "What this reference supports."),
    },
    ["citation"],
    "A cited source.",
)

schema = obj(
    {
        "$schema": {"type": "string", "description": "Optional: the schema address, for editors."},
        "id": {
            "type": "string",
            "pattern": ID,
            "description": "The guideline id, kebab-case, stable across versions.",
        },
        "version": {
            "type": "string",
            "pattern": r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$",
            "description": "A semantic version, written as text: MAJOR.MINOR.PATCH.",
        },
        "title": desc(TEXT, "The title."),
        "description": desc(TEXT, "What the guideline covers and for whom."),
        "status": {
            "type": "string",
            "enum": ["draft", "in-review", "approved", "retired"],
            "description": "Lifecycle status. Approved content is locked; retired guidelines are refused.",
        },
        "effective": obj(
            {"start": desc(DATE, "First day it applies."), "end": desc(DATE, "Last day it applies.")},
            ["start"],
            "The period in which the guideline applies.",
        ),
        "last_updated": desc(DATE, "When the content last changed."),
        "approval_date": desc(DATE, "When it was approved. Required when status is approved."),
        "last_reviewed": desc(DATE, "When it was last reviewed."),
        "next_review": desc(DATE, "When it must be reviewed again."),
        "authors": {"type": "array", "items": person, "minItems": 1, "description": "Who wrote it."},
        "reviewers": {
            "type": "array",
            "items": person,
            "description": "Who reviewed it. Required when approved.",
        },
        "audience": desc(TEXT, "Who it is for, e.g. hematology and oncology clinicians."),
        "disclaimer": desc(TEXT, "The disclaimer shown with every result."),
        "references": {
            "type": "object",
            "minProperties": 1,
            "description": "Citations, each under a key.",
            "propertyNames": {"pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"},
            "additionalProperties": reference,
        },
        "inputs": {
            "type": "object",
            "description": "The data dictionary: the facts the host sends.",
            "propertyNames": {"pattern": NAME},
            "additionalProperties": input_schema,
        },
        "derived": {
            "type": "object",
            "description": "Named values computed from inputs.",
            "propertyNames": {"pattern": NAME},
            "additionalProperties": derived,
        },
        "scores": {
            "type": "object",
            "description": "Named points-based scores (see docs/language.md, Scores).",
            "propertyNames": {"pattern": NAME},
            "additionalProperties": score,
        },
        "start": desc(TARGET_ONE, "The id of the first node."),
        "nodes": {"type": "array", "items": node, "minItems": 1, "description": "The decision nodes."},
        "recommendations": {
            "type": "array",
            "items": recommendation,
            "minItems": 1,
            "description": "The recommendations (leaves).",
        },
    },
    [
        "id",
        "version",
        "title",
        "status",
        "effective",
        "last_updated",
        "authors",
        "references",
        "inputs",
        "start",
        "nodes",
        "recommendations",
    ],
)
schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.org/guideline-interpreter/guideline.schema.json",
    "title": "Clinical guideline",
    "description": "A versioned clinical decision tree: metadata, data dictionary, nodes and "
    "recommendations.",
    **schema,
}

# A site's FHIR binding file (interpreter/ext/fhir/bindings.py, docs/integration.md): bindings that override
# the guideline's, for one guideline, and the site's table of non-UCUM unit texts.
fhir_bindings_schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.org/guideline-interpreter/fhir-bindings.schema.json",
    "title": "Site FHIR bindings",
    "description": "A site's FHIR R4 bindings for one guideline, overriding the guideline's own, and its "
    "table of unit texts that are not UCUM.",
    **obj(
        {
            "guideline": desc(TARGET_ONE, "The id of the guideline these bindings are for."),
            "version": desc(TEXT, "Only this version of it (default: every version)."),
            "bindings": {
                "type": "object",
                "propertyNames": {"pattern": NAME},
                "additionalProperties": fhir_binding,
                "description": "Input name -> its binding (replaces the guideline's binding of that input).",
            },
            "unit_aliases": {
                "type": "object",
                "propertyNames": {"minLength": 1, "maxLength": 64},
                "additionalProperties": UNIT,
                "description": "A unit text as labs send it (K/uL) -> the UCUM code it means (10*3/uL).",
            },
            "note": desc(TEXT, "Who maintains this file and why."),
        },
        ["guideline"],
    ),
}

if __name__ == "__main__":
    out = pathlib.Path(__file__).resolve().parent.parent / "schema" / "guideline.schema.json"
    out.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    out = out.with_name("fhir-bindings.schema.json")
    out.write_text(json.dumps(fhir_bindings_schema, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
