"""The REST API: shapes, agreement between endpoints, and clear errors for bad input."""

import json
import math
from typing import get_args

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from app.api import schemas
from app.core.descent.optimizers import GD, OPTIMIZERS
from app.core.descent.runner import StopRules, Trajectory, descend, trajectory
from app.core.surfaces.presets import PRESETS, get_preset
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
    assert len(one["minima"]) == 4 and one["minima"][0] == {
        "x": 3.0,
        "y": 2.0,
        "value": 0.0,
        "kind": "global",
    }


def test_schema_surface_ids_match_the_presets() -> None:
    assert list(get_args(schemas.SurfaceId)) == list(PRESETS)


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


def test_a_single_precision_grid_is_the_double_one_rounded_to_float32(client: TestClient) -> None:
    """What the page asks for (it only draws z): each value is float32(z) exactly, in about half
    the bytes; x and y stay exact; the default is unchanged."""
    params = {"n": 60}
    double = client.get("/api/surfaces/himmelblau/grid", params=params)
    single = client.get("/api/surfaces/himmelblau/grid", params={**params, "precision": "single"})
    exact, rounded = strict_json(double.text), strict_json(single.text)
    assert rounded["x"] == exact["x"] and rounded["y"] == exact["y"]
    z = np.array(exact["z"])
    assert np.array_equal(np.float32(np.array(rounded["z"])), z.astype(np.float32))
    assert np.abs(np.array(rounded["z"]) / z - 1).max() <= 2.0**-23  # float32 rounding + its text
    assert len(single.content) < 0.6 * len(double.content)
    posted = client.post(
        "/api/grid", json={"surface": "himmelblau", "n": 60, "precision": "single"}
    ).json()
    assert posted == rounded
    bad = client.get("/api/surfaces/himmelblau/grid", params={"precision": "half"})
    assert bad.status_code == 422 and "precision" in bad.json()["message"]


@pytest.mark.parametrize(
    "params",
    [{"n": 9}, {"n": 401}, {"xmin": 2, "xmax": 1}, {"xmin": "nan"}, {"ymax": "inf"}, {"xmin": 1e7}],
)
def test_bad_grid_parameters(client: TestClient, params: dict) -> None:
    response = client.get("/api/surfaces/booth/grid", params=params)
    assert response.status_code == 422
    assert response.json()["message"]


def test_descent_shape_and_values(client: TestClient) -> None:
    body = {
        "surface": "himmelblau",
        "theta0": [-1.0, 1.0],
        "optimizer": {"name": "gd", "eta": 0.01},
        "max_steps": 1000,
        "tol": 1e-6,
    }
    result = strict_json(client.post("/api/descent", json=body).text)
    assert result["status"] == "converged"
    assert (
        result["message"]
        == f"Converged in {result['steps']} steps to the global minimum (-2.805, 3.131)."
    )
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
    body = {
        "surface": "rosenbrock",
        "optimizer": {"name": "gd", "eta": 0.0001},
        "max_steps": 10_000,
        "tol": 0,
    }
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
    below = client.post(
        "/api/descent", json={"surface": "quadratic", "optimizer": {"name": "gd", "eta": 0.95}}
    ).json()
    above = client.post(
        "/api/descent", json={"surface": "quadratic", "optimizer": {"name": "gd", "eta": 1.05}}
    ).json()
    assert below["status"] == "converged"
    assert above["status"] == "diverged" and "2/λ = 1" in above["message"]


def test_schema_defaults_match_the_core_optimizers() -> None:
    models = {
        m.model_fields["name"].annotation.__args__[0]: m  # type: ignore[union-attr]
        for m in schemas.OPTIMIZER_MODELS.values()
    }
    assert set(models) == set(OPTIMIZERS)
    for name, model in models.items():
        core = OPTIMIZERS[name]()
        for field, info in model.model_fields.items():
            if field not in ("name", "schedule", "line_search"):
                assert info.default == getattr(core, field), (name, field)


