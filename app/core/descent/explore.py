"""Beyond one run: basins of attraction over a grid of starts, and sweeps over the step size."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from app.core.descent.batch import BatchResult, run_batch
from app.core.descent.optimizers import Optimizer
from app.core.descent.schedules import CONSTANT, Schedule
from app.core.descent.stopping import CONVERGED, DIVERGED, LineSearch, StopRules
from app.core.surfaces.surface import Array, Domain, Surface

DIVERGED_CELL = -1  # a basin cell whose run diverged
UNCONVERGED_CELL = -2  # a basin cell whose run hit max_steps, or stopped far from any landmark
_REACHED = 0.02  # a converged run "reached" the nearest landmark within this share of the diagonal


@dataclass(frozen=True)
class Landmark:
    x: float
    y: float
    value: float
    kind: str  # "global minimum", "local minimum", "saddle" or "maximum"


def indexed_landmarks(surface: Surface) -> list[Landmark]:
    """The surface's stationary points as Landmarks, in the fixed order a basin map's
    `destination` and a sweep's `limit_minimum` index: minima, then saddles, then maxima."""
    points = [Landmark(m.x, m.y, m.value, f"{m.kind} minimum") for m in surface.minima]
    points += [Landmark(p.x, p.y, p.value, "saddle") for p in surface.saddles]
    points += [Landmark(p.x, p.y, p.value, "maximum") for p in surface.maxima]
    return points


def destinations(surface: Surface, result: BatchResult) -> NDArray[np.int64]:
    """For each run: the index of the landmark it converged to, or DIVERGED_CELL or
    UNCONVERGED_CELL."""
    points = indexed_landmarks(surface)
    out = np.full(result.x.shape, UNCONVERGED_CELL, dtype=np.int64)
    out[result.status == DIVERGED] = DIVERGED_CELL
    converged = np.flatnonzero(result.status == CONVERGED)
    if points and converged.size:
        px = np.array([p.x for p in points])
        py = np.array([p.y for p in points])
        distance = np.hypot(result.x[converged, None] - px, result.y[converged, None] - py)
        nearest = distance.argmin(axis=1)
        close = distance[np.arange(converged.size), nearest] <= _REACHED * surface.domain.diagonal
        out[converged[close]] = nearest[close]
    return out


@dataclass(frozen=True)
class BasinMap:
    x: Array  # n values
    y: Array  # n values
    destination: NDArray[np.int64]  # n × n, [j, i] for the start (x[i], y[j])
    steps: NDArray[np.int64]  # n × n


def basins(
    surface: Surface,
    optimizer: Optimizer,
    n: int,
    rules: StopRules,
    domain: Domain | None = None,
    *,
    schedule: Schedule = CONSTANT,
    line_search: LineSearch | None = None,
    rows_per_chunk: int = 32,
    check: Callable[[int, int], None] | None = None,
) -> Iterator[float | BasinMap]:
    """Yield the share of starts done after each chunk of grid rows, then the BasinMap.

    `check(t, running)` is called after every step of every chunk: an exception it raises (a
    client that left, a deadline) stops the work at once and propagates."""
    box = domain or surface.domain
    xs = np.linspace(box.x[0], box.x[1], n)
    ys = np.linspace(box.y[0], box.y[1], n)
    destination = np.empty((n, n), dtype=np.int64)
    steps = np.empty((n, n), dtype=np.int64)
    for first in range(0, n, rows_per_chunk):
        rows = slice(first, min(first + rows_per_chunk, n))
        gx, gy = np.meshgrid(xs, ys[rows])
        result = run_batch(
            surface,
            optimizer,
            gx,
            gy,
            rules,
            schedule=schedule,
            line_search=line_search,
            progress=check,
        )
        destination[rows] = destinations(surface, result).reshape(gx.shape)
        steps[rows] = result.steps.reshape(gx.shape)
        yield min(first + rows_per_chunk, n) / n
    yield BasinMap(xs, ys, destination, steps)


@dataclass(frozen=True)
class Sweep:
    etas: Array
    result: BatchResult
    destination: NDArray[np.int64]
    stability_limit: float | None  # 2/λ_max at the minimum reached by the smallest η that converged
    limit_minimum: int | None  # index of that minimum among the landmarks


def sweep(
    surface: Surface,
    optimizer: Optimizer,
    theta0: tuple[float, float],
    etas: Array,
    rules: StopRules,
    *,
    schedule: Schedule = CONSTANT,
    check: Callable[[int, int], None] | None = None,
) -> Sweep:
    """`check` as for `basins`."""
    etas = np.asarray(etas, dtype=np.float64)
    xs = np.full(etas.shape, float(theta0[0]))
    ys = np.full(etas.shape, float(theta0[1]))
    result = run_batch(
        surface, optimizer, xs, ys, rules, etas=etas, schedule=schedule, progress=check
    )
    destination = destinations(surface, result)
    reached = [(eta, d) for eta, d in zip(etas, destination) if d >= 0 and d < len(surface.minima)]
    limit, which = None, None
    if reached:
        which = int(min(reached)[1])
        m = surface.minima[which]
        lam = surface.max_curvature(m.x, m.y)
        limit = 2.0 / lam if lam > 0 else None
    return Sweep(etas, result, destination, limit, which)
