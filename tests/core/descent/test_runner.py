"""The runner against closed forms, and its stop rules."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from app.core.descent.optimizers import GD, Adam, Momentum
from app.core.descent.runner import StopRules, descend, run_to_end
from app.core.descent.summary import summarize
from app.core.surfaces.presets import get_preset


def _summary(surface, optimizer, theta0, rules):
    iterates = run_to_end(surface, optimizer, theta0, rules)
    return iterates, summarize(surface, optimizer, theta0, rules, iterates[-1], iterates[-12:])


@pytest.mark.parametrize(
    ("surface_id", "eta"),
    [("quadratic", 0.1), ("quadratic", 0.9), ("ravine", 0.035), ("ravine", 0.01)],
)
def test_gd_on_a_quadratic_equals_the_closed_form(surface_id: str, eta: float) -> None:
    """θ_t = θ* + (I − ηA)^t (θ₀ − θ*), with A the (constant) Hessian."""
    surface = get_preset(surface_id)
    (m,) = surface.minima
    theta_star = np.array([m.x, m.y])
    a = surface.hessian_matrix(0.0, 0.0)
    theta0 = np.array([-2.5, 1.7])
    iterates = run_to_end(surface, GD(eta), tuple(theta0), StopRules(max_steps=200, tol=0.0))
    assert len(iterates) == 201
    contraction = np.eye(2) - eta * a
    for it in iterates:
        expected = theta_star + np.linalg.matrix_power(contraction, it.t) @ (theta0 - theta_star)
        assert_allclose(it.theta, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("surface_id", ["quadratic", "ravine", "booth"])
def test_gd_is_stable_exactly_below_two_over_lambda(surface_id: str) -> None:
    surface = get_preset(surface_id)
    (m,) = surface.minima
    lam = surface.max_curvature(m.x, m.y)
    start = surface.default_start
    rules = StopRules(max_steps=10_000, tol=1e-8)

    _, below = _summary(surface, GD(0.95 * 2 / lam), start, rules)
    assert below.status == "converged"
    assert "minimum" in below.message

    _, above = _summary(surface, GD(1.05 * 2 / lam), start, rules)
    assert above.status == "diverged"
    assert above.message.startswith("Diverged at step")
    assert "2/λ" in above.message and "above" in above.message


def test_iterates_are_consecutive_and_the_last_carries_the_status() -> None:
    surface = get_preset("himmelblau")
    iterates = run_to_end(surface, GD(0.01), (-1.0, 1.0), StopRules(tol=1e-6))
    assert [it.t for it in iterates] == list(range(len(iterates)))
    assert all(it.status is None for it in iterates[:-1])
    last = iterates[-1]
    assert last.status == "converged" and last.grad_norm <= 1e-6
    assert all(it.grad_norm > 1e-6 for it in iterates[:-1])
    for a, b in zip(iterates, iterates[1:]):
        assert_allclose(b.theta, np.array(a.theta) - 0.01 * np.array(a.grad), rtol=1e-15)
        assert b.loss == surface.value(*b.theta)


def test_max_steps() -> None:
    iterates, summary = _summary(
        get_preset("rosenbrock"), GD(0.001), (-1.5, 2.0), StopRules(max_steps=50)
    )
    assert len(iterates) == 51 and summary.status == "max_steps" and summary.steps == 50
    assert "50 steps" in summary.message


def test_zero_steps_returns_the_start() -> None:
    iterates = run_to_end(get_preset("booth"), GD(0.01), (0.0, 0.0), StopRules(max_steps=0))
    assert len(iterates) == 1 and iterates[0].status == "max_steps"


def test_overflow_is_divergence_and_never_yields_non_finite_numbers() -> None:
    # A huge step on Rosenbrock overflows to inf within a few iterations.
    surface = get_preset("rosenbrock")
    iterates, summary = _summary(
        surface, GD(50.0), (-1.5, 2.0), StopRules(max_abs_loss=math.inf, max_abs_theta=math.inf)
    )
    assert summary.status == "diverged"
    assert "overflowed" in summary.message
    for it in iterates:
        assert all(math.isfinite(v) for v in (*it.theta, it.loss, *it.grad))


def test_unbounded_below() -> None:
    surface = get_preset("saddle")
    _, summary = _summary(surface, GD(0.1), (-1.0, 0.01), StopRules(max_steps=10_000))
    assert summary.status == "diverged" and "unbounded below" in summary.message
    assert summary.nearest_minimum is None


def test_saddle_point_is_named_when_a_run_stops_there() -> None:
    _, summary = _summary(get_preset("saddle"), GD(0.1), (-1.0, 0.0), StopRules())
    assert summary.status == "converged" and "saddle point (0, 0)" in summary.message


def test_converged_message_names_the_minimum() -> None:
    _, summary = _summary(get_preset("himmelblau"), GD(0.01), (1.0, 1.0), StopRules())
    assert summary.message.startswith("Converged in ")
    assert summary.message.endswith("to the global minimum (3, 2).")
    near = summary.nearest_minimum
    assert near is not None and (near.minimum.x, near.minimum.y) == (3.0, 2.0)
    assert near.distance < 1e-6


def test_local_minimum_is_called_local() -> None:
    _, summary = _summary(get_preset("double_well"), GD(0.05), (0.5, 1.0), StopRules())
    assert "local minimum (0.9601, 0)" in summary.message


def test_non_finite_start_is_refused() -> None:
    with pytest.raises(ValueError, match="not a finite number"):
        next(descend(get_preset("booth"), GD(0.1), (math.inf, 0.0)))


@given(
    x=st.floats(-5, 5),
    y=st.floats(-5, 5),
    eta=st.floats(1e-4, 10.0),
    name=st.sampled_from(["gd", "momentum", "adam"]),
)
def test_every_run_ends_with_a_status_and_only_finite_numbers(x, y, eta, name) -> None:
    """Whatever the start and step size, a run stops and reports only finite numbers."""
    optimizer = {"gd": GD, "momentum": Momentum, "adam": Adam}[name](eta=eta)
    iterates = run_to_end(get_preset("himmelblau"), optimizer, (x, y), StopRules(max_steps=300))
    assert iterates[-1].status in {"converged", "diverged", "max_steps"}
    assert all(math.isfinite(v) for it in iterates for v in (*it.theta, it.loss, *it.grad))


def test_stop_rules_reject_bad_values() -> None:
    with pytest.raises(ValueError, match="max_steps"):
        StopRules(max_steps=-1)
    with pytest.raises(ValueError, match="tol"):
        StopRules(tol=math.nan)
