"""The guideline as it travels to the workers: compiled once per worker process, however often it arrives.

Dask may deserialize scattered data more than once on a worker (a task that runs before the broadcast copy
arrives fetches it from a peer, then the copy replaces it). ``Shipped`` pickles to a call of
``worker_guideline(digest, payload)``, which unpickles the guideline (a ``Guideline`` pickles by its source
and compiles again, checking its content hash) only when this process has not seen that payload yet: one
compile per worker process. The cache is keyed by the SHA-256 of the payload, holds at most ``MAX_CACHED``
guidelines, and lives in the worker process only (not on the evaluation path: ``evaluate`` shares no state).
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections import OrderedDict
from typing import Any

from ...api import Guideline

__all__ = ["MAX_CACHED", "Shipped", "compile_count", "worker_guideline"]

MAX_CACHED = 8
_CACHE: OrderedDict[str, Guideline] = OrderedDict()
_LOCK = threading.Lock()
#: how many times this process compiled a shipped guideline (for the tests)
compiles = 0


def worker_guideline(digest: str, payload: bytes) -> Guideline:
    global compiles
    with _LOCK:
        g = _CACHE.get(digest)
        if g is not None:
            _CACHE.move_to_end(digest)
            return g
    if hashlib.sha256(payload).hexdigest() != digest:
        raise pickle.UnpicklingError("the shipped guideline does not match its digest")
    g = pickle.loads(payload)  # a Guideline's own reduce: compiles its source, checks the hash
    if not isinstance(g, Guideline):
        raise pickle.UnpicklingError("the shipped object is not a guideline")
    with _LOCK:
        compiles += 1
        _CACHE[digest] = g
        while len(_CACHE) > MAX_CACHED:
            _CACHE.popitem(last=False)
    return g


def compile_count() -> int:
    """How many shipped guidelines this process compiled (``Client.run(compile_count)`` asks each worker)."""
    return compiles


class Shipped:
    """Wraps a guideline for ``Client.scatter``; arrives on the worker as the (cached) ``Guideline``."""

    __slots__ = ("digest", "payload")

    def __init__(self, guideline: Guideline) -> None:
        self.payload = pickle.dumps(guideline)
        self.digest = hashlib.sha256(self.payload).hexdigest()

    def __reduce__(self) -> tuple[Any, ...]:
        return (worker_guideline, (self.digest, self.payload))
