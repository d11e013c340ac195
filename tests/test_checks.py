"""Structural checks (interpreter/analysis/): each rule on small guidelines, and the threshold arithmetic."""

from __future__ import annotations

import ast
import itertools
import pathlib
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interpreter.analysis.checks import run_checks
from interpreter.analysis.intervals import Interval, union
from interpreter.analysis.registry import RULES, CheckInfo
from interpreter.analysis.thresholds import branch_interval
from interpreter.errors import Diagnostic, Location, Path, Severity
from interpreter.lang.compile import compile_expression
from interpreter.lang.quantities import Threshold
from interpreter.loading.model import GuidelineModel, build_model
from interpreter.loading.schema import validate_document
from interpreter.loading.source import load_yaml

MINIMAL = (pathlib.Path(__file__).parent / "fixtures" / "valid" / "minimal.guideline.yaml").read_text("utf-8")

HEAD = MINIMAL.split("start: severity\n")[0]


def names_of(text: str) -> frozenset[str]:
    tree = ast.parse(text.strip(), mode="eval")
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return frozenset(n.id for n in ast.walk(tree)
                     if isinstance(n, ast.Name) and n.id not in calls and n.id not in ("true", "false"))


def model_of(text: str) -> GuidelineModel:
    doc, sm, diags = load_yaml(text.encode("utf-8"), "g.yaml")
    assert diags == [], [d.format() for d in diags]
    schema_diags = validate_document(doc, sm)
    assert schema_diags == [], [d.format() for d in schema_diags]
    model, mdiags = build_model(doc, sm)
    assert model is not None and mdiags == []
    return model


def info_of(model: GuidelineModel, skip: tuple[Path, ...] = ()) -> CheckInfo:
    exprs: list[tuple[Path, str]] = [((*d.path, "expr"), d.expr) for d in model.derived.values()]
    exprs += [((*b.path, "when"), b.when) for n in model.nodes for b in n.branches]
    return CheckInfo(expr_names={p: names_of(t) for p, t in exprs if p not in skip})


def check(text: str, skip: tuple[Path, ...] = ()) -> list[Diagnostic]:
    model = model_of(text)
    return run_checks(model, info_of(model, skip))


def codes(diags: list[Diagnostic]) -> list[str]:
    return [d.code for d in diags]


def tree(nodes: str, recs: str = "", inputs: str = "", start: str = "severity") -> str:
    """A guideline with the minimal head, the given nodes and recommendations (plus severe and not-severe)."""
    base_recs = ("  - id: severe\n    text: Severe.\n    cite: [EXAMPLE]\n"
                 "  - id: not-severe\n    text: Not severe.\n    cite: [EXAMPLE]\n")
    return HEAD + inputs + f"start: {start}\nnodes:\n" + nodes + "recommendations:\n" + base_recs + recs


def choice(node_id: str, *whens: str, otherwise: str = "not-severe", then: str = "severe") -> str:
    text = f"  - id: {node_id}\n    kind: choice\n    branches:\n"
    for w in whens:
        text += f"      - when: \"{w}\"\n        then: {then}\n"
    if otherwise:
        text += f"    otherwise: {otherwise}\n"
    return text + "    unknown: cannot-decide\n"


def collect(node_id: str, *whens: str) -> str:
    text = f"  - id: {node_id}\n    kind: collect\n    branches:\n"
    for w in whens:
        text += f"      - when: \"{w}\"\n        then: severe\n"
    return text + "    otherwise: not-severe\n"


# --------------------------------------------------------------------------------------------------


def test_minimal_guideline_passes_every_rule() -> None:
    assert check(MINIMAL) == []


def test_rules_table() -> None:
    assert len({code for code, _ in RULES}) == len(RULES)
    assert all(callable(rule) for _, rule in RULES)