BAD_BODIES = [
    (
        {"surface": "himmelblau", "optimizer": {"name": "gd", "eta": 0}},
        "optimizer.eta",
        "greater than 0",
    ),
    ({"surface": "himmelblau", "optimizer": {"name": "gd", "eta": -1}}, "optimizer.eta", "got -1"),
    ({"surface": "himmelblau", "optimizer": {"name": "gd", "eta": 1e5}}, "optimizer.eta", "10000"),
    ({"surface": "himmelblau", "theta0": [1e7, 0]}, "theta0[0]", "less than or equal"),
    ({"surface": "himmelblau", "theta0": [1]}, "theta0", "at least 2"),
    ({"surface": "himmelblau", "max_steps": 10_001}, "max_steps", "less than or equal to 10000"),
    ({"surface": "himmelblau", "max_steps": -1}, "max_steps", "greater than or equal"),
    ({"surface": "himmelblau", "optimizer": {"name": "lbfgs"}}, "optimizer", "'lbfgs'"),
    (
        {"surface": "himmelblau", "optimizer": {"name": "adam", "beta1": 1.0}},
        "optimizer.beta1",
        "less than 1",
    ),
    (
        {"surface": "himmelblau", "optimizer": {"name": "gd", "momentum": 0.9}},
        "optimizer.momentum",
        "Extra",
    ),
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
    response = client.post(
        "/api/descent", content=b'{"surface": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["message"].startswith(
        "body: The body is not valid JSON (at character 12"
    )
    response = client.post(
        "/api/descent", content=b"\x80", headers={"content-type": "application/json"}
    )
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
                assert body.get("examples") or schema_has_example(body["schema"]), (
                    f"{method} {path}"
                )
            for p in params:
                if p["required"]:
                    assert "example" in p or "examples" in p or "examples" in p["schema"], (path, p)


def test_post_grid_and_describe_equal_their_get_forms(client: TestClient) -> None:
    got = client.get("/api/surfaces/beale/grid", params={"n": 15, "ymin": 0}).json()
    posted = client.post("/api/grid", json={"surface": "beale", "n": 15, "ymin": 0}).json()
    assert posted == got
    assert (
        client.post("/api/surface", json={"surface": "beale"}).json()
        == client.get("/api/surfaces/beale").json()
    )
    assert client.post("/api/grid", json={"surface": "beale", "n": 5000}).status_code == 422


# --- the fast path of POST /api/descent and its stream (app/api/routes/descent.py) ---------------
# A body sent as exactly `application/json` is validated from its raw bytes and a short run is
# computed on the event loop; any other content type (and any body the fast path refuses) goes
# through FastAPI's own handler. `application/json; charset=utf-8` takes FastAPI's path, so each
# body below is sent both ways and the answers must be the same bytes.

FAST = {"content-type": "application/json"}
FASTAPI = {"content-type": "application/json; charset=utf-8"}

RAW_BODIES = [
    b'{"surface": ',
    b"\x80",
    b"",
    b"[]",
    b"null",
    b'"himmelblau"',
    b'{"surface": "himmelblau", "theta0": [NaN, 1]}',
    b'{"surface": "himmelblau", "optimizer": {"name": "adam", "eps": Infinity}}',
    b'{"surface": "himmelblau", "tol": -Infinity}',
    b'{"surface": "himmelblau", "theta0": [1e400, 0]}',
    b'{"surface": "himmelblau", "max_steps": 1e2, "tol": 0}',
    b'{"surface": "himmelblau", "max_steps": 100.5}',
    b'{"surface": "himmelblau", "seed": ' + b"9" * 5000 + b"}",
    b'\xef\xbb\xbf{"surface": "himmelblau"}',
    b'{"surface": "booth", "surface": "himmelblau", "max_steps": 3}',
    b'{"surface": "himmelblau",}',
    b'{"surface": "himmelblau\\ud800"}',
    b'{"surface": {"kind": "logistic", "dataset": "overlap"}, "max_steps": 20}',
    b'{"surface": {"kind": "logistic", "dataset": "overlap"}, "batch_size": 0}',
    b'{"surface": "himmelblau", "batch_size": 4}',
    b'{"surface": "rosenbrock", "max_steps": 51}',
]
GOOD_BODIES = [
    {
        "surface": "himmelblau",
        "theta0": [-1, 1],
        "optimizer": {"name": "gd", "eta": 0.001},
        "max_steps": 500,
        "tol": 0,
    },
    {"surface": "quadratic"},
    {"surface": "rosenbrock", "optimizer": {"name": "gd", "eta": 1.5}},
    {
        "surface": "rastrigin",
        "optimizer": {"name": "rmsprop", "eta": 0.01, "centered": True},
        "max_steps": 200,
    },
    {"surface": "beale", "optimizer": {"name": "gd", "eta": 0.01, "line_search": {"c": 1e-4}}},
    {
        "surface": "ravine",
        "optimizer": {"name": "gd", "eta": 0.01, "schedule": {"name": "cosine", "t_max": 50}},
    },
    {"surface": "six_hump_camel", "optimizer": {"name": "newton", "eta": 1.0}, "max_steps": 20},
    {"surface": "saddle", "optimizer": {"name": "gd", "eta": 0.1}, "max_steps": 10_000},
    {
        "surface": {"kind": "linear", "dataset": "trend"},
        "optimizer": {"name": "gd", "eta": 0.1},
        "batch_size": 3,
        "seed": 7,
        "max_steps": 100,
    },
]


def both_ways(client: TestClient, path: str, raw: bytes):
    fast = client.post(path, content=raw, headers=FAST)
    slow = client.post(path, content=raw, headers=FASTAPI)
    return fast, slow


@pytest.mark.parametrize("path", ["/api/descent", "/api/descent/stream"])
@pytest.mark.parametrize(
    "raw",
    RAW_BODIES
    + [json.dumps(body).encode() for body, _, _ in BAD_BODIES]
    + [json.dumps(body).encode() for body in GOOD_BODIES],
)
def test_the_fast_path_answers_exactly_as_fastapi_does(client, path, raw) -> None:
    fast, slow = both_ways(client, path, raw)
    assert fast.status_code == slow.status_code
    assert fast.content == slow.content
    if path == "/api/descent" or fast.status_code != 200:
        strict_json(fast.text)  # no NaN or Infinity, even when the body held them


def test_errors_keep_their_readable_messages_through_the_fast_path(client: TestClient) -> None:
    fast, _ = both_ways(client, "/api/descent", b'{"surface": "himmelblau", "tol": NaN}')
    assert fast.status_code == 422
    assert strict_json(fast.text)["message"] == "tol: Input should be a finite number (got NaN)"
    fast, _ = both_ways(client, "/api/descent", b'{"surface": ')
    assert fast.status_code == 422
    assert fast.json()["message"].startswith("body: The body is not valid JSON (at character 12")
    fast, _ = both_ways(client, "/api/descent", b"\x80")
    assert fast.status_code == 400 and "UTF-8" in fast.json()["message"]
    no_type = client.post("/api/descent", content=b'{"surface": "booth"}')
    assert no_type.status_code == 422  # FastAPI's strict content type, as before


# JSON values of the shapes a descent body takes, with wrong types, bounds and extras mixed in.
_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["himmelblau", "booth", "gd", "adam", "newton", "momentum", "cosine"]),
)
_json = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_numbers = st.one_of(st.integers(-20, 20_000), st.floats(-1e7, 1e7), _json_scalars)
_optimizer = st.fixed_dictionaries(
    {
        "name": st.sampled_from(
            ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton", "sgd"]
        )
    },
    optional={
        "eta": _numbers,
        "momentum": _numbers,
        "beta1": _numbers,
        "eps": _numbers,
        "centered": st.booleans() | _json_scalars,
        "schedule": st.fixed_dictionaries(
            {"name": st.sampled_from(["step", "cosine", "x"])},
            optional={"gamma": _numbers, "t_max": _numbers},
        ),
        "extra": _json,
    },
)
_body = st.fixed_dictionaries(
    {},
    optional={
        "surface": st.sampled_from(["himmelblau", "rastrigin", "saddle", "nope"]) | _json,
        "theta0": st.lists(_numbers, max_size=3) | _json,
        "optimizer": _optimizer | _json,
        "max_steps": st.integers(-2, 300) | _numbers,
        "tol": _numbers,
        "seed": _numbers,
        "colour": _json,
    },
)


