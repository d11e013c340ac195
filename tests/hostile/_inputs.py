"""Valid starting points that the hostile tests break: facts for the bundled guideline and a small
generated guideline with one input of every type."""

from __future__ import annotations

import copy
import json
import pathlib
from typing import Any

REPO = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
BUNDLED = REPO / "guidelines" / "leukopenia" / "leukopenia.guideline.yaml"

#: examples/mild-leukopenia.json: a complete result at AT (every input of the example is fresh)
MILD: dict[str, Any] = json.loads((EXAMPLES / "mild-leukopenia.json").read_text())


def q(value: Any, at: str = "2026-11-24T06:00:00Z", unit: str = "10*9/L") -> dict[str, Any]:
    return {"value": value, "unit": unit, "at": at}


#: on filgrastim for chemotherapy-induced neutropenia, ANC >= 1.5 on the last 3 days: the stop rule applies
CHEMO_STOP: dict[str, Any] = {
    "anc": q(2.0),
    "wbc": q(4.5),
    "cause": "chemotherapy",
    "on_filgrastim": True,
    "on_prophylaxis": False,
    "febrile": {"value": False, "at": "2026-11-24T08:00:00Z"},
    "aml": False,
    "age": 50,
    "last_chemo_at": "2026-11-10T09:00:00Z",
    "next_chemo_scheduled": False,
    "anc_history": [q(1.8, "2026-11-22T02:00:00Z"), q(1.9, "2026-11-23T06:00:00Z"), q(2.0)],
}


def facts(base: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(MILD if base is None else base)
    out.update(changes)
    return out


def yq(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML double-quoted scalars)."""
    return json.dumps(text)


def guideline_yaml(
    *,
    gid: str = "hostile-test",
    version: str = "1.0.0",
    status: str = "draft",
    title: str = "Hostile test guideline",
    when: str = "x > 1",
    label: str = "x above one",
    derived_expr: str = "x + z",
    amount: str = "5",
    round_to: str = "1",
    input_description: str = "A number",
    node_id: str = "top",
    node_title: str = "Decide",
    rec_text: str = "Give the drug.",
    extra: str = "",
) -> str:
    """A valid guideline (with the defaults) with an input of every type, a derived value, a choice node and a
    dose; every piece of text and every expression can be replaced."""
    approval = (
        'approval_date: "2026-11-02"\n'
        'reviewers: [{name: Dr Reviewer, role: hematologist, date: "2026-11-02"}]\n'
        if status == "approved"
        else ""
    )
    return f"""\
id: {gid}
version: "{version}"
title: {yq(title)}
status: {status}
{approval}effective: {{start: "2026-01-01"}}
last_updated: "2026-11-01"
authors: [{{name: Test Author}}]
disclaimer: Test fixture only, not clinical advice.
references:
  "1": {{citation: Test reference}}
inputs:
  x: {{type: number, description: {yq(input_description)}, plausible: {{min: -1000000, max: 1000000}}}}
  z: {{type: number, description: Another number, plausible: {{min: -1000000, max: 1000000}}}}
  q: {{type: quantity, unit: 10*9/L, accepted_units: [/uL], description: Count,
     plausible: {{min: 0, max: 100}}}}
  w: {{type: quantity, unit: kg, description: Weight, plausible: {{min: 0.3, max: 400}}}}
  b: {{type: boolean, description: A flag}}
  c: {{type: code, values: [low, high], description: A code}}
  t: {{type: datetime, description: A time}}
  s: {{type: series, unit: 10*9/L, description: Counts, plausible: {{min: 0, max: 100}}}}
derived:
  v: {{type: number, description: A derived number, expr: {yq(derived_expr)}}}
start: {node_id}
nodes:
  - id: {node_id}
    kind: choice
    title: {yq(node_title)}
    branches:
      - when: {yq(when)}
        label: {yq(label)}
        then: give
      - when: "v > 0 or b or c == 'high' or q < 1.0 or hours_since(t) > 1 or latest(s) > 1"
        label: other inputs
        then: hold
    otherwise: hold
    unknown: cannot-decide
recommendations:
  - id: give
    text: {yq(rec_text)}
    cite: ["1"]
    actions:
      - type: medication
        drug: filgrastim
        dose: {{amount: {amount}, unit: ug/kg, basis: w, round_to: {round_to}}}
        route: subcutaneous
        frequency: once daily
  - id: hold
    text: Hold.
    cite: ["1"]
{extra}"""


#: facts for guideline_yaml() that give a complete result
GENERATED_FACTS: dict[str, Any] = {
    "x": 2,
    "z": 3,
    "q": {"value": 0.5, "unit": "10*9/L"},
    "w": {"value": 70, "unit": "kg"},
    "b": False,
    "c": "low",
    "t": "2026-11-20T08:00:00Z",
    "s": [q(0.5, "2026-11-23T06:00:00Z"), q(0.6, "2026-11-24T06:00:00Z")],
}
