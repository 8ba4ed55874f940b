"""The API's documentation pages, /docs (Swagger UI) and /redoc (ReDoc), working under a
Content-Security-Policy: their scripts and stylesheet come from the installed `fastapi_offline`
package (which ships Swagger UI's and ReDoc's distribution bundles; nothing vendored, no CDN),
Swagger UI is started by a script of ours under static/docs/, and neither page has inline script.
The bundles are served under URLs that carry their content hash, cached for a year and
compressed once (app/web/assets.py)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from app.web import assets
from app.web.assets import Encoded, SingleFlight
from app.web.static import IMMUTABLE, static_version

__all__ = ["DOCS_CSP", "router"]

BUNDLES = Path(fastapi_offline.__file__).resolve().parent / "static"
TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
OPENAPI_URL = "/openapi.json"
STATIC = Path(__file__).resolve().parents[2] / "static"

# What Swagger UI and ReDoc need, and no more: their own scripts and stylesheet; inline style
# attributes (both set them from JavaScript); data: images (Swagger UI's icons are data: SVG);
# fetching the schema (and Swagger UI's "Try it out") from this origin; ReDoc's search worker,
# which it starts from a blob: URL.
DOCS_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "worker-src blob:",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'none'",
    ]
)

router = APIRouter(include_in_schema=False)


@lru_cache
def tag(name: str) -> str:
    return hashlib.sha256((BUNDLES / name).read_bytes()).hexdigest()[:16]


def url(name: str) -> str:
    return f"/docs/assets/{tag(name)}/{name}"


BUNDLE_CACHE: SingleFlight[str, Encoded] = SingleFlight(
    lambda name: assets.encode((BUNDLES / name).read_bytes(), assets.CACHE)
)


def page(title: str, head: str, body: str) -> HTMLResponse:
    html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{url("favicon.png")}">
{head}
</head>
<body>
{body}
</body>
</html>
"""
    return HTMLResponse(html, headers={"Content-Security-Policy": DOCS_CSP})


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    init = f"/static/v-{static_version(STATIC)}/docs/swagger-init.js"
    return page(
        "Descent Lab API: Swagger UI",
        f'<link rel="stylesheet" href="{url("swagger-ui.css")}">',
        f'<div id="swagger-ui" data-openapi-url="{OPENAPI_URL}"></div>\n'
        f'<script src="{url("swagger-ui-bundle.js")}"></script>\n'
        f'<script src="{init}"></script>',
    )


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return page(
        "Descent Lab API: ReDoc",
        "",
        f'<redoc spec-url="{OPENAPI_URL}"></redoc>\n'
        f'<script src="{url("redoc.standalone.js")}"></script>',
    )


@router.get("/docs/assets/{version}/{name}")
def bundle(version: str, name: str, request: Request) -> Response:
    if name not in TYPES or version != tag(name):
        raise HTTPException(404, "No such documentation asset")
    compress = name != "favicon.png"  # a PNG is compressed already
    return assets.respond(BUNDLE_CACHE.get(name), request, TYPES[name], IMMUTABLE, compress)
