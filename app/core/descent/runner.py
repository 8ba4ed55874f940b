"""Run one optimizer on one surface: a generator of iterates and the rules that stop it.

Each iterate holds t, θ_t, L(θ_t), ∇L(θ_t) and the step size η_t used to leave θ_t. The last one
carries the status, ``converged``, ``diverged`` or ``max_steps``, decided by the rules of
app.core.descent.stopping (a resumed run counts its max_steps afresh). A next iterate that is not
finite is not yielded (JSON has no NaN): the run stops, diverged, at the iterate before it.

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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np

from app.core.descent.compiled import gd_kernel
from app.core.descent.optimizers import GD, GDState, Optimizer, Vec, needs_hessian
from app.core.descent.schedules import CONSTANT, Constant, Schedule
from app.core.descent.stopping import (
    NUMERIC_ERRORS,
    LineSearch,
    Status,
    StopRules,
    armijo,
    overflowed,
    stop_check,
)
from app.core.surfaces.surface import Array, Surface

# The gradient an update uses at step t from θ_t: the full gradient by default; minibatch
# gradients for stochastic descent on data.
StepGradient: TypeAlias = Callable[[int, float, float], tuple[float, float]]

_CHUNK = 256  # iterates computed per numpy errstate block
_KERNEL_BLOCK = 4096  # at most this many iterates per call of a compiled kernel
_FIRST_ROWS = 1024  # rows a Trajectory allocates at first; it doubles them as it needs


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


@dataclass(frozen=True)
class Tail:
    """A run's last iterates as columns, oldest first: what a diagnosis reads. Cheaper than
    Iterate objects when taken from a Trajectory's arrays."""

    thetas: Sequence[Sequence[float]]
    losses: Sequence[float]
    etas: Sequence[float | None]  # the step sizes of the steps between them: one fewer

    @classmethod
    def of(cls, iterates: Sequence[Iterate]) -> Tail:
        return cls(
            [it.theta for it in iterates],
            [it.loss for it in iterates],
            [it.eta for it in iterates[:-1]],
        )


def _evaluate(surface: Surface, t: int, x: float, y: float) -> Iterate | None:
    """The iterate at (x, y), or None when anything in it is not a finite number."""
    try:
        loss = float(surface.value(x, y))
        gx, gy = surface.grad(x, y)
        gx, gy = float(gx), float(gy)
    except NUMERIC_ERRORS:
        return None
    if not (math.isfinite(loss) and math.isfinite(gx) and math.isfinite(gy)):
        return None
    return Iterate(t, (x, y), loss, (gx, gy))


def _stop(it: Iterate, rules: StopRules, last_t: int) -> tuple[Status, str] | None:
    """stopping.stop_check on an iterate: (status, reason) if the run stops there."""
    (x, y), (gx, gy) = it.theta, it.grad
    return stop_check(it.t, x, y, it.loss, gx, gy, rules, last_t)


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
            eta = armijo(self.surface.value, x, y, current.loss, g[0], g[1], eta, self.line_search)
        if self.hessian:
            hess = self.surface.hess(x, y)
            step, new_state = self.optimizer.update(g, state, current.theta, eta, hess)  # type: ignore[call-arg]
        else:
            step, new_state = self.optimizer.update(g, state, current.theta, eta)
        nxt = _evaluate(self.surface, t + 1, float(x + step[0]), float(y + step[1]))
        return nxt, new_state, eta