@settings(max_examples=150, deadline=None)
@given(body=_body)
def test_the_fast_path_agrees_with_fastapi_on_generated_bodies(client, body) -> None:
    if isinstance(body.get("max_steps"), int) and body["max_steps"] > 300:
        body["max_steps"] = 300
    raw = json.dumps(body).encode()
    fast, slow = both_ways(client, "/api/descent", raw)
    assert (fast.status_code, fast.content) == (slow.status_code, slow.content)


_valid_body = st.fixed_dictionaries(
    {"surface": st.sampled_from(list(PRESETS))},
    optional={
        "theta0": st.lists(st.floats(-3, 3) | st.integers(-3, 3), min_size=2, max_size=2),
        "optimizer": st.fixed_dictionaries(
            {
                "name": st.sampled_from(["gd", "momentum", "adam", "rmsprop"]),
                "eta": st.floats(1e-4, 1.0) | st.just(1),
            }
        ),
        "max_steps": st.integers(0, 300) | st.sampled_from([100.0, 250.0]),
        "tol": st.floats(0, 1e-3) | st.just(0),
    },
)


@settings(max_examples=60, deadline=None)
@given(body=_valid_body)
def test_the_fast_path_agrees_with_fastapi_on_valid_bodies(client, body) -> None:
    fast, slow = both_ways(client, "/api/descent", json.dumps(body).encode())
    assert (fast.status_code, fast.content) == (slow.status_code, slow.content)


