"""Helpers shared by the test files: a thread runner and a builder of inputs.

Imported as ``from helpers import ...`` (pytest puts tests/ on the import path, as for ``reference_eval``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from interpreter.errors import Location
from interpreter.loading.model import Input
from interpreter.values.durations import parse_duration

Result = TypeVar("Result")

#: Where hand-built inputs are declared (neither the fact checker nor the expression compiler reads it).
INPUT_LOCATION = Location("inputs.yaml", 1, 1)


def run_in_threads(worker: Callable[[int], Result], count: int = 8) -> list[Result]:
    """Call ``worker(i)`` for i in 0..count-1, each in its own thread, all released at once by a barrier.

    Returns the results in order of i; the first exception a worker raised is raised here."""
    barrier = threading.Barrier(count)
    results: dict[int, Result] = {}
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = worker(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return [results[i] for i in range(count)]


def make_input(
    name: str,
    type: Any,
    description: str | None = None,
    *,
    plausible: tuple[object, object] | None = None,
    max_age: str | None = None,
    **fields: Any,
) -> Input:
    """An input as a guideline declares it: ``plausible=(min, max)``, ``max_age`` as ISO 8601 text
    (``"PT48H"``), any other field of ``Input`` by name."""
    if plausible is not None:
        fields["plausible_min"], fields["plausible_max"] = (Decimal(str(x)) for x in plausible)
    if max_age is not None:
        fields["max_age"], fields["max_age_text"] = parse_duration(max_age), max_age
    return Input(name, type, description or name, INPUT_LOCATION, ("inputs", name), **fields)