class Trajectory:
    """A run kept as columns: θ_t, L(θ_t), ∇L(θ_t) for t = t0 … t0 + len − 1 (numpy arrays of
    len rows), and the step sizes η_t used to leave each iterate but the last (a list). Built
    `extend`-ed a chunk at a time; once `status` is set the run is over and the last row is its
    final iterate.

    The columns hold the very numbers the iterates would (`descend` is built on this), without
    one Python object per iterate: `/api/descent` serialises the arrays directly. Plain GD on a
    compiled preset is stepped by app.core.descent.compiled, which writes into the arrays
    (bitwise the same numbers); `compiled=False` keeps it in Python, the tests' reference.
    """

    __slots__ = (
        "_theta",
        "_loss",
        "_grad",
        "_len",
        "etas",
        "t0",
        "status",
        "reason",
        "state",
        "_surface",
        "_optimizer",
        "_schedule",
        "_rules",
        "_stepper",
        "_last_t",
        "_current",
        "_kernel",
    )

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
        rows = min(rules.max_steps + 1, _FIRST_ROWS)
        self._theta, self._grad = np.empty((rows, 2)), np.empty((rows, 2))
        self._loss = np.empty(rows)
        self._len = 0
        self.etas: list[float] = []
        self.t0 = t0
        self.status: Status | None = None
        self.reason = ""
        self.state: Any = state  # the optimizer state at the current (last computed) iterate
        self._surface, self._optimizer, self._schedule, self._rules = (
            surface,
            optimizer,
            schedule,
            rules,
        )
        self._last_t = t0 + rules.max_steps
        self._current = current
        plain_gd = (
            type(optimizer) is GD
            and type(schedule) is Constant
            and line_search is None
            and step_gradient is None
        )
        self._stepper = (
            None if plain_gd else _Stepper(surface, optimizer, schedule, line_search, step_gradient)
        )
        self._kernel = gd_kernel(surface) if plain_gd and compiled else None

    def __len__(self) -> int:
        return self._len

    @property
    def thetas(self) -> Array:
        """θ_t, one row (x, y) per iterate: a read-only view."""
        return _read_only(self._theta[: self._len])

    @property
    def losses(self) -> Array:
        return _read_only(self._loss[: self._len])

    @property
    def grads(self) -> Array:
        return _read_only(self._grad[: self._len])

    def iterates(self, start: int = 0, stop: int | None = None) -> list[Iterate]:
        """The iterates start … stop − 1 (stop: len by default), as `descend` yields them."""
        n = self._len
        stop = n if stop is None else stop
        etas: list[float | None] = [*self.etas[start:stop]]
        etas += [None] * (stop - start - len(etas))  # the final iterate has no step size
        out = [
            Iterate(self.t0 + i, (x, y), loss, (gx, gy), eta)
            for i, (x, y), loss, (gx, gy), eta in zip(
                range(start, stop),
                self._theta[start:stop].tolist(),
                self._loss[start:stop].tolist(),
                self._grad[start:stop].tolist(),
                etas,
            )
        ]
        if self.status is not None and out and stop == n:
            last = out[-1]
            last.eta, last.status = None, self.status
            last.reason, last.state = self.reason, self.state
        return out

    def tail(self, size: int) -> Tail:
        """The last `size` iterates (fewer if the run is shorter) as columns."""
        n = self._len
        start = max(0, n - size)
        return Tail(
            self._theta[start:n].tolist(),
            self._loss[start:n].tolist(),
            self.etas[start : n - 1],
        )

    def iterate(self, i: int) -> Iterate:
        """The i-th iterate (0 ≤ i < len), as `descend` yields it."""
        if not 0 <= i < self._len:
            raise IndexError(f"iterate {i} of a run of {self._len}")
        return self.iterates(i, i + 1)[0]

    @property
    def final(self) -> Iterate:
        if self.status is None:
            raise ValueError("the run is not over")
        return self.iterate(self._len - 1)

    def extend(self, size: int) -> int:
        """Compute up to `size` more iterates (fewer if the run ends); returns how many."""
        if self.status is not None:
            return 0
        before = self._len
        with np.errstate(all="ignore"):
            if self._stepper is None:
                self._extend_gd(size)
            else:
                self._extend(size)
        return self._len - before

    def _reserve(self, rows: int) -> int:
        """Room for `rows` more rows; returns the index of the first."""
        n = self._len
        if n + rows > len(self._loss):
            size = max(n + rows, 2 * len(self._loss))
            self._theta = _grown(self._theta, n, size)
            self._loss = _grown(self._loss, n, size)
            self._grad = _grown(self._grad, n, size)
        return n

    def _append(self, thetas: list[Vec], losses: list[float], grads: list[Vec]) -> None:
        if not losses:
            return
        n = self._reserve(len(losses))
        end = n + len(losses)
        self._theta[n:end] = thetas
        self._loss[n:end] = losses
        self._grad[n:end] = grads
        self._len = end

    def _finish(self, current: Iterate, status: Status, reason: str = "") -> None:
        self._append([current.theta], [current.loss], [current.grad])
        self.status, self.reason = status, reason

    def _stop_here(self, current: Iterate) -> bool:
        verdict = _stop(current, self._rules, self._last_t)
        if verdict is not None:
            self._finish(current, *verdict)
        return verdict is not None

    def _extend(self, size: int) -> None:
        """Any optimizer, schedule, line search or step gradient: one `_Stepper.step` per step."""
        current, state, stepper = self._current, self.state, self._stepper
        assert stepper is not None
        rules, last_t, etas = self._rules, self._last_t, self.etas
        thetas: list[Vec] = []
        losses: list[float] = []
        grads: list[Vec] = []
        stop = overflow = False
        for _ in range(size):
            if _stop(current, rules, last_t) is not None:
                stop = True
                break
            try:
                nxt, new_state, eta = stepper.step(current, state)
            except NUMERIC_ERRORS:
                nxt, new_state, eta = None, state, math.nan
            if nxt is None:
                overflow = True
                break
            thetas.append(current.theta)
            losses.append(current.loss)
            grads.append(current.grad)
            etas.append(eta)
            current, state = nxt, new_state
        self._append(thetas, losses, grads)
        self._current, self.state = current, state
        if stop:
            self._stop_here(current)
        elif overflow:
            self._finish(current, "diverged", overflowed(current.t + 1))

    def _extend_gd(self, size: int) -> None:
        """Plain GD with a constant η. On a compiled preset the kernel takes the steps, and the
        Python loop decides each iterate where the kernel stopped (a stop rule may fire there,
        or the next step is not finite), so every decision is the Python loop's."""
        eta = self._schedule.eta(self._optimizer.eta, self._current.t)
        done = 0
        while done < size and self.status is None:
            if self._kernel is not None:
                done += self._gd_compiled(eta, size - done)
                if done == size:
                    break
                done += self._gd_python(eta, 1)
            else:
                done += self._gd_python(eta, size - done)
        self.etas.extend([eta] * done)
        self.state = GDState(step=self.state.step + done)

    def _gd_compiled(self, eta: float, size: int) -> int:
        cur, rules = self._current, self._rules
        n = min(size, self._last_t - cur.t, _KERNEL_BLOCK)
        if n <= 0:
            return 0
        start = self._reserve(n)
        end = start + n
        assert self._kernel is not None
        steps, x, y, loss, gx, gy = self._kernel(
            cur.theta,
            cur.loss,
            cur.grad,
            eta,
            rules,
            self._theta[start:end],
            self._loss[start:end],
            self._grad[start:end],
        )
        if steps:
            self._len = start + steps
            self._current = Iterate(cur.t + steps, (x, y), loss, (gx, gy))
        return steps

    def _gd_python(self, eta: float, size: int) -> int:
        """GD.update's arithmetic (θ + (−η)·g) inlined, and the stop rules pre-tested on floats
        (the contract in app.core.descent.stopping); `stop_check` decides once one fires."""
        cur = self._current
        t, (x, y), loss, (gx, gy) = cur.t, cur.theta, cur.loss, cur.grad
        neta = -eta
        rules = self._rules
        max_loss, min_loss, box, tol, last_t = (
            rules.max_abs_loss,
            -rules.max_abs_loss,
            rules.max_abs_theta,
            rules.tol,
            self._last_t,
        )
        value, gradient = self._surface.value, self._surface.grad
        isfinite, hypot = math.isfinite, math.hypot
        thetas: list[Vec] = []
        losses: list[float] = []
        grads: list[Vec] = []
        theta, g = (x, y), (gx, gy)
        stop = overflow = False
        for _ in range(size):
            if (
                loss > max_loss
                or loss < min_loss
                or abs(x) > box
                or abs(y) > box
                or hypot(gx, gy) <= tol
                or t >= last_t
            ):
                stop = stop_check(t, x, y, loss, gx, gy, rules, last_t) is not None
                if stop:
                    break
            try:
                nx = x + neta * gx
                ny = y + neta * gy
                nloss = float(value(nx, ny))
                grad_x, grad_y = gradient(nx, ny)
                ngx, ngy = float(grad_x), float(grad_y)
                finite = isfinite(nloss) and isfinite(ngx) and isfinite(ngy)
            except NUMERIC_ERRORS:
                finite = False
            if not finite:
                overflow = True
                break
            thetas.append(theta)
            losses.append(loss)
            grads.append(g)
            t, x, y, loss, gx, gy = t + 1, nx, ny, nloss, ngx, ngy
            theta, g = (x, y), (gx, gy)
        self._append(thetas, losses, grads)
        self._current = current = Iterate(t, theta, loss, g)
        if stop:
            self._stop_here(current)
        elif overflow:
            self._finish(current, "diverged", overflowed(t + 1))
        return len(losses)


def _grown(column: Array, rows: int, size: int) -> Array:
    bigger = np.empty((size, *column.shape[1:]))
    bigger[:rows] = column[:rows]
    return bigger


def _read_only(view: Array) -> Array:
    view.flags.writeable = False
    return view


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
    run = Trajectory(
        surface,
        optimizer,
        theta0,
        rules,
        schedule=schedule,
        line_search=line_search,
        resume=resume,
        step_gradient=step_gradient,
    )
    size = 1  # the first iterate leaves at once; later ones in chunks
    done = 0
    while run.extend(size):
        yield from run.iterates(done)
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
