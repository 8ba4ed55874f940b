"""Dataset surfaces through the API: every endpoint that takes a surface accepts one, the answers
agree with the core and with independent truths, and bad data get a clear 4xx."""

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient
from numpy.testing import assert_allclose

from app.core.data.datasets import BUILTINS, MAX_BYTES, MAX_ROWS, get_builtin
from app.core.data.regression import dataset_surface

OVERLAP = {"kind": "logistic", "dataset": "overlap"}


def strict_json(text: str):
    """Parse JSON, failing on NaN or Infinity (which are not JSON)."""

    def refuse(constant: str):
        raise AssertionError(f"non-JSON constant {constant} in response")

    return json.loads(text, parse_constant=refuse)


def post(client: TestClient, path: str, body: dict) -> dict:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    return strict_json(response.text)


def stream_lines(client: TestClient, body: dict) -> list[dict]:
    with client.stream("POST", "/api/descent/stream", json=body) as response:
        assert response.status_code == 200
        return [strict_json(line) for line in response.iter_lines() if line]


def test_list_datasets(client: TestClient) -> None:
    listed = strict_json(client.get("/api/datasets").text)
    assert [d["id"] for d in listed] == list(BUILTINS)
    for d in listed:
        builtin = BUILTINS[d["id"]]
        assert d["x"] == builtin.x.tolist() and d["y"] == builtin.y.tolist()
        assert d["n"] == len(d["x"]) and d["kind"] in d["kinds"]
    assert next(d for d in listed if d["id"] == "trend")["kinds"] == ["linear"]


def test_describe_a_dataset_surface(client: TestClient) -> None:
    """POST /api/surface gives the page the data, θ* and how to draw the model."""
    out = post(client, "/api/surface", {"surface": {**OVERLAP, "standardize": True}})
    d = get_builtin("overlap")
    core = dataset_surface("logistic", d.x, d.y, standardize=True)
    m = core.minima[0]
    assert out["minima"] == [{"x": m.x, "y": m.y, "value": m.value, "kind": "global"}]
    # The stationary-point search polishes θ* by Newton's method on its own: the same point to
    # the last few ulps, not bit for bit (which of the two a fresh worker computes first varies).
    (point,) = out["stationary_points"]
    assert point["kind"] == "minimum"
    assert_allclose([point["x"], point["y"]], [m.x, m.y], rtol=1e-12, atol=1e-15)
    assert out["note"] == ""
    data = out["data"]
    assert data["kind"] == "logistic" and data["dataset"] == "overlap" and data["standardized"]
    assert data["x"] == d.x.tolist() and data["optimum"] == [m.x, m.y]
    assert_allclose([data["shift"], data["scale"]], [d.x.mean(), d.x.std()])
    # The raw-x optimum describes the same model: w·(x − shift)/scale + b = w_raw·x + b_raw.
    w_raw, b_raw = data["optimum_raw"]
    u = (d.x - data["shift"]) / data["scale"]
    assert_allclose(w_raw * d.x + b_raw, m.x * u + m.y, atol=1e-12)
    # Presets carry no data and no note.
    preset = post(client, "/api/surface", {"surface": "himmelblau"})
    assert preset["data"] is None and preset["note"] == ""


def test_separable_data_report_no_finite_minimum(client: TestClient) -> None:
    out = post(client, "/api/surface", {"surface": {"kind": "logistic", "dataset": "separable"}})
    assert out["minima"] == [] and out["stationary_points"] == []
    assert out["data"]["optimum"] is None and out["data"]["optimum_raw"] is None
    assert "no finite minimum" in out["note"]
    penalised = post(
        client, "/api/surface", {"surface": {"kind": "logistic", "dataset": "separable", "l2": 0.1}}
    )
    assert len(penalised["minima"]) == 1 and penalised["note"] == ""


def test_inline_data_equal_the_builtin(client: TestClient) -> None:
    d = get_builtin("trend")
    inline = {"kind": "linear", "data": {"x": d.x.tolist(), "y": d.y.tolist()}}
    a = post(client, "/api/surface", {"surface": inline})
    b = post(client, "/api/surface", {"surface": {"kind": "linear", "dataset": "trend"}})
    assert a["minima"] == b["minima"] and a["data"]["digest"] == b["data"]["digest"]
    assert a["data"]["dataset"] is None and b["data"]["dataset"] == "trend"


