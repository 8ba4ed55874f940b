"""One optimizer from many starts (and/or with many step sizes) at once, vectorised with numpy.

The stop rules are exactly those of app/core/descent/stopping.py, applied per start, so each start
ends with the status, step count and final point its single run would have: bitwise wherever the
surface's arithmetic on arrays is the same as on Python floats (+, −, ×, ÷ are; numpy's
transcendental functions may differ in the last bit), as on the polynomial presets such as
himmelblau.

A step costs one evaluation of ∇L (with L, unless the surface bounds |L| on a box: see below),
the optimizer's update and a screen: a few whole-array min/max reductions, each an exact
necessary condition of a stop rule. Only when the screen says that some start may stop at this
step are the rules applied start by start, and every decision near a threshold (‖∇L‖ within
1e-12 of tol, |L| within 1e-9 of max_abs_loss or beyond 1e300) is taken by the single runner's
own scalar arithmetic (math.hypot; the surface on Python floats), so rounding differences
between numpy and Python never change a status or a step count. A start that stops is swapped
out of the working prefix of the arrays at once (O(stopped) copies), so the screen only ever
sees running starts, and a batch whose runs mostly converge early costs far less than
max_steps full sweeps.

Plain GD (no line search) runs in place in buffers allocated once. It also keeps a bound R on
max |θ| of the running starts, advanced by η·max|∇L| at each step and measured again (four
reductions) only when it passes max_abs_theta or, with a surface's `value_bound`
(|L| ≤ value_bound(R)), when that passes max_abs_loss: with such a bound L itself is not
computed at all while the bound stays below max_abs_loss, since nothing else needs it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.core.descent.optimizers import GD, Optimizer, needs_hessian
from app.core.descent.schedules import CONSTANT, Schedule
from app.core.descent.stopping import (
    CONVERGED,
    DIVERGED,
    MAX_STEPS,
    RUNNING,
    STATUS_NAMES,
    LineSearch,
    StopRules,
    armijo_array,
    converged_mask,
    screen_loss_bound,
    stop_codes,
)
from app.core.surfaces.surface import Array, Surface


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


def _has_arrays(tree: Any) -> bool:
    if isinstance(tree, np.ndarray):
        return tree.ndim > 0
    if isinstance(tree, tuple):
        return any(_has_arrays(v) for v in tree)
    return False


def _evaluator(surface: Surface) -> Callable[..., tuple[Array | None, Array, Array]]:
    """L (None if out[0] is None), ∂L/∂x, ∂L/∂y as float arrays of x's shape: the `out`
    buffers where the surface filled them, else new arrays that share no memory with x, y or
    each other (a surface may return constants, or an input itself: the gradient of x·y is
    (y, x)), so the runner may keep them while it overwrites x and y."""
    value_and_grad = surface.value_and_grad

    def evaluate(
        x: Array, y: Array, out: tuple[Array | None, ...] | None = None
    ) -> tuple[Array | None, Array, Array]:
        got: list[Any] = []
        for i, v in enumerate(value_and_grad(x, y, out)):
            if out is not None and (v is out[i] or (i == 0 and out[0] is None)):
                pass
            elif not (isinstance(v, np.ndarray) and v.shape == x.shape and v.dtype == np.float64):
                v = np.broadcast_to(np.asarray(v, dtype=np.float64), x.shape).copy()
            elif any(np.may_share_memory(v, w) for w in (x, y, *got) if w is not None):
                v = v.copy()
            got.append(v)
        return got[0], got[1], got[2]

    return evaluate


def _abs_max(x: Array, y: Array) -> float:
    """max(|x|, |y|) over all entries; inf if any is NaN."""
    values = (x.max(), -x.min(), y.max(), -y.min())
    top = max(values)
    return top if all(v == v for v in values) else math.inf


# What the screen found: no start can stop at this step; at most some convergences (among the
# starts with |∂L/∂x| ≤ tol, every other rule being clear); or anything may happen.
_CLEAR, _CONVERGENCES, _ANY = 0, 1, 2


def _screen(
    x: Array,
    y: Array,
    loss: Array | None,
    gx: Array,
    gy: Array,
    rules: StopRules,
    buffer: Array,
) -> tuple[int, float]:
    """_CLEAR, _CONVERGENCES or _ANY (above), and max |∇L| (NaN if not finite). Each test is an
    exact necessary condition of a stop rule: numpy's min and max are NaN as soon as one entry
    is, and NaN fails every comparison. Leaves |∂L/∂x| in `buffer`. With `loss`, the loss and
    box rules are screened here; without, the caller does it."""
    absx = np.abs(gx, out=buffer[: gx.size])
    gx_max, gy_max, gy_min = absx.max(), gy.max(), gy.min()
    if not (gx_max < math.inf and gy_max < math.inf and gy_min > -math.inf):
        return _ANY, math.nan
    if loss is not None:
        if not _abs_max(x, y) <= rules.max_abs_theta:
            return _ANY, math.nan
        big = screen_loss_bound(rules)  # numpy's L and the single run's may differ a little
        if not (loss.max() <= big and -loss.min() <= big):
            return _ANY, math.nan
    # ‖∇L‖ ≤ tol needs |∂L/∂x| ≤ tol (math.hypot is never below the larger component).
    found = _CLEAR if absx.min() > rules.tol else _CONVERGENCES
    return found, max(gx_max, gy_max, -gy_min)


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
    out_steps = np.zeros(n, dtype=np.int64)
    out_status = np.full(n, MAX_STEPS, dtype=np.int8)
    if n == 0:
        return BatchResult(out_x, out_y, np.zeros(0), np.zeros(0), out_steps, out_status)
    index = np.arange(n)  # working position -> start; positions [0, m) are the running starts
    hessian = needs_hessian(optimizer)
    evaluate = _evaluator(surface)
    big = screen_loss_bound(rules)  # below this, |L| ≤ max_abs_loss for sure
    # Plain GD (θ + (−η)·∇L as GD.update computes it, and a state without arrays) runs in place
    # in buffers allocated once: θ_t and θ_{t+1} alternate between two rows, and L, ∇L (with the
    # surface's scratch) are rewritten at each step. Other optimizers may keep ∇L in their
    # state, so they get new arrays at each step.
    plain = type(optimizer) is GD and line_search is None
    value_bound = surface.value_bound if plain else None
    if plain:
        thetas = np.empty((2, 2, n))  # [row][x or y]
        thetas[0, 0], thetas[0, 1] = x, y
        x, y = thetas[0, 0], thetas[0, 1]
        # L, ∂x, ∂y and the surface's two scratch arrays, which then serve the screen's |∂x|
        # and the step (fewer arrays in the cache).
        evals = np.empty((5, n))
        scratch, step_buffer = evals[3], evals[4]
    else:
        scratch = np.empty(n)
    row = 0
    # The optimizers and schedules are typed for one iterate; their arithmetic broadcasts, and
    # here they step arrays (one entry per start), which their signatures do not say.
    step_size: Callable[..., Any] = schedule.eta
    update: Callable[..., Any] = optimizer.update

    def buffers(m: int, with_value: bool) -> tuple[Array | None, ...] | None:
        if not plain:
            return None
        return (evals[0, :m] if with_value else None, *(b[:m] for b in evals[1:]))

    with np.errstate(all="ignore"):
        loss, gx, gy = evaluate(x, y, buffers(n, True))
        assert loss is not None
        if not (np.isfinite(loss).all() and np.isfinite(gx).all() and np.isfinite(gy).all()):
            raise ValueError("The loss or its gradient is not a finite number at some start")
        state = optimizer.init((x, y))
        state_arrays = _has_arrays(state)
        px, py = x, y  # θ_{t-1}, where a start whose θ_t did not evaluate finitely stops
        m, t = n, 0
        radius = math.inf  # plain GD: a bound on max(|x|, |y|) over the running starts
        while True:
            # The working arrays x, y, px, py, loss (or None), gx, gy, index (and base, if per
            # start) hold the m running starts.
            last = t >= rules.max_steps
            g_max = math.nan
            if last:
                found = _ANY
            elif plain:
                found, g_max = _screen(x, y, None, gx, gy, rules, scratch)
                if found != _ANY and not radius <= rules.max_abs_theta:
                    radius = _abs_max(x, y)
                    if not radius <= rules.max_abs_theta:
                        found = _ANY
                if found != _ANY and loss is not None:
                    if not (loss.max() <= big and -loss.min() <= big):
                        found = _ANY
                elif found != _ANY and value_bound is not None and not value_bound(radius) <= big:
                    radius = _abs_max(x, y)
                    if not value_bound(radius) <= big:
                        loss = _values(surface, x, y)
                        if not (loss.max() <= big and -loss.min() <= big):
                            found = _ANY
            else:
                found, g_max = _screen(x, y, loss, gx, gy, rules, scratch)
            stopped = None
            running = m
            if found == _CONVERGENCES:
                # Every other rule is clear: only starts with |∂L/∂x| ≤ tol may stop, converged.
                suspects = np.flatnonzero(scratch[:m] <= rules.tol)
                stopped = suspects[converged_mask(gx[suspects], gy[suspects], rules.tol)]
                where = index[stopped]
                out_x[where], out_y[where] = x[stopped], y[stopped]
                out_steps[where], out_status[where] = t, CONVERGED
                running -= stopped.size
            elif found == _ANY:
                if loss is None:
                    loss = _values(surface, x, y)
                stopped = _decide(
                    surface,
                    rules,
                    last,
                    t,
                    x,
                    y,
                    px,
                    py,
                    loss,
                    gx,
                    gy,
                    index,
                    out_x,
                    out_y,
                    out_steps,
                    out_status,
                )
                running -= stopped.size
            if progress is not None:
                progress(t, running)
            if running == 0:
                break

            eta = step_size(base, t)
            if plain:
                row = 1 - row
                nx, ny, step_x = thetas[row, 0, :m], thetas[row, 1, :m], step_buffer[:m]
                neta = -eta
                np.multiply(gx, neta, out=step_x)
                np.add(x, step_x, out=nx)
                np.multiply(gy, neta, out=step_x)
                np.add(y, step_x, out=ny)
                # |θ_{t+1}| ≤ |θ_t| + η|∇L|, plus two roundings (far less than 1e-12).
                eta_max = float(np.max(np.abs(eta))) if isinstance(eta, np.ndarray) else abs(eta)
                radius = (radius + eta_max * g_max) * (1.0 + 1e-12)
            else:
                assert loss is not None
                if line_search is not None:
                    eta = armijo_array(surface.value, x, y, loss, gx, gy, eta, line_search)
                if hessian:
                    step, state = update((gx, gy), state, (x, y), eta, surface.hess(x, y))
                else:
                    step, state = update((gx, gy), state, (x, y), eta)
                nx, ny = x + step[0], y + step[1]  # new arrays
            px, py, x, y = x, y, nx, ny  # θ_{t-1} stays intact in px, py
            if stopped is not None and stopped.size:
                # Swap the stopped starts out of the working prefix [0, m): the running starts
                # from its tail move into their places. O(stopped) copies, order not kept.
                m, (holes, tail) = _swap_out(stopped, m)
                arrays = [x, y, px, py, index]
                if isinstance(base, np.ndarray):
                    arrays.append(base)
                for a in arrays:
                    a[holes] = a[tail]
                x, y, px, py, index = x[:m], y[:m], px[:m], py[:m], index[:m]
                if isinstance(base, np.ndarray):
                    base = base[:m]
                if state_arrays:
                    order = np.arange(m)
                    order[holes] = tail
                    state = _take(state, order)
            loss, gx, gy = evaluate(x, y, buffers(m, value_bound is None))
            t += 1

        # The loss and gradient norm at each final point, computed once for all starts.
        final_loss, fgx, fgy = evaluate(out_x, out_y)
        grad_norm = np.hypot(fgx, fgy)
    return BatchResult(out_x, out_y, final_loss, grad_norm, out_steps, out_status)  # type: ignore[arg-type]


def _values(surface: Surface, x: Array, y: Array) -> Array:
    """L as a new float array of x's shape."""
    v = surface.value(x, y)
    if isinstance(v, np.ndarray) and v.shape == x.shape and v.dtype == np.float64:
        return v
    return np.broadcast_to(np.asarray(v, dtype=np.float64), x.shape).copy()