def test_duplicate_id_between_a_node_and_a_recommendation() -> None:
    text = tree(choice("severity", "anc < 0.5", otherwise="severe-2")
                + "  - id: severe-2\n    kind: collect\n    branches:\n      - when: 'true'\n"
                  "        then: not-severe\n",
                recs="  - id: severe-2\n    text: Twice.\n    cite: [EXAMPLE]\n")
    diags = check(text)
    assert codes(diags) == ["duplicate-id"]
    d = diags[0]
    assert "'severe-2'" in d.message and "node at line" in d.message
    assert d.path == ("recommendations", 2, "id") and len(d.related) == 1


def test_unknown_target_in_a_list_is_located_at_the_item() -> None:
    text = tree(choice("severity", "anc < 0.5").replace("then: severe", "then: [severe, sevre]"))
    diags = check(text)
    assert codes(diags) == ["unknown-target"]
    d = diags[0]
    assert d.path == ("nodes", 0, "branches", 0, "then", 1)
    assert d.hint == "did you mean 'severe'?"
    line = text.splitlines()[d.location.line - 1]
    assert line[d.location.column - 1:].startswith("sevre")


def test_unknown_start_does_not_also_make_everything_unreachable() -> None:
    diags = check(tree(choice("severity", "anc < 0.5"), start="severty"))
    assert codes(diags) == ["unknown-target"]
    assert diags[0].path == ("start",) and diags[0].hint == "did you mean 'severity'?"


def test_start_must_name_a_node_not_a_recommendation() -> None:
    diags = check(tree(choice("severity", "anc < 0.5"), start="severe"))
    assert "unknown-target" in codes(diags)
    assert any("names a recommendation" in d.message for d in diags)


def test_unknown_targets_in_otherwise_and_unknown() -> None:
    text = tree(choice("severity", "anc < 0.5", otherwise="nowhere").replace(
        "unknown: cannot-decide", "unknown: [not-severe, elsewhere]"))
    assert [(d.code, d.path) for d in check(text)] == [
        ("unknown-target", ("nodes", 0, "otherwise")),
        ("unknown-target", ("nodes", 0, "unknown", 1)),
    ]


def test_self_loop_and_two_cycles() -> None:
    nodes = (choice("severity", "anc < 0.5", otherwise="a")
             + choice("a", "anc < 1", otherwise="a")            # self loop
             + choice("b", "anc < 1", otherwise="c", then="b")  # b -> b and b -> c -> b
             + choice("c", "anc < 1", otherwise="b"))
    nodes = nodes.replace("  - id: a\n    kind: choice\n    branches:\n      - when: \"anc < 1\"\n"
                          "        then: severe", "  - id: a\n    kind: choice\n    branches:\n"
                          "      - when: \"anc < 1\"\n        then: b")
    diags = [d for d in check(tree(nodes)) if d.code == "cycle"]
    messages = sorted(d.message for d in diags)
    assert messages == ["nodes form a cycle: a -> a", "nodes form a cycle: b -> b",
                        "nodes form a cycle: b -> c -> b"]


def test_a_diamond_is_not_a_cycle() -> None:
    nodes = (choice("severity", "anc < 0.5", otherwise="right", then="left")
             + choice("left", "anc < 0.2", otherwise="bottom")
             + choice("right", "anc < 2", otherwise="bottom")
             + choice("bottom", "anc < 0.1"))
    assert check(tree(nodes)) == []


def test_deep_chain_does_not_exhaust_the_stack() -> None:
    n = 1500
    nodes = "".join(choice(f"n{i}", "anc < 0.5", otherwise=f"n{i + 1}" if i + 1 < n else "not-severe")
                    for i in range(n))
    nodes = nodes.replace("  - id: n0\n", "  - id: severity\n", 1)
    assert check(tree(nodes)) == []


def test_unreachable_node_and_recommendation() -> None:
    text = tree(choice("severity", "anc < 0.5") + choice("island", "anc < 1"),
                recs="  - id: orphan\n    text: Orphan.\n    cite: [EXAMPLE]\n")
    diags = check(text)
    assert [(d.code, d.path) for d in diags] == [
        ("unreachable-node", ("nodes", 1, "id")), ("unreachable-node", ("recommendations", 2, "id"))]
    assert "node 'island'" in diags[0].message and "recommendation 'orphan'" in diags[1].message


