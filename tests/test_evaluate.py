"""Behaviour of the evaluator over a small fixture guideline: paths, unknowns, doses, results, threads."""

from __future__ import annotations

import json
import pathlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import jsonschema
import pytest
from helpers import run_in_threads

import interpreter
from interpreter import EvaluationError, FactsError, GuidelineError

HERE = pathlib.Path(__file__).parent
MINI = HERE / "fixtures" / "eval" / "mini.guideline.yaml"
REPO = HERE.parent
AS_OF = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
RECENT = "2026-11-24T06:00:00Z"


@pytest.fixture(scope="module")
def g() -> interpreter.Guideline:
    return interpreter.load(MINI)


def q(value: object, unit: str = "10*9/L", at: str | None = RECENT) -> dict[str, object]:
    d: dict[str, object] = {"value": value, "unit": unit}
    if at:
        d["at"] = at
    return d


def base(**over: object) -> dict[str, object]:
    facts: dict[str, object] = {
        "anc": q(Decimal("0.7")),
        "febrile": False,
        "weight": {"value": 70, "unit": "kg"},
        "height": {"value": 170, "unit": "cm"},
        "cause": "other",
    }
    facts.update(over)
    return {k: v for k, v in facts.items() if v is not None}


def test_result_names_guideline_id_version_and_hash(g: interpreter.Guideline) -> None:
    r = g.evaluate(base(), AS_OF)
    assert (r.guideline.id, r.guideline.version, r.guideline.status) == ("mini-neutropenia", "1.2.0", "draft")
    assert r.guideline.content_hash.startswith("sha256:") and len(r.guideline.content_hash) == 71
    assert r.guideline.content_hash == g.content_hash


def test_severe_branch_with_doses_and_calculation(g: interpreter.Guideline) -> None:
    r = g.evaluate(base(), AS_OF)
    assert r.status == "complete"
    assert r.recommendation_ids() == ["treat"]
    rec = r.recommendations[0]
    fil = next(a for a in rec.actions if a.fields.get("drug") == "filgrastim")
    assert fil.dose is not None and fil.dose.value == Decimal(350) and fil.dose.unit == "ug"
    assert any("5 ug/kg x 70 kg = 350 ug" in s for s in fil.dose.calculation)
    sar = next(a for a in rec.actions if a.fields.get("drug") == "sargramostim")
    bsa = (Decimal(170) * Decimal(70) / Decimal(3600)).sqrt()
    expected = (Decimal(250) * bsa).quantize(Decimal(1), rounding="ROUND_HALF_UP")
    assert sar.dose is not None and sar.dose.value == expected == Decimal(455)
    assert [c.text for c in r.cautions] == ["Do not give doses below 180 mcg."]
    assert [c.key for c in rec.citations] == ["1", "2"]


def test_weight_in_pounds_is_converted_exactly_and_shown(g: interpreter.Guideline) -> None:
    r = g.evaluate(base(weight={"value": 154, "unit": "[lb_av]"}), AS_OF)
    fil = next(a for a in r.recommendations[0].actions if a.fields.get("drug") == "filgrastim")
    # 154 lb = 69.85322498 kg exactly; x 5 ug/kg = 349.2661249 ug, rounded half up to 349 ug; the steps are
    # shown readable (~69.85 kg, ~349.3 ug), the exact weight stays in the facts
    assert fil.dose is not None and fil.dose.value == Decimal(349)
    assert fil.dose.calculation == ("weight given as 154 [lb_av] = ~69.85 kg",
                                    "5 ug/kg x ~69.85 kg = ~349.3 ug",
                                    "rounded (half up) to a multiple of 1 ug: 349 ug")
    assert r.facts["weight"]["value"] == "69.85322498"


def test_small_patient_dose_is_flagged_not_changed(g: interpreter.Guideline) -> None:
    r = g.evaluate(base(weight={"value": 30, "unit": "kg"}), AS_OF)
    fil = next(a for a in r.recommendations[0].actions if a.fields.get("drug") == "filgrastim")
    assert fil.dose is not None and fil.dose.value == Decimal(150)
    assert len(fil.dose.warnings) == 1 and "below 180 ug" in fil.dose.warnings[0]


