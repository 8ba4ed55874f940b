"""POST /api/networks/noise: SGD's cloud around a trained network's minimum, checked against an
independent solve (scipy's discrete Lyapunov solver on H and C at the run's final θ), its own
measurement, and its refusals in words."""

import copy

import numpy as np
import pytest
from scipy.linalg import solve_discrete_lyapunov

from app.api.network_schemas import NETWORK_NOISE_EXAMPLES
from app.core.networks import Architecture, NetworkLoss, random_plane, toy_dataset
from app.core.networks.noise import hessian, per_example_gradients

EXAMPLE = NETWORK_NOISE_EXAMPLES["chebyshev"]["value"]


@pytest.fixture(scope="module")
def answer(client) -> dict:
    response = client.post("/api/networks/noise", json=EXAMPLE)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_prediction_equals_scipys_lyapunov_solve_at_the_runs_final_theta(client, answer):
    run = client.post("/api/networks/train", json=EXAMPLE["run"]).json()
    theta = np.array(run["end"]["final"]["theta"])
    data = toy_dataset("chebyshev", 60, noise=0.5)
    objective = NetworkLoss(Architecture(1, (3,), 1, "tanh"), data.X, data.y, "mse")
    h = hessian(objective, theta)
    grads = per_example_gradients(objective, theta)
    eta = EXAMPLE["eta"]
    sigma = solve_discrete_lyapunov(
        np.eye(h.shape[0]) - eta * h, eta**2 * np.cov(grads.T, bias=True)
    )
    assert answer["trace_predicted"] == pytest.approx(np.trace(sigma), rel=1e-8)
    vectors = np.linalg.eigh(h)[1]
    plane = vectors[:, [-1, -2]]  # orthonormal: the coordinates are the dot products
    expected = plane.T @ sigma @ plane
    np.testing.assert_allclose(answer["covariance"], expected, rtol=1e-7, atol=1e-14)
    assert answer["curvatures"]["max"] == pytest.approx(np.linalg.eigvalsh(h)[-1], rel=1e-10)
    assert answer["eta_limit"] == pytest.approx(2 / np.linalg.eigvalsh(h)[-1], rel=1e-10)


def test_the_measured_cloud_is_near_the_prediction_and_drawn_as_ellipses(answer):
    measured = answer["measured"]
    assert 0.8 <= measured["trace_ratio"] <= 1.25
    # The second half (3,001 iterates), every second one sent: at most 2,000 points.
    assert len(measured["alpha"]) == len(measured["beta"]) == 1501
    kept = np.array([measured["alpha"], measured["beta"]])
    np.testing.assert_allclose(
        np.trace(kept @ kept.T) / kept.shape[1], np.trace(measured["covariance"]), rtol=0.1
    )
    inverse = np.linalg.inv(np.array(answer["covariance"]))
    for k in ("1", "2"):
        ring = np.array(answer["ellipses"][k])
        radii = np.einsum("pi,ij,pj->p", ring, inverse, ring)
        np.testing.assert_allclose(radii, float(k) ** 2, rtol=1e-9)
    assert "measured" in answer["message"] and answer["noise_scale_at_theta0"] > 0


def test_a_larger_batch_shrinks_the_predicted_cloud_by_c_b(client, answer):
    body = {**EXAMPLE, "batch_size": 4, "measure_steps": 0}
    four = client.post("/api/networks/noise", json=body).json()
    assert four["measured"] is None
    assert four["trace_predicted"] == pytest.approx(answer["trace_predicted"] / 4, rel=1e-9)
    body = {**body, "sampling": "without_replacement"}
    subset = client.post("/api/networks/noise", json=body).json()
    assert subset["factor"] == pytest.approx((60 - 4) / (4 * 59))


def test_refusals_are_in_words(client):
    unconverged = copy.deepcopy(EXAMPLE)
    unconverged["run"].update(architecture={"hidden": [2]}, optimizer={"name": "gd", "eta": 0.1})
    unconverged["run"]["data"] = {"kind": "linear", "dataset": "trend"}
    response = client.post("/api/networks/noise", json=unconverged)
    assert response.status_code == 422 and "no stationary cloud" in response.json()["message"]
    steep = {**EXAMPLE, "eta": 5.0, "measure_steps": 0}
    response = client.post("/api/networks/noise", json=steep)
    assert response.status_code == 422 and "2/η" in response.json()["message"]
    big = copy.deepcopy(EXAMPLE)
    big["run"]["architecture"] = {"hidden": [128, 128]}
    response = client.post("/api/networks/noise", json=big)
    assert response.status_code == 422 and "at most" in response.json()["message"]
    too_many = {**EXAMPLE, "batch_size": 61}
    response = client.post("/api/networks/noise", json=too_many)
    assert response.status_code == 422 and "60 points" in response.json()["message"]
    response = client.post("/api/networks/noise", json={**EXAMPLE, "eta": "NaN"})
    assert response.status_code == 422


def test_the_cloud_on_the_slice_views_planes(client):
    """On the random plane of POST /api/networks/slice (seeded alike), the predicted shadow is
    PΣPᵀ with P the plane's coordinate map and Σ scipy's; the PCA plane answers too."""
    body = {**EXAMPLE, "plane": "random", "seed": 3, "measure_steps": 0}
    answer = client.post("/api/networks/noise", json=body).json()
    run = client.post("/api/networks/train", json=EXAMPLE["run"]).json()
    theta = np.array(run["end"]["final"]["theta"])
    arch = Architecture(1, (3,), 1, "tanh")
    data = toy_dataset("chebyshev", 60, noise=0.5)
    objective = NetworkLoss(arch, data.X, data.y, "mse")
    h = hessian(objective, theta)
    c = np.cov(per_example_gradients(objective, theta).T, bias=True)
    eta = EXAMPLE["eta"]
    sigma = solve_discrete_lyapunov(np.eye(h.shape[0]) - eta * h, eta**2 * c)
    plane = random_plane(arch, theta, 3)
    d = np.stack([plane.d1, plane.d2], axis=1)
    p = np.linalg.pinv(d)
    np.testing.assert_allclose(answer["covariance"], p @ sigma @ p.T, rtol=1e-7)
    pca = client.post("/api/networks/noise", json={**body, "plane": "pca"})
    assert pca.status_code == 200 and np.all(np.linalg.eigvalsh(pca.json()["covariance"]) > 0)


def test_a_cloud_over_the_work_budget_is_refused_before_it_starts(client):
    """569 parameters on 5,000 points: the Hessian alone is ~569 full passes over the data."""
    body = copy.deepcopy(EXAMPLE)
    body["run"]["architecture"] = {"hidden": [24, 20]}
    body["run"]["data"] = {"dataset": "chebyshev", "points": 5000}
    body["run"]["max_steps"] = 10_000
    body["measure_steps"] = 20_000
    response = client.post("/api/networks/noise", json=body)
    assert response.status_code == 422
    assert "budget" in response.json()["message"] and "measure_steps" in response.json()["message"]
