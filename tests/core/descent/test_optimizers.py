"""Optimizers against their formulas, worked out by hand for three steps."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from app.core.descent.optimizers import (
    GD,
    OPTIMIZERS,
    Adagrad,
    Adam,
    Momentum,
    Nesterov,
    Newton,
    RMSprop,
    make_optimizer,
    needs_hessian,
)

# A fixed gradient sequence, so each step can be computed by hand.
G = [(1.0, -2.0), (0.5, 1.0), (-1.0, 0.0)]
THETA = (0.3, -0.7)


def run3(optimizer, theta=THETA):
    state = optimizer.init(theta)
    steps, states = [], []
    for g in G:
        step, state = optimizer.update(g, state, theta)
        steps.append(step)
        states.append(state)
    return np.array(steps, dtype=float), states


def test_gd_is_exactly_minus_eta_times_gradient() -> None:
    steps, states = run3(GD(eta=0.1))
    assert_allclose(steps, [(-0.1, 0.2), (-0.05, -0.1), (0.1, 0.0)], rtol=0, atol=0)
    assert [s.step for s in states] == [1, 2, 3]


def test_heavy_ball_momentum() -> None:
    # v1 = g1 (torch starts the buffer at g), v_t = 0.9 v_{t-1} + g_t, step = -η v_t
    steps, states = run3(Momentum(eta=0.1, momentum=0.9))
    velocities = [(1.0, -2.0), (1.4, -0.8), (0.26, -0.72)]
    assert_allclose([s.velocity for s in states], velocities, rtol=1e-14)
    assert_allclose(steps, [(-0.1, 0.2), (-0.14, 0.08), (-0.026, 0.072)], rtol=1e-14)


def test_momentum_dampening_applies_from_the_second_step() -> None:
    steps, _ = run3(Momentum(eta=0.1, momentum=0.9, dampening=0.5))
    # v1 = g1; v2 = 0.9 v1 + 0.5 g2 = (1.15, -1.3); v3 = 0.9 v2 + 0.5 g3 = (0.535, -1.17)
    assert_allclose(steps, [(-0.1, 0.2), (-0.115, 0.13), (-0.0535, 0.117)], rtol=1e-13)


def test_nesterov() -> None:
    # direction d_t = g_t + 0.9 v_t with the heavy-ball velocities above
    steps, _ = run3(Nesterov(eta=0.1, momentum=0.9))
    assert_allclose(steps, [(-0.19, 0.38), (-0.176, -0.028), (0.0766, 0.0648)], rtol=1e-13)


def test_weight_decay_adds_lambda_theta_to_the_gradient() -> None:
    steps, _ = run3(Momentum(eta=0.1, momentum=0.0, weight_decay=0.5))
    expected = [(-0.1 * (g[0] + 0.5 * THETA[0]), -0.1 * (g[1] + 0.5 * THETA[1])) for g in G]
    assert_allclose(steps, expected, rtol=1e-14)


def test_adagrad() -> None:
    eps = 1e-10
    steps, states = run3(Adagrad(eta=0.1))
    sums = [(1.0, 4.0), (1.25, 5.0), (2.25, 5.0)]
    assert_allclose([s.sum for s in states], sums, rtol=1e-15)
    expected = [
        (-0.1 * 1.0 / (1.0 + eps), -0.1 * -2.0 / (2.0 + eps)),
        (-0.1 * 0.5 / (math.sqrt(1.25) + eps), -0.1 * 1.0 / (math.sqrt(5.0) + eps)),
        (-0.1 * -1.0 / (1.5 + eps), 0.0),
    ]
    assert_allclose(steps, expected, rtol=1e-14)


def test_adagrad_lr_decay_and_initial_accumulator() -> None:
    steps, _ = run3(Adagrad(eta=0.1, lr_decay=0.5, initial_accumulator_value=1.0, eps=0.0))
    # η_t = 0.1 / (1 + (t-1) 0.5); sums start at 1: (2, 5), (2.25, 6), (3.25, 6)
    expected = [
        (-0.1 * 1.0 / math.sqrt(2.0), -0.1 * -2.0 / math.sqrt(5.0)),
        (-0.1 / 1.5 * 0.5 / math.sqrt(2.25), -0.1 / 1.5 * 1.0 / math.sqrt(6.0)),
        (-0.1 / 2.0 * -1.0 / math.sqrt(3.25), 0.0),
    ]
    assert_allclose(steps, expected, rtol=1e-14)


def test_rmsprop() -> None:
    eps = 1e-8
    steps, states = run3(RMSprop(eta=0.1))
    squares = [(0.01, 0.04), (0.0124, 0.0496), (0.022276, 0.049104)]
    assert_allclose([s.square_avg for s in states], squares, rtol=1e-13)
    expected = [
        (-0.1 * 1.0 / (0.1 + eps), -0.1 * -2.0 / (0.2 + eps)),
        (-0.1 * 0.5 / (math.sqrt(0.0124) + eps), -0.1 * 1.0 / (math.sqrt(0.0496) + eps)),
        (-0.1 * -1.0 / (math.sqrt(0.022276) + eps), 0.0),
    ]
    assert_allclose(steps, expected, rtol=1e-12)


def test_rmsprop_centered_with_momentum() -> None:
    eps = 1e-8
    steps, _ = run3(RMSprop(eta=0.1, centered=True, momentum=0.5))
    # grad averages m_t = 0.99 m + 0.01 g: (0.01, -0.02), (0.0149, -0.0098), (0.004751, -0.009702)
    avg1 = (math.sqrt(0.01 - 0.01**2) + eps, math.sqrt(0.04 - 0.02**2) + eps)
    avg2 = (math.sqrt(0.0124 - 0.0149**2) + eps, math.sqrt(0.0496 - 0.0098**2) + eps)
    avg3 = (math.sqrt(0.022276 - 0.004751**2) + eps, math.sqrt(0.049104 - 0.009702**2) + eps)
    b1 = (1.0 / avg1[0], -2.0 / avg1[1])
    b2 = (0.5 * b1[0] + 0.5 / avg2[0], 0.5 * b1[1] + 1.0 / avg2[1])
    b3 = (0.5 * b2[0] - 1.0 / avg3[0], 0.5 * b2[1])
    assert_allclose(steps, [(-0.1 * b[0], -0.1 * b[1]) for b in (b1, b2, b3)], rtol=1e-12)


def test_adam() -> None:
    eps = 1e-8
    steps, states = run3(Adam(eta=0.1))
    m = [(0.1, -0.2), (0.14, -0.08), (0.026, -0.072)]
    v = [(0.001, 0.004), (0.001249, 0.004996), (0.002247751, 0.004991004)]
    assert_allclose([s.exp_avg for s in states], m, rtol=1e-13)
    assert_allclose([s.exp_avg_sq for s in states], v, rtol=1e-13)
    expected = [
        tuple(
            -0.1 / (1 - 0.9**t) * mi / (math.sqrt(vi) / math.sqrt(1 - 0.999**t) + eps)
            for mi, vi in zip(m[t - 1], v[t - 1])
        )
        for t in (1, 2, 3)
    ]
    assert_allclose(steps, expected, rtol=1e-12)
    # The first Adam step has length η in every coordinate: m̂/√v̂ = g/|g|.
    assert_allclose(np.abs(steps[0]), [0.1, 0.1], rtol=1e-6)


def test_amsgrad_uses_the_largest_second_moment_so_far() -> None:
    eps = 1e-8
    steps, states = run3(Adam(eta=0.1, amsgrad=True))
    # v_y falls at step 3 (0.004991004 < 0.004996): AMSGrad keeps 0.004996
    assert_allclose(states[-1].max_exp_avg_sq, (0.002247751, 0.004996), rtol=1e-13)
    expected_y = (
        -0.1 / (1 - 0.9**3) * -0.072 / (math.sqrt(0.004996) / math.sqrt(1 - 0.999**3) + eps)
    )
    assert steps[2][1] == pytest.approx(expected_y, rel=1e-12)


HESS = (3.0, 0.5, -1.0)  # an indefinite Hessian, for Newton


def _update(optimizer, grad, state, theta, hess=HESS):
    if needs_hessian(optimizer):
        return optimizer.update(grad, state, theta, None, hess)
    return optimizer.update(grad, state, theta)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_update_is_pure(name: str) -> None:
    """Same input, same output; the state passed in is never changed."""
    optimizer = make_optimizer(name, eta=0.1)
    state = optimizer.init(THETA)
    step1, new1 = _update(optimizer, G[0], state, THETA)
    step2, new2 = _update(optimizer, G[0], state, THETA)
    assert step1 == step2 and new1 == new2
    assert state == optimizer.init(THETA)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_one_optimizer_serves_scalars_and_arrays(name: str) -> None:
    """Updating a batch of parameters at once equals updating each one alone."""
    optimizer = make_optimizer(name, eta=0.05)
    rng = np.random.default_rng(0)
    thetas = rng.normal(size=(2, 5))
    grads = [rng.normal(size=(2, 5)) for _ in range(4)]
    batch_state = optimizer.init((thetas[0], thetas[1]))
    batch_steps = []
    hessians = [rng.normal(size=(3, 5)) for _ in range(4)]
    for g, h in zip(grads, hessians):
        step, batch_state = _update(
            optimizer, (g[0], g[1]), batch_state, (thetas[0], thetas[1]), tuple(h)
        )
        batch_steps.append(np.array(step))
    for k in range(5):
        state = optimizer.init((thetas[0, k], thetas[1, k]))
        for g, h, expected in zip(grads, hessians, batch_steps):
            step, state = _update(
                optimizer, (g[0, k], g[1, k]), state, (thetas[0, k], thetas[1, k]), tuple(h[:, k])
            )
            assert_allclose(step, expected[:, k], rtol=1e-15)


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        ("gd", "eta", -1.0),
        ("gd", "eta", 0.0),
        ("gd", "eta", 1e5),
        ("gd", "eta", float("nan")),
        ("momentum", "momentum", -0.5),
        ("momentum", "dampening", 2.0),
        ("nesterov", "dampening", 0.5),
        ("adagrad", "eps", -1e-3),
        ("adagrad", "lr_decay", -1.0),
        ("rmsprop", "alpha", 1.5),
        ("rmsprop", "momentum", -0.1),
        ("adam", "beta1", 1.0),
        ("adam", "beta2", -0.1),
        ("adam", "weight_decay", -1.0),
    ],
)
def test_bad_hyperparameters_are_rejected_naming_the_value(
    name: str, field: str, value: float
) -> None:
    with pytest.raises(ValueError, match=rf"Invalid {field}: {value!r}"):
        make_optimizer(name, **{field: value})


def test_unknown_optimizer_lists_the_valid_names() -> None:
    with pytest.raises(ValueError, match="adam"):
        make_optimizer("sgdx")


def test_newton_solves_a_positive_definite_system() -> None:
    """With H positive-definite the step is exactly −η H⁻¹ g."""
    hess = (4.0, 1.0, 3.0)
    step, state = Newton(eta=1.0).update((1.0, 2.0), Newton().init(THETA), THETA, None, hess)
    expected = -np.linalg.solve([[4.0, 1.0], [1.0, 3.0]], [1.0, 2.0])
    assert_allclose(np.array(step), expected, rtol=1e-15)
    assert state.damped_steps == 0


def test_newton_flips_negative_curvature() -> None:
    """H = diag(2, −4): the y-step uses |−4|, so it goes downhill (against g) instead of uphill."""
    step, state = Newton(eta=1.0).update(
        (2.0, 8.0), Newton().init(THETA), THETA, None, (2.0, 0.0, -4.0)
    )
    assert_allclose(np.array(step), (-1.0, -2.0), rtol=1e-14)
    assert state.damped_steps == 1