def test_targets_reached_only_through_unknown_are_reachable() -> None:
    text = tree(choice("severity", "anc < 0.5").replace("unknown: cannot-decide", "unknown: extra"),
                recs="  - id: extra\n    text: Extra.\n    cite: [EXAMPLE]\n")
    assert check(text) == []


def test_collect_nodes_need_neither_otherwise_nor_unknown() -> None:
    node = ("  - id: severity\n    kind: collect\n    branches:\n      - when: anc < 0.5\n"
            "        then: severe\n      - when: anc >= 0.5\n        then: not-severe\n")
    assert check(tree(node)) == []


def test_choice_without_otherwise_and_unknown() -> None:
    node = choice("severity", "anc < 0.5", "anc >= 0.5", otherwise="")
    node = node.replace("    unknown: cannot-decide\n", "")
    node = node.replace("        then: severe\n      - when: \"anc >= 0.5\"\n        then: severe",
                        "        then: severe\n      - when: \"anc >= 0.5\"\n        then: not-severe")
    diags = check(tree(node))
    assert codes(diags) == ["choice-missing-otherwise", "choice-missing-unknown"]
    assert all(d.path == ("nodes", 0, "id") for d in diags)


# --------------------------------------------------------------------------------------------------
# lifecycle


def test_lifecycle_next_review_before_last_reviewed() -> None:
    text = MINIMAL.replace("last_updated: 2026-01-01\n",
                           "last_updated: 2026-01-01\nlast_reviewed: 2026-02-01\nnext_review: 2026-01-15\n")
    diags = check(text)
    assert codes(diags) == ["lifecycle-dates"]
    assert "next_review 2026-01-15 is before last_reviewed 2026-02-01" in diags[0].message
    assert diags[0].path == ("next_review",) and len(diags[0].related) == 1


def test_lifecycle_content_changed_after_approval() -> None:
    text = MINIMAL.replace("status: draft\n", "status: approved\napproval_date: 2025-12-01\n"
                                              "reviewers:\n  - name: R. Viewer\n")
    diags = check(text)
    assert codes(diags) == ["lifecycle-dates"]
    assert "last_updated 2026-01-01 is after approval_date 2025-12-01" in diags[0].message


def test_lifecycle_valid_approved_guideline() -> None:
    text = MINIMAL.replace("status: draft\n", "status: approved\napproval_date: 2026-01-01\n"
                                              "reviewers:\n  - name: R. Viewer\n")
    text = text.replace("  start: 2026-01-01\n", "  start: 2026-01-01\n  end: 2026-01-01\n")
    assert check(text) == []


# --------------------------------------------------------------------------------------------------
# unused inputs


PLATELETS = ("  platelets:\n    type: quantity\n    description: Platelets\n    unit: 10*9/L\n"
             "    plausible: {min: 0, max: 2000}\n")
WEIGHT = ("  weight:\n    type: quantity\n    description: Body weight\n    unit: kg\n"
          "    plausible: {min: 0.3, max: 400}\n")


def test_unused_input_is_a_warning_at_the_input_name() -> None:
    text = tree(choice("severity", "anc < 0.5"), inputs=PLATELETS)
    diags = check(text)
    assert codes(diags) == ["unused-input"]
    d = diags[0]
    assert d.severity is Severity.WARNING and d.path == ("inputs", "platelets")
    assert text.splitlines()[d.location.line - 1].startswith("  platelets:") and d.location.column == 3


def test_inputs_read_by_derived_values_and_doses_are_used() -> None:
    text = tree(choice("severity", "anc < 0.5"),
                recs="  - id: dosed\n    text: Dosed.\n    cite: [EXAMPLE]\n    actions:\n"
                     "      - type: medication\n        drug: filgrastim\n        route: subcutaneous\n"
                     "        frequency: once daily\n        dose: {amount: 5, unit: ug/kg, basis: weight}\n",
                inputs=PLATELETS + WEIGHT)
    text = text.replace("start: severity\n", "derived:\n  low_platelets:\n    description: Low platelets\n"
                                             "    type: boolean\n    expr: platelets < 50\nstart: severity\n")
    text = text.replace("otherwise: not-severe", "otherwise: [not-severe, dosed]")
    assert check(text) == []


