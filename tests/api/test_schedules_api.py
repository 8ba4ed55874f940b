"""Schedules, line search, Newton and resume through the API."""

import itertools

import pytest
from fastapi.testclient import TestClient

from app.core.descent.optimizers import OPTIMIZERS

SCHEDULES = [
    None,
    {"name": "step", "step_size": 15, "gamma": 0.5},
    {"name": "exponential", "gamma": 0.98},
    {"name": "cosine", "t_max": 60, "eta_min": 1e-4},
    {"name": "inverse_sqrt", "warmup": 10},
]
ETAS = {
    "gd": 0.01,
    "momentum": 0.005,
    "nesterov": 0.005,
    "adagrad": 0.5,
    "rmsprop": 0.01,
    "adam": 0.05,
    "newton": 0.5,
}


def _optimizer(name: str, schedule: dict | None) -> dict:
    spec = {"name": name, "eta": ETAS[name]}
    if schedule:
        spec["schedule"] = schedule
    return spec


@pytest.mark.parametrize(("name", "schedule"), list(itertools.product(OPTIMIZERS, SCHEDULES)))
def test_split_and_resume_equals_the_uninterrupted_run(client: TestClient, name, schedule) -> None:
    """Through JSON: 100 steps equal 40 steps, then 60 resumed from the first response's
    `resume`."""
    body = {
        "surface": "himmelblau",
        "theta0": [-0.5, 0.3],
        "optimizer": _optimizer(name, schedule),
        "tol": 0,
    }
    whole = client.post("/api/descent", json={**body, "max_steps": 100}).json()
    first = client.post("/api/descent", json={**body, "max_steps": 40}).json()
    rest = client.post(
        "/api/descent", json={**body, "max_steps": 60, "resume": first["resume"]}
    ).json()
    assert rest["start_t"] == 40 and rest["steps"] == 60
    assert first["path"][:-1] + rest["path"] == whole["path"]
    assert first["eta"] + rest["eta"] == whole["eta"]
    assert rest["resume"] == whole["resume"]


def test_eta_list_beside_loss_and_in_the_stream(client: TestClient) -> None:
    body = {
        "surface": "ravine",
        "optimizer": {
            "name": "gd",
            "eta": 0.03,
            "schedule": {"name": "step", "step_size": 5, "gamma": 0.5},
        },
        "max_steps": 20,
        "tol": 0,
    }
    result = client.post("/api/descent", json=body).json()
    assert len(result["eta"]) == result["steps"] == 20
    assert result["eta"][:6] == [0.03] * 5 + [0.015]
    with client.stream("POST", "/api/descent/stream", json=body) as response:
        import json

        lines = [json.loads(line) for line in response.iter_lines() if line]
    steps = [line for line in lines if line["type"] == "step"]
    assert [s["eta"] for s in steps[:-1]] == result["eta"] and steps[-1]["eta"] is None
    assert lines[0]["optimizer"]["schedule"] == {"name": "step", "step_size": 5, "gamma": 0.5}
    assert lines[-1]["resume"] == result["resume"]


def test_line_search_and_newton(client: TestClient) -> None:
    searched = client.post(
        "/api/descent",
        json={
            "surface": "rosenbrock",
            "optimizer": {"name": "gd", "eta": 1.0, "line_search": {}},
            "max_steps": 50,
        },
    ).json()
    assert searched["status"] != "diverged" and max(searched["eta"]) <= 1.0
    assert all(b <= a for a, b in zip(searched["loss"], searched["loss"][1:]))
    newton = client.post(
        "/api/descent", json={"surface": "ravine", "optimizer": {"name": "newton"}}
    ).json()
    assert newton["status"] == "converged" and newton["steps"] == 1


@pytest.mark.parametrize(
    ("optimizer", "where"),
    [
        (
            {"name": "gd", "schedule": {"name": "step", "step_size": 0}},
            "optimizer.schedule.step_size",
        ),
        (
            {"name": "gd", "schedule": {"name": "exponential", "gamma": 2}},
            "optimizer.schedule.gamma",
        ),
        ({"name": "adam", "schedule": {"name": "cosine", "t_max": -3}}, "optimizer.schedule.t_max"),
        ({"name": "gd", "schedule": {"name": "warp"}}, "optimizer.schedule"),
        ({"name": "gd", "line_search": {"c": 1.5}}, "optimizer.line_search.c"),
        ({"name": "adam", "line_search": {}}, "optimizer.line_search"),
        ({"name": "newton", "min_curvature": 0}, "optimizer.min_curvature"),
    ],
)
def test_bad_schedule_parameters_get_a_422_naming_the_value(client, optimizer, where) -> None:
    response = client.post("/api/descent", json={"surface": "quadratic", "optimizer": optimizer})
    assert response.status_code == 422
    assert where in response.json()["message"]


def test_bad_resume_state_is_a_422(client: TestClient) -> None:
    bad = {"t": 3, "theta": [0, 1], "optimizer": "adam", "state": {"step": 3}}
    response = client.post("/api/descent", json={"surface": "quadratic", "resume": bad})
    assert response.status_code == 422 and "resume" in response.json()["message"]
