"""SGD's noise cloud on a small network: H, C and Σ against independent computations, and the
predicted cloud against SGD's own, on the plane of H's two steepest directions."""

import numpy as np
import pytest
import torch
from scipy.linalg import solve_discrete_lyapunov
from scipy.optimize import minimize

from app.core.data import NoiseError, batch_factor
from app.core.networks import Architecture, NetworkLoss, forward
from app.core.networks.noise import (
    MAX_PARAMETERS,
    hessian,
    per_example_gradients,
    plane_covariance,
    predict_network_cloud,
    sgd_cloud,
    stationary_covariance,
)
from app.core.networks.slices import Plane

from .conftest import torch_net

ARCH = Architecture(1, (2,), 1, "tanh")
TEACHER = np.array([1.0, -0.7, 0.3, 0.4, 1.2, 0.8, 0.1])


@pytest.fixture(scope="module")
def minimum() -> tuple[NetworkLoss, np.ndarray]:
    """A 1-2-1 tanh network fitted to 300 noisy points of a teacher of the same shape: a
    minimum whose curvatures are all positive, found by BFGS and polished by Newton."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-2.0, 2.0, size=(300, 1))
    y = forward(ARCH, TEACHER, X).reshape(-1) + 0.3 * rng.normal(size=300)
    objective = NetworkLoss(ARCH, X, y, "mse")
    fit = minimize(
        objective.value_and_grad, TEACHER, jac=True, method="BFGS", options={"gtol": 1e-13}
    )
    theta = fit.x
    for _ in range(4):
        theta = theta - np.linalg.solve(hessian(objective, theta), objective.grad(theta))
    assert np.linalg.norm(objective.grad(theta)) < 1e-12
    return objective, theta


def test_hessian_and_per_example_gradients_equal_torch(minimum) -> None:
    objective, theta = minimum
    net = torch_net(ARCH, theta)
    params: list[torch.Tensor] = list(net.parameters())
    X = torch.from_numpy(objective.X)
    y = torch.from_numpy(np.asarray(objective.y).reshape(-1))

    def loss_of(flat: torch.Tensor, rows: slice = slice(None)) -> torch.Tensor:
        out = torch.func.functional_call(
            net, {n: p for (n, _), p in zip(net.named_parameters(), _split(flat, params))}, X[rows]
        )
        return 0.5 * torch.nn.functional.mse_loss(out.reshape(-1), y[rows])

    flat = torch.from_numpy(theta.copy())
    expected = torch.autograd.functional.hessian(loss_of, flat).numpy()
    np.testing.assert_allclose(hessian(objective, theta), expected, rtol=1e-10, atol=1e-12)
    grads = per_example_gradients(objective, theta)
    for i in (0, 17, 299):
        one = torch.func.grad(lambda f, i=i: loss_of(f, slice(i, i + 1)))(flat).numpy()
        np.testing.assert_allclose(grads[i], one, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(grads.mean(axis=0), objective.grad(theta), atol=1e-14)


def _split(flat: torch.Tensor, like: list[torch.Tensor]) -> list[torch.Tensor]:
    out, start = [], 0
    for p in like:
        out.append(flat[start : start + p.numel()].view_as(p))
        start += p.numel()
    return out


@pytest.mark.parametrize("eta_share", [0.05, 0.5, 0.95])
def test_sigma_equals_scipy_discrete_lyapunov(minimum, eta_share: float) -> None:
    objective, theta = minimum
    h = hessian(objective, theta)
    eta = eta_share * 2.0 / np.linalg.eigvalsh(h)[-1]
    cloud = predict_network_cloud(objective, theta, eta, 4, "with_replacement")
    grads = per_example_gradients(objective, theta)
    c = np.cov(grads.T, bias=True)
    a = np.eye(objective.n) - eta * h
    expected = solve_discrete_lyapunov(a, eta * eta * batch_factor(300, 4, "with_replacement") * c)
    scale = np.abs(expected).max()
    assert np.abs(cloud.predicted - expected).max() <= 1e-10 * scale
    np.testing.assert_allclose(cloud.predicted, cloud.predicted.T, atol=0)


def test_predicted_plane_cloud_matches_sgd_on_the_steepest_plane(minimum) -> None:
    """Measured over 20,000 SGD steps (second half) with replacement at η = 0.5/λ_max, the
    cloud's spread on the plane of H's two largest-curvature directions is within 15% of the
    prediction at B = 1 and B = 4, and falls about 4-fold between them. (The flat directions,
    λ ~ 1e-4, would need millions of steps to fill: the test does not look at them.)"""
    objective, theta = minimum
    values, vectors = np.linalg.eigh(hessian(objective, theta))
    eta = 0.5 / values[-1]
    plane = Plane("pca", theta, vectors[:, -1], vectors[:, -2])
    spread = {}
    for batch in (1, 4):
        cloud = predict_network_cloud(objective, theta, eta, batch, "with_replacement")
        predicted = plane_covariance(plane, cloud.predicted)
        path = sgd_cloud(objective, theta, eta, batch, "with_replacement", 20_000, seed=batch)
        coords = (path[10_000:] - theta) @ np.stack([plane.d1, plane.d2], axis=1)
        measured = coords.T @ coords / len(coords)
        ratio = np.trace(measured) / np.trace(predicted)
        assert 0.85 <= ratio <= 1.15, (batch, ratio)
        spread[batch] = np.trace(measured)
    assert 3.0 <= spread[1] / spread[4] <= 5.0


def test_plane_covariance_is_the_coordinates_covariance() -> None:
    rng = np.random.default_rng(3)
    n = 6
    root = rng.normal(size=(n, n))
    sigma = root @ root.T
    plane = Plane("random", np.zeros(n), rng.normal(size=n), rng.normal(size=n))
    samples = rng.multivariate_normal(np.zeros(n), sigma, size=200_000)
    d = np.stack([plane.d1, plane.d2], axis=1)
    coords = np.linalg.lstsq(d, samples.T, rcond=None)[0].T
    np.testing.assert_allclose(plane_covariance(plane, sigma), np.cov(coords.T), rtol=0.02)


def test_no_cloud_where_the_steps_diverge_or_the_noise_meets_no_curvature() -> None:
    noise = np.diag([1.0, 1.0])
    with pytest.raises(NoiseError, match="at or above 2/η"):
        stationary_covariance(np.diag([1.0, 30.0]), noise, 0.1, 1.0)
    with pytest.raises(NoiseError, match="≤ 0"):
        stationary_covariance(np.diag([0.0, 1.0]), noise, 0.1, 1.0)
    # A flat direction the noise does not reach is fine: nothing accumulates there.
    sigma = stationary_covariance(np.diag([0.0, 1.0]), np.diag([0.0, 1.0]), 0.1, 1.0)
    assert sigma[0, 0] == 0.0 and sigma[1, 1] == pytest.approx(0.01 / (1 - 0.81))


def test_too_many_parameters_is_refused_in_words() -> None:
    arch = Architecture(1, (128, 128), 1, "tanh")
    assert arch.n_params > MAX_PARAMETERS
    objective = NetworkLoss(arch, np.zeros((3, 1)), np.zeros(3), "mse")
    with pytest.raises(NoiseError, match="at most"):
        predict_network_cloud(objective, np.zeros(arch.n_params), 0.1, 1, "with_replacement")
