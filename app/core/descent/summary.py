"""What happened in a run, in numbers and in words a learner understands."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from app.core.descent.diagnosis import diagnose
from app.core.descent.optimizers import GD, Optimizer
from app.core.descent.runner import Iterate, Status, StopRules, Tail
from app.core.surfaces.surface import Minimum, Point, Surface
from app.core.text import num, point, sci

# A run that stops within this fraction of the domain's diagonal "reached" a landmark.
_NEAR = 0.02


@dataclass(frozen=True)
class NearestMinimum:
    minimum: Minimum
    distance: float


@dataclass(frozen=True)
class RunSummary:
    status: Status
    message: str
    steps: int
    final: Iterate
    nearest_minimum: NearestMinimum | None


def nearest_minimum(surface: Surface, x: float, y: float) -> NearestMinimum | None:
    if not surface.minima:
        return None
    best = min(surface.minima, key=lambda m: math.hypot(m.x - x, m.y - y))
    return NearestMinimum(best, math.hypot(best.x - x, best.y - y))


def _nearest_saddle(surface: Surface, x: float, y: float) -> tuple[Point, float] | None:
    if not surface.saddles:
        return None
    best = min(surface.saddles, key=lambda p: math.hypot(p.x - x, p.y - y))
    return best, math.hypot(best.x - x, best.y - y)


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


def _converged(surface: Surface, final: Iterate, near: NearestMinimum | None, steps: int) -> str:
    x, y = final.theta
    where = f"Converged in {_steps(steps)}"
    radius = _NEAR * surface.domain.diagonal
    saddle = _nearest_saddle(surface, x, y)
    if saddle is not None and saddle[1] <= radius and (near is None or saddle[1] < near.distance):
        p = saddle[0]
        return (
            f"{where} to the saddle point {point(p.x, p.y)}: the gradient vanishes there, "
            "but it is not a minimum. Nudge θ₀ off the symmetry line to escape."
        )
    if near is not None and near.distance <= radius:
        m = near.minimum
        return f"{where} to the {m.kind} minimum {point(m.x, m.y)}."
    return f"{where} to a stationary point at {point(x, y)}, which is not a listed minimum."


def _stability_hint(surface: Surface, optimizer: Optimizer, theta0: tuple[float, float]) -> str:
    """For GD: the largest curvature λ near θ₀'s closest minimum, and the limit η < 2/λ."""
    near = nearest_minimum(surface, *theta0)
    if not isinstance(optimizer, GD) or near is None:
        return "Try a smaller η."
    m = near.minimum
    lam = surface.max_curvature(m.x, m.y)
    if lam <= 0.0:
        return "Try a smaller η."
    limit = 2.0 / lam
    comparison = "above" if optimizer.eta > limit else "below"
    return (
        f"At the minimum {point(m.x, m.y)} the largest curvature is λ = {num(lam)}, so GD is "
        f"stable there only for η < 2/λ = {num(limit)}; η = {num(optimizer.eta)} is {comparison} "
        "that. Try a smaller η."
    )


def _max_steps(
    surface: Surface,
    optimizer: Optimizer,
    final: Iterate,
    rules: StopRules,
    recent: Sequence[Iterate] | Tail,
    stochastic: bool,
) -> str:
    base = (
        f"Stopped at the maximum of {_steps(rules.max_steps)} without converging: "
        f"‖∇L‖ = {sci(final.grad_norm)} is still above tol = {sci(rules.tol)}."
    )
    return f"{base} {diagnose(surface, optimizer, recent, stochastic=stochastic)}"


def _newton_note(optimizer: Optimizer, final: Iterate) -> str:
    damped = int(getattr(final.state, "damped_steps", 0) or 0)
    floor = getattr(optimizer, "min_curvature", None)
    if damped == 0 or floor is None:
        return ""
    return (
        f" At {_steps(damped)} the Hessian had an eigenvalue below min_curvature = {sci(floor)} "
        "(curving down, or nearly flat), so Newton used max(|λ|, min_curvature) for its "
        "eigenvalues there (saddle-free Newton): each such step still went downhill."
    )


def summarize(
    surface: Surface,
    optimizer: Optimizer,
    theta0: tuple[float, float],
    rules: StopRules,
    final: Iterate,
    recent: Sequence[Iterate] | Tail,
    start_t: int = 0,
    *,
    stochastic: bool = False,
) -> RunSummary:
    """Describe a finished run. `recent` are its last iterates (up to diagnosis.TAIL, oldest
    first, ending with `final`); a resumed run began at step `start_t`; `stochastic` says its
    steps followed minibatch gradients."""
    if final.status is None:
        raise ValueError("summarize() needs the final iterate of a run")
    near = nearest_minimum(surface, *final.theta)
    steps = final.t - start_t
    if final.status == "converged":
        message = _converged(surface, final, near, steps)
    elif final.status == "diverged":
        if final.loss < -rules.max_abs_loss:
            hint = (
                "The surface is unbounded below: no step size helps, there is no minimum to find."
            )
        else:
            hint = _stability_hint(surface, optimizer, theta0)
        message = f"Diverged {final.reason}. {hint}"
    else:
        message = _max_steps(surface, optimizer, final, rules, recent, stochastic)
    if final.status != "converged" and surface.note:
        message += f" Note: {surface.note}"
    return RunSummary(final.status, message + _newton_note(optimizer, final), steps, final, near)