def test_grid_of_a_dataset_surface(client: TestClient) -> None:
    out = post(client, "/api/grid", {"surface": OVERLAP, "n": 11})
    d = get_builtin("overlap")
    core = dataset_surface("logistic", d.x, d.y)
    for j in (0, 5, 10):
        for i in (0, 3, 10):
            assert_allclose(out["z"][j][i], core.value(out["x"][i], out["y"][j]), rtol=1e-12)


def test_gd_on_linear_converges_to_lstsq_through_the_api(client: TestClient) -> None:
    d = get_builtin("trend")
    out = post(
        client,
        "/api/descent",
        {"surface": {"kind": "linear", "dataset": "trend"}, "max_steps": 10_000, "tol": 1e-10},
    )
    assert out["status"] == "converged"
    solution = np.linalg.lstsq(np.c_[d.x, np.ones_like(d.x)], d.y, rcond=None)[0]
    assert_allclose(out["final"]["theta"], solution, atol=1e-6)
    assert out["nearest_minimum"]["distance"] < 1e-6


@pytest.mark.parametrize("batch_size", [None, 16])
def test_stream_and_descent_agree(client: TestClient, batch_size: int | None) -> None:
    body = {
        "surface": {**OVERLAP, "l2": 0.01},
        "theta0": [-1.0, 2.0],
        "max_steps": 300,
        "batch_size": batch_size,
        "seed": 7,
        "optimizer": {"name": "momentum", "eta": 0.3},
    }
    run = post(client, "/api/descent", body)
    lines = stream_lines(client, body)
    assert lines[0]["type"] == "start" and lines[0]["batch_size"] == batch_size
    steps = [line for line in lines if line["type"] == "step"]
    assert [s["theta"] for s in steps] == run["path"]
    assert [s["loss"] for s in steps] == run["loss"]
    assert lines[-1]["status"] == run["status"] and lines[-1]["message"] == run["message"]


def test_minibatch_sgd_same_seed_same_path(client: TestClient) -> None:
    def path(seed: int) -> list:
        body = {
            "surface": OVERLAP,
            "theta0": [-1.0, 2.0],
            "max_steps": 100,
            "batch_size": 8,
            "seed": seed,
            "optimizer": {"name": "gd", "eta": 0.5},
        }
        return post(client, "/api/descent", body)["path"]

    assert path(3) == path(3)
    assert path(3) != path(4)
    full = post(
        client,
        "/api/descent",
        {
            "surface": OVERLAP,
            "theta0": [-1.0, 2.0],
            "max_steps": 100,
            "optimizer": {"name": "gd", "eta": 0.5},
        },
    )
    assert full["path"] != path(3)


def test_minibatch_run_resumes_exactly(client: TestClient) -> None:
    """The batch at step t depends only on (seed, t): 60 steps, then 40 more, equal 100 steps."""
    body = {
        "surface": OVERLAP,
        "theta0": [-1.0, 2.0],
        "batch_size": 8,
        "seed": 5,
        "tol": 0,
        "optimizer": {"name": "adam", "eta": 0.1},
    }
    whole = post(client, "/api/descent", {**body, "max_steps": 100})
    first = post(client, "/api/descent", {**body, "max_steps": 60})
    rest = post(client, "/api/descent", {**body, "max_steps": 40, "resume": first["resume"]})
    assert first["path"] + rest["path"][1:] == whole["path"]


def test_batch_size_needs_a_dataset_surface(client: TestClient) -> None:
    response = client.post("/api/descent", json={"surface": "himmelblau", "batch_size": 4})
    assert response.status_code == 422
    assert "batch_size" in response.json()["message"] and "dataset" in response.json()["message"]


