"""Evaluate a compiled guideline against raw host facts: the entry point of the runtime.

The steps: the as-of time and the guideline's effective period are checked; the facts are checked
(``facts.checker``); the derived values are computed; the tree is walked (``walker.py``); the ``Result`` is
assembled, doses included (``assemble.py``, ``doses.py``). No global mutable state: every call builds its own
walker and tracer; the compiled guideline is read only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from decimal import localcontext
from typing import Any

from ..codes import Code
from ..compiler.guideline import CompiledGuideline
from ..errors import EvaluationError
from ..facts.checker import DEFAULT_FACTS_LIMITS, FactsLimits
from ..facts.values import evaluation_calendar, host_offset
from ..result import Result
from ..values.numbers import DECIMAL_CONTEXT
from .assemble import assemble
from .completion import Completer
from .locate import locate
from .scores import compute_scores
from .trace import NullTracer, RecordingTracer, TeeTracer, Tracer
from .walker import TracedWalker, Walker

__all__ = ["evaluate"]


def evaluate(
    g: CompiledGuideline,
    facts: Mapping[str, Any],
    as_of: datetime | None = None,
    *,
    trace: bool = True,
    tracer: Tracer | None = None,
    facts_source: str | None = None,
    time_zone: str | tzinfo | None = None,
    facts_limits: FactsLimits = DEFAULT_FACTS_LIMITS,
) -> Result:
    """Evaluate ``g`` against raw host ``facts`` at ``as_of`` (default: now, UTC), with calendar days in
    ``time_zone`` (default: the offset of ``as_of``; see ``interpreter.facts.values.evaluation_calendar``).

    ``trace`` records the result's trace; ``tracer`` (e.g. a ``CoverageTracer``) is told of every node visited
    as well. Without either, the walk makes no tracer call.

    Raises ``FactsError`` for malformed facts (nothing partial is returned) and ``EvaluationError`` when an
    expression fails at run time or the guideline does not apply at ``as_of``.
    """
    if as_of is None:
        as_of = datetime.now(UTC)
    elif not isinstance(as_of, datetime):
        raise EvaluationError(
            Code.EVAL_BAD_TIME,
            f"the as-of time must be a timezone-aware datetime, not {type(as_of).__name__}"
        )
    elif host_offset(as_of, Code.EVAL_BAD_TIME, "the as-of time") is None:
        raise EvaluationError(Code.EVAL_NAIVE_TIME, "the as-of time must carry a time zone offset")
    # a fixed offset in the evaluation's calendar, within years 1..9999 (arithmetic by instant)
    as_of, calendar = evaluation_calendar(as_of, time_zone)
    model = g.model
    # the effective period is read in UTC: [start 00:00Z, the day after the end 00:00Z)
    if as_of < g.effective_from or (g.effective_until is not None and as_of >= g.effective_until):
        end = model.effective_end.isoformat() if model.effective_end else "open"
        day = as_of.astimezone(UTC).date().isoformat()
        raise EvaluationError(
            Code.GUIDELINE_NOT_EFFECTIVE,
            f"guideline {model.id} {model.version} is effective {model.effective_start.isoformat()}"
            f" to {end} (UTC dates), not on {day}",
        )
    if model.status == "retired":
        raise EvaluationError(Code.GUIDELINE_RETIRED, f"guideline {model.id} {model.version} is retired")
    checked = g.facts.check(facts, as_of, file=facts_source, time_zone=time_zone, limits=facts_limits)
    values: dict[str, Any] = dict(checked.values)
    completer = Completer(g, values, as_of)
    recording = RecordingTracer(values, completer.settled, g) if trace else None
    if isinstance(tracer, NullTracer):
        tracer = None
    active = tracer if recording is None else recording if tracer is None else TeeTracer(recording, tracer)
    with localcontext(DECIMAL_CONTEXT):
        for name, expr in g.derived:
            try:
                values[name] = expr.evaluate(values, as_of)
            except EvaluationError as exc:
                raise locate(
                    g,
                    EvaluationError(exc.code, exc.message, expression=expr.source),
                    (*model.derived[name].path, "expr"),
                    f"derived:{name}",
                ) from exc
        scores = compute_scores(g, completer) if g.scores else ()
        # the walker is chosen once: without a tracer, it makes no tracer call at all
        walk = (
            Walker(g, values, as_of, completer)
            if active is None
            else TracedWalker(g, values, as_of, active, completer)
        )
        if active is not None:
            active.begin()
        walk.run(model.start)
        result = assemble(g, checked, values, as_of, walk, recording, scores, calendar)
    if active is not None:
        active.end(walk.applied)
    return result
