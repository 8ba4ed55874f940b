"""Run one optimizer on one surface: a generator of iterates and the rules that stop it.

Each iterate holds t, θ_t, L(θ_t), ∇L(θ_t) and the step size η_t used to leave θ_t. The last one
carries the status:

* ``converged``: ‖∇L(θ_t)‖ ≤ tol;
* ``diverged``: the next iterate would not be finite (it is not yielded, since JSON has no NaN),
  or |L| > ``max_abs_loss`` (1e12), or a coordinate of θ beyond ``max_abs_theta`` (1e6);
* ``max_steps``: ``max_steps`` updates were made (in this call: a resumed run counts afresh).

The last iterate also carries the optimizer state, so the run can be resumed exactly.

Single runs compute with Python floats, which is several times faster than numpy scalars for
2-vectors; an overflow that Python reports as an exception is treated exactly like numpy's
inf/nan: as divergence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeAlias

import numpy as np

from app.core.optimizers import Optimizer, Vec, needs_hessian
from app.core.schedules import CONSTANT, Schedule
from app.core.surface import Surface
from app.core.text import sci

Status: TypeAlias = Literal["converged", "diverged", "max_steps"]
# The gradient an update uses at step t from θ_t: the full gradient by default; minibatch
# gradients for stochastic descent on data.
StepGradient: TypeAlias = Callable[[int, float, float], tuple[float, float]]

_NUMERIC_ERRORS = (OverflowError, ZeroDivisionError, ValueError)
_CHUNK = 256  # iterates computed per numpy errstate block
_MAX_SHRINKS = 60  # line search: 0.5**60 ≈ 1e-18, far below any useful step


@dataclass(frozen=True)
class StopRules:
    max_steps: int = 1000
    tol: float = 1e-6
    max_abs_theta: float = 1e6
    max_abs_loss: float = 1e12

    def __post_init__(self) -> None:
        if self.max_steps < 0:
            raise ValueError(f"Invalid max_steps: {self.max_steps} (must be >= 0)")
        if not (math.isfinite(self.tol) and self.tol >= 0.0):
            raise ValueError(f"Invalid tol: {self.tol!r} (must be >= 0 and finite)")


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


@dataclass(frozen=True)
class Resume:
    """Where a run left off: the step count, the iterate and the optimizer's state."""

    t: int
    theta: tuple[float, float]
    optimizer: str
    state: Any  # the optimizer's state (a NamedTuple)


@dataclass(slots=True)
class Iterate:
    """One iterate. Treat it as read-only: it is not frozen only because a frozen dataclass
    costs about a microsecond more to build, on the hottest path of a run."""

    t: int
    theta: tuple[float, float]
    loss: float
    grad: tuple[float, float]
    eta: float | None = None  # step size used to leave θ_t; None on the last iterate
    status: Status | None = None  # set on the last iterate only
    reason: str = ""  # why the run diverged, in words: "at step 12: the loss passed 1e12"
    state: Any = None  # the optimizer state at θ_t, on the last iterate only

    @property
    def grad_norm(self) -> float:
        return math.hypot(self.grad[0], self.grad[1])


def _evaluate(surface: Surface, t: int, x: float, y: float) -> Iterate | None:
    """The iterate at (x, y), or None when anything in it is not a finite number."""
    try:
        loss = float(surface.value(x, y))
        gx, gy = surface.grad(x, y)
        gx, gy = float(gx), float(gy)
    except _NUMERIC_ERRORS:
        return None
    if not (math.isfinite(loss) and math.isfinite(gx) and math.isfinite(gy)):
        return None
    return Iterate(t, (x, y), loss, (gx, gy))


def _stop(it: Iterate, rules: StopRules, last_t: int) -> Status | str | None:
    """'converged' or 'max_steps', a divergence reason in words, or None to go on."""
    x, y = it.theta
    if it.loss > rules.max_abs_loss:
        return f"at step {it.t}: the loss passed {sci(rules.max_abs_loss)}"
    if it.loss < -rules.max_abs_loss:
        return f"at step {it.t}: the loss fell below −{sci(rules.max_abs_loss)}"
    if max(abs(x), abs(y)) > rules.max_abs_theta:
        return f"at step {it.t}: θ left the box |x|, |y| ≤ {sci(rules.max_abs_theta)}"
    if it.grad_norm <= rules.tol:
        return "converged"
    if it.t >= last_t:
        return "max_steps"
    return None


