"""/docs and /redoc as HTTP sees them: no inline script, their own Content-Security-Policy, and
Swagger UI's and ReDoc's bundles served from the installed package, compressed and cached for a
year (the browser test, tests/browser/test_api_docs.py, checks that they render)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.web.docs import BUNDLES, DOCS_CSP


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as client:
        yield client


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_docs_pages_load_only_local_scripts(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == DOCS_CSP
    assert "'unsafe-eval'" not in DOCS_CSP and "script-src 'self'" in DOCS_CSP
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", response.text, re.S)
    assert scripts and all(body.strip() == "" for _, body in scripts)  # no inline script
    for src in re.findall(r'(?:src|href)="([^"]+)"', response.text):
        assert src.startswith("/"), src  # nothing from elsewhere
        asset = client.get(src, headers={"accept-encoding": "br"})
        assert asset.status_code == 200, src
        if "/docs/assets/" in src:
            assert asset.content == (BUNDLES / src.rsplit("/", 1)[1]).read_bytes()
            assert "immutable" in asset.headers["cache-control"]


def test_bundles_are_sent_compressed_and_unknown_ones_are_404(client: TestClient) -> None:
    html = client.get("/docs").text
    match = re.search(r'src="(/docs/assets/[^"]+/swagger-ui-bundle\.js)"', html)
    assert match is not None
    src = match.group(1)
    packed = client.get(src, headers={"accept-encoding": "gzip, br"})
    assert packed.headers["content-encoding"] == "br"
    assert int(packed.headers["content-length"]) < len(packed.content) / 2
    assert client.get(src.replace("swagger-ui-bundle.js", "../../main.py")).status_code == 404
    assert client.get("/docs/assets/0000/swagger-ui-bundle.js").status_code == 404
    assert client.get(src.replace("swagger-ui-bundle", "other")).status_code == 404
