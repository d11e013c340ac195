"""Completion: a condition is decided whenever every value of its unknown facts gives the same answer.

The walk calls this only when the normal three-valued evaluation of a condition gave unknown (the hot path
is unchanged). The unknown facts the condition reads become variables, each with a finite *completion
domain* (``DOMAINS``, one function per input type):

* boolean: true and false; code: every word of the input's ``values`` (both exact: finite sets);
* number and quantity: the plausible minimum and maximum, every threshold the condition compares the input
  with (inside the plausible range), and a point strictly between each two neighbours. This is exact when
  the input appears in the condition only as ``input OP constant`` (chains included): the thresholds split
  the plausible range into intervals on which every comparison is constant. When the input is used in any
  other way (arithmetic, a function, compared with another input, behind a derived value), it has no domain
  and the condition stays unknown;
* code-set: every subset of the words the conditions *mention* (quoted words in ``'w' in causes`` /
  ``not in``, ``any_of(causes, 'w', ...)``, ``all_of(...)``, and every value of a code input ``c`` in
  ``c in causes``): exact, because words nobody tests cannot change the answer of a membership test. Only
  when every use of the set (in the condition and in the derived values it reads) is such a test; otherwise
  no domain. At most ``MAX_CODE_SET_WORDS_COMPLETED`` words mentioned (2**10 subsets);
* datetime, date and series: no domain (the condition stays unknown);
* a score with unknown items: every sum its items can still reach (``runtime/scores.py``).

A derived value that reads an unknown input is computed again for each completion. The condition is
evaluated for every combination (the Cartesian product of the domains): when all give the same ``True`` or
``False`` the condition is decided, and the variables are recorded for the explanation ("decided: true for
every value of fungal"); any unknown, any run-time error or two different answers leave it unknown.

Bounds: at most ``MAX_COMPLETIONS_PER_CONDITION`` combinations for one condition and
``MAX_COMPLETIONS_PER_EVALUATION`` in one evaluation; a condition whose product exceeds what is left is not
tried at all and stays unknown (never a guess). Over-approximating the domains (e.g. a score's variable
treated as independent of the inputs it sums) can only leave a condition unknown, never decide it wrongly.

**Which facts matter** (``Completer.needed``). When the completions of an undecided condition disagree, the
same table of answers tells which of its unknown facts could settle it: a fact *matters* when some completion
of the others gives two different answers for two of its values. A fact that does not matter cannot change
the answer, whatever the others turn out to be, so it is not asked for (Khorana: with red-cell growth factors
in use, the haemoglobin item gives its point whatever the haemoglobin, so the band needs the platelets, not a
blood draw for haemoglobin). A score among the variables stands for the facts of its items that are still
undetermined (``score_needs``, found the same way per item by ``runtime/scores.py``). This is exact over the
domains (which are exact, or supersets, so a fact is never dropped wrongly); when the condition cannot be
completed (no domain, past the bounds, an unknown or failing completion), every unknown fact it reads is asked
for, as before. No extra evaluation: the table is the one ``settle`` computes anyway (evaluated in full when
the answers disagree, within the budget already counted).

No global state: one ``Completer`` per evaluation.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Any

from ..compiler.guideline import CompiledGuideline
from ..errors import EvaluationError
from ..lang.codegen import EVALUATION_EXCEPTIONS
from ..lang.compile import CompiledExpression
from ..lang.uses import resolve_words
from ..loading.model import Input
from ..values.numbers import DECIMAL_CONTEXT
from ..values.unknown import UNKNOWN
from .locate import insufficient

__all__ = [
    "DOMAINS",
    "MAX_COMPLETIONS_PER_CONDITION",
    "MAX_COMPLETIONS_PER_EVALUATION",
    "Completer",
    "deciding",
    "direct_thresholds",
]

#: The most combinations of unknown values tried for one condition.
MAX_COMPLETIONS_PER_CONDITION = 1024
#: The most combinations tried in one evaluation (over every condition and score item).
MAX_COMPLETIONS_PER_EVALUATION = 8192

Domain = tuple[object, ...]

#: The most entries of the number-domain memo (``_number_domain_memo``).
_NUMBER_DOMAIN_MEMO_MAX = 4096


def _boolean_domain(inp: Input, uses: Sequence[object] | None) -> Domain | None:
    return (False, True)


def _code_domain(inp: Input, uses: Sequence[object] | None) -> Domain | None:
    return tuple(inp.values) or None


def _number_domain(inp: Input, uses: Sequence[object] | None) -> Domain | None:
    """The plausible bounds, the thresholds inside them and a point strictly between each two neighbours;
    None without a plausible range or when the input is not only compared with constants (``thresholds``
    None)."""
    low, high = inp.plausible_min, inp.plausible_max
    if uses is None or low is None or high is None:
        return None
    return _number_domain_values(low, high, [t for t in uses if isinstance(t, Decimal)])


def _number_domain_values(low: Decimal, high: Decimal, thresholds: list[Decimal]) -> Domain | None:
    points = sorted({low, high, *(t for t in thresholds if low <= t <= high)})
    out: list[Decimal] = []
    with localcontext(DECIMAL_CONTEXT):
        for a, b in itertools.pairwise(points):
            out.append(a)
            middle = (a + b) / 2
            if a < middle < b:
                out.append(middle)
            else:  # neighbours closer than 28 digits can tell apart: not exact, refuse
                return None
    out.append(points[-1])
    return tuple(out)


#: A code-set input is completed over every subset of the words its conditions mention only when they
#: mention at most this many (2**10 = 1,024 subsets, the bound of one condition); else it stays unknown.
MAX_CODE_SET_WORDS_COMPLETED = 10


def _code_set_domain(inp: Input, uses: Sequence[object] | None) -> Domain | None:
    """Every subset of the words mentioned (``uses``; exact, see the module's doc), when few enough."""
    if uses is None:
        return None
    words = tuple(dict.fromkeys(w for w in uses if isinstance(w, str)))
    if len(words) > MAX_CODE_SET_WORDS_COMPLETED:
        return None
    subsets = itertools.chain.from_iterable(itertools.combinations(words, k) for k in range(len(words) + 1))
    return tuple(frozenset(s) for s in subsets)


def _no_domain(inp: Input, uses: Sequence[object] | None) -> Domain | None:
    return None


#: One function per input type: its completion domain from what the conditions compare it with (``uses``:
#: the thresholds of a number, the words of a code set; None when it is used any other way), None when the
#: condition cannot be completed over it. A new input type adds its function here.
DOMAINS: Mapping[str, Callable[[Input, Sequence[object] | None], Domain | None]] = {
    "boolean": _boolean_domain,
    "code": _code_domain,
    "number": _number_domain,
    "quantity": _number_domain,
    "code-set": _code_set_domain,
    "datetime": _no_domain,
    "date": _no_domain,
    "series": _no_domain,
}


def direct_thresholds(expr: CompiledExpression, name: str) -> tuple[Decimal, ...] | None:
    """The constants ``name`` is compared with, when every use of ``name`` in ``expr`` is a comparison with a
    constant (recorded in ``expr.thresholds``); None when it is used any other way (read at load:
    ``lang/uses.py``)."""
    return expr.direct_thresholds(name)


def number_domain_of(expr: CompiledExpression, name: str, inp: Input) -> Domain | None:
    """The domain of the number input ``inp`` (called ``name``) in the completions of ``expr`` alone, as
    ``Completer.variables`` computes it (``DOMAINS[inp.type](inp, direct_thresholds(expr, name))``), from a
    memo keyed by the exact texts of the bounds and thresholds (``_number_domain_memo``)."""
    uses = expr.direct_thresholds(name)
    low, high = inp.plausible_min, inp.plausible_max
    if uses is None or low is None or high is None:
        return None
    return _number_domain_memo(str(low), str(high), tuple(str(t) for t in uses if isinstance(t, Decimal)))


#: A pure, bounded, thread-safe memo (``functools.lru_cache``: at most 4,096 entries, least recently used
#: dropped first). It is keyed by values, not objects: the exact texts of the bounds and thresholds
#: (``Decimal('1.0')`` and ``Decimal('1')`` are different keys, and ``Decimal(str(d))`` is ``d`` digit for
#: digit), so an entry answers exactly what ``_number_domain`` would compute, for any guideline.
@functools.lru_cache(maxsize=_NUMBER_DOMAIN_MEMO_MAX)
def _number_domain_memo(low: str, high: str, thresholds: tuple[str, ...]) -> Domain | None:
    return _number_domain_values(Decimal(low), Decimal(high), [Decimal(t) for t in thresholds])


class Completer:
    """The completions of one evaluation: its budget and the conditions it decided (for explanations)."""

    __slots__ = ("as_of", "budget", "deciders", "g", "score_domains", "score_needs", "settled", "values")

    def __init__(self, g: CompiledGuideline, values: dict[str, Any], as_of: datetime) -> None:
        self.g = g
        self.values = values
        self.as_of = as_of
        self.budget = MAX_COMPLETIONS_PER_EVALUATION
        #: score name -> every sum it can still reach (set by ``runtime/scores.py`` for unknown scores)
        self.score_domains: dict[str, Domain] = {}
        #: (node id, branch index) -> the unknown names a decided condition was completed over
        self.settled: dict[tuple[str, int], tuple[str, ...]] = {}
        #: score name -> the facts of its undetermined items that could change its value (``scores.py``)
        self.score_needs: dict[str, tuple[str, ...]] = {}
        #: id of an undecided condition -> the completed names that could change its answer (``needed``)
        self.deciders: dict[int, tuple[str, ...]] = {}

    def variables(
        self, exprs: Sequence[CompiledExpression]
    ) -> tuple[list[tuple[str, Domain]], list[str]] | None:
        """The unknown names ``exprs`` read, as (name, domain), and the derived values to compute again per
        completion; None when some unknown has no domain."""
        g, values = self.g, self.values
        inputs = g.model.inputs
        derived_names = {n for n, _ in g.derived}
        direct: set[str] = set()
        behind: set[str] = set()
        redo: set[str] = set()
        scores: set[str] = set()
        for expr in exprs:
            for n in expr.names:
                if values.get(n, UNKNOWN) is not UNKNOWN:
                    continue
                if n in self.score_domains:
                    scores.add(n)
                elif n in inputs:
                    direct.add(n)
                elif n in derived_names:
                    redo.add(n)
                    unknown_inputs = {i for i in g.deps.get(n, ()) if values.get(i) is UNKNOWN}
                    if not unknown_inputs:
                        return None  # unknown for another reason (e.g. too short a series)
                    behind |= unknown_inputs
                else:
                    return None  # a score without a domain
        out: list[tuple[str, Domain]] = []
        for n in sorted(direct | behind):
            inp = inputs[n]
            uses: tuple[object, ...] | None = ()
            if inp.type in ("number", "quantity"):
                if n in behind:
                    return None
                if len(exprs) == 1:  # a branch's condition: its domain is memoized
                    domain = number_domain_of(exprs[0], n, inp)
                    if domain is None:
                        return None
                    out.append((n, domain))
                    continue
                found: list[Decimal] = []
                for expr in exprs:
                    if n not in expr.names:
                        continue
                    t = expr.direct_thresholds(n)
                    if t is None:
                        return None
                    found.extend(t)
                uses = tuple(found)
            elif inp.type == "code-set":
                uses = self.code_set_words(exprs, n)
            domain = DOMAINS[inp.type](inp, uses)
            if domain is None:
                return None
            out.append((n, domain))
        out.extend((n, self.score_domains[n]) for n in sorted(scores))
        order = [n for n, _ in g.derived if n in redo or any(i in behind for i in g.deps.get(n, ()))]
        return out, order

    def code_set_words(self, exprs: Sequence[CompiledExpression], name: str) -> tuple[str, ...] | None:
        """The words the code set ``name`` is tested for in ``exprs`` and in the derived values that read it
        (the derived values read by ``exprs`` are computed again per completion), or None (see
        ``lang.uses.code_set_uses``)."""
        inputs = self.g.model.inputs
        words: list[str] = []
        readers = [e for e in exprs if name in e.names]
        readers += [e for _, e in self.g.derived if name in e.names]
        for expr in readers:
            found = resolve_words(expr.code_set_uses(name), inputs)
            if found is None:
                return None
            words.extend(found)
        return tuple(words)

    def trials(
        self, exprs: Sequence[CompiledExpression]
    ) -> tuple[Iterator[dict[str, Any]], tuple[str, ...]] | None:
        """Every completion of the unknowns of ``exprs`` (values with them filled in and the derived values
        computed again), and the names completed; None when they have no domain or exceed the bounds. The
        completions come in one dict, refilled for each: read it before asking for the next, never keep it."""
        found = self.variables(exprs)
        if found is None:
            return None
        variables, order = found
        if not variables:
            return None
        total = 1
        for _, domain in variables:
            total *= len(domain)
            if total > MAX_COMPLETIONS_PER_CONDITION or total > self.budget:
                return None
        self.budget -= total
        names = tuple(n for n, _ in variables)
        derived = dict(self.g.derived)
        base, as_of = self.values, self.as_of

        def generate() -> Iterator[dict[str, Any]]:
            # one dict, refilled for each completion: every completed name and every derived value in
            # ``order`` is written again each time, so it holds what a fresh copy of ``base`` would
            trial = dict(base)
            for combination in itertools.product(*(d for _, d in variables)):
                trial.update(zip(names, combination, strict=True))
                for n in order:
                    trial[n] = derived[n].evaluate(trial, as_of)
                yield trial

        return generate(), names

    def settle(self, expr: CompiledExpression) -> tuple[bool, tuple[str, ...]] | None:
        """(the answer, the names completed) when every completion of ``expr``'s unknowns gives the same
        ``True`` or ``False``; None otherwise."""
        if id(expr) in self.deciders:  # already found undecided for these values
            return None
        found = self.trials((expr,))
        if found is None:
            return None
        trials, names = found
        answer: object = UNKNOWN
        disagree = False
        rows: list[tuple[tuple[object, ...], object]] = []
        fn, as_of = expr.fn, self.as_of
        try:
            for trial in trials:
                r = fn(trial, as_of)
                if r is not True and r is not False:
                    return None
                rows.append((tuple(trial[n] for n in names), r))
                if answer is UNKNOWN:
                    answer = r
                elif r is not answer:
                    disagree = True
        except (*EVALUATION_EXCEPTIONS, EvaluationError):
            return None
        if disagree:
            self.deciders[id(expr)] = deciding(names, rows)
            return None
        shown = tuple(
            f"{n} (from {_text(self.score_domains[n][0])} to {_text(self.score_domains[n][-1])})"
            if n in self.score_domains else n
            for n in names
        )
        return (answer is True), shown


    def needed(self, expr: CompiledExpression, inputs: frozenset[str]) -> list[str]:
        """The facts that could settle the undecided condition ``expr`` (which reads ``inputs``): those that
        matter (see the module's doc), a score standing for its items' facts; every unknown fact it reads
        (``locate.insufficient``) when that is not known."""
        found = self.deciders.get(id(expr))
        if found is None:
            return insufficient(self.g, inputs, self.values)
        out: set[str] = set()
        for n in found:
            if n in self.score_domains:
                facts = self.score_needs.get(n)
                if facts is None:
                    return insufficient(self.g, inputs, self.values)
                out.update(facts)
            else:
                out.add(n)
        return sorted(out) or insufficient(self.g, inputs, self.values)


def deciding(names: Sequence[str], rows: Sequence[tuple[tuple[object, ...], object]]) -> tuple[str, ...]:
    """The names some completion of the others makes the outcome depend on: ``rows`` holds (the value of each
    of ``names``, the outcome) for every completion. At most ``len(names) * len(rows)`` steps."""
    out: list[str] = []
    for i, n in enumerate(names):
        first: dict[tuple[object, ...], object] = {}
        for key, outcome in rows:
            rest = key[:i] + key[i + 1:]
            seen = first.setdefault(rest, outcome)
            if seen != outcome:
                out.append(n)
                break
    return tuple(out)


def _text(value: object) -> str:
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)
