"""POST /api/noise against independent truths: scipy's Lyapunov solver on H and C computed here
from the data, the path of POST /api/descent measured here, the OpenAPI schema, and errors in
words."""

import json
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from numpy.testing import assert_allclose
from scipy.linalg import solve_discrete_lyapunov

from app.api.noise_schemas import EXAMPLE
from app.core.data import get_builtin
from app.lessons import LESSONS

TREND = {"kind": "linear", "dataset": "trend", "standardize": True}


def _strict(text: str) -> Any:
    def refuse(value: str) -> None:
        raise ValueError(f"not JSON: {value}")

    return json.loads(text, parse_constant=refuse)


def _by_hand(batch: int, eta: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """θ*, H and C of standardized 'trend' from the normal equations and per-point gradients."""
    d = get_builtin("trend")
    u = (d.x - d.x.mean()) / d.x.std()
    a = np.stack([u, np.ones_like(u)], axis=1)
    theta, *_ = np.linalg.lstsq(a, d.y, rcond=None)
    grads = 2.0 * (a @ theta - d.y)[:, None] * a
    h = 2.0 * a.T @ a / u.size
    c = np.cov(grads.T, bias=True)
    sigma = solve_discrete_lyapunov(np.eye(2) - eta * h, eta**2 / batch * c)
    return theta, h, sigma


def test_prediction_is_scipys_lyapunov_on_the_data(client: TestClient) -> None:
    body = {"surface": TREND, "eta": 0.05, "batch_size": 4, "sampling": "with_replacement"}
    r = client.post("/api/noise", json=body)
    assert r.status_code == 200, r.text
    out = _strict(r.text)
    theta, h, sigma = _by_hand(4, 0.05)
    assert_allclose(out["theta_star"], theta, rtol=1e-10)
    assert_allclose(out["hessian"], h, rtol=1e-10, atol=1e-14)
    assert_allclose(out["predicted"]["sigma"], sigma, rtol=1e-9)
    assert out["predicted"]["trace"] == pytest.approx(np.trace(sigma), rel=1e-9)
    assert out["factor"] == 0.25 and out["measured"] is None
    assert out["exact"]["trace"] > out["predicted"]["trace"]
    assert out["eta_limit"] == pytest.approx(2.0 / np.linalg.eigvalsh(h)[-1], rel=1e-12)
    for e in out["predicted"]["ellipses"]:
        d = np.array(e["points"]) - theta
        quad = np.einsum("ni,ij,nj->n", d, np.linalg.inv(sigma), d)
        assert_allclose(quad, e["k"] ** 2, rtol=1e-8)
    assert out["noise_scale"]["at_optimum"] is None and "unbounded" in out["noise_scale"]["message"]


def test_measured_cloud_is_the_descent_paths_second_half(client: TestClient) -> None:
    run = {"theta0": [0.5, -1.0], "max_steps": 3000, "seed": 4}
    body = {**EXAMPLE, "sampling": "without_replacement", "run": run}
    out = _strict(client.post("/api/noise", json=body).text)
    descent = client.post(
        "/api/descent",
        json={
            "surface": EXAMPLE["surface"],
            "theta0": run["theta0"],
            "optimizer": {"name": "gd", "eta": EXAMPLE["eta"]},
            "max_steps": 3000,
            "tol": 0.0,
            "batch_size": EXAMPLE["batch_size"],
            "seed": 4,
            "sampling": "without_replacement",
        },
    ).json()
    path = np.array(descent["path"])
    tail = path[1500:] - np.array(out["theta_star"])
    assert out["measured"]["from_t"] == 1500 and out["measured"]["to_t"] == 3000
    assert_allclose(out["measured"]["path"], path[1500:], rtol=0, atol=0)
    assert_allclose(out["measured"]["sigma"], tail.T @ tail / len(tail), rtol=1e-12)
    # 1,500 correlated samples: within 25% of the prediction
    assert out["measured"]["ratio"] == pytest.approx(1.0, abs=0.25)
    # θ₀'s noise scale: tr C/|G|² from the per-point gradients at θ₀
    d = get_builtin("trend")
    u = (d.x - d.x.mean()) / d.x.std()
    a = np.stack([u, np.ones_like(u)], axis=1)
    grads = 2.0 * (a @ np.array(run["theta0"]) - d.y)[:, None] * a
    g = grads.mean(axis=0)
    expected = np.trace(np.cov(grads.T, bias=True)) / (g @ g)
    assert out["noise_scale"]["at_theta0"] == pytest.approx(expected, rel=1e-10)


def test_the_trace_falls_with_the_batch_factor(client: TestClient) -> None:
    traces = {}
    for b in (1, 4, 16):
        body = {"surface": TREND, "eta": 0.05, "batch_size": b, "sampling": "without_replacement"}
        out = client.post("/api/noise", json=body).json()
        assert out["factor"] == pytest.approx((60 - b) / (b * 59), rel=1e-12)
        traces[b] = out["predicted"]["trace"] / out["factor"]
    assert traces[1] == pytest.approx(traces[16], rel=1e-12)
    logistic = {"surface": {"kind": "logistic", "dataset": "overlap"}, "eta": 0.5, "batch_size": 8}
    out = client.post("/api/noise", json=logistic).json()
    assert out["exact"] is None and "least squares" in out["exact_note"]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"surface": "himmelblau"}, "needs a dataset surface"),
        ({"surface": {"expression": "x**2 + y**2"}}, "needs a dataset surface"),
        ({"eta": 3.0}, "Σ does not exist"),
        ({"surface": {"kind": "logistic", "dataset": "separable"}}, "no finite minimum"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 10_001}, "batch_size"),
        ({"sampling": "sometimes"}, "sampling"),
        ({"run": {"max_steps": 10_000_000}}, "max_steps"),
        ({"eta": -0.1}, "eta"),
    ],
)
def test_bad_requests_are_422_in_words(
    client: TestClient, change: dict[str, Any], words: str
) -> None:
    r = client.post("/api/noise", json={**EXAMPLE, **change})
    assert r.status_code == 422, r.text
    assert words in _strict(r.text)["message"]


