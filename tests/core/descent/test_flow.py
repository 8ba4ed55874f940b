"""Gradient flow beside a run (issue 19 part 2), against independent integrations and closed
forms: mpmath's Taylor-series ODE solver, a fixed-step RK4 with Richardson extrapolation written
here, the matrix exponential of a quadratic, and the blow-up of dx/ds = 4x³ in closed form."""

from collections.abc import Callable

import mpmath  # type: ignore[import-untyped]
import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.linalg import expm

from app.core.data import dataset_surface, get_builtin
from app.core.descent import (
    StopRules,
    flow_distances,
    gradient_flow,
    make_optimizer,
    run_times,
    trajectory,
)
from app.core.descent.flow import MAX_EVALS
from app.core.formulas import formula_surface
from app.core.surfaces import Domain, Surface, get_preset

Field = Callable[[np.ndarray], np.ndarray]


def _gd_run(surface: Surface, theta0: tuple[float, float], eta: float, steps: int):
    rules = StopRules(max_steps=steps, tol=0.0)
    run = trajectory(surface, make_optimizer("gd", eta=eta), theta0, rules)
    assert len(run) == steps + 1
    return run


def _rk4_richardson(f: Field, y0: np.ndarray, s_end: float, n: int) -> np.ndarray:
    """y(s_end) by classical RK4 with n and 2n steps, extrapolated: error O(h⁵) or better."""

    def rk4(steps: int) -> np.ndarray:
        h, y = s_end / steps, np.array(y0, dtype=np.float64)
        for _ in range(steps):
            k1 = f(y)
            k2 = f(y + 0.5 * h * k1)
            k3 = f(y + 0.5 * h * k2)
            k4 = f(y + h * k3)
            y = y + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        return y

    coarse, fine = rk4(n), rk4(2 * n)
    return fine + (fine - coarse) / 15.0


def _double_well_mp(eta: float | None) -> Callable[[float], list[mpmath.mpf]]:
    """The (modified) flow of (x² − 1)² + y² + 0.3x from (0.5, 1), written out by hand for
    mpmath.odefun: ∇L = (4x(x² − 1) + 0.3, 2y), H = diag(12x² − 4, 2)."""
    mpmath.mp.dps = 25
    half = mpmath.mpf(eta) / 2 if eta is not None else mpmath.mpf(0)

    def velocity(_s: mpmath.mpf, u: list[mpmath.mpf]) -> list[mpmath.mpf]:
        x, y = u
        gx, gy = 4 * x * (x**2 - 1) + mpmath.mpf("0.3"), 2 * y
        return [-(gx + half * (12 * x**2 - 4) * gx), -(gy + half * 2 * gy)]

    return mpmath.odefun(velocity, 0, [mpmath.mpf("0.5"), mpmath.mpf(1)])


@pytest.mark.parametrize("eta", [None, 0.02])
def test_flow_agrees_with_mpmath_to_1e_8(eta: float | None) -> None:
    """Plain and modified flow on the double well against mpmath's Taylor series (25 digits)."""
    surface = get_preset("double_well")
    times = run_times([0.02] * 50)  # s = 0 … 1
    flow = gradient_flow(surface, (0.5, 1.0), times, eta)
    curve = flow.flow if eta is None else flow.modified
    assert curve is not None and curve.status == "complete"
    reference = _double_well_mp(eta)
    for k in (1, 10, 25, 50):
        exact = np.array([float(v) for v in reference(mpmath.mpf(times[k]))])
        assert_allclose(curve.points[k], exact, rtol=0, atol=1e-8)


