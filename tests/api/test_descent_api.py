"""The REST API: shapes, agreement between endpoints, and clear errors for bad input."""

import json
import math

import pytest
from fastapi.testclient import TestClient

from app.api import schemas
from app.core.optimizers import OPTIMIZERS
from app.core.presets import PRESETS, get_preset
from app.main import create_app
from app.settings import Settings, get_settings


def strict_json(text: str):
    """Parse JSON, failing on NaN or Infinity (which are not JSON)."""
    def refuse(constant: str):
        raise AssertionError(f"non-JSON constant {constant} in response")
    return json.loads(text, parse_constant=refuse)


def stream_lines(client: TestClient, body: dict) -> list[dict]:
    with client.stream("POST", "/api/descent/stream", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        return [strict_json(line) for line in response.iter_lines() if line]


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_surfaces_list_and_one(client: TestClient) -> None:
    listed = client.get("/api/surfaces").json()
    assert [s["id"] for s in listed] == list(PRESETS)
    one = client.get("/api/surfaces/himmelblau").json()
    assert one == next(s for s in listed if s["id"] == "himmelblau")
    assert set(one) >= {"id", "name", "formula", "description", "domain", "minima", "default_start"}
    assert one["domain"] == {"x": [-5.0, 5.0], "y": [-5.0, 5.0]}
    assert len(one["minima"]) == 4 and one["minima"][0] == {"x": 3.0, "y": 2.0, "value": 0.0, "kind": "global"}


def test_schema_surface_ids_match_the_presets() -> None:
    assert list(schemas.SurfaceId.__args__) == list(PRESETS)


def test_unknown_surface_is_404_listing_the_ids(client: TestClient) -> None:
    response = client.get("/api/surfaces/nope")
    assert response.status_code == 404
    assert "himmelblau" in response.json()["message"] and "nope" in response.json()["message"]


def test_grid(client: TestClient) -> None:
    response = client.get("/api/surfaces/rosenbrock/grid", params={"n": 12, "xmin": -1, "xmax": 2})
    grid = strict_json(response.text)
    assert len(grid["x"]) == 12 and len(grid["y"]) == 12 and len(grid["z"]) == 12
    assert grid["x"][0] == -1 and grid["x"][-1] == 2 and grid["y"][0] == -1 and grid["y"][-1] == 3
    f = get_preset("rosenbrock").value
    for j in (0, 5, 11):
        for i in (0, 7, 11):
            assert grid["z"][j][i] == pytest.approx(f(grid["x"][i], grid["y"][j]), rel=1e-15)


@pytest.mark.parametrize(
    "params",
    [{"n": 9}, {"n": 401}, {"xmin": 2, "xmax": 1}, {"xmin": "nan"}, {"ymax": "inf"}, {"xmin": 1e7}],
)
def test_bad_grid_parameters(client: TestClient, params: dict) -> None:
    response = client.get("/api/surfaces/booth/grid", params=params)
    assert response.status_code == 422
    assert response.json()["message"]


def test_descent_shape_and_values(client: TestClient) -> None:
    body = {"surface": "himmelblau", "theta0": [-1.0, 1.0], "optimizer": {"name": "gd", "eta": 0.01},
            "max_steps": 1000, "tol": 1e-6}
    result = strict_json(client.post("/api/descent", json=body).text)
    assert result["status"] == "converged"
    assert result["message"] == f"Converged in {result['steps']} steps to the global minimum (-2.805, 3.131)."
    n = result["steps"] + 1
    assert len(result["path"]) == len(result["loss"]) == len(result["grad"]) == n
    assert result["path"][0] == [-1.0, 1.0]
    s = get_preset("himmelblau")
    for (x, y), loss, (gx, gy) in zip(result["path"], result["loss"], result["grad"]):
        assert loss == s.value(x, y) and [gx, gy] == list(s.grad(x, y))
    assert result["final"]["theta"] == result["path"][-1]
    assert result["final"]["grad_norm"] == pytest.approx(math.hypot(*result["grad"][-1]))
    assert result["final"]["grad_norm"] <= 1e-6
    near = result["nearest_minimum"]
    assert near["kind"] == "global" and near["distance"] < 1e-6


def test_only_surface_is_required(client: TestClient) -> None:
    result = client.post("/api/descent", json={"surface": "quadratic"}).json()
    s = get_preset("quadratic")
    assert result["path"][0] == list(s.default_start)
    # Default optimizer: GD with the surface's suggested step size
    (x0, y0), (x1, y1) = result["path"][:2]
    assert x1 == x0 - s.default_eta * 2 * x0 and y1 == y0 - s.default_eta * 2 * y0


@pytest.mark.parametrize(
    "body",
    [
        {"surface": "himmelblau", "theta0": [-1, 1], "optimizer": {"name": "gd", "eta": 0.01}},
        {"surface": "rosenbrock", "optimizer": {"name": "adam", "eta": 0.05}, "max_steps": 3000},
        {"surface": "quadratic", "optimizer": {"name": "gd", "eta": 1.1}},
        {"surface": "saddle", "optimizer": {"name": "momentum", "eta": 0.05}},
        {"surface": "rastrigin", "optimizer": {"name": "rmsprop", "eta": 0.01, "centered": True}},
        {"surface": "beale", "optimizer": {"name": "adagrad", "eta": 0.5}, "max_steps": 2500},
    ],
)
def test_stream_and_descent_agree_exactly(client: TestClient, body: dict) -> None:
    result = strict_json(client.post("/api/descent", json=body).text)
    lines = stream_lines(client, body)
    start, steps, end = lines[0], lines[1:-1], lines[-1]
    assert start["type"] == "start" and start["surface"] == body["surface"]
    assert start["optimizer"]["name"] == body["optimizer"]["name"]
    assert [s["type"] for s in steps] == ["step"] * len(steps)
    assert [s["t"] for s in steps] == list(range(len(steps)))
    assert [s["theta"] for s in steps] == result["path"]
    assert [s["loss"] for s in steps] == result["loss"]
    assert [s["grad"] for s in steps] == result["grad"]
    assert end["type"] == "end"
    for key in ("status", "message", "steps", "final", "nearest_minimum"):
        assert end[key] == result[key]


def test_stream_is_batched_but_starts_at_once(client: TestClient) -> None:
    body = {"surface": "rosenbrock", "optimizer": {"name": "gd", "eta": 0.0001}, "max_steps": 10_000,
            "tol": 0}
    with client.stream("POST", "/api/descent/stream", json=body) as response:
        chunks = list(response.iter_raw())
    first = chunks[0].decode().splitlines()
    assert [json.loads(line)["type"] for line in first] == ["start", "step"]
    lines = b"".join(chunks).decode().splitlines()
    assert len(lines) == 10_003
    assert len(chunks) <= 10_003 / 100


def test_divergence_reports_only_finite_numbers(client: TestClient) -> None:
    for eta in (1.5, 50.0, 1e4):
        body = {"surface": "rosenbrock", "optimizer": {"name": "gd", "eta": eta}}
        result = strict_json(client.post("/api/descent", json=body).text)
        assert result["status"] == "diverged" and "Try a smaller η" in result["message"]
        lines = stream_lines(client, body)
        assert lines[-1]["status"] == "diverged"


def test_quadratic_converges_below_and_diverges_above_two_over_lambda(client: TestClient) -> None:
    below = client.post("/api/descent", json={"surface": "quadratic", "optimizer": {"name": "gd", "eta": 0.95}}).json()
    above = client.post("/api/descent", json={"surface": "quadratic", "optimizer": {"name": "gd", "eta": 1.05}}).json()
    assert below["status"] == "converged"
    assert above["status"] == "diverged" and "2/λ = 1" in above["message"]


def test_schema_defaults_match_the_core_optimizers() -> None:
    models = {m.model_fields["name"].annotation.__args__[0]: m for m in
              (schemas.GDParams, schemas.MomentumParams, schemas.NesterovParams,
               schemas.AdagradParams, schemas.RMSpropParams, schemas.AdamParams,
               schemas.NewtonParams)}
    assert set(models) == set(OPTIMIZERS)
    for name, model in models.items():
        core = OPTIMIZERS[name]()
        for field, info in model.model_fields.items():
            if field not in ("name", "schedule", "line_search"):
                assert info.default == getattr(core, field), (name, field)


BAD_BODIES = [
    ({"surface": "himmelblau", "optimizer": {"name": "gd", "eta": 0}}, "optimizer.eta", "greater than 0"),
    ({"surface": "himmelblau", "optimizer": {"name": "gd", "eta": -1}}, "optimizer.eta", "got -1"),
    ({"surface": "himmelblau", "optimizer": {"name": "gd", "eta": 1e5}}, "optimizer.eta", "10000"),
    ({"surface": "himmelblau", "theta0": [1e7, 0]}, "theta0[0]", "less than or equal"),
    ({"surface": "himmelblau", "theta0": [1]}, "theta0", "at least 2"),
    ({"surface": "himmelblau", "max_steps": 10_001}, "max_steps", "less than or equal to 10000"),
    ({"surface": "himmelblau", "max_steps": -1}, "max_steps", "greater than or equal"),
    ({"surface": "himmelblau", "optimizer": {"name": "lbfgs"}}, "optimizer", "'lbfgs'"),
    ({"surface": "himmelblau", "optimizer": {"name": "adam", "beta1": 1.0}}, "optimizer.beta1", "less than 1"),
    ({"surface": "himmelblau", "optimizer": {"name": "gd", "momentum": 0.9}}, "optimizer.momentum", "Extra"),
    ({"surface": "himmelblau", "colour": "red"}, "colour", "Extra inputs"),
    ({"surface": "nope"}, "surface", "himmelblau"),
    ({}, "surface", "required"),
]


@pytest.mark.parametrize(("body", "where", "words"), BAD_BODIES)
@pytest.mark.parametrize("path", ["/api/descent", "/api/descent/stream"])
def test_bad_input_gets_a_422_a_person_understands(client, path, body, where, words) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 422
    message = strict_json(response.text)["message"]
    assert message.startswith(where) or f"{where} =" in message, message
    assert words in message


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("path", ["/api/descent", "/api/descent/stream"])
def test_nan_and_infinity_in_the_body_are_refused_cleanly(client, path, literal) -> None:
    for raw in (
        f'{{"surface": "himmelblau", "theta0": [{literal}, 1]}}',
        f'{{"surface": "himmelblau", "optimizer": {{"name": "adam", "eps": {literal}}}}}',
        f'{{"surface": "himmelblau", "tol": {literal}}}',
    ):
        response = client.post(path, content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 422
        assert "finite number" in strict_json(response.text)["message"]
        assert literal in response.text  # named, as a string


def test_malformed_json_is_a_422(client: TestClient) -> None:
    response = client.post("/api/descent", content=b'{"surface": ', headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["message"].startswith("body: The body is not valid JSON (at character 12")
    response = client.post("/api/descent", content=b"\x80", headers={"content-type": "application/json"})
    assert response.status_code == 400 and "UTF-8" in response.json()["message"]


def test_step_cap_comes_from_the_settings() -> None:
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: Settings(max_steps=50)
    with TestClient(app) as c:
        ok = c.post("/api/descent", json={"surface": "rosenbrock", "max_steps": 50})
        too_many = c.post("/api/descent", json={"surface": "rosenbrock", "max_steps": 51})
    assert ok.status_code == 200 and ok.json()["steps"] == 50
    assert too_many.status_code == 422 and "cap of 50" in too_many.json()["message"]


def test_settings_read_the_environment() -> None:
    s = Settings.from_env({"HOST": "0.0.0.0", "PORT": "9000", "DESCENT_MAX_STEPS": "20000"})
    assert (s.host, s.port, s.max_steps) == ("0.0.0.0", 9000, 20000)
    with pytest.raises(ValueError, match="PORT"):
        Settings.from_env({"PORT": "eighty"})


def test_openapi_has_an_example_for_every_operation(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    components = spec["components"]["schemas"]

    def schema_has_example(schema: dict) -> bool:
        if "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[-1]]
        return "examples" in schema or "example" in schema

    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            params = op.get("parameters", [])
            if body is not None:
                assert body.get("examples") or schema_has_example(body["schema"]), f"{method} {path}"
            for p in params:
                if p["required"]:
                    assert "example" in p or "examples" in p or "examples" in p["schema"], (path, p)


def test_post_grid_and_describe_equal_their_get_forms(client: TestClient) -> None:
    got = client.get("/api/surfaces/beale/grid", params={"n": 15, "ymin": 0}).json()
    posted = client.post("/api/grid", json={"surface": "beale", "n": 15, "ymin": 0}).json()
    assert posted == got
    assert client.post("/api/surface", json={"surface": "beale"}).json() == client.get(
        "/api/surfaces/beale").json()
    assert client.post("/api/grid", json={"surface": "beale", "n": 5000}).status_code == 422
