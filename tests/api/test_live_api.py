"""WebSocket /api/descent/live answers as POST /api/descent does, newest setting last."""

from typing import Any

import numpy as np
import orjson
from fastapi.testclient import TestClient

from app.api.json import dumps
from app.api.routes.live import pack
from app.main import create_app
from app.settings import Settings, get_settings

URL = "/api/descent/live"


def _http(client: TestClient, body: dict[str, Any]) -> tuple[int, Any]:
    r = client.post("/api/descent", json=body)
    return r.status_code, r.json()


def test_answers_are_post_descent_answers(client: TestClient) -> None:
    bodies: list[dict[str, Any]] = [
        {"surface": "himmelblau", "theta0": [-1, 1]},
        {"surface": "rosenbrock", "theta0": [-1.5, 2], "optimizer": {"name": "adam", "eta": 0.05}},
        {"surface": "rastrigin", "theta0": [2.2, -1.1], "max_steps": 300},
    ]
    with client.websocket_connect(URL) as ws:
        for i, body in enumerate(bodies):
            ws.send_text(orjson.dumps({"id": i, "request": body}).decode())
            reply = orjson.loads(ws.receive_text())
            status, expected = _http(client, body)
            assert status == 200
            assert reply == {"id": i, "result": expected}


def test_bad_settings_get_the_http_error_and_the_socket_stays_open(client: TestClient) -> None:
    bad: list[dict[str, Any]] = [
        {"surface": "himmelblau", "theta0": [0, "x"]},
        {"surface": "nowhere"},
        {"surface": "himmelblau", "optimizer": {"name": "gd", "eta": -1}},
        {"surface": "himmelblau", "max_steps": 10**9},
    ]
    with client.websocket_connect(URL) as ws:
        for i, body in enumerate(bad):
            ws.send_text(orjson.dumps({"id": i, "request": body}).decode())
            reply = orjson.loads(ws.receive_text())
            status, expected = _http(client, body)
            assert 400 <= status < 500
            assert reply == {"id": i, "status": status, "error": expected}
        ws.send_text('{"id": 9, "request": {"surface": "himmelblau"}}')
        assert orjson.loads(ws.receive_text())["result"]["status"] == "converged"


def test_unreadable_messages_are_refused_in_words(client: TestClient) -> None:
    with client.websocket_connect(URL) as ws:
        ws.send_text("{not json")
        reply = orjson.loads(ws.receive_text())
        assert reply["id"] is None and reply["status"] == 422
        assert "not valid JSON" in reply["error"]["message"]
        ws.send_text('{"id": 3}')
        reply = orjson.loads(ws.receive_text())
        assert reply["id"] == 3 and reply["status"] == 422
        assert "request" in reply["error"]["message"]


def test_a_message_over_the_body_limit_is_refused() -> None:
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: Settings(max_body_bytes=1000)
    with TestClient(app) as client, client.websocket_connect(URL) as ws:
        body = {"surface": "himmelblau", "theta0": [0.5] * 600}
        ws.send_text(orjson.dumps({"id": 1, "request": body}).decode())
        reply = orjson.loads(ws.receive_text())
        assert reply["status"] == 413 and "1,000 bytes" in reply["error"]["message"]


def test_superseded_settings_are_dropped_and_the_newest_is_answered_last(
    client: TestClient,
) -> None:
    slow = {"surface": "rastrigin", "optimizer": {"name": "adam", "eta": 1e-4}, "max_steps": 10000}
    with client.websocket_connect(URL) as ws:
        ws.send_text(orjson.dumps({"id": 0, "request": slow}).decode())
        for i in range(1, 30):
            body = {"surface": "himmelblau", "theta0": [-4 + i * 0.25, 1]}
            ws.send_text(orjson.dumps({"id": i, "request": body}).decode())
        ids: list[int] = []
        while not ids or ids[-1] != 29:
            reply = orjson.loads(ws.receive_text())
            assert "result" in reply
            ids.append(reply["id"])
        assert ids == sorted(set(ids))  # in order, none twice
        assert len(ids) < 30  # the ones superseded while the slow run computed were dropped
        status, expected = _http(client, {"surface": "himmelblau", "theta0": [3.25, 1]})
        assert reply["result"] == expected


def _unpack(frame: bytes) -> dict[str, Any]:
    """A binary answer decoded independently of app/api/routes/live.py's packing: the JSON
    answer's shape, with non-finite values as null (as JSON has them)."""
    size = int.from_bytes(frame[:4], "little")
    header = orjson.loads(frame[4 : 4 + size])
    start = 4 + size + (-(4 + size) % 8)
    assert frame[4 + size : start] == b"\0" * (start - 4 - size)
    n, m = header["n"], header["m"]
    values = np.frombuffer(frame[start:], dtype="<f8")
    assert len(values) == 5 * n + m  # nothing after the columns

    def column(a: np.ndarray) -> list[Any]:
        return (
            [v if np.isfinite(v) else None for v in a.tolist()]
            if a.ndim == 1
            else [column(row) for row in a]
        )

    path, loss = values[: 2 * n].reshape(n, 2), values[2 * n : 3 * n]
    grad, eta = values[3 * n : 5 * n].reshape(n, 2), values[5 * n :]
    result = {**header["result"], "path": column(path), "loss": column(loss)}
    result |= {"grad": column(grad), "eta": column(eta)}
    return {"id": header["id"], "result": result}


def test_binary_answers_hold_the_json_answers_numbers_bit_for_bit(client: TestClient) -> None:
    bodies: list[dict[str, Any]] = [
        {"surface": "himmelblau", "theta0": [-1, 1], "max_steps": 1000},
        {"surface": "rosenbrock", "theta0": [-1.5, 2], "optimizer": {"name": "adam", "eta": 0.05}},
        {"surface": "quadratic", "theta0": [1, 1], "optimizer": {"name": "gd", "eta": 2.5}},
    ]
    with client.websocket_connect(URL) as ws:
        for i, body in enumerate(bodies):
            ws.send_text(orjson.dumps({"id": i, "request": body, "binary": True}).decode())
            frame = ws.receive_bytes()
            status, expected = _http(client, body)
            assert status == 200
            assert _unpack(frame) == {"id": i, "result": expected}
        # errors stay JSON text, whatever the message asked for
        bad = {"surface": "himmelblau", "optimizer": {"name": "gd", "eta": -1}}
        ws.send_text(orjson.dumps({"id": 7, "request": bad, "binary": True}).decode())
        assert orjson.loads(ws.receive_text())["status"] == 422


def test_overflowed_values_are_ieee_in_binary_where_json_has_null() -> None:
    # (the runner stops before a value overflows, so a reply is made up here)
    inf, nan = float("inf"), float("nan")
    result = {
        "status": "diverged",
        "steps": 1,
        "path": np.array([[1.0, 2.0], [inf, -inf]]),
        "loss": np.array([5.0, nan]),
        "grad": np.array([[0.5, -0.25], [nan, 1e308]]),
        "eta": np.array([0.1]),
    }
    reply = {"id": 3, "result": result}
    frame = pack(reply)
    values = np.frombuffer(frame[-8 * 11 :], dtype="<f8")
    assert np.isposinf(values[2]) and np.isneginf(values[3]) and np.isnan(values[5])
    assert _unpack(frame) == orjson.loads(dumps(reply))
