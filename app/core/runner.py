"""Run one optimizer on one surface: a generator of iterates and the rules that stop it.

Each iterate holds t, θ_t, L(θ_t) and ∇L(θ_t). The last one carries the status:

* ``converged``: ‖∇L(θ_t)‖ ≤ tol;
* ``diverged``: the next iterate would not be finite (it is not yielded, since JSON has no NaN),
  or |L| > ``max_abs_loss`` (1e12), or a coordinate of θ beyond ``max_abs_theta`` (1e6);
* ``max_steps``: t reached ``max_steps``.

So a run with ``steps`` updates yields θ_0 … θ_steps. Single runs compute with Python floats,
which is several times faster than numpy scalars for 2-vectors; an overflow that Python reports
as an exception is treated exactly like numpy's inf/nan: as divergence.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Literal, TypeAlias

import numpy as np

from app.core.optimizers import Optimizer, Vec
from app.core.surface import Surface
from app.core.text import sci

Status: TypeAlias = Literal["converged", "diverged", "max_steps"]

_NUMERIC_ERRORS = (OverflowError, ZeroDivisionError, ValueError)
_CHUNK = 256  # iterates computed per numpy errstate block


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


@dataclass(frozen=True, slots=True)
class Iterate:
    t: int
    theta: tuple[float, float]
    loss: float
    grad: tuple[float, float]
    status: Status | None = None  # set on the last iterate only
    reason: str = ""  # why the run diverged, in words: "at step 12: the loss passed 1e12"

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


def _stop(it: Iterate, rules: StopRules) -> Iterate | None:
    """The iterate marked final if a stop rule fires at it."""
    x, y = it.theta
    if it.loss > rules.max_abs_loss:
        reason = f"at step {it.t}: the loss passed {sci(rules.max_abs_loss)}"
        return replace(it, status="diverged", reason=reason)
    if it.loss < -rules.max_abs_loss:
        reason = f"at step {it.t}: the loss fell below −{sci(rules.max_abs_loss)}"
        return replace(it, status="diverged", reason=reason)
    if max(abs(x), abs(y)) > rules.max_abs_theta:
        reason = f"at step {it.t}: θ left the box |x|, |y| ≤ {sci(rules.max_abs_theta)}"
        return replace(it, status="diverged", reason=reason)
    if it.grad_norm <= rules.tol:
        return replace(it, status="converged")
    if it.t >= rules.max_steps:
        return replace(it, status="max_steps")
    return None


def descend(
    surface: Surface,
    optimizer: Optimizer,
    theta0: tuple[float, float],
    rules: StopRules = StopRules(),
) -> Iterator[Iterate]:
    """Yield θ_0, θ_1, … until a stop rule fires; the last iterate carries the status.

    Raises ValueError if the loss or its gradient is not finite at θ₀.
    """
    current = _evaluate(surface, 0, float(theta0[0]), float(theta0[1]))
    if current is None:
        raise ValueError(
            f"The loss or its gradient is not a finite number at θ₀ = ({theta0[0]}, {theta0[1]})"
        )
    state = optimizer.init(current.theta)
    while True:
        chunk: list[Iterate] = []
        with np.errstate(all="ignore"):
            while len(chunk) < _CHUNK:
                final = _stop(current, rules)
                if final is not None:
                    chunk.append(final)
                    break
                nxt: Iterate | None
                try:
                    step, state = optimizer.update(current.grad, state, current.theta)
                    x, y = current.theta
                    nxt = _evaluate(surface, current.t + 1, float(x + step[0]), float(y + step[1]))
                except _NUMERIC_ERRORS:
                    nxt = None
                if nxt is None:
                    chunk.append(
                        replace(
                            current,
                            status="diverged",
                            reason=f"at step {current.t + 1}: θ, the loss or its gradient "
                            "overflowed (became infinite or NaN)",
                        )
                    )
                    break
                chunk.append(current)
                current = nxt
        yield from chunk
        if chunk[-1].status is not None:
            return


def run_to_end(
    surface: Surface,
    optimizer: Optimizer,
    theta0: tuple[float, float],
    rules: StopRules = StopRules(),
) -> list[Iterate]:
    return list(descend(surface, optimizer, theta0, rules))


__all__ = ["Iterate", "Status", "StopRules", "Vec", "descend", "run_to_end"]