def _armijo(surface: Surface, it: Iterate, g: Vec, eta: float, search: LineSearch) -> float:
    """The first η in η, η·shrink, η·shrink², … that satisfies the Armijo condition."""
    x, y = it.theta
    slope = g[0] * g[0] + g[1] * g[1]
    for _ in range(_MAX_SHRINKS):
        try:
            trial = float(surface.value(x - eta * g[0], y - eta * g[1]))
        except _NUMERIC_ERRORS:
            trial = math.nan
        if trial <= it.loss - search.c * eta * slope:
            return eta
        eta *= search.shrink
    return eta


class _Stepper:
    """The mutable loop state of one run, advanced a chunk at a time."""

    def __init__(
        self,
        surface: Surface,
        optimizer: Optimizer,
        schedule: Schedule,
        line_search: LineSearch | None,
        step_gradient: StepGradient | None,
    ) -> None:
        self.surface = surface
        self.optimizer = optimizer
        self.schedule = schedule
        self.line_search = line_search
        self.step_gradient = step_gradient
        self.hessian = needs_hessian(optimizer)

    def step(self, current: Iterate, state: Any) -> tuple[Iterate | None, Any, float]:
        """The next iterate (None if not finite), the new state and the step size used."""
        t = current.t
        x, y = current.theta
        g = current.grad if self.step_gradient is None else self.step_gradient(t, x, y)
        eta = self.schedule.eta(self.optimizer.eta, t)
        if self.line_search is not None:
            eta = _armijo(self.surface, current, g, eta, self.line_search)
        if self.hessian:
            hess = self.surface.hess(x, y)
            step, new_state = self.optimizer.update(g, state, current.theta, eta, hess)  # type: ignore[call-arg]
        else:
            step, new_state = self.optimizer.update(g, state, current.theta, eta)
        nxt = _evaluate(self.surface, t + 1, float(x + step[0]), float(y + step[1]))
        return nxt, new_state, eta


def descend(
    surface: Surface,
    optimizer: Optimizer,
    theta0: tuple[float, float],
    rules: StopRules = StopRules(),
    *,
    schedule: Schedule = CONSTANT,
    line_search: LineSearch | None = None,
    resume: Resume | None = None,
    step_gradient: StepGradient | None = None,
) -> Iterator[Iterate]:
    """Yield θ_0, θ_1, … until a stop rule fires; the last iterate carries the status and state.

    With `resume`, the run continues from `resume.theta` at step `resume.t` (θ₀ is ignored), with
    the saved optimizer state if the optimizer is the same kind, else a fresh one.
    Raises ValueError if the loss or its gradient is not finite at the start.
    """
    t0, start = (resume.t, resume.theta) if resume is not None else (0, theta0)
    current = _evaluate(surface, t0, float(start[0]), float(start[1]))
    if current is None:
        raise ValueError(
            f"The loss or its gradient is not a finite number at θ = ({start[0]}, {start[1]})"
        )
    if resume is not None and resume.optimizer == optimizer.name:
        state = resume.state
    else:
        state = optimizer.init(current.theta)
    stepper = _Stepper(surface, optimizer, schedule, line_search, step_gradient)
    last_t = t0 + rules.max_steps
    size = 1  # the first iterate leaves at once; later ones in chunks
    while True:
        chunk: list[Iterate] = []
        with np.errstate(all="ignore"):
            while len(chunk) < size:
                verdict = _stop(current, rules, last_t)
                if verdict in ("converged", "max_steps"):
                    chunk.append(replace(current, status=verdict, state=state))  # type: ignore[arg-type]
                    break
                if verdict is not None:
                    chunk.append(replace(current, status="diverged", reason=verdict, state=state))
                    break
                try:
                    nxt, new_state, eta = stepper.step(current, state)
                except _NUMERIC_ERRORS:
                    nxt, new_state, eta = None, state, math.nan
                if nxt is None:
                    reason = (
                        f"at step {current.t + 1}: θ, the loss or its gradient overflowed "
                        "(became infinite or NaN)"
                    )
                    chunk.append(replace(current, status="diverged", reason=reason, state=state))
                    break
                current.eta = eta
                chunk.append(current)
                current, state = nxt, new_state
        yield from chunk
        if chunk[-1].status is not None:
            return
        size = _CHUNK


def run_to_end(
    surface: Surface,
    optimizer: Optimizer,
    theta0: tuple[float, float],
    rules: StopRules = StopRules(),
    **options: Any,
) -> list[Iterate]:
    return list(descend(surface, optimizer, theta0, rules, **options))


__all__ = [
    "Iterate",
    "LineSearch",
    "Resume",
    "Status",
    "StepGradient",
    "StopRules",
    "Vec",
    "descend",
    "run_to_end",
]