def test_an_input_read_only_by_an_expression_that_failed_to_compile_is_not_called_unused() -> None:
    text = tree(choice("severity", "anc < 0.5", "platelets < 50 and bogus(1)"), inputs=PLATELETS)
    assert check(text, skip=(("nodes", 0, "branches", 1, "when"),)) == []


# --------------------------------------------------------------------------------------------------
# thresholds: parsing


@pytest.mark.parametrize(("text", "expected"), [
    ("anc < 0.5", ("anc", Interval(hi=Decimal("0.5")))),
    ("anc <= 0.5", ("anc", Interval(hi=Decimal("0.5"), hi_closed=True))),
    ("0.5 < anc", ("anc", Interval(lo=Decimal("0.5")))),
    ("anc >= 0.5 and anc < 1.0", ("anc", Interval(Decimal("0.5"), True, Decimal("1.0"), False))),
    ("1.0 <= anc < 1.5", ("anc", Interval(Decimal("1.0"), True, Decimal("1.5"), False))),
    ("(anc > -2) and (anc <= 3)", ("anc", Interval(Decimal("-2"), False, Decimal("3"), True))),
    ("age == 65", ("age", Interval(Decimal("65"), True, Decimal("65"), True))),
    ("anc < 1e3", ("anc", Interval(hi=Decimal("1000")))),
])
def test_branch_interval(text: str, expected: tuple[str, Interval]) -> None:
    assert branch_interval(text) == expected


@pytest.mark.parametrize("text", [
    "anc < q(820, '/mm3')", "anc < 0.5 or anc > 1", "anc < 0.5 and plt < 50", "not anc < 0.5", "anc != 1",
    "latest(series) < 1", "anc < other", "anc < 1_000", "anc < 0x10", "anc", "true", "anc < true",
    "anc < 'a'", "anc <", "a < 1 < b", "anc + 1 < 2",
])
def test_branch_interval_is_conservative(text: str) -> None:
    assert branch_interval(text) is None


def test_threshold_literals_are_exact() -> None:
    found = branch_interval("anc < 0.1")
    assert found is not None and found[1].hi == Decimal("0.1")  # not 0.1000000000000000055...


# --------------------------------------------------------------------------------------------------
# thresholds: interval arithmetic against brute force

_bound = st.one_of(st.none(), st.integers(-4, 4))
_interval = st.builds(lambda lo, lc, hi, hc: Interval(None if lo is None else Decimal(lo), lc,
                                                      None if hi is None else Decimal(hi), hc),
                      _bound, st.booleans(), _bound, st.booleans())
_points = [Fraction(n, 2) for n in range(-12, 13)]


def _has(i: Interval, x: Fraction) -> bool:
    if i.lo is not None and (x < i.lo or (x == i.lo and not i.lo_closed)):
        return False
    return not (i.hi is not None and (x > i.hi or (x == i.hi and not i.hi_closed)))


def _members(i: Interval) -> set[Fraction]:
    return {x for x in _points if _has(i, x)}


@given(_interval, _interval)
def test_intersect_contains_empty(a: Interval, b: Interval) -> None:
    both = a.intersect(b)
    assert _members(both) == _members(a) & _members(b)
    assert both.empty == (not _members(both))
    if not b.empty:
        assert a.contains(b) == (_members(b) <= _members(a))


