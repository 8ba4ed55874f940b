"""Single flight: identical concurrent work is computed once and shared by everyone waiting.

`Flights.run(key, fn)` calls `fn()` unless a call with an equal key is already running, in which
case it waits for that call and returns its result (or raises its exception). Nothing is kept
once the call ends: caching the result is the caller's business (check the cache, then `run`).
A fresh worker given 16 concurrent first requests for the same cached result used to compute it
16 times; with this it computes it once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class _Flight(Generic[T]):
    __slots__ = ("done", "result", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None


class Flights(Generic[T]):
    """Calls in flight, by key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[Hashable, _Flight[T]] = {}

    def run(self, key: Hashable, fn: Callable[[], T]) -> T:
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.result  # type: ignore[return-value]
        try:
            flight.result = fn()
            return flight.result
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()
