"""One optimizer from many starts (and/or with many step sizes) at once, vectorised with numpy.

The stop rules are exactly those of app/core/runner.py, applied per start, so each start ends
with the status, step count and final point its single run would have. Finished starts are
dropped from the working arrays once enough of them have finished, so a batch whose runs mostly
converge early costs far less than max_steps full sweeps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.core.optimizers import Optimizer, needs_hessian
from app.core.runner import LineSearch, StopRules
from app.core.schedules import CONSTANT, Schedule
from app.core.surface import Array, Surface

CONVERGED, DIVERGED, MAX_STEPS = 0, 1, 2
STATUS_NAMES = ("converged", "diverged", "max_steps")
_COMPACT_BELOW = 0.75  # drop finished starts once fewer than this share is still running
_MAX_SHRINKS = 60


@dataclass(frozen=True)
class BatchResult:
    x: Array  # final points, shape (n,)
    y: Array
    loss: Array
    grad_norm: Array
    steps: NDArray[np.int64]
    status: NDArray[np.int8]  # CONVERGED, DIVERGED or MAX_STEPS

    def status_name(self, i: int) -> str:
        return STATUS_NAMES[int(self.status[i])]


def _take(tree: Any, keep: NDArray[np.intp]) -> Any:
    """Index every array in an optimizer state (a NamedTuple of pairs and counters)."""
    if isinstance(tree, np.ndarray) and tree.ndim > 0:
        return tree[keep]
    if isinstance(tree, tuple):
        items = [_take(v, keep) for v in tree]
        return type(tree)(*items) if hasattr(tree, "_fields") else tuple(items)
    return tree


def _armijo(
    surface: Surface, x: Array, y: Array, loss: Array, gx: Array, gy: Array, eta: Array,
    search: LineSearch,
) -> Array:
    eta = np.broadcast_to(np.asarray(eta, dtype=np.float64), x.shape).copy()
    slope = gx * gx + gy * gy
    pending = np.ones(x.shape, dtype=bool)
    for _ in range(_MAX_SHRINKS):
        trial = surface.value(x[pending] - eta[pending] * gx[pending],
                              y[pending] - eta[pending] * gy[pending])
        ok = trial <= loss[pending] - search.c * eta[pending] * slope[pending]
        index = np.flatnonzero(pending)
        pending[index[ok]] = False
        if not pending.any():
            break
        eta[pending] *= search.shrink
    return eta


def run_batch(
    surface: Surface,
    optimizer: Optimizer,
    x0: Array,
    y0: Array,
    rules: StopRules = StopRules(),
    *,
    etas: Array | None = None,
    schedule: Schedule = CONSTANT,
    line_search: LineSearch | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BatchResult:
    """Run from every (x0[i], y0[i]); with `etas`, start i uses base step size etas[i].

    `progress(t, running)` is called after each step, e.g. to stream progress.
    """
    x = np.array(x0, dtype=np.float64).ravel()
    y = np.array(y0, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError("x0 and y0 need the same number of starts")
    n = x.size
    # One base step size for all (a scalar keeps the update cheap) or one per start.
    base: float | Array = optimizer.eta
    if etas is not None:
        base = np.array(etas, dtype=np.float64).ravel()
        if base.shape != x.shape:
            raise ValueError("etas needs one step size per start")

    out_x, out_y = x.copy(), y.copy()
    out_loss, out_gn = np.zeros(n), np.zeros(n)
    out_steps = np.zeros(n, dtype=np.int64)
    out_status = np.full(n, MAX_STEPS, dtype=np.int8)
    index = np.arange(n)  # working position -> start
    hessian = needs_hessian(optimizer)

    with np.errstate(all="ignore"):
        loss, gx, gy = _evaluate(surface, x, y)
        if not (np.isfinite(loss).all() and np.isfinite(gx).all() and np.isfinite(gy).all()):
            raise ValueError("The loss or its gradient is not a finite number at some start")
        state = optimizer.init((x, y))
        alive = np.ones(n, dtype=bool)
        t = 0
        while True:
            gn = np.hypot(gx, gy)
            diverged = np.abs(loss) > rules.max_abs_loss
            diverged |= np.abs(x) > rules.max_abs_theta
            diverged |= np.abs(y) > rules.max_abs_theta
            converged = gn <= rules.tol
            converged &= ~diverged
            stop = diverged | converged if t < rules.max_steps else np.ones_like(alive)
            stop &= alive
            if stop.any():
                _record(stop, index, x, y, loss, gn, t, out_x, out_y, out_loss, out_gn, out_steps)
                out_status[index[stop & diverged]] = DIVERGED
                out_status[index[stop & converged]] = CONVERGED
                alive &= ~stop
            running = int(alive.sum())
            if progress is not None:
                progress(t, running)
            if running == 0:
                break
            if running < _COMPACT_BELOW * alive.size:
                keep = np.flatnonzero(alive)
                x, y, loss, gx, gy, index = (a[keep] for a in (x, y, loss, gx, gy, index))
                if isinstance(base, np.ndarray):
                    base = base[keep]
                state = _take(state, keep)
                alive = np.ones(keep.size, dtype=bool)

            eta = schedule.eta(base, t)
            if line_search is not None:
                eta = _armijo(surface, x, y, loss, gx, gy, eta, line_search)
            if hessian:
                step, new_state = optimizer.update((gx, gy), state, (x, y), eta, surface.hess(x, y))  # type: ignore[call-arg]
            else:
                step, new_state = optimizer.update((gx, gy), state, (x, y), eta)
            nx, ny = x + step[0], y + step[1]
            nloss, ngx, ngy = _evaluate(surface, nx, ny)
            # As in the single runner: the next iterate counts if its loss and gradient are finite.
            finite = np.isfinite(nloss)
            finite &= np.isfinite(ngx)
            finite &= np.isfinite(ngy)
            overflow = alive & ~finite
            if overflow.any():
                gn = np.hypot(gx, gy)
                _record(overflow, index, x, y, loss, gn, t, out_x, out_y, out_loss, out_gn, out_steps)
                out_status[index[overflow]] = DIVERGED
                alive &= ~overflow
            x, y, loss, gx, gy, state = nx, ny, nloss, ngx, ngy, new_state
            t += 1

    return BatchResult(out_x, out_y, out_loss, out_gn, out_steps, out_status)


def _evaluate(surface: Surface, x: Array, y: Array) -> tuple[Array, Array, Array]:
    """Loss and gradient as float arrays of x's shape (a surface may return constants)."""
    loss = surface.value(x, y)
    gx, gy = surface.grad(x, y)
    return tuple(  # type: ignore[return-value]
        v if isinstance(v, np.ndarray) and v.shape == x.shape
        else np.broadcast_to(np.asarray(v, dtype=np.float64), x.shape).copy()
        for v in (loss, gx, gy)
    )


def _record(
    mask: Array, index: Array, x: Array, y: Array, loss: Array, gn: Array, t: int,
    out_x: Array, out_y: Array, out_loss: Array, out_gn: Array, out_steps: Array,
) -> None:
    where = index[mask]
    out_x[where], out_y[where] = x[mask], y[mask]
    out_loss[where], out_gn[where] = loss[mask], gn[mask]
    out_steps[where] = t