@pytest.mark.parametrize(
    ("anc", "expected"),
    [
        (q(Decimal("0.999")), "treat"),
        (q(Decimal("1.0")), "watch"),
        (q(999, "/uL"), "treat"),
        (q(1000, "/mm3"), "watch"),
        (q(Decimal("1.5")), "watch"),
        (q(1500, "/uL"), "watch"),  # exactly at the threshold written as q(1500, '/uL')
        (q(1501, "/uL"), "not-covered"),
        (q(Decimal("1.501")), "not-covered"),
    ],
)
def test_thresholds_compare_exactly_in_every_unit(
    g: interpreter.Guideline, anc: object, expected: str
) -> None:
    assert g.evaluate(base(anc=anc), AS_OF).recommendation_ids() == [expected]


def test_missing_fact_that_decides_the_path_is_reported(g: interpreter.Guideline) -> None:
    r = g.evaluate(base(anc=None), AS_OF)
    assert r.status == "incomplete"
    assert r.recommendation_ids() == []
    assert [(c.node, c.needs) for c in r.cannot_decide] == [("severity", ("anc",))]
    assert [(n.name, n.reason) for n in r.needed_facts] == [("anc", "missing")]


def test_false_and_unknown_is_false_so_the_path_is_still_decided(g: interpreter.Guideline) -> None:
    # febrile unknown, but anc 0.7 is not < 0.5: the first branch is false whatever febrile is
    r = g.evaluate(base(febrile=None), AS_OF)
    assert r.status == "complete" and r.recommendation_ids() == ["treat"]


def test_unknown_that_would_decide_gives_cannot_decide(g: interpreter.Guideline) -> None:
    r = g.evaluate(base(febrile=None, anc=q(Decimal("0.3"))), AS_OF)
    assert r.status == "incomplete"
    assert r.recommendation_ids() == []
    assert [n.name for n in r.needed_facts] == ["febrile"]


def test_branches_not_depending_on_the_unknown_still_apply(g: interpreter.Guideline) -> None:
    r = g.evaluate(base(anc=None, cause="chemotherapy"), AS_OF)
    assert r.status == "incomplete"
    assert r.recommendation_ids() == ["chemo-note"]


def test_stale_value_is_unknown_not_used(g: interpreter.Guideline) -> None:
    old = (AS_OF - timedelta(days=7)).isoformat()
    r = g.evaluate(base(anc=q(Decimal("0.3"), at=old)), AS_OF)
    assert r.status == "incomplete"
    assert [(n.name, n.reason) for n in r.needed_facts] == [("anc", "stale")]


def test_undated_value_with_an_age_limit_is_unknown(g: interpreter.Guideline) -> None:
    r = g.evaluate(base(anc=q(Decimal("0.3"), at=None)), AS_OF)
    assert [(n.name, n.reason) for n in r.needed_facts] == [("anc", "undated")]


def test_dose_is_never_invented_when_weight_is_missing(g: interpreter.Guideline) -> None:
    r = g.evaluate(base(weight=None), AS_OF)
    assert r.status == "incomplete"
    assert r.recommendation_ids() == ["treat"]
    fil = next(a for a in r.recommendations[0].actions if a.fields.get("drug") == "filgrastim")
    assert fil.dose is not None and fil.dose.value is None and fil.dose.needs == ("weight",)
    assert {n.name for n in r.needed_facts} == {"weight"}


def test_unrecognized_fact_names_are_reported(g: interpreter.Guideline) -> None:
    facts = base()
    facts["ancc"] = 1
    r = g.evaluate(facts, AS_OF)
    assert [u.name for u in r.unrecognized_facts] == ["ancc"]


@pytest.mark.parametrize(
    ("fact", "value", "code"),
    [
        ("anc", q(400, "10*9/L"), "fact-implausible"),  # 400 cells/uL sent as 10^9/L
        ("anc", q(1, "kg"), "fact-unit-mismatch"),
        ("anc", q(1, "furlongs"), "fact-unknown-unit"),
        ("anc", "1500", "fact-wrong-type"),
        ("febrile", 1, "fact-wrong-type"),
        ("cause", "radiation", "fact-unknown-code"),
    ],
)
def test_bad_facts_are_refused_naming_the_fact(
    g: interpreter.Guideline, fact: str, value: object, code: str
) -> None:
    with pytest.raises(FactsError) as info:
        g.evaluate(base(**{fact: value}), AS_OF)
    d = info.value.diagnostics[0]
    assert d.code == code
    assert d.path[0] == fact
    assert fact in d.message


def test_as_of_outside_effective_period_is_refused(g: interpreter.Guideline) -> None:
    with pytest.raises(EvaluationError) as info:
        g.evaluate(base(), datetime(2030, 1, 1, tzinfo=UTC))
    assert info.value.code == "guideline-not-effective"


