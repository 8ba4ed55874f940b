"""POST /api/flow (issue 19 part 2): the run of POST /api/descent beside its gradient flow and the
modified flow, checked against closed forms along a coordinate where the flow is linear."""

import json
import math
import re

import numpy as np
import pytest
from fastapi.testclient import TestClient
from numpy.testing import assert_allclose

from app.api import budget

WELL = {"surface": "double_well", "theta0": [0.5, 1.0], "tol": 0}


def strict_json(text: str):
    def refuse(constant: str):
        raise AssertionError(f"non-JSON constant {constant} in response")

    return json.loads(text, parse_constant=refuse)


def _flow(client: TestClient, body: dict) -> dict:
    response = client.post("/api/flow", json=body)
    assert response.status_code == 200, response.text
    return strict_json(response.text)


def test_the_run_is_post_descents_and_the_curves_follow_the_closed_form(client) -> None:
    """On (x² − 1)² + y² + 0.3x, y alone is linear: the flow's y is e^{−2s}, the modified flow's
    (∂L̃/∂y = 2y + (η/2)·2·2y) is e^{−2(1+η)s}; θ_t's distances are measured here."""
    eta = 0.02
    body = {**WELL, "optimizer": {"name": "gd", "eta": eta}, "max_steps": 50}
    out = _flow(client, body)
    run = client.post("/api/descent", json=body).json()
    assert out["path"] == run["path"] and out["status"] == run["status"] == "max_steps"
    times = np.array(out["times"])
    assert_allclose(times, eta * np.arange(51), rtol=1e-12)
    assert out["eta"] == eta and "O(η²)" in out["note"]
    flow, modified = np.array(out["flow"]["points"]), np.array(out["modified"]["points"])
    assert flow.shape == modified.shape == (51, 2)
    assert out["flow"]["status"] == out["modified"]["status"] == "complete"
    assert_allclose(flow[:, 1], np.exp(-2 * times), rtol=0, atol=1e-9)
    assert_allclose(modified[:, 1], np.exp(-2 * (1 + eta) * times), rtol=0, atol=1e-9)
    path = np.array(out["path"])
    for key, curve in (("flow", flow), ("modified", modified)):
        assert_allclose(out[key]["distance"], np.hypot(*(path - curve).T), rtol=1e-12, atol=1e-15)
    assert out["modified"]["distance"][-1] < out["flow"]["distance"][-1] / 10


def test_halving_eta_through_the_api_halves_and_quarters_the_gaps_at_s_1(client) -> None:
    gaps = []
    for eta, steps in ((0.02, 50), (0.01, 100)):
        out = _flow(client, {**WELL, "optimizer": {"name": "gd", "eta": eta}, "max_steps": steps})
        gaps.append((out["flow"]["distance"][-1], out["modified"]["distance"][-1]))
    assert gaps[0][0] / gaps[1][0] == pytest.approx(2.0, abs=0.2)
    assert gaps[0][1] / gaps[1][1] == pytest.approx(4.0, abs=0.5)


@pytest.mark.parametrize(
    ("optimizer", "reason"),
    [
        ({"name": "adam", "eta": 0.05}, "Adam is not plain gradient descent"),
        (
            {"name": "gd", "eta": 0.02, "schedule": {"name": "exponential", "gamma": 0.99}},
            "the step size varies",
        ),
        ({"name": "gd", "eta": 0.5, "line_search": {}}, "a line search"),
    ],
)
def test_other_optimizers_get_the_plain_flow_at_the_sum_of_their_step_sizes(
    client, optimizer, reason
) -> None:
    out = _flow(client, {**WELL, "optimizer": optimizer, "max_steps": 60})
    run = client.post("/api/descent", json={**WELL, "optimizer": optimizer, "max_steps": 60})
    etas = run.json()["eta"]
    assert_allclose(out["times"], np.concatenate(([0.0], np.cumsum(etas))), rtol=1e-12)
    assert out["modified"] is None and out["eta"] is None
    assert reason in out["note"] and "Only the gradient flow is drawn" in out["note"]
    assert len(out["flow"]["points"]) == len(out["path"])


