"""The page's status line is the API's `message`: for runs stopped by max_steps it must give
advice that is true for the run (issue 16, items 1 and 2)."""

from __future__ import annotations

import orjson
from fastapi.testclient import TestClient


def _end_of_stream(client: TestClient, body: dict) -> dict:
    response = client.post("/api/descent/stream", json=body)
    return orjson.loads(response.content.splitlines()[-1])


def test_quadratic_just_under_the_limit_is_told_a_smaller_eta(client: TestClient) -> None:
    body = {"surface": "quadratic", "optimizer": {"name": "gd", "eta": 0.999}}
    result = client.post("/api/descent", json=body).json()
    assert result["status"] == "max_steps"
    assert "just under 2/λ = 1" in result["message"]
    assert "shrinks only by |1 − ηλ| = 0.998 per step" in result["message"]
    assert "A smaller η converges faster" in result["message"]
    assert "larger η" not in result["message"]
    assert _end_of_stream(client, body)["message"] == result["message"]
    # True advice: η = 0.5 converges, and η = 1.05 (what "a larger η" would mean) diverges.
    for eta, status in ((0.5, "converged"), (1.05, "diverged")):
        other = client.post("/api/descent", json={**body, "optimizer": {"name": "gd", "eta": eta}})
        assert other.json()["status"] == status


def test_minibatch_runs_are_told_about_noise_not_oscillation(client: TestClient) -> None:
    body = {
        "surface": {"kind": "logistic", "dataset": "overlap"},
        "batch_size": 16,
        "seed": 1,
        "optimizer": {"name": "gd", "eta": 0.5},
    }
    result = client.post("/api/descent", json=body).json()
    assert result["status"] == "max_steps"
    message = result["message"]
    assert "Minibatch noise keeps the run from settling" in message
    assert "larger batch" in message and "decaying schedule" in message
    assert "oscillating" not in message
    assert _end_of_stream(client, body)["message"] == message
    # The same run with the full gradient is not told about noise.
    full = client.post("/api/descent", json={**body, "batch_size": None}).json()
    assert "Minibatch" not in full["message"]
