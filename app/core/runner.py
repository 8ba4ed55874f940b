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

`Trajectory` computes a run into columns (θ, L, ∇L, η lists) a chunk at a time; `descend` yields
its iterates and `trajectory` returns the whole run (what /api/descent serialises). Plain GD
with a constant η, no line search and the full gradient, the most common run, takes a loop with
GD.update's arithmetic inlined (θ + (−η)·∇L, the same floating-point operations) and no object
per step: about 3× faster; every other run calls the optimizer's `update` each step. A test
checks that both loops give the same numbers, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np

from app.core.compiled import gd_kernel
from app.core.optimizers import GD, GDState, Optimizer, Vec, needs_hessian
from app.core.schedules import CONSTANT, Constant, Schedule
from app.core.surface import Surface
from app.core.text import sci

Status: TypeAlias = Literal["converged", "diverged", "max_steps"]
# The gradient an update uses at step t from θ_t: the full gradient by default; minibatch
# gradients for stochastic descent on data.
StepGradient: TypeAlias = Callable[[int, float, float], tuple[float, float]]

_NUMERIC_ERRORS = (OverflowError, ZeroDivisionError, ValueError)
_CHUNK = 256  # iterates computed per numpy errstate block
_KERNEL_BLOCK = 4096  # iterates per call of a compiled kernel (the size of its output buffer)
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


