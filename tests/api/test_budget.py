"""Work caps that hold (issue 15, item 2) and timeouts that are not verdicts (item 3).

Each request of the issue that ran far past the ~20 s budget gets a 422 that names the budget
and says what to reduce, or completes; a run that passes the wall-clock limit while running
stops and says so; a basin map whose client left stops instead of finishing its work. Truths:
the issue's own measurements (each refused example took 35–660 s), the field caps (the largest
request they allow on a preset must fit), and for a disconnect, whether the map was finished.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn
from fastapi.testclient import TestClient

from app.api import budget
from app.api.explore_schemas import MAX_BASIN_N, MAX_BASIN_STEPS, MAX_SWEEP_COUNT, MAX_SWEEP_STEPS
from app.api.routes import explore
from app.core.descent import BasinMap
from app.core.formulas import formula as formulas
from app.core.surfaces import PRESETS
from app.main import create_app


def _logistic_10k() -> dict[str, Any]:
    rng = np.random.default_rng(15)
    x = rng.normal(size=10_000)
    y = (x + rng.normal(size=10_000) > 0).astype(int)
    return {"kind": "logistic", "data": {"x": x.round(6).tolist(), "y": y.tolist()}}


DATA = _logistic_10k()
LINE_SEARCH = {"name": "gd", "eta": 1, "line_search": {"c": 0.9, "shrink": 0.9}}
TANH = {"expression": "sin(x)*cos(y)*tanh(x*y)", "domain": {"x": [-5, 5], "y": [-5, 5]}}

# The issue's examples of requests that ran far past the budget (seconds measured there).
OVER_BUDGET = {
    "basins, Rastrigin, line search (660 s)": (
        "/api/basins",
        {
            "surface": "rastrigin",
            "n": 256,
            "max_steps": 2000,
            "tol": 0,
            "optimizer": LINE_SEARCH,
        },
    ),
    "basins, Newton on a 13-part formula (116 s)": (
        "/api/basins",
        {"surface": TANH, "n": 256, "max_steps": 2000, "optimizer": {"name": "newton", "eta": 1}},
    ),
    "basins, 10,000 points, line search (115 s)": (
        "/api/basins",
        {
            "surface": DATA,
            "n": 8,
            "max_steps": 1500,
            "optimizer": {"name": "gd", "eta": 1, "line_search": {}},
        },
    ),
    "descent, 10,000 points, line search (35 s)": (
        "/api/descent",
        {
            "surface": DATA,
            "max_steps": 10_000,
            "tol": 0,
            "optimizer": {"name": "gd", "eta": 1, "line_search": {}},
        },
    ),
    "stream, 10,000 points, line search": (
        "/api/descent/stream",
        {
            "surface": DATA,
            "max_steps": 10_000,
            "tol": 0,
            "optimizer": {"name": "gd", "eta": 1, "line_search": {}},
        },
    ),
}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


def post(client: TestClient, path: str, body: dict[str, Any]) -> Any:
    """POST, asked again while a formula's analysis could not finish: 503 (the machine was too
    busy: "retry", as its Retry-After says) or its time limit (not a verdict: not cached)."""
    for _ in range(10):
        response = client.post(path, json=body)
        detail = response.json().get("detail") if response.status_code == 422 else None
        timed_out = isinstance(detail, list) and detail and detail[0].get("type") == "timeout"
        if response.status_code != 503 and not timed_out:
            break
    return response


# The estimates rest on evaluation costs measured on the machine the tests run on: a quick one
# put the issue's 35 s example at 10 s and its 116 s formula map at 22 s, inside the 24 s budget,
# and computed them. The refusal tests therefore run with a budget of SMALL_BUDGET s, which every
# example exceeds several times over on any machine the suite runs on; what they test is that
# work past the budget is refused before it starts, naming the budget and what to reduce.
SMALL_BUDGET = 2.0


@pytest.fixture
def small_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget, "BUDGET_SECONDS", SMALL_BUDGET)


@pytest.mark.usefixtures("small_budget")
@pytest.mark.parametrize("example", list(OVER_BUDGET))
def test_the_issues_examples_are_refused_naming_the_budget(
    client: TestClient, example: str
) -> None:
    path, body = OVER_BUDGET[example]
    response = post(client, path, body)
    assert response.status_code == 422, response.text[:300]
    message = response.json()["message"]
    assert f"budget of {SMALL_BUDGET:g} s" in message
    if path == "/api/basins":
        assert "n ≤" in message  # it says what to reduce, and to what
    else:
        assert "max_steps ≤" in message


def test_a_grid_of_400_on_10000_points_is_refused_or_completes(client: TestClient) -> None:
    response = client.post("/api/grid", json={"surface": DATA, "n": 400})
    if response.status_code == 422:
        message = response.json()["message"]
        assert f"budget of {budget.BUDGET_SECONDS:g} s" in message and "use n ≤" in message
    else:
        assert response.status_code == 200
        assert len(response.json()["z"]) == 400


@pytest.mark.usefixtures("small_budget")
def test_the_suggested_reduction_is_accepted(client: TestClient) -> None:
    """The n the 422 proposes fits the budget: asked again with it, the map is computed."""
    body = {"surface": TANH, "n": 256, "max_steps": 2000, "optimizer": {"name": "newton", "eta": 1}}
    message = post(client, "/api/basins", body).json()["message"]
    n = int(message.split("n ≤ ")[1].split()[0].rstrip(","))
    assert 8 <= n < 256
    lines = client.post("/api/basins", json={**body, "n": max(8, min(n, 24))}).text.splitlines()
    assert json.loads(lines[-1])["type"] == "result"


@pytest.mark.parametrize("surface", list(PRESETS))
def test_every_request_the_field_caps_allow_on_a_preset_fits(surface: str) -> None:
    """The field caps (n ≤ 256 and 2,000 steps for a basin map) were set so that plain GD on any
    preset takes at most ~20 s (16.6 s measured on Rastrigin): the estimate must not refuse what
    the caps were made to allow. Sweeps and single runs fit with any first-order optimizer."""
    s = PRESETS[surface]

    def params(name: str) -> Any:
        body = {"surface": surface, "optimizer": {"name": name, "eta": 0.01}}
        return explore.BasinsRequest.model_validate(body).optimizer

    basins = budget.work(params("gd"), MAX_BASIN_N**2, MAX_BASIN_STEPS, batch=True)
    assert budget.estimate_seconds(s, basins) <= budget.BUDGET_SECONDS
    for name in ("gd", "momentum", "adam"):
        sweep = budget.work(params(name), MAX_SWEEP_COUNT, MAX_SWEEP_STEPS, batch=True)
        single = budget.work(params(name), 1, 10_000, batch=False)
        assert budget.estimate_seconds(s, sweep) <= budget.BUDGET_SECONDS
        assert budget.estimate_seconds(s, single) <= budget.BUDGET_SECONDS


def test_runs_past_the_wall_clock_limit_stop_and_say_so(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(budget, "WALL_SECONDS", 0.0)
    adam = {"name": "adam", "eta": 0.001}
    run = {"surface": "rastrigin", "max_steps": 10_000, "tol": 0, "optimizer": adam}
    response = client.post("/api/descent", json=run)
    assert response.status_code == 422
    assert "stopped" in response.json()["message"] and "limit" in response.json()["message"]
    stream = [
        json.loads(line) for line in client.post("/api/descent/stream", json=run).text.splitlines()
    ]
    assert stream[-1]["type"] == "error" and "stopped" in stream[-1]["message"]
    assert all(line["type"] != "end" for line in stream)
    sweep = {"surface": "himmelblau", "max_steps": 2000, "tol": 0, "count": 50}
    response = client.post("/api/sweep", json=sweep)
    assert response.status_code == 422 and "stopped" in response.json()["message"]
    basins = {"surface": "himmelblau", "n": 64, "max_steps": 500, "tol": 0}
    lines = [json.loads(line) for line in client.post("/api/basins", json=basins).text.splitlines()]
    assert lines[-1]["type"] == "error" and "stopped" in lines[-1]["message"]
    assert all(line["type"] != "result" for line in lines)


def test_a_formula_that_timed_out_succeeds_on_the_next_idle_request(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {
        "expression": "sin(x)*cos(y) + 0.1*(x**2 + y**2)",
        "domain": {"x": [-6, 6], "y": [-6, 6]},
    }
    formulas.CACHE.clear()
    monkeypatch.setattr(formulas, "TIMEOUT", 0.001)  # as if the machine had been too busy
    timed_out = client.post("/api/expressions", json=body)
    assert timed_out.status_code == 422 and timed_out.json()["detail"][0]["type"] == "timeout"
    monkeypatch.setattr(formulas, "TIMEOUT", 1.2)
    again = client.post("/api/expressions", json=body)
    assert again.status_code == 200
    assert any(p["kind"] == "minimum" for p in again.json()["stationary_points"])


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


def test_a_basin_map_stops_when_its_client_leaves(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The map (~20 s of work, in chunks of rows) stops within a step of its client leaving; it
    used to run at least to the end of the chunk it was computing."""
    ended = threading.Event()
    outcome: dict[str, Any] = {"steps": 0}
    real = explore.basins

    def watched(*args: Any, **kwargs: Any) -> Iterator[Any]:
        check = kwargs["check"]

        def counting(t: int, running: int) -> None:
            outcome["steps"] += 1
            check(t, running)

        kwargs["check"] = counting
        try:
            for item in real(*args, **kwargs):
                if isinstance(item, BasinMap):
                    outcome["finished"] = True
                yield item
        except BaseException as exc:
            outcome["error"] = type(exc).__name__
            raise
        finally:
            ended.set()

    monkeypatch.setattr(explore, "basins", watched)
    body: dict[str, Any] = {"surface": "rastrigin", "n": 256, "max_steps": 2000, "tol": 0}
    with httpx.stream("POST", f"{server}/api/basins", json=body, timeout=60) as response:
        assert response.status_code == 200
        first = json.loads(next(response.iter_lines()))
        assert first["type"] == "progress" and first["done"] < 0.5
    assert ended.wait(timeout=60), "the basin map is still running"
    assert "finished" not in outcome
    # Stopped mid-chunk (Stopped), or closed between two chunks (GeneratorExit).
    assert outcome["error"] in ("Stopped", "GeneratorExit")
    # The first chunk made its 2,000 steps (+ 1 look at the start); the second, which was
    # computing when the client left, did not run to its end, as it used to.
    assert outcome["steps"] < 2 * (body["max_steps"] + 1)