@given(st.lists(_interval, max_size=5))
def test_union(intervals: list[Interval]) -> None:
    merged = union(intervals)
    expected: set[Fraction] = set().union(*(_members(i) for i in intervals)) if intervals else set()
    got: set[Fraction] = set().union(*(_members(i) for i in merged)) if merged else set()
    assert got == expected
    # disjoint and sorted, with a real gap between neighbours
    for left, right in itertools.pairwise(merged):
        assert left.hi is not None and right.lo is not None
        assert left.hi < right.lo or (left.hi == right.lo and not left.hi_closed and not right.lo_closed)


# --------------------------------------------------------------------------------------------------
# thresholds: the rule


def thresholds(node: str) -> list[Diagnostic]:
    return [d for d in check(tree(node)) if d.code.startswith("threshold-")]


def test_gap_at_a_boundary_value() -> None:
    diags = thresholds(choice("severity", "anc < 0.5", "anc > 0.5"))
    assert codes(diags) == ["threshold-gap"]
    d = diags[0]
    assert "no branch covers anc = 0.5" in d.message and "go to `otherwise`" in d.message
    assert d.path == ("nodes", 0, "branches", 1, "when") and d.severity is Severity.WARNING
    assert len(d.related) == 1


def test_gap_between_two_thresholds_even_with_otherwise() -> None:
    diags = thresholds(choice("severity", "anc < 0.5", "anc > 0.6 and anc < 1.0", "anc >= 1.0"))
    assert codes(diags) == ["threshold-gap"]
    assert "0.5 <= anc <= 0.6" in diags[0].message


def test_no_gap_when_thresholds_meet() -> None:
    assert thresholds(choice("severity", "anc < 0.5", "0.5 <= anc < 1.0", "anc >= 1.0")) == []
    assert thresholds(choice("severity", "anc <= 0.5", "anc > 0.5")) == []


def test_values_beyond_the_outermost_threshold_are_for_otherwise() -> None:
    assert thresholds(choice("severity", "anc < 0.5", "0.5 <= anc < 1.0")) == []


def test_no_gap_reported_when_another_branch_reads_the_input() -> None:
    # the third branch reads anc in a way the check cannot analyse (arithmetic): it may cover the gap
    assert thresholds(choice("severity", "anc < 0.5", "anc > 0.6", "anc + 0 < 1")) == []


def test_ladders_in_a_choice_node_are_not_overlaps() -> None:
    assert thresholds(choice("severity", "anc < 0.5", "anc < 1.0", "anc < 1.5")) == []
    assert thresholds(choice("severity", "anc >= 1.5", "anc >= 1.0", "anc >= 0.5")) == []


def test_boundary_overlap_in_a_choice_node() -> None:
    diags = thresholds(choice("severity", "anc <= 0.5", "anc >= 0.5 and anc < 1.0"))
    assert codes(diags) == ["threshold-overlap"]
    assert "anc = 0.5 satisfies both branch 1" in diags[0].message
    assert "the first one wins" in diags[0].message


def test_partial_overlap_in_a_choice_node() -> None:
    diags = thresholds(choice("severity", "anc < 0.5", "anc >= 0.4 and anc < 1.0"))
    assert codes(diags) == ["threshold-overlap"]
    assert "0.4 <= anc < 0.5" in diags[0].message


def test_a_shadowed_branch_can_never_be_chosen() -> None:
    diags = thresholds(choice("severity", "anc < 1.0", "anc < 0.5"))
    assert codes(diags) == ["threshold-overlap"]
    assert "branch 2 (`anc < 0.5`) can never be chosen" in diags[0].message
    diags = thresholds(choice("severity", "anc < 0.5", "anc >= 0.5", "anc == 0.7"))
    assert codes(diags) == ["threshold-overlap"] and "branch 3" in diags[0].message


def test_collect_overlaps_only_at_a_shared_boundary() -> None:
    assert thresholds(collect("severity", "anc < 1.0", "anc < 0.5")) == []
    diags = thresholds(collect("severity", "anc <= 0.5", "anc >= 0.5"))
    assert codes(diags) == ["threshold-overlap"]
    assert "so both apply at that value" in diags[0].message


def test_collect_gaps_are_reported_too() -> None:
    assert codes(thresholds(collect("severity", "anc < 0.5", "anc > 0.5"))) == ["threshold-gap"]