@pytest.mark.parametrize(
    ("surface", "expected"),
    [
        ({"kind": "logistic", "dataset": "nope"}, "surface.dataset: Input should be 'overlap'"),
        ({"kind": "logistic", "dataset": "trend"}, "does not suit logistic regression"),
        (
            {"kind": "logistic", "data": {"x": [1, 2, 3], "y": [0, 2, 1]}},
            "surface.data: y[1] = 2 is not a label",
        ),
        ({"kind": "linear", "data": {"x": [1, 2, 3], "y": [0, 1]}}, "same length"),
        ({"kind": "linear", "data": {"x": [1, 1], "y": [0, 1]}}, "Every x is 1"),
        ({"kind": "linear"}, "exactly one of `dataset`"),
        (
            {"kind": "linear", "dataset": "trend", "data": {"x": [0, 1], "y": [0, 1]}},
            "exactly one of `dataset`",
        ),
        ({"kind": "linear", "dataset": "trend", "l2": -1}, "surface.l2"),
        ({"kind": "cubic", "dataset": "trend"}, "surface.kind"),
        ({"kind": "linear", "data": {"x": [0, 1e7], "y": [0, 1]}}, "surface.data.x[1]"),
        (
            {"kind": "linear", "data": {"x": list(range(MAX_ROWS + 1)), "y": [0] * (MAX_ROWS + 1)}},
            "surface.data.x",
        ),
    ],
)
def test_bad_dataset_surfaces_are_clear_422s(
    client: TestClient, surface: dict, expected: str
) -> None:
    for path in ("/api/surface", "/api/grid", "/api/descent"):
        response = client.post(path, json={"surface": surface})
        assert response.status_code == 422, (path, response.text)
        assert expected in strict_json(response.text)["message"]


def test_nan_in_inline_data_is_a_422_not_a_500(client: TestClient) -> None:
    body = '{"surface": {"kind": "linear", "data": {"x": [0, NaN, 2], "y": [0, 1, 2]}}}'
    response = client.post(
        "/api/surface", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "surface.data.x[1]" in strict_json(response.text)["message"]


# --- CSV upload --------------------------------------------------------------------------------


def upload(client: TestClient, body: bytes, kind: str | None = None):
    params = {"kind": kind} if kind else {}
    return client.post(
        "/api/datasets", content=body, params=params, headers={"content-type": "text/csv"}
    )


def test_upload_a_csv(client: TestClient) -> None:
    response = upload(client, b"hours,passed\n0.5,0\n1.5,0\n2,1\n3.5,1\n", kind="logistic")
    assert response.status_code == 200
    out = strict_json(response.text)
    assert out["x"] == [0.5, 1.5, 2.0, 3.5] and out["y"] == [0, 0, 1, 1]
    assert out["header"] == ["hours", "passed"] and out["kinds"] == ["logistic", "linear"]
    # The answer plugs straight into a surface description.
    surface = {"kind": "logistic", "data": {"x": out["x"], "y": out["y"]}}
    described = post(client, "/api/surface", {"surface": surface})
    assert described["data"]["digest"] == out["digest"]


@pytest.mark.parametrize(
    ("body", "kind", "status", "expected"),
    [
        (b"x,y\n1,2\n2,two\n", None, 422, "row 3: y = 'two' is not a number"),
        (b"x,y\n1,0\nNaN,1\n", None, 422, "row 3: x = nan is not a finite number"),
        (b"x,y\n1,0\n2,1,3\n", None, 422, "row 3: expected 2 columns (x, y), found 3"),
        (b"x,y\n1,0\n2,1\n3,2\n", "logistic", 422, "row 4: y = 2 is not a label"),
        (
            b"x,y\n" + b"1,0\n2,1\n" * (MAX_ROWS // 2) + b"3,1\n",
            None,
            422,
            f"row {MAX_ROWS + 2}: too many rows",
        ),
        (b"1,0\n" * (MAX_BYTES // 4 + 1), None, 413, "larger than 1 MB"),
        (b"x,y\n1,\xff\n", None, 422, "not UTF-8"),
        (b"", None, 422, "no data rows"),
    ],
    ids=["text", "nan", "columns", "label-2", "too-many-rows", "too-large", "not-utf8", "empty"],
)
def test_bad_csv_gets_its_own_clear_4xx(
    client: TestClient, body: bytes, kind: str | None, status: int, expected: str
) -> None:
    response = upload(client, body, kind)
    assert response.status_code == status
    assert expected in strict_json(response.text)["message"]


def test_upload_limit_is_enforced_without_content_length(client: TestClient) -> None:
    """A chunked body (no Content-Length) is cut off at 1 MB too."""

    def chunks():
        for _ in range(MAX_BYTES // 40_000 + 2):
            yield b"1,0\n" * 10_000

    response = client.post("/api/datasets", content=chunks(), headers={"content-type": "text/csv"})
    assert response.status_code == 413


def test_dataset_surfaces_are_in_the_openapi_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "/api/datasets" in schema["paths"]
    post_op = schema["paths"]["/api/datasets"]["post"]
    assert "text/csv" in post_op["requestBody"]["content"]
    assert "DatasetSurface" in schema["components"]["schemas"]
    assert "DataFitOut" in schema["components"]["schemas"]
