"""Issue 16 item 4: a surface's description names θ's coordinates, so the page can label every
axis, input and export with them: w and b for a model on data, x and y otherwise."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_a_model_on_data_names_its_parameters_w_and_b(client: TestClient) -> None:
    for kind, dataset in (("logistic", "overlap"), ("linear", "trend")):
        r = client.post("/api/surface", json={"surface": {"kind": kind, "dataset": dataset}})
        assert r.status_code == 200, r.text
        assert r.json()["parameters"] == ["w", "b"]


def test_a_preset_and_a_formula_name_theirs_x_and_y(client: TestClient) -> None:
    assert client.get("/api/surfaces/himmelblau").json()["parameters"] == ["x", "y"]
    formula = {"expression": "x**2 + y**2", "domain": {"x": [-1, 1], "y": [-1, 1]}}
    r = client.post("/api/surface", json={"surface": formula})
    assert r.status_code == 200, r.text
    assert r.json()["parameters"] == ["x", "y"]
