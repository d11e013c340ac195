"""Defaults of optional inputs (issue 8 §2): used only for an absent fact, reported as assumed, checked at
load."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

import interpreter
from interpreter.errors import FactsError, GuidelineError
from interpreter.output.results import result_text

AS_OF = datetime(2026, 11, 24, 9, tzinfo=UTC)
REPO = Path(__file__).parent.parent

GUIDELINE = """\
id: defaults-example
version: "1.0.0"
title: Defaults (for tests only)
status: draft
effective:
  start: 2026-01-01
last_updated: 2026-01-01
authors:
  - name: Test Author
references:
  EXAMPLE:
    citation: An example reference used by the tests; not a clinical source.
inputs:
  wbc:
    type: quantity
    description: White cell count.
    unit: 10*9/L
    accepted_units: [/uL]
    plausible: {min: 0, max: 500}
    max_age: P2D
    required: true
  lln:
    type: quantity
    description: The lab's lower limit of normal for the white cell count.
    unit: 10*9/L
    accepted_units: [/uL]
    plausible: {min: 0.5, max: 10}
    max_age: P30D
    default: 2.0
  on_clozapine:
    type: boolean
    description: Takes clozapine.
    default: false
  causes:
    type: code-set
    description: Causes that apply.
    values: [chemotherapy, clozapine]
    default: []
start: low
nodes:
  - id: low
    kind: choice
    branches:
      - when: wbc < lln and not on_clozapine and 'chemotherapy' not in causes
        then: low-count
    otherwise: normal
    unknown: cannot-decide
recommendations:
  - id: low-count
    text: Low count.
    cite: [EXAMPLE]
  - id: normal
    text: Not low.
    cite: [EXAMPLE]