def _swap_out(
    stopped: NDArray[np.intp], m: int
) -> tuple[int, tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """For sorted positions `stopped` in [0, m): the new length m' and the moves (holes ← tail)
    that fill the stopped positions below m' with the running positions in [m', m)."""
    new_m = m - stopped.size
    holes = stopped[stopped < new_m]
    in_tail = np.zeros(m - new_m, dtype=bool)
    in_tail[stopped[stopped >= new_m] - new_m] = True
    tail = new_m + np.flatnonzero(~in_tail)
    return new_m, (holes, tail)


def _decide(
    surface: Surface,
    rules: StopRules,
    last: bool,
    t: int,
    x: Array,
    y: Array,
    px: Array,
    py: Array,
    loss: Array,
    gx: Array,
    gy: Array,
    index: NDArray[np.intp],
    out_x: Array,
    out_y: Array,
    out_steps: NDArray[np.int64],
    out_status: NDArray[np.int8],
) -> NDArray[np.intp]:
    """Apply the stop rules (stopping.stop_codes) to every running start at step t, record the
    starts that stop, and return their (sorted) working positions."""
    codes, overflow = stop_codes(surface.value, x, y, loss, gx, gy, rules, last)
    done = codes != RUNNING
    at = np.flatnonzero(done)
    if at.size:
        where = index[at]
        out_x[where], out_y[where] = x[at], y[at]
        out_steps[where] = t
        out_status[where] = codes[at]
    # Not finite at θ_t: the single run stopped at t − 1, where it could not make the step.
    before = np.flatnonzero(overflow)
    if before.size:
        where = index[before]
        out_x[where], out_y[where] = px[before], py[before]
        out_steps[where] = t - 1
        out_status[where] = DIVERGED
    return np.flatnonzero(done | overflow)