def test_long_runs_leave_the_event_loop(client, monkeypatch) -> None:
    """A short run is computed inline (10,000 compiled GD steps are short); 10,000 Python GD
    steps (Rastrigin), another optimizer's or a dataset's run in the threadpool."""
    from app.api.routes import descent as route

    hops: list[str] = []

    async def counted(func, *args):
        hops.append(func.__name__)
        return func(*args)

    monkeypatch.setattr(route, "run_in_threadpool", counted)
    short = {"surface": "himmelblau", "optimizer": {"name": "gd", "eta": 0.001}, "max_steps": 500}
    assert client.post("/api/descent", json=short).status_code == 200
    compiled = {**short, "max_steps": 10_000}
    assert client.post("/api/descent", json=compiled).status_code == 200
    assert hops == []
    long = {**compiled, "surface": "rastrigin"}
    assert client.post("/api/descent", json=long).status_code == 200
    adam = {**short, "optimizer": {"name": "adam", "eta": 0.01}}
    assert client.post("/api/descent", json=adam).status_code == 200
    data = {"surface": {"kind": "logistic", "dataset": "overlap"}, "max_steps": 10}
    assert client.post("/api/descent", json=data).status_code == 200
    assert hops == ["run_descent"] * 3
    with client.stream("POST", "/api/descent/stream", json=long) as response:
        assert response.status_code == 200
    assert hops == ["run_descent"] * 3  # the stream's endpoint only computes the first iterate


def _columns(run: Trajectory) -> tuple[bytes, bytes, bytes, list[float]]:
    """A run's columns, bit for bit."""
    return run.thetas.tobytes(), run.losses.tobytes(), run.grads.tobytes(), run.etas


class _GenericGD(GD):
    """GD, but not `GD` itself: the runner takes its generic path (GD.update each step)."""


@pytest.mark.parametrize("surface_id", list(PRESETS))
@pytest.mark.parametrize("eta", [1e-3, 0.02, 0.3, 5.0])
def test_the_runners_gd_fast_path_equals_gd_update(surface_id: str, eta: float) -> None:
    surface = get_preset(surface_id)
    for theta0, tol in ((surface.default_start, 0.0), ((0.7, -1.3), 1e-6)):
        rules = StopRules(max_steps=400, tol=tol)
        fast = trajectory(surface, GD(eta), theta0, rules)
        generic = trajectory(surface, _GenericGD(eta), theta0, rules)
        assert len(fast) == len(generic)
        assert _columns(fast) == _columns(generic)
        assert (fast.status, fast.reason, fast.state) == (
            generic.status,
            generic.reason,
            generic.state,
        )
        iterates = list(descend(surface, GD(eta), theta0, rules))
        assert [fast.iterate(i) for i in range(len(fast))] == iterates


@pytest.mark.parametrize("body", GOOD_BODIES)
def test_descent_equals_the_iterates_of_descend(client: TestClient, body: dict) -> None:
    """The response, built from the run's columns, equals the one built from its iterates."""
    from app.api.convert import ResolvedRun, result_to_dict
    from app.core.descent.summary import summarize

    run = ResolvedRun(schemas.DescentRequest.model_validate(body))
    iterates = list(descend(run.surface, run.optimizer, run.theta0, run.rules, **run.options))
    summary = summarize(
        run.surface,
        run.optimizer,
        run.theta0,
        run.rules,
        iterates[-1],
        iterates[-12:],
        start_t=iterates[0].t,
        stochastic=run.step_gradient is not None,
    )
    response = client.post("/api/descent", json=body)
    assert response.content == orjson.dumps(result_to_dict(run, iterates, summary))


@pytest.mark.parametrize(
    "path", ["/api/descent", "/api/descent/stream", "/api/grid", "/api/basins"]
)
def test_a_body_sent_as_another_content_type_is_explained(client: TestClient, path: str) -> None:
    response = client.post(
        path, content=b'{"surface": "quadratic"}', headers={"content-type": "text/plain"}
    )
    assert response.status_code == 422
    assert response.json()["message"] == (
        "body: The body must be a JSON object, sent with Content-Type: application/json"
    )
