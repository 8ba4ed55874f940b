"""How a run stops: the statuses, their codes and messages, the bounds, the stop check, and
Armijo backtracking. Every runner takes its stop decisions from here.

A run stops at the first iterate θ_t where one of these holds, tested in this order:

* ``diverged``: L(θ_t) > max_abs_loss (1e12), or L(θ_t) < −max_abs_loss, or a coordinate of θ_t
  beyond max_abs_theta (1e6) in absolute value;
* ``converged``: ‖∇L(θ_t)‖ ≤ tol, with ‖∇L‖ = math.hypot(∂L/∂x, ∂L/∂y);
* ``max_steps``: t is the last step of the run (max_steps updates were made).

and, before any of these, a run whose *next* iterate would not be finite (θ, L or ∇L infinite or
NaN, or the arithmetic raised one of NUMERIC_ERRORS) stops at θ_t as ``diverged`` (`overflowed`).

`stop_check` is that test on one iterate (Python floats); `converged_mask` and `stop_codes` are
the same decisions for arrays of starts, exact: wherever numpy's arithmetic could round
differently from the scalar run's near a threshold, they decide with the scalar arithmetic.

Contract of the fast paths. Three loops skip `stop_check` at most iterates, for speed: the
Python GD loop (runner.Trajectory._gd_python), the compiled GD kernel (compiled._gd_steps, where
numba needs plain numbers) and the batch runner's screen (batch._screen). Each may skip an
iterate only after a pre-test that holds whenever a rule fires there (a necessary condition);
where the pre-test holds, the iterate is decided here. The pre-tests are:

* the Python GD loop: the rules above, written out on floats (then `stop_check` decides);
* the compiled kernel: L > max_abs_loss, L < −max_abs_loss, |x| or |y| > max_abs_theta, or
  ‖∇L‖² ≤ `kernel_g2_stop(tol)`, which holds wherever hypot ≤ tol (squares are within a few
  ulps of hypot², with KERNEL_GRAD_SLACK to spare; below KERNEL_SMALLEST_SQUARE squares are
  subnormal and lose digits, so there the kernel hands every iterate over); and a next iterate
  that is not finite (the caller's Python step then reports the overflow);
* the batch screen: min/max reductions over the running starts against the same bounds, the loss
  against `screen_loss_bound(rules)` (numpy's L and the scalar L may differ in the last bits),
  and |∂L/∂x| ≤ tol for convergence (hypot is never below the larger component).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Literal, TypeAlias, get_args

import numpy as np
from numpy.typing import NDArray

from app.core.surfaces.surface import Array, ValueFn
from app.core.text import sci

Status: TypeAlias = Literal["converged", "diverged", "max_steps"]
STATUS_NAMES: tuple[Status, ...] = get_args(Status)  # the integer code of a status is its index
CONVERGED = STATUS_NAMES.index("converged")
DIVERGED = STATUS_NAMES.index("diverged")
MAX_STEPS = STATUS_NAMES.index("max_steps")
RUNNING = -1  # stop_codes: the start goes on

MAX_ABS_LOSS = 1e12  # default bounds of StopRules
MAX_ABS_THETA = 1e6
TOL = 1e-6
MAX_STEPS_DEFAULT = 1000

# Arithmetic errors Python raises where numpy returns inf or NaN: treated as "not finite".
NUMERIC_ERRORS = (OverflowError, ZeroDivisionError, ValueError)
MAX_SHRINKS = 60  # Armijo: 0.5**60 ≈ 1e-18, far below any useful step

# The compiled kernel's convergence pre-test (see the module docstring); module constants, as
# numba compiles plain numbers.
KERNEL_SMALLEST_SQUARE = 1e-280
KERNEL_GRAD_SLACK = 1e-9
# Array decisions this close to a threshold (relative) are taken with the scalar arithmetic.
GRAD_BAND = 1e-12
LOSS_BAND = 1e-9
HUGE_LOSS = 1e300  # a finite loss this large may overflow in the scalar run's arithmetic
NORMAL_TOL = 1e-140  # below this, tol² is too close to underflow for a squared-norm test


@dataclass(frozen=True)
class StopRules:
    max_steps: int = MAX_STEPS_DEFAULT
    tol: float = TOL
    max_abs_theta: float = MAX_ABS_THETA
    max_abs_loss: float = MAX_ABS_LOSS

    def __post_init__(self) -> None:
        if self.max_steps < 0:
            raise ValueError(f"Invalid max_steps: {self.max_steps} (must be >= 0)")
        if not (math.isfinite(self.tol) and self.tol >= 0.0):
            raise ValueError(f"Invalid tol: {self.tol!r} (must be >= 0 and finite)")


DEFAULT_RULES = StopRules()  # what a request that sets no rule gets


@dataclass(frozen=True)
class LineSearch:
    """Backtracking (Armijo): shrink the trial step η until L(θ − η∇L) ≤ L(θ) − c·η·‖∇L‖²."""

    c: float = 1e-4
    shrink: float = 0.5

    def __post_init__(self) -> None:
        if not (math.isfinite(self.c) and 0.0 < self.c < 1.0):
            raise ValueError(f"Invalid c: {self.c!r} (c must be in (0, 1))")
        if not (math.isfinite(self.shrink) and 0.0 < self.shrink < 1.0):
            raise ValueError(f"Invalid shrink: {self.shrink!r} (shrink must be in (0, 1))")


# The reasons a run diverged, in words (Iterate.reason; summaries prefix "Diverged ").
def loss_passed(t: int, rules: StopRules) -> str:
    return f"at step {t}: the loss passed {sci(rules.max_abs_loss)}"


def loss_fell_below(t: int, rules: StopRules) -> str:
    return f"at step {t}: the loss fell below −{sci(rules.max_abs_loss)}"


def left_the_box(t: int, rules: StopRules) -> str:
    return f"at step {t}: θ left the box |x|, |y| ≤ {sci(rules.max_abs_theta)}"


def overflowed(t: int) -> str:
    """The reason for a run stopped at t − 1 because the iterate at t was not finite."""
    return f"at step {t}: θ, the loss or its gradient overflowed (became infinite or NaN)"


def stop_check(
    t: int, x: float, y: float, loss: float, gx: float, gy: float, rules: StopRules, last_t: int
) -> tuple[Status, str] | None:
    """The status and, for a divergence, its reason, if the run stops at this (finite) iterate;
    None if it goes on. last_t is the step at which the run ends with max_steps."""
    if loss > rules.max_abs_loss:
        return "diverged", loss_passed(t, rules)
    if loss < -rules.max_abs_loss:
        return "diverged", loss_fell_below(t, rules)
    if max(abs(x), abs(y)) > rules.max_abs_theta:
        return "diverged", left_the_box(t, rules)
    if math.hypot(gx, gy) <= rules.tol:
        return "converged", ""
    if t >= last_t:
        return "max_steps", ""
    return None


def kernel_g2_stop(tol: float) -> float:
    """The compiled kernel hands an iterate over when ‖∇L‖² ≤ this: true wherever hypot ≤ tol."""
    return max(tol * tol, KERNEL_SMALLEST_SQUARE) * (1.0 + KERNEL_GRAD_SLACK)


def screen_loss_bound(rules: StopRules) -> float:
    """A loss computed with numpy whose |L| is at most this is finite, and within max_abs_loss
    as the scalar run computes it too (with max_abs_loss = inf: at most the largest float)."""
    return min(rules.max_abs_loss * (1.0 - LOSS_BAND), sys.float_info.max)


def scalar_loss(value: ValueFn, x: float, y: float) -> float:
    """L on Python floats, as a single run computes it; an arithmetic error gives NaN."""
    try:
        return float(value(x, y))
    except NUMERIC_ERRORS:
        return math.nan


def converged_mask(gx: Array, gy: Array, tol: float) -> NDArray[np.bool_]:
    """Exactly math.hypot(gx[i], gy[i]) <= tol, the scalar test, for every i."""
    near = np.abs(gx) <= tol
    near &= np.abs(gy) <= tol  # necessary: hypot is never below the larger component
    out = np.zeros(gx.shape, dtype=bool)
    candidates = np.flatnonzero(near)
    if candidates.size == 0:
        return out
    cx, cy = gx[candidates], gy[candidates]
    if tol >= NORMAL_TOL:
        # gx² + gy² is within a few ulps of hypot² here (no underflow at this scale), so only
        # a squared norm within GRAD_BAND of tol² needs math.hypot itself.
        sq = cx * cx + cy * cy
        tol2 = tol * tol
        out[candidates[sq <= tol2 * (1.0 - GRAD_BAND)]] = True
        unsure = (sq > tol2 * (1.0 - GRAD_BAND)) & (sq <= tol2 * (1.0 + GRAD_BAND))
        candidates, cx, cy = candidates[unsure], cx[unsure], cy[unsure]
    hypot = math.hypot
    for i, a, b in zip(candidates.tolist(), cx.tolist(), cy.tolist()):
        out[i] = hypot(a, b) <= tol
    return out


def stop_codes(
    value: ValueFn,
    x: Array,
    y: Array,
    loss: Array,
    gx: Array,
    gy: Array,
    rules: StopRules,
    last: bool,
) -> tuple[NDArray[np.int8], NDArray[np.bool_]]:
    """`stop_check` for arrays of iterates at one step (`last`: the run's last step), computed
    with numpy: the code of each start (CONVERGED, DIVERGED, MAX_STEPS or RUNNING), and where
    the iterate is not finite (then the start stopped, diverged, at the iterate before: its code
    is RUNNING here). `value` is the surface's L, used on Python floats wherever numpy's L could
    decide differently from the scalar run's (near max_abs_loss, or huge)."""
    finite = np.isfinite(loss)
    finite &= np.isfinite(gx)
    finite &= np.isfinite(gy)
    absl = np.abs(loss)
    unsure = np.isfinite(gx) & np.isfinite(gy)
    unsure &= ~(absl < HUGE_LOSS) | (
        np.abs(absl - rules.max_abs_loss) <= LOSS_BAND * rules.max_abs_loss
    )
    for i in np.flatnonzero(unsure).tolist():
        scalar = scalar_loss(value, float(x[i]), float(y[i]))
        finite[i] = math.isfinite(scalar)
        if finite[i]:
            absl[i] = abs(scalar)
    diverged = absl > rules.max_abs_loss
    diverged |= np.abs(x) > rules.max_abs_theta
    diverged |= np.abs(y) > rules.max_abs_theta
    diverged &= finite
    converged = converged_mask(gx, gy, rules.tol) & finite
    codes = np.full(x.shape, MAX_STEPS if last else RUNNING, dtype=np.int8)
    codes[converged] = CONVERGED
    codes[diverged] = DIVERGED  # diverged before converged before max_steps, as stop_check
    codes[~finite] = RUNNING
    return codes, ~finite


def armijo(
    value: ValueFn,
    x: float,
    y: float,
    loss: float,
    gx: float,
    gy: float,
    eta: float,
    search: LineSearch,
) -> float:
    """The first η in η, η·shrink, η·shrink², … (at most MAX_SHRINKS shrinks) that satisfies the
    Armijo condition L(θ − η∇L) ≤ L(θ) − c·η·‖∇L‖² at θ = (x, y); the last one if none does."""
    slope = gx * gx + gy * gy
    for _ in range(MAX_SHRINKS):
        trial = scalar_loss(value, x - eta * gx, y - eta * gy)
        if trial <= loss - search.c * eta * slope:
            return eta
        eta *= search.shrink
    return eta


def armijo_array(
    value: ValueFn,
    x: Array,
    y: Array,
    loss: Array,
    gx: Array,
    gy: Array,
    eta: float | Array,
    search: LineSearch,
) -> Array:
    """`armijo` for arrays of iterates, each with its own η (a scalar η is broadcast)."""
    etas = np.broadcast_to(np.asarray(eta, dtype=np.float64), x.shape).copy()
    slope = gx * gx + gy * gy
    pending = np.ones(x.shape, dtype=bool)
    for _ in range(MAX_SHRINKS):
        trial = value(
            x[pending] - etas[pending] * gx[pending], y[pending] - etas[pending] * gy[pending]
        )
        ok = trial <= loss[pending] - search.c * etas[pending] * slope[pending]
        index = np.flatnonzero(pending)
        pending[index[ok]] = False
        if not pending.any():
            break
        etas[pending] *= search.shrink
    return etas


__all__ = [
    "CONVERGED",
    "DEFAULT_RULES",
    "DIVERGED",
    "MAX_ABS_LOSS",
    "MAX_ABS_THETA",
    "MAX_SHRINKS",
    "MAX_STEPS",
    "NUMERIC_ERRORS",
    "RUNNING",
    "STATUS_NAMES",
    "LineSearch",
    "Status",
    "StopRules",
    "armijo",
    "armijo_array",
    "converged_mask",
    "kernel_g2_stop",
    "left_the_box",
    "loss_fell_below",
    "loss_passed",
    "overflowed",
    "scalar_loss",
    "screen_loss_bound",
    "stop_check",
    "stop_codes",
]