def test_impossible_condition() -> None:
    diags = thresholds(choice("severity", "anc < 0.5 and anc > 1.0", "anc >= 1"))
    assert codes(diags) == ["threshold-impossible"]
    assert diags[0].path == ("nodes", 0, "branches", 0, "when")


def test_each_input_is_analysed_on_its_own() -> None:
    node = choice("severity", "anc < 0.5", "age > 65", "anc > 0.5", "age < 18")
    inputs = "  age:\n    type: number\n    description: Age\n    plausible: {min: 0, max: 130}\n"
    diags = [d for d in check(tree(node, inputs=inputs)) if d.code.startswith("threshold-")]
    assert [(d.code, d.path[3]) for d in diags] == [("threshold-gap", 2), ("threshold-gap", 3)]
    assert "anc = 0.5" in diags[0].message and "18 <= age <= 65" in diags[1].message


# --------------------------------------------------------------------------------------------------
# thresholds: the values come from the compiled expressions (q(...) literals in the name's unit)


def compiled_thresholds(node: str) -> list[Diagnostic]:
    """The threshold diagnostics, with each condition compiled against the guideline's declared inputs (as the
    compiler does), so that ``q(...)`` literals are converted to the input's unit."""
    model = model_of(tree(node))
    env = {n: i.value_type for n, i in model.inputs.items()}
    info = info_of(model)
    found: dict[Path, tuple[Threshold, ...]] = {}
    for n in model.nodes:
        for b in n.branches:
            compiled, diags = compile_expression(b.when, env, location=Location("g.yaml"))
            assert compiled is not None, [d.format() for d in diags]
            found[(*b.path, "when")] = compiled.thresholds
    diags = run_checks(model, CheckInfo(info.expr_names, found))
    return [d for d in diags if d.code.startswith("threshold-")]


def test_a_quantity_literal_gap_is_reported_as_the_plain_number_one() -> None:
    plain = compiled_thresholds(choice("severity", "anc < 0.5", "anc > 0.5"))
    quantity = compiled_thresholds(choice("severity", "anc < q(500, '/mm3')", "anc > 0.5"))
    assert codes(plain) == ["threshold-gap"] and "anc = 0.5:" in plain[0].message
    assert [(d.code, d.message, d.path, d.hint) for d in quantity] == [
        (d.code, d.message, d.path, d.hint) for d in plain]
    assert [r.line for r in quantity[0].related] == [r.line for r in plain[0].related]


def test_a_quantity_literal_overlap() -> None:
    diags = compiled_thresholds(choice("severity", "anc <= q(500, '/mm3')", "anc >= 0.5 and anc < 1.0"))
    assert codes(diags) == ["threshold-overlap"]
    assert "anc = 0.5 satisfies both branch 1" in diags[0].message
    shadowed = compiled_thresholds(choice("severity", "anc < 1.0", "anc < q(500, '/mm3')"))
    assert codes(shadowed) == ["threshold-overlap"] and "can never be chosen" in shadowed[0].message


def test_a_mixed_unit_ladder_without_gaps_reports_nothing() -> None:
    ladder = ("anc < q(500, '/mm3')", "q(500, '/mm3') <= anc < 1.0", "1.0 <= anc < q(1500, '/uL')",
              "anc >= 1.5")
    assert compiled_thresholds(choice("severity", *ladder)) == []
    assert compiled_thresholds(collect("severity", *ladder)) == []


def test_a_compiled_condition_without_matching_thresholds_is_opaque() -> None:
    # no thresholds were recorded for the path (it failed to compile): the branch is opaque, so no gap
    model = model_of(tree(choice("severity", "anc < 0.5", "anc > 0.5")))
    info = CheckInfo(info_of(model).expr_names, {("nodes", 0, "branches", 1, "when"): ()})
    assert [d for d in run_checks(model, info) if d.code.startswith("threshold-")] == []
    assert branch_interval("anc < 0.5", ()) is None