def test_halving_eta_halves_the_gap_to_the_flow_and_quarters_the_gap_to_the_modified_flow():
    """At s = 1 on the double well from (0.5, 1): |θ_t − φ(s)| = O(η) for the gradient flow φ
    and O(η²) for the flow of L + (η/4)‖∇L‖² (Barrett & Dherin 2021)."""
    surface = get_preset("double_well")
    gaps = []
    for eta, steps in ((0.02, 50), (0.01, 100)):
        run = _gd_run(surface, (0.5, 1.0), eta, steps)
        times = run_times(run.etas)
        assert times[-1] == pytest.approx(1.0)
        flow = gradient_flow(surface, (0.5, 1.0), times, eta)
        assert flow.modified is not None
        to_flow = flow_distances(run.thetas, flow.flow)
        to_modified = flow_distances(run.thetas, flow.modified)
        assert len(to_flow) == len(to_modified) == steps + 1 and to_flow[0] == 0.0
        gaps.append((to_flow[-1], to_modified[-1]))
    (flow_1, modified_1), (flow_2, modified_2) = gaps
    assert flow_1 / flow_2 == pytest.approx(2.0, abs=0.2)
    assert modified_1 / modified_2 == pytest.approx(4.0, abs=0.5)
    assert modified_2 < flow_2 / 10  # the modified flow is the much closer curve


def test_a_formula_surface_matches_an_independent_rk4():
    formula = formula_surface("sin(x)*cos(y) + 0.1*(x**2 + y**2)", Domain((-6, 6), (-6, 6)))
    eta, theta0 = 0.05, (1.0, 0.5)

    def grad(u: np.ndarray) -> np.ndarray:  # written out here, not read from the formula
        x, y = u
        return np.array([np.cos(x) * np.cos(y) + 0.2 * x, -np.sin(x) * np.sin(y) + 0.2 * y])

    def hess(u: np.ndarray) -> np.ndarray:
        x, y = u
        hxx = -np.sin(x) * np.cos(y) + 0.2
        hxy = -np.cos(x) * np.sin(y)
        hyy = -np.sin(x) * np.cos(y) + 0.2
        return np.array([[hxx, hxy], [hxy, hyy]])

    times = run_times([eta] * 40)  # s = 2
    flow = gradient_flow(formula.surface, theta0, times, eta)
    assert flow.modified is not None
    plain = _rk4_richardson(lambda u: -grad(u), np.array(theta0), 2.0, 2000)
    modified = _rk4_richardson(
        lambda u: -(grad(u) + eta / 2 * hess(u) @ grad(u)), np.array(theta0), 2.0, 2000
    )
    assert_allclose(flow.flow.points[-1], plain, rtol=0, atol=1e-8)
    assert_allclose(flow.modified.points[-1], modified, rtol=0, atol=1e-8)


def test_a_linear_regression_surface_matches_the_matrix_exponential():
    """Least squares is quadratic: φ(s) = θ* + exp(−As)(θ₀ − θ*) with A = H for the flow and
    A = H + (η/2)H² for the modified flow; H and θ* from the data (mean squared error)."""
    data = get_builtin("trend")
    surface = dataset_surface("linear", data.x, data.y)
    x, y = np.asarray(data.x), np.asarray(data.y)
    design = np.column_stack([x, np.ones_like(x)])
    h = 2.0 * design.T @ design / len(x)
    theta_star = np.linalg.lstsq(design, y, rcond=None)[0]
    eta, theta0 = 0.01, np.array([-1.0, 2.0])
    times = run_times([eta] * 300)
    flow = gradient_flow(surface, (theta0[0], theta0[1]), times, eta)
    assert flow.modified is not None
    for k in (0, 7, 150, 300):
        s = times[k]
        plain = theta_star + expm(-h * s) @ (theta0 - theta_star)
        modified = theta_star + expm(-(h + eta / 2 * h @ h) * s) @ (theta0 - theta_star)
        assert_allclose(flow.flow.points[k], plain, rtol=0, atol=1e-8)
        assert_allclose(flow.modified.points[k], modified, rtol=0, atol=1e-8)


def test_a_logistic_surface_matches_an_independent_rk4():
    data = get_builtin("overlap")
    surface = dataset_surface("logistic", data.x, data.y)
    x, y = np.asarray(data.x), np.asarray(data.y)

    def grad(u: np.ndarray) -> np.ndarray:  # mean cross-entropy of σ(wx + b), by hand
        p = 1.0 / (1.0 + np.exp(-(u[0] * x + u[1])))
        return np.array([np.mean((p - y) * x), np.mean(p - y)])

    flow = gradient_flow(surface, (-2.0, 1.0), run_times([0.5] * 20))
    reference = _rk4_richardson(lambda u: -grad(u), np.array([-2.0, 1.0]), 10.0, 1000)
    assert flow.modified is None and flow.flow.status == "complete"
    assert_allclose(flow.flow.points[-1], reference, rtol=0, atol=1e-8)