def test_minibatch_sgd_gets_the_plain_flow_only(client) -> None:
    body = {
        "surface": {"kind": "linear", "dataset": "trend"},
        "optimizer": {"name": "gd", "eta": 0.01},
        "batch_size": 4,
        "max_steps": 100,
    }
    out = _flow(client, body)
    assert out["modified"] is None and "minibatch" in out["note"]


def test_a_formula_whose_flow_blows_up_is_cut_with_a_message_and_finite_json(client) -> None:
    """L = −x⁴ + y²: the flow's x = 1/√(1 − 8s) is infinite at s = 1/8."""
    body = {
        "surface": {"expression": "-x**4 + y**2", "domain": {"x": [-2, 2], "y": [-2, 2]}},
        "theta0": [1.0, 1.0],
        "optimizer": {"name": "gd", "eta": 0.001},
        "max_steps": 400,
        "tol": 0,
    }
    out = _flow(client, body)
    assert out["flow"]["status"] == "diverged"
    assert re.search(r"cut at s = 0\.12\d* \(t = 12\d\)", out["flow"]["message"])
    points = np.array(out["flow"]["points"])
    kept = np.array(out["times"][: len(points)])
    assert kept[-1] < 0.125 and len(out["flow"]["distance"]) == len(points)
    assert_allclose(points[:, 0], 1 / np.sqrt(1 - 8 * kept), rtol=1e-8)


def test_a_diverging_run_gets_its_flow_up_to_its_last_iterate(client) -> None:
    out = _flow(client, {"surface": "quadratic", "optimizer": {"name": "gd", "eta": 1.5}})
    assert out["status"] == "diverged"
    assert len(out["flow"]["points"]) == len(out["path"]) == len(out["times"])
    assert all(math.isfinite(d) for d in out["flow"]["distance"])


@pytest.mark.parametrize("literal", ["NaN", "Infinity"])
def test_nan_in_the_body_is_a_422_in_words(client, literal) -> None:
    raw = f'{{"surface": "himmelblau", "theta0": [{literal}, 1]}}'
    response = client.post("/api/flow", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "finite number" in strict_json(response.text)["message"]


def test_unknown_surface_and_too_many_steps_are_4xx_in_words(client) -> None:
    response = client.post("/api/flow", json={"surface": "nope"})
    assert response.status_code == 422 and "himmelblau" in response.json()["message"]
    response = client.post("/api/flow", json={"surface": "himmelblau", "max_steps": 10**7})
    assert response.status_code == 422 and "max_steps" in response.json()["message"]


def test_a_run_that_leaves_no_budget_for_its_flow_is_refused_with_what_to_reduce(
    client, monkeypatch
) -> None:
    monkeypatch.setattr(budget, "BUDGET_SECONDS", 0.25)
    body = {"surface": "himmelblau", "optimizer": {"name": "adam", "eta": 0.05}, "max_steps": 10000}
    response = client.post("/api/flow", json=body)
    assert response.status_code == 422
    message = response.json()["message"]
    assert "work budget" in message
    found = re.search(r"max_steps ≤ ([\d,]+)", message)
    assert found is not None
    steps = int(found.group(1).replace(",", ""))
    assert 0 < steps < 10000
    assert client.post("/api/flow", json={**body, "max_steps": steps}).status_code == 200


def test_documented_with_examples_that_work(client) -> None:
    op = client.get("/openapi.json").json()["paths"]["/api/flow"]["post"]
    examples = op["requestBody"]["content"]["application/json"]["examples"]
    assert len(examples) >= 3 and "422" in op["responses"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "FlowResult"
    )
    for example in examples.values():
        out = _flow(client, example["value"])
        assert out["flow"]["status"] == "complete"