def test_naive_as_of_is_refused(g: interpreter.Guideline) -> None:
    with pytest.raises(EvaluationError) as info:
        g.evaluate(base(), datetime(2026, 11, 24, 9, 0))
    assert info.value.code == "eval-naive-time"


def test_retired_guideline_is_refused(tmp_path: pathlib.Path) -> None:
    text = MINI.read_text().replace("status: draft", "status: retired")
    p = tmp_path / "retired.guideline.yaml"
    p.write_text(text)
    with pytest.raises(GuidelineError) as info:
        interpreter.load(p)
    assert info.value.diagnostics[0].code == "guideline-retired"


def test_trace_explains_each_decision(g: interpreter.Guideline) -> None:
    r = g.evaluate(base(anc=q(Decimal("0.3")), febrile=True), AS_OF)
    steps = {s.node: s for s in r.trace}
    sev = steps["severity"]
    assert sev.outcome == "branch" and sev.taken == ("urgent",)
    first = sev.branches[0]
    assert first.outcome == "true" and first.values == {"anc": "0.3", "febrile": True}


def test_result_json_matches_the_published_schema(g: interpreter.Guideline) -> None:
    schema = json.loads((REPO / "schema" / "result.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for facts in (base(), base(anc=None), base(weight=None), base(febrile=True, anc=q(Decimal("0.2")))):
        data = g.evaluate(facts, AS_OF).to_json()
        json.dumps(data)
        errors = list(validator.iter_errors(data))
        assert not errors, errors[0].message


def _patients() -> list[dict[str, object]]:
    out = []
    for i in range(400):
        anc = Decimal(i % 40) / 20  # 0 .. 1.95
        febrile = None if i % 7 == 0 else bool(i % 2)
        out.append(
            base(
                anc=q(anc),
                febrile=febrile,
                weight={"value": 40 + i % 60, "unit": "kg"},
                cause="chemotherapy" if i % 3 == 0 else "other",
            )
        )
    return out


def test_eight_threads_give_the_same_results_as_one(g: interpreter.Guideline) -> None:
    patients = _patients()
    expected = [json.dumps(g.evaluate(p, AS_OF).to_json(), sort_keys=True) for p in patients]

    def work(_: int) -> list[str]:
        return [json.dumps(g.evaluate(p, AS_OF).to_json(), sort_keys=True) for p in patients]

    for r in run_in_threads(work):
        assert r == expected


def _with_ratio(tmp_path: pathlib.Path, where: str) -> interpreter.Guideline:
    """The mini guideline with a division by a count that may be zero, in a condition or a derived value."""
    text = MINI.read_text().replace(
        "  cause:\n",
        "  wbc:\n    type: quantity\n    unit: 10*9/L\n    description: White cells\n"
        "    plausible: {min: 0, max: 500}\n  cause:\n",
    )
    if where == "condition":
        text = text.replace('{when: "anc < 1.0", then: treat', '{when: "anc / wbc < 0.5", then: treat')
    else:
        text = text.replace(
            "derived:\n",
            "derived:\n  ratio:\n    type: number\n    description: ANC over WBC\n    expr: anc / wbc\n",
        ).replace('{when: "anc < 1.0", then: treat', '{when: "anc < 1.0 and ratio < 0.9", then: treat')
    p = tmp_path / f"{where}.guideline.yaml"
    p.write_text(text)
    return interpreter.load(p)


@pytest.mark.parametrize(
    ("where", "node", "expression"),
    [
        ("condition", "severity", "anc / wbc < 0.5"),
        ("derived", "derived:ratio", "anc / wbc"),
    ],
)
def test_division_by_zero_names_the_node_and_the_expression(
    tmp_path: pathlib.Path, where: str, node: str, expression: str
) -> None:
    g = _with_ratio(tmp_path, where)
    with pytest.raises(EvaluationError) as info:
        g.evaluate(base(wbc={"value": 0, "unit": "10*9/L"}), AS_OF)
    err = info.value
    assert (err.code, err.node_id, err.expression) == ("expr-division-by-zero", node, expression)
    assert f"in node '{node}'" in str(err) and expression in str(err)
    # with a count that is not zero the same guideline evaluates
    assert g.evaluate(base(wbc={"value": 2, "unit": "10*9/L"}), AS_OF).status == "complete"


def test_a_dose_that_comes_out_non_positive_is_an_error_not_a_dose(tmp_path: pathlib.Path) -> None:
    text = MINI.read_text().replace(
        "dose: {amount: 5, unit: ug/kg, basis: weight, round_to: 1, warn_below: 180}",
        "dose: {amount: \"weight / q(1, 'kg') - 100\", unit: ug/kg, basis: weight}",
    )
    p = tmp_path / "negative.guideline.yaml"
    p.write_text(text)
    g = interpreter.load(p)
    with pytest.raises(EvaluationError) as info:
        g.evaluate(base(), AS_OF)  # 70 kg: amount -30 ug/kg
    assert (info.value.code, info.value.node_id) == ("dose-not-positive", "treat")
    heavy = g.evaluate(base(weight={"value": 120, "unit": "kg"}), AS_OF)  # 20 ug/kg x 120 kg
    fil = next(a for a in heavy.recommendations[0].actions if a.fields.get("drug") == "filgrastim")
    assert fil.dose is not None and fil.dose.value == Decimal(2400)


def _variant(tmp_path: pathlib.Path, name: str, *edits: tuple[str, str]) -> interpreter.Guideline:
    text = MINI.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    p = tmp_path / f"{name}.guideline.yaml"
    p.write_text(text)
    return interpreter.load(p)


SERIES_INPUT = (
    "  cause:\n",
    "  weights:\n    type: series\n    unit: kg\n    description: Recent weights\n"
    "    plausible: {min: 0.5, max: 400}\n  cause:\n",
)


def test_a_dose_whose_basis_cannot_be_known_keeps_the_result_incomplete(tmp_path: pathlib.Path) -> None:
    """The basis is a derived value over a series: an empty series gives no dose and names the series."""
    g = _variant(
        tmp_path,
        "derived-basis",
        SERIES_INPUT,
        (
            "derived:\n",
            "derived:\n  last_weight:\n    type: quantity\n    unit: kg\n"
            "    description: Latest weight\n    expr: latest(weights)\n",
        ),
        (
            "dose: {amount: 5, unit: ug/kg, basis: weight, round_to: 1, warn_below: 180}",
            "dose: {amount: 5, unit: ug/kg, basis: last_weight, round_to: 1}",
        ),
    )
    r = g.evaluate(base(weights=[]), AS_OF)
    assert r.status == "incomplete"
    fil = next(a for a in r.recommendations[0].actions if a.fields.get("drug") == "filgrastim")
    assert fil.dose is not None and fil.dose.value is None and fil.dose.needs == ("weights",)
    assert [(n.name, n.reason) for n in r.needed_facts] == [("weights", "insufficient")]
    full = g.evaluate(base(weights=[{"value": 70, "unit": "kg", "at": RECENT}]), AS_OF)
    assert full.status == "complete"


def test_a_dose_rounded_to_zero_is_an_error(tmp_path: pathlib.Path) -> None:
    g = _variant(tmp_path, "round", ("round_to: 1, warn_below: 180}", "round_to: 10}"))
    with pytest.raises(EvaluationError) as info:
        g.evaluate(base(weight={"value": Decimal("0.9"), "unit": "kg"}), AS_OF)  # 4.5 ug -> 0 ug
    assert info.value.code == "dose-not-positive"


def test_as_of_must_be_a_datetime() -> None:
    g = interpreter.load(MINI)
    with pytest.raises(EvaluationError) as info:
        g.evaluate(base(), "2026-11-24T09:00:00Z")  # type: ignore[arg-type]
    assert info.value.code == "eval-bad-time"


@pytest.mark.parametrize(
    ("as_of", "effective"),
    [
        ("2025-12-31T23:30:00-05:00", True),  # 2026-01-01T04:30Z: inside the period (read in UTC)
        ("2026-01-01T00:30:00+14:00", False),  # 2025-12-31T10:30Z: before it
    ],
)
def test_effective_period_is_read_in_utc(as_of: str, effective: bool) -> None:
    g = interpreter.load(MINI)
    at = datetime.fromisoformat(as_of)
    facts = base(anc=q(Decimal("0.7"), at=at.isoformat()))
    if effective:
        assert g.evaluate(facts, at).status == "complete"
    else:
        with pytest.raises(EvaluationError) as info:
            g.evaluate(facts, at)
        assert info.value.code == "guideline-not-effective"


def test_results_do_not_depend_on_the_callers_decimal_context(g: interpreter.Guideline) -> None:
    from decimal import localcontext

    expected = g.evaluate(base(weight={"value": 154, "unit": "[lb_av]"}), AS_OF).to_json()
    with localcontext() as ctx:
        ctx.prec = 3
        got = g.evaluate(base(weight={"value": 154, "unit": "[lb_av]"}), AS_OF).to_json()
    assert got == expected
    assert got["facts"]["weight"]["value"] == "69.85322498"
