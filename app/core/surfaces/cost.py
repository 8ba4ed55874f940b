"""What one evaluation of a surface costs, measured on the surface itself, once.

A preset, a formula and a dataset loss differ by orders of magnitude per evaluation (a formula's
cost is that of its compiled derivatives, a logistic loss sums over its data points), so the
work caps of the API (app/api/budget.py) ask the surface rather than guess: L, (L, ∇L) and the
Hessian are timed on an array of points spread over the domain, and (L, ∇L) on one point given
as floats (a single run's step). Times are this thread's CPU time, so a busy machine does not
make a surface look dearer; each figure is the best of a few repetitions.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.core.singleflight import Flights
from app.core.surfaces.surface import Surface

POINTS = 4096  # at most this many points per array in a measurement
REPEATS = 5
ENOUGH_NS = 500_000  # fewer points suffice when one evaluation of them takes this long


@dataclass(frozen=True)
class EvaluationCost:
    value_ns: float  # L at one point of an array (per point)
    grad_ns: float  # L and ∇L at one point of an array
    hess_ns: float  # the Hessian at one point of an array
    scalar_us: float  # L and ∇L at one point given as Python floats, per call
    scalar_value_us: float  # L alone at one point given as floats
    scalar_hess_us: float  # the Hessian at one point given as floats


def _best_ns(call: Callable[[], Any], repeats: int = REPEATS) -> float:
    best = float("inf")
    with np.errstate(all="ignore"):
        for _ in range(repeats):
            began = time.thread_time_ns()
            call()
            best = min(best, time.thread_time_ns() - began)
    return max(best, 1.0)


def measure(surface: Surface) -> EvaluationCost:
    """Time the surface's evaluations (a few milliseconds; see the module's docstring)."""
    d = surface.domain
    rng = np.random.default_rng(0)

    def points(k: int) -> tuple[np.ndarray, np.ndarray]:
        return rng.uniform(d.x[0], d.x[1], k), rng.uniform(d.y[0], d.y[1], k)

    def grad_ns(x: np.ndarray, y: np.ndarray) -> float:
        return _best_ns(lambda: surface.value_and_grad(x, y), 2)

    size = 64  # grown until one call takes long enough that numpy's per-call overhead is small
    x, y = points(size)
    while size < POINTS and grad_ns(x, y) < ENOUGH_NS:
        size *= 4
        x, y = points(size)
    px, py = float(x[0]), float(y[0])
    per_call = 10  # calls per scalar measurement
    return EvaluationCost(
        value_ns=_best_ns(lambda: surface.value(x, y)) / size,
        grad_ns=_best_ns(lambda: surface.value_and_grad(x, y)) / size,
        hess_ns=_best_ns(lambda: surface.hess(x, y)) / size,
        scalar_us=_best_ns(lambda: [surface.value_and_grad(px, py) for _ in range(per_call)])
        / per_call
        / 1e3,
        scalar_value_us=_best_ns(lambda: [surface.value(px, py) for _ in range(per_call)])
        / per_call
        / 1e3,
        scalar_hess_us=_best_ns(lambda: [surface.hess(px, py) for _ in range(per_call)])
        / per_call
        / 1e3,
    )


_KNOWN: weakref.WeakKeyDictionary[Surface, EvaluationCost] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
_FLIGHTS: Flights[EvaluationCost] = Flights()


def evaluation_cost(surface: Surface) -> EvaluationCost:
    """measure(surface), once per surface (concurrent first calls share one measurement)."""
    with _LOCK:
        known = _KNOWN.get(surface)
    if known is not None:
        return known

    def compute() -> EvaluationCost:
        with _LOCK:
            found = _KNOWN.get(surface)
        if found is None:
            found = measure(surface)
            with _LOCK:
                _KNOWN[surface] = found
        return found

    return _FLIGHTS.run(id(surface), compute)
