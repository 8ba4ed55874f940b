"""Gradient flow beside a run: the curves GD follows to first and to second order in η.

θ_{t+1} = θ_t − η_t∇L(θ_t) is Euler's method on the gradient flow dθ/ds = −∇L(θ) at the times
s_t = Σ_{k<t} η_k, so θ_t stays within O(η) of the flow. With a constant η it stays within O(η²)
of the flow of the modified loss L̃ = L + (η/4)‖∇L‖² (Barrett & Dherin, ICLR 2021),
dθ/ds = −(∇L + (η/2)·H∇L), whose Hessian-vector product comes from the surface's Hessian.

Both are integrated with an adaptive Runge-Kutta method (DOP853, rtol 1e-10) and read off its
dense output at the run's times. A curve is cut, with a message and the points before the cut,
when it leaves the bounds a run diverges at (|θ| > MAX_ABS_THETA, |L| > MAX_ABS_LOSS), when
the surface stops being finite, when the solver fails, or when it needs more than MAX_EVALS
evaluations of the right-hand side. When the explicit method's steps are held back by
stability rather than accuracy (the problem is stiff) it switches to Radau, an implicit method,
with the exact Jacobian −H for the plain flow (finite differences for the modified flow).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
from scipy.integrate import DOP853, Radau

from app.core.descent.stopping import MAX_ABS_LOSS, MAX_ABS_THETA, NUMERIC_ERRORS
from app.core.surfaces.surface import Array, Surface

FlowStatus: TypeAlias = Literal["complete", "diverged", "budget", "failed"]

RTOL = 1e-10
ATOL = 1e-12
MAX_EVALS = 200_000  # right-hand-side evaluations per curve (Jacobians count as one each)
MAX_SECONDS = 8.0  # wall clock per curve: a busy machine or a costly formula stops it here
# After this many evaluations the explicit method checks whether stability limits its steps.
STIFF_CHECK_EVALS = 5_000
# DOP853's stability region reaches about 6 along the negative real axis: steps with h·ρ(J)
# near it are set by stability, not accuracy.
STIFF_RATIO = 3.0


class _NotFinite(Exception):
    """The surface gave a value that is not a finite number."""


@dataclass(frozen=True)
class FlowCurve:
    """One curve at the run's times: points[k] is the curve at times[k], for the first
    len(points) times (all of them when status is "complete")."""

    points: Array  # shape (k, 2)
    status: FlowStatus
    message: str
    evaluations: int
    method: str  # "DOP853", or "DOP853 then Radau" once stiffness was detected


@dataclass(frozen=True)
class Flow:
    times: Array  # s_t, one per iterate of the run
    flow: FlowCurve  # dθ/ds = −∇L
    modified: FlowCurve | None  # dθ/ds = −∇L̃ for the constant η; None when it does not apply
    eta: float | None  # the η of the modified loss


def run_times(etas: list[float] | Array) -> Array:
    """s_t = Σ_{k<t} η_k for t = 0 … len(etas): the flow's time at each iterate."""
    return np.concatenate(([0.0], np.cumsum(np.asarray(etas, dtype=np.float64))))


def flow_distances(path: Array, curve: FlowCurve) -> Array:
    """|θ_t − curve(s_t)| for each t the curve reaches."""
    k = min(len(curve.points), len(path))
    diff = np.asarray(path, dtype=np.float64)[:k] - curve.points[:k]
    return np.asarray(np.hypot(diff[:, 0], diff[:, 1]), dtype=np.float64)


def gradient_flow(
    surface: Surface,
    theta0: tuple[float, float],
    times: Array,
    eta: float | None = None,
    *,
    max_evals: int = MAX_EVALS,
    max_seconds: float = MAX_SECONDS,
) -> Flow:
    """The gradient flow from θ₀ at the given (non-decreasing) times, and, if `eta` is given,
    the modified flow of L + (η/4)‖∇L‖²."""
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or len(times) == 0 or times[0] != 0.0 or np.any(np.diff(times) < 0):
        raise ValueError("times must start at 0 and never decrease")
    plain = _integrate(surface, theta0, times, None, max_evals, max_seconds)
    modified = None
    if eta is not None:
        modified = _integrate(surface, theta0, times, eta, max_evals, max_seconds)
    return Flow(times, plain, modified, eta)


def _rhs(surface: Surface, eta: float | None) -> Callable[[float, Array], Array]:
    """The flow's velocity; NaN where the surface is not finite, so that the solver rejects a
    trial step that overshoots into an overflow and retries a shorter one."""

    def rhs(_s: float, y: Array) -> Array:
        try:
            gx, gy = _gradient(surface, y)
            if eta is None:
                return np.array([-gx, -gy])
            hxx, hxy, hyy = _hessian(surface, y)
        except _NotFinite:
            return np.array([math.nan, math.nan])
        half = 0.5 * eta
        return np.array(
            [-(gx + half * (hxx * gx + hxy * gy)), -(gy + half * (hxy * gx + hyy * gy))]
        )

    return rhs


def _gradient(surface: Surface, y: Array) -> tuple[float, float]:
    try:
        with np.errstate(all="ignore"):
            gx, gy = surface.grad(float(y[0]), float(y[1]))
        gx, gy = float(gx), float(gy)
    except NUMERIC_ERRORS:
        raise _NotFinite from None
    if not (math.isfinite(gx) and math.isfinite(gy)):
        raise _NotFinite
    return gx, gy


def _hessian(surface: Surface, y: Array) -> tuple[float, float, float]:
    try:
        with np.errstate(all="ignore"):
            hxx, hxy, hyy = (float(h) for h in surface.hess(float(y[0]), float(y[1])))
    except NUMERIC_ERRORS:
        raise _NotFinite from None
    if not (math.isfinite(hxx) and math.isfinite(hxy) and math.isfinite(hyy)):
        raise _NotFinite
    return hxx, hxy, hyy


