"""Why a run stopped at `max_steps` without converging, told from what its path does.

The last few iterates say how the run moves: steadily downhill, back and forth across a
minimum, zig-zagging across a narrow valley while creeping along it, or noisily (minibatches).
For plain GD with a constant η near a minimum, the local quadratic model adds the numbers a
learner can check: each eigen-direction of the Hessian (curvature λ) shrinks its error by
|1 − ηλ| per step, so the steepest direction overshoots once η > 1/λ_max and diverges beyond
η = 2/λ_max, while the flattest one crawls at 1 − ηλ_min.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from app.core.descent.optimizers import GD, Optimizer
from app.core.descent.runner import Iterate, Tail
from app.core.surfaces.surface import HessFn, Surface
from app.core.text import num, point

TAIL = 12  # iterates a diagnosis looks at (the API keeps this many of a run's last ones)

Shape = Literal["monotone", "oscillating", "zigzag", "stalled", "irregular"]

# A run is in its minimum's quadratic regime when the Hessian where it ends is within this
# fraction (spectral norm) of the Hessian at the minimum: only then do the curvatures at the
# minimum rule its steps. (On a quadratic that holds everywhere.)
_LOCAL = 0.1


@dataclass(frozen=True)
class PathShape:
    shape: Shape
    rate: float  # geometric mean of successive step-length ratios over the tail (nan if unknown)


def path_shape(recent: Sequence[Iterate] | Tail) -> PathShape:
    """Classify the tail of a run by the directions and lengths of its steps.

    Plain floats in one pass, not numpy: a tail is a dozen 2-vectors, and this runs at the end of
    every run that hits max_steps (numpy's per-call overhead would cost more than the run)."""
    tail = recent if isinstance(recent, Tail) else Tail.of(recent)
    thetas = tail.thetas
    if len(thetas) < 5:
        return PathShape("irregular", math.nan)
    isfinite, hypot = math.isfinite, math.hypot
    # A schedule may make a step of length 0 (η_t = 0): such steps are left out of `moved`.
    moved: list[tuple[float, float, float]] = []
    flips = 0  # successive moved steps that turn back (cosine below −1/2)
    px, py = thetas[0]
    length = 0.0
    for x, y in thetas[1:]:
        dx, dy = x - px, y - py
        px, py = x, y
        if not (isfinite(dx) and isfinite(dy)):
            return PathShape("irregular", math.nan)
        length = hypot(dx, dy)
        if length:
            if moved:
                ax, ay, a = moved[-1]
                if ax * dx + ay * dy < -0.5 * a * length:
                    flips += 1
            moved.append((dx, dy, length))
    if length == 0.0:
        return PathShape("stalled", 0.0)
    if len(moved) < 4:
        return PathShape("irregular", math.nan)
    rate = (moved[-1][2] / moved[0][2]) ** (1.0 / (len(moved) - 1))
    share = flips / (len(moved) - 1)
    if share >= 0.8:
        # Two steps back and forth cancel out when bouncing across a minimum; across a
        # valley they leave a move along it.
        net = [hypot(a[0] + b[0], a[1] + b[1]) / (a[2] + b[2]) for a, b in zip(moved, moved[1:])]
        return PathShape("zigzag" if statistics.median(net) > 0.05 else "oscillating", rate)
    losses = tail.losses
    if share <= 0.2 and all(b < a for a, b in zip(losses, losses[1:])):
        return PathShape("monotone", rate)
    return PathShape("irregular", rate)


def _eigenvalues(hxx: float, hxy: float, hyy: float) -> tuple[float, float]:
    """The eigenvalues of the symmetric 2 × 2 matrix [[hxx, hxy], [hxy, hyy]], low first."""
    mean, half = 0.5 * (hxx + hyy), math.hypot(0.5 * (hxx - hyy), hxy)
    return mean - half, mean + half


@dataclass(frozen=True)
class _Curvatures:
    """The Hessian's eigenvalues at the minimum a GD run is settling into."""

    where: tuple[float, float]
    low: float
    high: float


@functools.lru_cache(maxsize=64)
def _eigenvalues_at(hess: HessFn, x: float, y: float) -> tuple[float, float, float, float, float]:
    """The Hessian (hxx, hxy, hyy) at a minimum and its eigenvalues: the same for every run that
    settles there, so computed once."""
    hxx, hxy, hyy = (float(h) for h in hess(np.float64(x), np.float64(y)))
    return (hxx, hxy, hyy, *_eigenvalues(hxx, hxy, hyy))


def _local_curvatures(surface: Surface, where: Sequence[float]) -> _Curvatures | None:
    if not surface.minima:
        return None
    x, y = where
    m = surface.minima[0]
    if len(surface.minima) > 1:
        m = min(surface.minima, key=lambda m: math.hypot(m.x - x, m.y - y))
    mxx, mxy, myy, low, high = _eigenvalues_at(surface.hess, m.x, m.y)
    hxx, hxy, hyy = map(float, surface.hess(np.float64(x), np.float64(y)))
    if not (math.isfinite(hxx) and math.isfinite(hxy) and math.isfinite(hyy)):
        return None
    # The spectral norm of the symmetric difference: its largest |eigenvalue|, |mean| + half-gap.
    dxx, dxy, dyy = hxx - mxx, hxy - mxy, hyy - myy
    apart = abs(0.5 * (dxx + dyy)) + math.hypot(0.5 * (dxx - dyy), dxy)
    if apart > _LOCAL * max(abs(low), abs(high)):
        return None
    if not (low > 0.0 and math.isfinite(high)):
        return None
    return _Curvatures((m.x, m.y), low, high)


def _factor(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") if value >= 0.9 else num(value)


@functools.lru_cache(maxsize=256)
def _gd_advice(shape: Shape, eta: float, c: _Curvatures) -> str:
    """Advice for GD with constant η, from the curvatures at the minimum it is settling into.
    Cached: runs of one surface at one η that settle into one minimum get the same words."""
    limit = 2.0 / c.high
    best = 2.0 / (c.low + c.high)
    steep = abs(1.0 - eta * c.high)
    flat = abs(1.0 - eta * c.low)
    isotropic = c.high / c.low < 1.0 + 1e-9
    where = f"At the minimum {point(*c.where)}"
    if isotropic:
        at = f"{where} the curvature is λ = {num(c.high)} in every direction"
        faster = f"η = 1/λ = {num(best)} would land on it in one step"
    else:
        at = f"{where} the curvatures are λ = {num(c.low)} and {num(c.high)}"
        faster = f"the fastest constant step is η = 2/(λ_min + λ_max) = {num(best)}"
    if eta >= limit:
        return (
            f"{at}: η = {num(eta)} is above 2/λ = {num(limit)}, where this minimum is unstable "
            "for GD, so the path bounces across it without settling. A smaller η converges "
            f"({faster})."
        )
    if shape in ("oscillating", "zigzag") or (shape == "irregular" and steep >= flat):
        near = "just under" if eta >= 0.9 * limit else "under"
        overshoot = (
            f"η = {num(eta)} is {near} 2/λ = {num(limit)}: every step overshoots the minimum"
            + ("" if isotropic else " along the steepest direction")
            + f", and the error {'' if isotropic else 'there '}shrinks only by |1 − ηλ| = "
            f"{_factor(steep)} per step"
        )
        if shape == "zigzag" or flat > steep:
            return (
                f"{at}: {overshoot}, while along the flattest one it shrinks by 1 − ηλ = "
                f"{_factor(flat)}: the path zig-zags across the valley as it creeps along it. "
                f"A smaller η stops the zig-zag ({faster}); momentum or Adam cross such a "
                "valley faster than any constant-η GD."
            )
        return f"{at}: {overshoot}. A smaller η converges faster: {faster}."
    if eta >= 0.5 * limit:
        return (
            f"{at}: along the flattest direction the error shrinks only by 1 − ηλ = "
            f"{_factor(flat)} per step, and η = {num(eta)} is already near the largest stable "
            f"step 2/λ_max = {num(limit)}, which the steepest direction sets. The curvatures "
            f"differ {num(c.high / c.low)}-fold: allow more steps, or use momentum or Adam; a "
            "larger η would diverge."
        )
    return (
        f"{at}: the error shrinks by 1 − ηλ = {_factor(flat)} per step along the flattest "
        f"direction. Allow more steps or try a larger η: GD is stable here for η < 2/λ = "
        f"{num(limit)} ({faster})."
    )


def _path_advice(shape: PathShape, optimizer: Optimizer) -> str:
    """Advice from the path alone, for runs the quadratic model does not describe."""
    rate = ""
    if shape.rate > 1.0:
        rate = f" (the steps are growing, ×{_factor(shape.rate)} each)"
    elif shape.rate >= 0.0:
        rate = f" (the steps shrink by ×{_factor(shape.rate)} each)"
    momentum = "" if isinstance(optimizer, GD) else " (or less momentum)"
    if shape.shape == "monotone":
        return f"The loss is still falling steadily{rate}: allow more steps or try a larger η."
    if shape.shape == "oscillating":
        return (
            f"The path flips direction at every step{rate}: the steps overshoot, so a smaller η"
            f"{momentum} converges faster."
        )
    if shape.shape == "zigzag":
        return (
            f"The path zig-zags across a narrow valley while creeping along it{rate}: a smaller "
            f"η{momentum} stops the zig-zag; momentum or Adam cross such a valley faster."
        )
    if shape.shape == "stalled":
        return "The steps have shrunk to nothing before the gradient did: try a larger η."
    return (
        "The loss is not falling steadily: the path may be oscillating, so try a smaller η"
        f"{momentum}."
    )


def diagnose(
    surface: Surface,
    optimizer: Optimizer,
    recent: Sequence[Iterate] | Tail,
    *,
    stochastic: bool = False,
) -> str:
    """Why the run whose last iterates are `recent` has not converged, and what helps."""
    if stochastic:
        return (
            "Minibatch noise keeps the run from settling: each step follows the gradient of a "
            "different batch, so θ keeps jittering around the minimum instead of stopping. A "
            "larger batch, a decaying schedule (step, cosine or inverse_sqrt) or a smaller η "
            "shrinks the jitter."
        )
    tail = recent if isinstance(recent, Tail) else Tail.of(recent)
    shape = path_shape(tail)
    etas = tail.etas
    constant = bool(etas) and all(eta == optimizer.eta for eta in etas)
    if isinstance(optimizer, GD) and constant and tail.thetas:
        curvatures = _local_curvatures(surface, tail.thetas[-1])
        if curvatures is not None:
            return _gd_advice(shape.shape, optimizer.eta, curvatures)
    return _path_advice(shape, optimizer)