class Trajectory:
    """A run kept as columns: θ_t, L(θ_t), ∇L(θ_t) for t = t0 … t0 + len − 1, and the step sizes
    η_t used to leave each iterate but the last. Built `extend`-ed a chunk at a time; once
    `status` is set the run is over and the last entry is its final iterate.

    The columns hold the very numbers the iterates would (`descend` is built on this), without
    one Python object per iterate: `/api/descent` serialises them directly. Plain GD on a
    compiled preset is stepped by app.core.compiled (bitwise the same numbers); `compiled=False`
    keeps it in Python, which the tests use as the reference.
    """

    __slots__ = ("thetas", "losses", "grads", "etas", "t0", "status", "reason", "state",
                 "_surface", "_optimizer", "_schedule", "_rules", "_stepper", "_last_t",
                 "_current", "_kernel")

    def __init__(
        self,
        surface: Surface,
        optimizer: Optimizer,
        theta0: tuple[float, float],
        rules: StopRules = StopRules(),
        *,
        schedule: Schedule = CONSTANT,
        line_search: LineSearch | None = None,
        resume: Resume | None = None,
        step_gradient: StepGradient | None = None,
        compiled: bool = True,
    ) -> None:
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
        self.thetas: list[tuple[float, float]] = []
        self.losses: list[float] = []
        self.grads: list[tuple[float, float]] = []
        self.etas: list[float] = []
        self.t0 = t0
        self.status: Status | None = None
        self.reason = ""
        self.state: Any = state  # the optimizer state at the current (last computed) iterate
        self._surface, self._optimizer, self._schedule, self._rules = (
            surface, optimizer, schedule, rules)
        self._last_t = t0 + rules.max_steps
        self._current = current
        plain_gd = (
            type(optimizer) is GD and type(schedule) is Constant
            and line_search is None and step_gradient is None
        )
        self._stepper = None if plain_gd else _Stepper(
            surface, optimizer, schedule, line_search, step_gradient)
        self._kernel = gd_kernel(surface) if plain_gd and compiled else None

    def __len__(self) -> int:
        return len(self.losses)

    def iterate(self, i: int) -> Iterate:
        """The i-th iterate (0 ≤ i < len), as `descend` yields it."""
        last = self.status is not None and i == len(self.losses) - 1
        return Iterate(
            self.t0 + i, self.thetas[i], self.losses[i], self.grads[i],
            None if last else self.etas[i],
            self.status if last else None,
            self.reason if last else "",
            self.state if last else None,
        )

    @property
    def final(self) -> Iterate:
        if self.status is None:
            raise ValueError("the run is not over")
        return self.iterate(len(self.losses) - 1)

    def extend(self, size: int) -> int:
        """Compute up to `size` more iterates (fewer if the run ends); returns how many."""
        if self.status is not None:
            return 0
        before = len(self.losses)
        with np.errstate(all="ignore"):
            if self._stepper is None:
                self._extend_gd(size)
            else:
                self._extend(size)
        return len(self.losses) - before

    def _finish(self, current: Iterate, status: Status, reason: str = "") -> None:
        self.thetas.append(current.theta)
        self.losses.append(current.loss)
        self.grads.append(current.grad)
        self.status, self.reason = status, reason

    def _stop_here(self, current: Iterate) -> bool:
        verdict = _stop(current, self._rules, self._last_t)
        if verdict is None:
            return False
        if verdict in ("converged", "max_steps"):
            self._finish(current, verdict)  # type: ignore[arg-type]
        else:
            self._finish(current, "diverged", verdict)
        return True

    def _extend(self, size: int) -> None:
        """Any optimizer, schedule, line search or step gradient: one `_Stepper.step` per step."""
        current, state, stepper = self._current, self.state, self._stepper
        assert stepper is not None
        thetas, losses, grads, etas = self.thetas, self.losses, self.grads, self.etas
        for _ in range(size):
            if self._stop_here(current):
                break
            try:
                nxt, new_state, eta = stepper.step(current, state)
            except _NUMERIC_ERRORS:
                nxt, new_state, eta = None, state, math.nan
            if nxt is None:
                self._finish(current, "diverged", _overflow(current.t + 1))
                break
            thetas.append(current.theta)
            losses.append(current.loss)
            grads.append(current.grad)
            etas.append(eta)
            current, state = nxt, new_state
        self._current, self.state = current, state

    def _extend_gd(self, size: int) -> None:
        """Plain GD with a constant η: GD.update's arithmetic (θ + (−η)·g) inlined, and the stop
        rules of `_stop` tested on floats; `_stop` itself decides once one of them fires. On a
        compiled preset the kernel takes the steps, and this loop decides each iterate where the
        kernel stopped (a stop rule may fire there, or the next step overflows)."""
        cur = self._current
        t, (x, y), loss, (gx, gy) = cur.t, cur.theta, cur.loss, cur.grad
        eta = self._schedule.eta(self._optimizer.eta, t)
        neta = -eta
        rules = self._rules
        max_loss, min_loss, box, tol, last_t = (
            rules.max_abs_loss, -rules.max_abs_loss, rules.max_abs_theta, rules.tol, self._last_t)
        value, gradient = self._surface.value, self._surface.grad
        isfinite, hypot = math.isfinite, math.hypot
        thetas, losses, grads = self.thetas, self.losses, self.grads
        kernel = self._kernel
        theta, g = (x, y), (gx, gy)
        steps = 0
        while steps < size and self.status is None:
            python_steps = size - steps
            if kernel is not None:
                n = min(python_steps, last_t - t, _KERNEL_BLOCK)
                done = kernel(x, y, loss, gx, gy, eta, n, max_loss, box, tol)
                if done.thetas:
                    thetas.extend(done.thetas)
                    losses.extend(done.losses)
                    grads.extend(done.grads)
                    steps += len(done.thetas)
                    t += len(done.thetas)
                    x, y, loss, gx, gy = done.current
                    theta, g = (x, y), (gx, gy)
                if len(done.thetas) == n and n < python_steps and t < last_t:
                    continue  # the block was full: nothing for Python to decide yet
                python_steps = min(1, size - steps)
            for _ in range(python_steps):
                if (loss > max_loss or loss < min_loss or abs(x) > box or abs(y) > box
                        or hypot(gx, gy) <= tol or t >= last_t):
                    self._current = Iterate(t, theta, loss, g)
                    if self._stop_here(self._current):
                        break
                try:
                    nx = x + neta * gx
                    ny = y + neta * gy
                    nloss = float(value(nx, ny))
                    ngx, ngy = gradient(nx, ny)
                    ngx, ngy = float(ngx), float(ngy)
                    finite = isfinite(nloss) and isfinite(ngx) and isfinite(ngy)
                except _NUMERIC_ERRORS:
                    finite = False
                if not finite:
                    self._finish(Iterate(t, theta, loss, g), "diverged", _overflow(t + 1))
                    break
                thetas.append(theta)
                losses.append(loss)
                grads.append(g)
                steps += 1
                t, x, y, loss, gx, gy = t + 1, nx, ny, nloss, ngx, ngy
                theta, g = (x, y), (gx, gy)
        self.etas.extend([eta] * steps)
        self.state = GDState(step=self.state.step + steps)
        if self.status is None:
            self._current = Iterate(t, theta, loss, g)


def _overflow(t: int) -> str:
    return f"at step {t}: θ, the loss or its gradient overflowed (became infinite or NaN)"


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
    run = Trajectory(surface, optimizer, theta0, rules, schedule=schedule,
                     line_search=line_search, resume=resume, step_gradient=step_gradient)
    size = 1  # the first iterate leaves at once; later ones in chunks
    done = 0
    while run.extend(size):
        for i in range(done, len(run)):
            yield run.iterate(i)
        done = len(run)
        size = _CHUNK


def trajectory(
    surface: Surface,
    optimizer: Optimizer,
    theta0: tuple[float, float],
    rules: StopRules = StopRules(),
    **options: Any,
) -> Trajectory:
    """The whole run as columns (the iterates of `descend`, without an object per iterate)."""
    run = Trajectory(surface, optimizer, theta0, rules, **options)
    while run.status is None:
        run.extend(1 << 30)
    return run


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
    "Trajectory",
    "Vec",
    "descend",
    "run_to_end",
    "trajectory",
]