def _jacobian(surface: Surface) -> Callable[[float, Array], Array]:
    """−H, the plain flow's exact Jacobian."""

    def jac(_s: float, y: Array) -> Array:
        hxx, hxy, hyy = _hessian(surface, y)
        return np.array([[-hxx, -hxy], [-hxy, -hyy]])

    return jac


def _out_of_bounds(surface: Surface, points: Array) -> Array:
    """Per row of points (k, 2): has it left the bounds a run diverges at (or is L not finite)?"""
    with np.errstate(all="ignore"):
        bad = ~np.all(np.isfinite(points), axis=1) | np.any(np.abs(points) > MAX_ABS_THETA, axis=1)
        try:
            loss = np.asarray(surface.value(points[:, 0], points[:, 1]), dtype=np.float64)
        except NUMERIC_ERRORS:
            return np.ones(len(points), dtype=bool)
        return np.asarray(bad | ~np.isfinite(loss) | (np.abs(loss) > MAX_ABS_LOSS))


def _integrate(
    surface: Surface,
    theta0: tuple[float, float],
    times: Array,
    eta: float | None,
    max_evals: int,
    max_seconds: float,
) -> FlowCurve:
    name = "gradient flow" if eta is None else "modified flow"
    rhs = _rhs(surface, eta)
    y0 = np.array([float(theta0[0]), float(theta0[1])])
    end = float(times[-1])
    points: list[Array] = []
    method = "DOP853"
    used = 0  # evaluations by earlier solvers (before a switch to Radau)

    def curve(status: FlowStatus, message: str, evals: int) -> FlowCurve:
        array = np.concatenate([np.empty((0, 2)), *points])
        return FlowCurve(array, status, message, evals, method)

    def at(k: int) -> str:
        return f"at s = {times[k]:.4g} (t = {k})" if k < len(times) else ""

    if _out_of_bounds(surface, y0[None, :])[0]:
        return curve("diverged", f"The {name} cannot start: L(θ₀) is not finite", 0)
    if not np.all(np.isfinite(rhs(0.0, y0))):
        return curve("diverged", f"The {name} cannot start: ∇L(θ₀) is not finite", 1)
    if end == 0.0:
        points.append(np.repeat(y0[None, :], len(times), axis=0))
        return curve("complete", f"The {name} is integrated to s = 0.", 1)

    solver: DOP853 | Radau = DOP853(rhs, 0.0, y0, end, rtol=RTOL, atol=ATOL)
    started = time.monotonic()
    next_check = STIFF_CHECK_EVALS
    k = 0  # the next time to read off
    while k < len(times):
        evals = used + solver.nfev + getattr(solver, "njev", 0)
        if evals > max_evals:
            return curve(
                "budget",
                f"The {name} was cut {at(k)}: it needed more than {max_evals:,} evaluations of "
                "the surface (the curvature along it is very large).",
                evals,
            )
        if time.monotonic() - started > max_seconds:
            return curve(
                "budget", f"The {name} was cut {at(k)}: it took over {max_seconds:g} s.", evals
            )
        t_old = solver.t
        message = solver.step()
        if solver.status == "failed":
            # scipy's reason ("Required step size is less than spacing between numbers."): the
            # curve speeds up without bound, or the surface has a singularity there.
            reason = str(message or "the solver failed").rstrip(".")
            return curve(
                "failed",
                f"The {name} was cut {at(k)}: it speeds up without bound near s = "
                f"{solver.t:.4g}, where the solver could not follow it ({reason}).",
                evals,
            )
        finished = solver.status == "finished"
        stop = len(times) if finished else int(np.searchsorted(times, solver.t, side="right"))
        if stop > k:
            s = np.clip(times[k:stop], t_old, solver.t)
            read = np.asarray(solver.dense_output()(s), dtype=np.float64).T.reshape(-1, 2)
            bad = _out_of_bounds(surface, read)
            if bad.any():
                first = int(np.argmax(bad))
                points.append(read[:first])
                return curve(
                    "diverged",
                    f"The {name} was cut {at(k + first)}: it left the bounds a run diverges at "
                    f"(|θ| ≤ {MAX_ABS_THETA:g}, |L| ≤ {MAX_ABS_LOSS:g}).",
                    evals,
                )
            points.append(read)
            k = stop
        if isinstance(solver, DOP853) and solver.nfev >= next_check:
            next_check += STIFF_CHECK_EVALS
            if _stiff(surface, solver, eta):
                used += solver.nfev
                method = "DOP853 then Radau"
                jac = _jacobian(surface) if eta is None else None
                solver = Radau(rhs, solver.t, solver.y, end, rtol=RTOL, atol=ATOL, jac=jac)
    evals = used + solver.nfev + getattr(solver, "njev", 0)
    return curve("complete", f"The {name} is integrated to s = {end:.4g}.", evals)


def _stiff(surface: Surface, solver: DOP853, eta: float | None) -> bool:
    """Are the explicit method's steps held back by stability (h·ρ(H) near its limit)?"""
    try:
        hxx, hxy, hyy = _hessian(surface, solver.y)
    except _NotFinite:
        return False
    rho = float(np.max(np.abs(np.linalg.eigvalsh(np.array([[hxx, hxy], [hxy, hyy]])))))
    if eta is not None:
        rho += 0.5 * eta * rho * rho  # the modified flow's linear part is H + (η/2)H²
    return solver.step_size is not None and solver.step_size * rho > STIFF_RATIO