"""

WBC = {"value": 1.5, "unit": "10*9/L", "at": "2026-11-24T08:00:00Z"}


def _load(tmp_path: Path, text: str = GUIDELINE) -> interpreter.Guideline:
    path = tmp_path / "g.guideline.yaml"
    path.write_text(text, encoding="utf-8")
    return interpreter.load(path)


@pytest.fixture(scope="module")
def guideline(tmp_path_factory: pytest.TempPathFactory) -> interpreter.Guideline:
    return _load(tmp_path_factory.mktemp("defaults"))


def test_an_absent_fact_takes_the_default_and_the_result_is_complete(
    guideline: interpreter.Guideline,
) -> None:
    result = guideline.evaluate({"wbc": WBC}, as_of=AS_OF)
    assert result.status == "complete"
    assert [r.id for r in result.recommendations] == ["low-count"]
    doc = result.to_json()
    assert doc["assumed"] == [
        {"fact": "lln", "value": "2", "unit": "10*9/L", "reason": "not given"},
        {"fact": "on_clozapine", "value": False, "reason": "not given"},
        {"fact": "causes", "value": [], "reason": "not given"},
    ]
    schema = json.loads((REPO / "schema" / "result.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, schema)
    text = result_text(result)
    assert "ASSUMED" in text and "  = lln: 2 10*9/L (not given)" in text
    assert "  = on_clozapine: false (not given)" in text and "  = causes: (none) (not given)" in text


def test_null_is_absent(guideline: interpreter.Guideline) -> None:
    result = guideline.evaluate({"wbc": WBC, "lln": None, "on_clozapine": {"value": None}}, as_of=AS_OF)
    reasons = {a.fact: a.reason for a in result.assumed}
    assert reasons == {"lln": "given as null", "on_clozapine": "given as null", "causes": "not given"}


def test_a_value_sent_is_used_and_nothing_is_assumed(guideline: interpreter.Guideline) -> None:
    facts = {
        "wbc": WBC,
        "lln": {"value": 1000, "unit": "/uL", "at": "2026-11-20T08:00:00Z"},
        "on_clozapine": False,
        "causes": [],
    }
    result = guideline.evaluate(facts, as_of=AS_OF)
    assert result.assumed == () and "assumed" not in result.to_json()
    assert [r.id for r in result.recommendations] == ["normal"]  # 1.5 is not below 1.0


def test_a_stale_value_never_falls_back_to_the_default(guideline: interpreter.Guideline) -> None:
    stale = {"value": 1.0, "unit": "10*9/L", "at": "2026-09-01T08:00:00Z"}
    result = guideline.evaluate({"wbc": WBC, "lln": stale}, as_of=AS_OF)
    assert result.status == "incomplete"
    assert [(n.name, n.reason) for n in result.needed_facts] == [("lln", "stale")]
    assert [a.fact for a in result.assumed] == ["on_clozapine", "causes"]


def test_an_undated_value_never_falls_back_to_the_default(guideline: interpreter.Guideline) -> None:
    result = guideline.evaluate({"wbc": WBC, "lln": {"value": 1.0, "unit": "10*9/L"}}, as_of=AS_OF)
    assert [(n.name, n.reason) for n in result.needed_facts] == [("lln", "undated")]


def test_a_refused_value_is_an_error_not_the_default(guideline: interpreter.Guideline) -> None:
    bad = {"value": 400, "unit": "10*9/L", "at": "2026-11-20T08:00:00Z"}
    with pytest.raises(FactsError) as exc:
        guideline.evaluate({"wbc": WBC, "lln": bad}, as_of=AS_OF)
    assert [(d.code, d.path[0]) for d in exc.value.diagnostics] == [("fact-implausible", "lln")]


def test_a_required_input_is_never_defaulted(guideline: interpreter.Guideline) -> None:
    result = guideline.evaluate({}, as_of=AS_OF)
    assert result.status == "incomplete" and "wbc" in [n.name for n in result.needed_facts]


def test_results_with_assumed_values_pickle(guideline: interpreter.Guideline) -> None:
    result = guideline.evaluate({"wbc": WBC}, as_of=AS_OF)
    again = pickle.loads(pickle.dumps(result))
    assert again == result and again.assumed == result.assumed


@pytest.mark.parametrize(
    ("old", "new", "code", "message"),
    [
        (
            "    default: 2.0\n",
            "    default: 2.0\n    required: true\n",
            "input-default-required",
            "required",
        ),
        ("    default: 2.0\n", "    default: 2000\n", "input-default-invalid", "outside the plausible range"),
        ("    default: 2.0\n", '    default: "2.0"\n', "input-default-invalid", "not a number"),
        ("    default: false\n", "    default: 0\n", "input-default-invalid", "not true or false"),
        ("    default: []\n", "    default: [clozapin]\n", "input-default-invalid", '"clozapin"'),
        ("    default: []\n", "    default: clozapine\n", "input-default-invalid", "not a list"),
        ("    default: []\n", "    default: null\n", "schema-type", "got nothing"),
    ],
)
def test_a_bad_default_is_a_located_load_error(
    tmp_path: Path, old: str, new: str, code: str, message: str
) -> None:
    text = GUIDELINE.replace(old, new, 1)
    assert text != GUIDELINE
    with pytest.raises(GuidelineError) as exc:
        _load(tmp_path, text)
    [d] = exc.value.diagnostics
    assert d.code == code and message in d.message, d.format()
    assert d.path[-1] == "default"
    line = text.splitlines().index(new.splitlines()[0]) + 1
    if code == "input-default-invalid":
        assert d.location.line == line
    if message == '"clozapin"':
        assert d.hint == "did you mean 'clozapine'?"


def test_a_default_on_a_datetime_input_is_refused(tmp_path: Path) -> None:
    text = GUIDELINE.replace(
        "start: low\n",
        "  last_dose:\n    type: datetime\n    description: Last dose.\n"
        "    default: 2026-01-01\nstart: low\n",
    ).replace("wbc < lln and", "wbc < lln and hours_since(last_dose) > 0 and")
    with pytest.raises(GuidelineError) as exc:
        _load(tmp_path, text)
    assert [d.code for d in exc.value.diagnostics] == ["input-default-invalid"]
    assert "datetime input cannot have a default" in exc.value.diagnostics[0].message


def test_the_rendering_shows_every_default_for_sign_off(tmp_path: Path) -> None:
    from interpreter.loading.model import build_model
    from interpreter.loading.source import load_yaml
    from interpreter.output.render import guideline_markdown

    data, sm, _ = load_yaml(GUIDELINE.encode(), "g.guideline.yaml")
    model, _ = build_model(data, sm)
    assert model is not None
    text = guideline_markdown(model)
    assert "**Assumed when not sent: 2.0 10*9/L.**" in text
    assert "**Assumed when not sent: false.**" in text and "**Assumed when not sent: (none).**" in text
    assert text.count("Assumed when not sent") == 3
