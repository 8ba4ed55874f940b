"""Serving hygiene: body-size limit, security headers, request ids and access logs, CORS."""

import json
import logging

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings


def test_a_body_over_the_limit_gets_413() -> None:
    with TestClient(create_app(Settings(max_body_bytes=1000))) as client:
        small = client.post("/api/descent", json={"surface": "quadratic"})
        big = client.post(
            "/api/descent",
            content=b"{" + b" " * 2000 + b"}",
            headers={"content-type": "application/json"},
        )

        def chunks():
            for _ in range(10):
                yield b" " * 200

        streamed = client.post(
            "/api/descent", content=chunks(), headers={"content-type": "application/json"}
        )
    assert small.status_code == 200
    assert big.status_code == 413 and "1,000 bytes" in big.json()["message"]
    assert streamed.status_code == 413


def test_security_headers_and_request_id(client: TestClient) -> None:
    response = client.get("/")
    csp = response.headers["content-security-policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"]
    assert len(response.headers["x-request-id"]) == 32
    echoed = client.get("/healthz", headers={"x-request-id": "trace-42"})
    assert echoed.headers["x-request-id"] == "trace-42"
    odd = client.get("/healthz", headers={"x-request-id": "no spaces <allowed>"})
    assert odd.headers["x-request-id"] != "no spaces <allowed>"


def test_every_request_is_logged_as_one_json_line(client: TestClient, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="app.access"):
        client.get("/healthz", headers={"x-request-id": "abc"})
        client.post("/api/descent", json={"surface": "nope"})
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "app.access"]
    assert [(line["path"], line["status"], line["request_id"]) for line in lines][:1] == [
        ("/healthz", 200, "abc")
    ]
    assert lines[1]["status"] == 422 and lines[1]["method"] == "POST" and lines[1]["ms"] >= 0


def test_cors_is_off_by_default_and_configurable(client: TestClient) -> None:
    preflight = {"origin": "https://course.example", "access-control-request-method": "POST"}
    assert (
        "access-control-allow-origin"
        not in client.options("/api/descent", headers=preflight).headers
    )
    app = create_app(Settings(cors_origins=("https://course.example",)))
    with TestClient(app) as c:
        allowed = c.options("/api/descent", headers=preflight)
    assert allowed.headers["access-control-allow-origin"] == "https://course.example"


def test_settings_read_serving_variables() -> None:
    s = Settings.from_env(
        {
            "WEB_CONCURRENCY": "4",
            "DESCENT_MAX_BODY_BYTES": "5000",
            "DESCENT_CORS_ORIGINS": "https://a.example, https://b.example",
        }
    )
    assert s.workers == 4 and s.max_body_bytes == 5000
    assert s.cors_origins == ("https://a.example", "https://b.example")


def test_an_unexpected_error_is_logged_with_its_cause_but_not_shown(caplog) -> None:
    app = create_app()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("the cause")

    with caplog.at_level(logging.ERROR, logger="app.errors"):
        with TestClient(app, raise_server_exceptions=False) as c:
            response = c.get("/boom")
    assert response.status_code == 500
    assert "Traceback" not in response.text and "the cause" not in response.text
    assert response.json()["message"].startswith("Internal server error")
    assert any("the cause" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