def test_nan_body_is_a_422_not_a_500(client: TestClient) -> None:
    text = json.dumps(EXAMPLE).replace('"eta": 0.05', '"eta": NaN')
    r = client.post("/api/noise", content=text, headers={"content-type": "application/json"})
    assert r.status_code == 422
    _strict(r.text)


def test_documented_with_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/api/noise"]["post"]
    examples = op["requestBody"]["content"]["application/json"]["examples"]
    assert len(examples) >= 2
    for example in examples.values():
        assert client.post("/api/noise", json=example["value"]).status_code == 200
    assert "422" in op["responses"]


def test_lesson_ten_measures_what_it_predicts_and_the_noise_falls_with_b_and_eta(
    client: TestClient,
) -> None:
    """Each run's measured tr Σ is within the lesson's `noise_within` of the prediction; B = 16
    has 16 times less of it than B = 1 (within 30%), η/2 about half (Σ ≈ ηC/(2H·B) for small η:
    within 30% of 2)."""
    (ten,) = [item for item in LESSONS if item["id"] == 10]
    assert ten["views"].get("noise_cloud")
    measured = []
    for run, want in zip(ten["runs"], ten["expect"]):
        body = {
            "surface": run["surface"],
            "eta": run["optimizer"]["eta"],
            "batch_size": run["batch_size"],
            "sampling": run["sampling"],
            "run": {k: run[k] for k in ("theta0", "max_steps", "seed", "tol")},
        }
        out = client.post("/api/noise", json=body).json()
        assert out["measured"]["status"] == want["status"]
        assert out["measured"]["ratio"] == pytest.approx(1.0, abs=want["noise_within"])
        measured.append(out["measured"]["trace"])
    assert measured[0] / measured[1] == pytest.approx(16.0, rel=0.3)
    assert measured[0] / measured[2] == pytest.approx(2.0, rel=0.3)
