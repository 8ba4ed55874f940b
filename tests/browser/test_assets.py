"""How the page and its assets are served: no browser needed, but the page's load budget
(first load ≤ 1.6 MB, reload ≤ 50 kB) rests on these headers."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.web.pages import PLOTLY_JS


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as client:
        yield client


def found(pattern: str, text: str) -> str:
    """The first group of `pattern`'s match in `text`, which must match."""
    match = re.search(pattern, text)
    assert match is not None, f"{pattern} not found"
    return match.group(1)


def asset_urls(client: TestClient) -> dict[str, str]:
    html = client.get("/").text
    return {
        "plotly": found(r'<script src="(/vendor/plotly-[^"]+)" defer>', html),
        "main": found(r'<script type="module" src="(/static/v-[^"]+/js/main\.js)">', html),
        "css": found(r'<link rel="stylesheet" href="(/static/v-[^"]+/css/app\.css)">', html),
    }


def test_the_page_has_no_inline_script(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", response.text, re.S)
    assert scripts and all("src=" in attrs and body.strip() == "" for attrs, body in scripts)
    assert not re.search(r"<[^>]+\son[a-z]+=", response.text), "inline event handler"


def test_plotly_is_served_gzipped_from_the_installed_package_with_long_caching(
    client: TestClient,
) -> None:
    url = asset_urls(client)["plotly"]
    response = client.get(url, headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert (
        "immutable" in response.headers["cache-control"]
        and "max-age=31536000" in response.headers["cache-control"]
    )
    assert response.content == PLOTLY_JS.read_bytes()  # httpx decodes the gzip
    assert int(response.headers["content-length"]) < len(response.content) / 3

    again = client.get(url, headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert client.get("/vendor/plotly-0.0.0-0000.min.js").status_code == 404


def test_static_modules_are_versioned_and_cached(client: TestClient) -> None:
    urls = asset_urls(client)
    response = client.get(urls["main"])
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]
    assert "javascript" in response.headers["content-type"]
    # A relative import resolves under the same versioned prefix.
    sibling = urls["main"].replace("main.js", "api.js")
    assert client.get(sibling).status_code == 200
    plain = client.get("/static/css/app.css")
    assert plain.status_code == 200 and "immutable" not in plain.headers.get("cache-control", "")


def test_api_answers_are_compressed_and_revalidated(client: TestClient) -> None:
    grid = client.get("/api/surfaces/himmelblau/grid?n=80", headers={"accept-encoding": "gzip"})
    assert grid.status_code == 200
    assert grid.headers["content-encoding"] == "gzip"
    etag = grid.headers["etag"]
    again = client.get("/api/surfaces/himmelblau/grid?n=80", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    other = client.get("/api/surfaces/himmelblau/grid?n=81", headers={"if-none-match": etag})
    assert other.status_code == 200


def test_a_stream_is_neither_compressed_nor_buffered(client: TestClient) -> None:
    body = {"surface": "quadratic", "theta0": [1, 1], "optimizer": {"name": "gd", "eta": 0.1}}
    with client.stream(
        "POST", "/api/descent/stream", json=body, headers={"accept-encoding": "gzip"}
    ) as r:
        assert r.status_code == 200
        assert "content-encoding" not in r.headers
        assert "etag" not in r.headers
        lines = [line for line in r.iter_lines() if line]
    assert lines[0].startswith('{"type":"start"') and lines[-1].startswith('{"type":"end"')