def _surface(value, grad, hess) -> Surface:
    return Surface("test", "test", "", "", value, grad, hess, Domain((-1, 1), (-1, 1)), (1, 1))


def test_a_stiff_flow_switches_to_an_implicit_method_within_the_cap():
    """L = 5·10⁵x² + y² over s ∈ [0, 10]: an explicit method would need ~10⁶ steps (its step is
    capped by 1/λ); Radau with the exact Jacobian −H follows exp(−2as) within the cap."""
    a = 5e5
    surface = _surface(
        lambda x, y: a * x * x + y * y,
        lambda x, y: (2 * a * x, 2 * y),
        lambda x, y: (2 * a + 0 * x, 0 * x, 2 + 0 * x),
    )
    times = np.linspace(0.0, 10.0, 101)
    flow = gradient_flow(surface, (1.0, 1.0), times, 1e-6)
    assert flow.modified is not None
    for curve in (flow.flow, flow.modified):
        assert curve.status == "complete" and "Radau" in curve.method
        assert curve.evaluations <= MAX_EVALS
    assert_allclose(flow.flow.points[:, 1], np.exp(-2 * times), rtol=0, atol=1e-8)
    assert_allclose(flow.flow.points[:, 0], np.exp(-2 * a * times), rtol=0, atol=1e-8)


def test_a_flow_that_blows_up_is_cut_with_a_message_and_the_curve_before_the_cut():
    """L = −x⁴ + y²: dx/ds = 4x³ from x = 1 is 1/√(1 − 8s), infinite at s = 1/8."""
    surface = _surface(
        lambda x, y: -(x**4) + y * y,
        lambda x, y: (-4 * x**3, 2 * y),
        lambda x, y: (-12 * x * x, 0 * x, 2 + 0 * x),
    )
    times = np.linspace(0.0, 1.0, 1001)
    curve = gradient_flow(surface, (1.0, 1.0), times).flow
    assert curve.status == "diverged" and "cut at s = 0.125" in curve.message
    assert curve.evaluations <= MAX_EVALS
    kept = times[: len(curve.points)]
    assert len(kept) == 125 and kept[-1] < 0.125
    assert_allclose(curve.points[:, 0], 1 / np.sqrt(1 - 8 * kept), rtol=1e-8)


def test_a_gradient_that_stops_being_finite_ends_the_curve_with_a_message():
    """L = log x + y²: dx/ds = −1/x from x = 1 is √(1 − 2s), which reaches the pole at s = 1/2."""
    surface = _surface(
        lambda x, y: np.log(x) + y * y,
        lambda x, y: (1 / x, 2 * y),
        lambda x, y: (-1 / x**2, 0 * x, 2 + 0 * x),
    )
    times = np.linspace(0.0, 1.0, 1001)
    with np.errstate(all="ignore"):
        curve = gradient_flow(surface, (1.0, 1.0), times).flow
    assert curve.status in {"failed", "diverged"} and curve.message.startswith("The gradient flow")
    assert 490 <= len(curve.points) <= 501 and curve.evaluations <= MAX_EVALS
    kept = times[: len(curve.points) - 5]
    assert_allclose(curve.points[: len(kept), 0], np.sqrt(1 - 2 * kept), rtol=1e-6)


def test_the_evaluation_cap_cuts_a_curve_with_a_message():
    surface = get_preset("rosenbrock")
    curve = gradient_flow(surface, (-1.5, 2.0), np.linspace(0, 1, 11), max_evals=500).flow
    assert curve.status == "budget" and "more than 500 evaluations" in curve.message
    assert curve.evaluations <= 500 + 20  # one step of DOP853 past the check at most
