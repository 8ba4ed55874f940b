"""The network endpoints (issue 18, item 6): /api/networks/train, its stream, /slice and the
catalogue. Truths: PyTorch (θ from the end line loaded into an nn.Sequential built from the start
line's layout gives the reported loss), the core called directly (sharpness, slices), the dense
Hessian's largest eigenvalue, and the caps' own numbers."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
import torch
import uvicorn
from fastapi.testclient import TestClient

from app.api import budget
from app.api.network_schemas import NETWORK_RUN_EXAMPLES, NETWORK_SLICE_EXAMPLES
from app.api.routes import networks as routes
from app.core.descent import StopRules, make_optimizer
from app.core.networks import (
    Architecture,
    NetworkLoss,
    init_theta,
    loss_slice,
    sharpness,
    toy_dataset,
    train,
)
from app.main import create_app

torch.set_num_threads(1)  # tiny references: one thread, not a fight over the shared cores

TRAIN, STREAM, SLICE = "/api/networks/train", "/api/networks/train/stream", "/api/networks/slice"
TORCH_ACT = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "gelu": torch.nn.GELU}
MOONS: dict[str, Any] = {
    "architecture": {"hidden": [8, 8], "activation": "relu"},
    "data": {"dataset": "moons", "points": 60, "seed": 3},
    "init": {"seed": 2},
    "optimizer": {"name": "adam", "eta": 0.02},
    "max_steps": 40,
    "sharpness_every": 10,
    "theta_every": 10,
}


def lines_of(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def torch_net(start: dict[str, Any], theta: list[float]) -> torch.nn.Sequential:
    """nn.Sequential(Linear, act, …, Linear) in float64 from the start line, loaded from θ."""
    arch = start["architecture"]
    sizes = (arch["inputs"], *arch["hidden"], arch["outputs"])
    modules: list[torch.nn.Module] = []
    for i in range(len(sizes) - 1):
        modules.append(torch.nn.Linear(sizes[i], sizes[i + 1], dtype=torch.float64))
        if i < len(sizes) - 2:
            modules.append(TORCH_ACT[arch["activation"]]())
    net = torch.nn.Sequential(*modules)
    # the layout names and shapes are torch's own
    named = [(name, list(p.shape)) for name, p in net.named_parameters()]
    assert named == [(item["name"], item["shape"]) for item in start["layout"]]
    torch.nn.utils.vector_to_parameters(torch.tensor(theta, dtype=torch.float64), net.parameters())
    for item, p in zip(start["layout"], net.parameters()):  # and the offsets
        flat = theta[item["offset"] : item["offset"] + item["size"]]
        assert p.detach().flatten().tolist() == flat
    return net


def torch_loss(start: dict[str, Any], theta: list[float]) -> float:
    data = start["data"]
    X = torch.tensor(data["X"], dtype=torch.float64)
    with torch.no_grad():
        out = torch_net(start, theta)(X)
    if data["loss"] == "mse":
        target = torch.tensor(data["y"], dtype=torch.float64).reshape(out.shape)
        return float(0.5 * torch.nn.functional.mse_loss(out, target))
    labels = torch.tensor(data["y"], dtype=torch.float64).long()
    return float(torch.nn.functional.cross_entropy(out, labels))


def test_the_stream_and_the_whole_run_agree(client: TestClient) -> None:
    whole = client.post(TRAIN, json=MOONS).json()
    streamed = client.post(STREAM, json=MOONS)
    assert streamed.headers["content-type"].startswith("application/x-ndjson")
    lines = lines_of(streamed.text)
    assert [line["type"] for line in lines] == ["start"] + ["step"] * 41 + ["end"]
    assert lines[0] == whole["start"]
    assert lines[1:-1] == whole["steps"]
    assert lines[-1] == whole["end"]
    steps = whole["steps"]
    assert [s["t"] for s in steps] == list(range(41))
    assert [s["t"] for s in steps if "sharpness" in s] == [0, 10, 20, 30, 40]
    assert [s["t"] for s in steps if "theta" in s] == [0, 10, 20, 30, 40]
    assert steps[-1]["eta"] is None and all(s["eta"] == 0.02 for s in steps[:-1])
    assert whole["end"]["final"]["theta"] == steps[-1]["theta"]


@pytest.mark.parametrize(
    "data,architecture",
    [
        ({"dataset": "moons", "points": 60, "seed": 3}, {"hidden": [8, 8], "activation": "relu"}),
        ({"dataset": "chebyshev", "points": 20}, {"hidden": [6, 5, 4], "activation": "gelu"}),
        ({"kind": "logistic", "dataset": "overlap"}, {"hidden": [5], "activation": "tanh"}),
        ({"kind": "linear", "data": {"x": [0, 1, 2, 3], "y": [0.1, 0.9, 2.2, 2.8]}}, {}),
    ],
)
def test_the_final_theta_loaded_into_torch_gives_the_final_loss(
    client: TestClient, data: dict[str, Any], architecture: dict[str, Any]
) -> None:
    body = {"data": data, "architecture": architecture, "max_steps": 25, "theta_every": 5}
    result = client.post(TRAIN, json=body).json()
    start, end = result["start"], result["end"]
    assert start["n"] == sum(item["size"] for item in start["layout"]) == len(end["final"]["theta"])
    assert torch_loss(start, end["final"]["theta"]) == pytest.approx(
        end["final"]["loss"], rel=1e-12
    )
    for step in result["steps"]:  # every θ_t sent, not only the last
        if "theta" in step:
            assert torch_loss(start, step["theta"]) == pytest.approx(step["loss"], rel=1e-12)


def chebyshev_objective(points: int = 20, hidden: int = 8) -> tuple[NetworkLoss, Architecture]:
    data = toy_dataset("chebyshev", points)
    arch = Architecture(1, (hidden,), 1, "tanh")
    return NetworkLoss(arch, data.X, data.y, data.loss), arch


def test_the_sharpness_is_the_cores_and_the_dense_hessians(client: TestClient) -> None:
    body = {
        "architecture": {"hidden": [8]},
        "data": {"dataset": "chebyshev", "points": 20},
        "optimizer": {"name": "gd", "eta": 0.2},
        "max_steps": 30,
        "sharpness_every": 7,
        "sharpness_iterations": 15,
        "theta_every": 7,
    }
    steps = client.post(TRAIN, json=body).json()["steps"]
    objective, _ = chebyshev_objective()
    measured = [s for s in steps if "sharpness" in s]
    assert [s["t"] for s in measured] == [0, 7, 14, 21, 28, 30]
    for step in measured:
        theta = np.array(step["theta"])
        assert step["sharpness"] == sharpness(objective, theta, 15)
        dense = np.array([objective.hvp(theta, e) for e in np.eye(objective.n)])
        top = float(np.linalg.eigvalsh((dense + dense.T) / 2)[-1])
        assert step["sharpness"] == pytest.approx(top, rel=1e-6)


def test_the_end_line_says_what_the_sharpness_did(client: TestClient) -> None:
    body = {
        "data": {"dataset": "chebyshev"},
        "optimizer": {"name": "gd", "eta": 0.01},
        "max_steps": 20,
        "sharpness_every": 10,
    }
    end = client.post(TRAIN, json=body).json()["end"]
    assert end["sharpness"]["limit"] == pytest.approx(200.0)
    assert end["sharpness"]["reached_at"] is None and not end["sharpness"]["at_edge"]
    assert "stayed below 2/η = 200" in end["message"]
    assert end["message"].startswith("Stopped after max_steps = 20 steps")
    no_sharpness = client.post(TRAIN, json={**body, "sharpness_every": 0}).json()["end"]
    assert no_sharpness["sharpness"] is None and "sharpness" not in no_sharpness["message"]


def test_a_run_resumed_from_its_end_line_continues_the_same_path(client: TestClient) -> None:
    whole = client.post(TRAIN, json={**MOONS, "max_steps": 30, "theta_every": 0}).json()["end"]
    half = client.post(TRAIN, json={**MOONS, "max_steps": 15, "theta_every": 0}).json()["end"]
    resumed = client.post(TRAIN, json={**MOONS, "max_steps": 15, "resume": half["resume"]}).json()
    assert resumed["start"]["start_t"] == 15 and resumed["steps"][0]["t"] == 15
    assert resumed["end"]["final"]["t"] == 30
    np.testing.assert_allclose(
        resumed["end"]["final"]["theta"], whole["final"]["theta"], rtol=1e-12
    )


def test_the_slice_is_the_cores_and_the_same_run_slices_the_same(client: TestClient) -> None:
    run = {
        "architecture": {"hidden": [8]},
        "data": {"dataset": "chebyshev", "points": 20},
        "optimizer": {"name": "gd", "eta": 0.1},
        "max_steps": 60,
    }
    objective, arch = chebyshev_objective()
    records = list(
        train(
            objective,
            init_theta(arch, 0),
            make_optimizer("gd", eta=0.1),
            rules=StopRules(max_steps=60),
            theta_every=1,
        )
    )
    path = np.array([r.theta for r in records])
    for plane in ("pca", "random"):
        body = {"run": run, "plane": plane, "m": 11, "seed": 4}
        got = client.post(SLICE, json=body).json()
        assert client.post(SLICE, json=body).json() == got  # retrained: same spec, same path
        truth = loss_slice(
            objective,
            plane,
            11,
            iterates=path,
            seed=4,
            steps=[r.t for r in records],
            true_loss=[r.loss for r in records],
        )
        np.testing.assert_allclose(got["alpha"], truth.grid.alpha, rtol=1e-12)
        np.testing.assert_allclose(got["beta"], truth.grid.beta, rtol=1e-12)
        np.testing.assert_allclose(got["loss"], truth.grid.loss, rtol=1e-12)
        report = truth.faithfulness
        assert report is not None
        assert got["trajectory"]["t"] == list(range(61)) and got["every"] == 1
        np.testing.assert_allclose(got["trajectory"]["alpha"], report.projection.coords[:, 0])
        np.testing.assert_allclose(got["trajectory"]["plane_loss"], report.plane_loss, rtol=1e-12)
        np.testing.assert_allclose(got["trajectory"]["true_loss"], report.true_loss, rtol=1e-12)
        assert got["faithfulness"]["message"] == report.message
        if plane == "pca":
            assert truth.plane.explained_variance is not None
            assert got["explained_variance"] == pytest.approx(list(truth.plane.explained_variance))
        else:
            assert got["explained_variance"] is None


def test_a_slice_through_an_earlier_step_is_centred_there(client: TestClient) -> None:
    run = {"data": {"dataset": "chebyshev"}, "architecture": {"hidden": [8]}, "max_steps": 40}
    got = client.post(SLICE, json={"run": run, "plane": "pca", "m": 5, "through": 10}).json()
    assert got["through"] == 10
    i = got["trajectory"]["t"].index(10)
    assert got["trajectory"]["distance"][i] == pytest.approx(0.0, abs=1e-12)
    assert got["trajectory"]["offset"][i] == pytest.approx(0.0, abs=1e-12)


def test_a_long_path_is_kept_every_few_steps_for_the_slice(client: TestClient) -> None:
    run = {"data": {"dataset": "chebyshev"}, "architecture": {"hidden": [8]}, "max_steps": 1001}
    got = client.post(SLICE, json={"run": run, "m": 5}).json()
    assert got["every"] == 3
    assert got["trajectory"]["t"] == [*range(0, 1001, 3), 1001]


def test_a_slice_writes_null_where_the_loss_is_not_finite(client: TestClient) -> None:
    """A random plane far out (through a θ with weights near 10⁶ would overflow) is not needed:
    the JSON encoder's rule is checked on the grid it returns, whose values are all numbers or
    null, never NaN (which would not parse)."""
    run = {"data": {"dataset": "moons"}, "architecture": {"hidden": [4]}, "max_steps": 5}
    response = client.post(SLICE, json={"run": run, "plane": "random", "m": 3})
    assert b"NaN" not in response.content and b"Infinity" not in response.content
    assert all(v is None or isinstance(v, float) for row in response.json()["loss"] for v in row)


# --- caps and bad input: a 422 in words, never a 500 -----------------------------------------

CAPS = {
    "width": ({"architecture": {"hidden": [129]}}, "less than or equal to 128"),
    "layers": ({"architecture": {"hidden": [4, 4, 4, 4]}}, "at most 3 items"),
    "activation": ({"architecture": {"activation": "sigmoid"}}, "'tanh', 'relu' or 'gelu'"),
    "points": ({"data": {"dataset": "moons", "points": 5001}}, "less than or equal to 5000"),
    "steps": ({"max_steps": 10_001}, "less than or equal to 10000"),
    "lanczos": ({"sharpness_iterations": 51}, "less than or equal to 50"),
    "theta stored": (
        {
            "data": {"dataset": "spirals"},
            "architecture": {"hidden": [128, 128, 128]},
            "max_steps": 200,
            "theta_every": 1,
        },
        "use theta_every ≥ 2",
    ),
    "work": (
        {
            "data": {"dataset": "moons", "points": 5000},
            "architecture": {"hidden": [128, 128, 128]},
            "max_steps": 10_000,
        },
        "above this server's budget of 24 s per request: use max_steps ≤",
    ),
    "sharpness work": (
        {"max_steps": 10_000, "sharpness_every": 1, "sharpness_iterations": 50},
        "a larger sharpness_every or fewer sharpness_iterations",
    ),
    "theta0 length": ({"init": {"theta": [0.1, 0.2]}}, "it needs exactly 97"),
    "newton": ({"optimizer": {"name": "newton"}}, "Newton's method needs the whole Hessian"),
    "batch": ({"batch_size": 21}, "more than the data's 20 points"),
    "data source": ({"data": {"kind": "linear"}}, "give exactly one of `dataset`"),
    "labels": (
        {"data": {"kind": "logistic", "data": {"x": [0, 1, 2], "y": [0, 1, 2]}}},
        "labels 0 and 1",
    ),
    "uploaded points": (
        {"data": {"kind": "linear", "data": {"x": [0.5] * 5001, "y": [1.0] * 5001}}},
        "A network trains on at most 5,000 points; this data has 5,001",
    ),
    "unknown field": ({"epochs": 3}, "Extra inputs are not permitted"),
    "resume state": (
        {"resume": {"optimizer": "gd", "t": 3, "theta": [0.0] * 97, "state": {"x": 1}}},
        "resume.state: The saved state of gd needs exactly the fields",
    ),
}


@pytest.mark.parametrize("body,words", CAPS.values(), ids=CAPS.keys())
def test_every_cap_and_bad_input_is_a_422_in_words(
    client: TestClient, body: dict[str, Any], words: str
) -> None:
    for url in (TRAIN, STREAM):
        response = client.post(url, json=body)
        assert response.status_code == 422, response.text
        assert words in response.json()["message"], response.json()["message"]


SLICE_CAPS = {
    "m": ({"m": 102}, "less than or equal to 101"),
    "through": ({"through": 50}, "the run has no step 50 (it went from step 0 to step 10"),
    "plane": ({"plane": "svd"}, "'pca' or 'random'"),
    "run": ({"run": {"max_steps": -1}}, "run.max_steps"),
    "work": (
        {
            "run": {
                "data": {"dataset": "moons", "points": 5000},
                "architecture": {"hidden": [128, 128]},
                "max_steps": 10,
            },
            "m": 101,
        },
        "a smaller m",
    ),
}


@pytest.mark.parametrize("body,words", SLICE_CAPS.values(), ids=SLICE_CAPS.keys())
def test_every_slice_cap_is_a_422_in_words(
    client: TestClient, body: dict[str, Any], words: str
) -> None:
    full = {"run": {"data": {"dataset": "chebyshev"}, "max_steps": 10}, **body}
    response = client.post(SLICE, json=full)
    assert response.status_code == 422, response.text
    assert words in response.json()["message"], response.json()["message"]


@pytest.mark.parametrize(
    "raw",
    [
        '{"optimizer": {"name": "gd", "eta": NaN}}',
        '{"init": {"theta": [Infinity' + ", 0.1" * 96 + "]}}",
        '{"data": {"kind": "linear", "data": {"x": [0, 1, NaN], "y": [1, 2, 3]}}}',
        '{"tol": -Infinity}',
        '{"data": {"dataset": "moons", "noise": NaN}}',
    ],
)
def test_nan_and_infinity_are_refused_with_a_422(client: TestClient, raw: str) -> None:
    for url, body in ((TRAIN, raw), (STREAM, raw), (SLICE, '{"run": ' + raw + "}")):
        response = client.post(url, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 422, response.text
        message = response.json()["message"]
        assert "Input should be a finite number" in message
        assert ".toy." not in message and ".points." not in message  # the union's tag dropped


def test_a_run_past_the_wall_clock_limit_is_stopped_in_words(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(budget, "WALL_SECONDS", 0.0)
    body = {"data": {"dataset": "chebyshev"}, "max_steps": 3000}
    whole = client.post(TRAIN, json=body)
    assert whole.status_code == 422
    assert whole.json()["message"].startswith("The run was stopped: it ran past 0 s")
    lines = lines_of(client.post(STREAM, json=body).text)
    assert lines[0]["type"] == "start" and lines[-1]["type"] == "error"
    assert "ran past 0 s" in lines[-1]["message"] and len(lines) < 3000


def test_the_catalogue_describes_what_the_runs_use(client: TestClient) -> None:
    catalogue = client.get("/api/networks").json()
    assert [d["id"] for d in catalogue["datasets"]] == [
        "moons",
        "circles",
        "xor",
        "spirals",
        "chebyshev",
    ]
    assert "newton" not in catalogue["optimizers"] and "adam" in catalogue["optimizers"]
    assert catalogue["limits"]["width"] == 128 and catalogue["limits"]["parameters"] == 33_666
    for item in catalogue["datasets"]:
        start = lines_of(
            client.post(STREAM, json={"data": {"dataset": item["id"]}, "max_steps": 0}).text
        )[0]
        assert start["data"]["points"] == item["default_points"]
        assert start["data"]["loss"] == item["loss"]
        assert start["architecture"]["outputs"] == item["outputs"]


@pytest.mark.parametrize(
    "example", [*NETWORK_RUN_EXAMPLES.values(), *NETWORK_SLICE_EXAMPLES.values()]
)
def test_the_documented_examples_run(client: TestClient, example: dict[str, Any]) -> None:
    url = SLICE if "run" in example["value"] else TRAIN
    assert client.post(url, json=example["value"]).status_code == 200


# --- a client that leaves --------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[str]:
    """The app under uvicorn on a free port of 127.0.0.1 (a real connection to drop)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(), log_level="warning", lifespan="off")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    port = sock.getsockname()[1]
    for _ in range(500):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0)
            break
        except httpx.TransportError:
            threading.Event().wait(0.02)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)
    sock.close()


def test_a_stream_stops_when_its_client_leaves(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 10,000-step run (about 10 s of work) whose client reads the first lines and leaves
    stops computing: it never reaches its last step."""
    ended = threading.Event()
    outcome: dict[str, Any] = {"steps": 0}
    real = routes.train_records

    def watched(*args: Any, **kwargs: Any) -> Iterator[Any]:
        try:
            for record in real(*args, **kwargs):
                outcome["steps"] += 1
                if record.status is not None:
                    outcome["finished"] = True
                yield record
        except BaseException as exc:
            outcome["error"] = type(exc).__name__
            raise
        finally:
            ended.set()

    monkeypatch.setattr(routes, "train_records", watched)
    body = {
        "data": {"dataset": "moons", "points": 500},
        "architecture": {"hidden": [16, 16]},
        "max_steps": 10_000,
        "tol": 0,
    }
    with httpx.stream("POST", f"{server}{STREAM}", json=body, timeout=60) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        assert json.loads(next(lines))["type"] == "start"
        assert json.loads(next(lines))["t"] == 0
    assert ended.wait(timeout=60), "the run is still computing"
    assert "finished" not in outcome
    assert outcome["error"] in ("Stopped", "GeneratorExit")
    assert outcome["steps"] < 10_000
