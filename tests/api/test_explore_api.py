"""POST /api/basins (streamed progress, then the map) and POST /api/sweep."""

import json

import pytest
from fastapi.testclient import TestClient


def _basins(client: TestClient, body: dict) -> list[dict]:
    with client.stream("POST", "/api/basins", json=body) as response:
        assert response.status_code == 200
        return [json.loads(line) for line in response.iter_lines() if line]


def test_basins_stream_progress_then_the_map(client: TestClient) -> None:
    lines = _basins(
        client, {"surface": "himmelblau", "n": 40, "optimizer": {"name": "gd", "eta": 0.01}}
    )
    progress, result = lines[:-1], lines[-1]
    assert [p["type"] for p in progress] == ["progress"] * len(progress)
    assert progress[-1]["done"] == 1.0
    assert result["type"] == "result"
    assert len(result["destination"]) == 40 and len(result["destination"][0]) == 40
    kinds = [p["kind"] for p in result["landmarks"]]
    assert kinds[:4] == ["global minimum"] * 4 and "saddle" in kinds and "maximum" in kinds
    assert {k for k in result["counts"] if int(k) >= 0} == {"0", "1", "2", "3"}
    assert sum(result["counts"].values()) == 1600


def test_sweep_marks_the_stability_limit(client: TestClient) -> None:
    body = {
        "surface": "quadratic",
        "theta0": [-2.5, 2.0],
        "eta_min": 0.1,
        "eta_max": 3.0,
        "count": 200,
        "max_steps": 5000,
    }
    result = client.post("/api/sweep", json=body).json()
    first = result["eta"][result["status"].index("diverged")]
    assert abs(first - 1.0) <= 0.02 and result["stability_limit"] == pytest.approx(1.0)
    assert len(result["final_loss"]) == len(result["steps"]) == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/basins", {"surface": "himmelblau", "n": 257}),
        ("/api/basins", {"surface": "himmelblau", "max_steps": 2001}),
        ("/api/basins", {"surface": "himmelblau", "xmin": 3, "xmax": 1}),
        ("/api/sweep", {"surface": "quadratic", "count": 201}),
        ("/api/sweep", {"surface": "quadratic", "eta_min": 2, "eta_max": 1}),
        ("/api/sweep", {"surface": "quadratic", "max_steps": 5001}),
    ],
)
def test_inputs_over_the_caps_get_a_4xx(client: TestClient, path: str, body: dict) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 422 and response.json()["message"]
