"""The page: `GET /` renders templates/index.html; Plotly.js is served from the installed `plotly`
package (no CDN, no vendored copy), gzip-compressed once in memory under a versioned URL."""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import plotly
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from app import __version__
from app.core.surfaces import PRESETS
from app.lessons import LESSONS
from app.web.static import static_version

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
YEAR = 365 * 24 * 3600

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES)


@dataclass(frozen=True)
class Asset:
    raw: bytes
    gzipped: bytes
    etag: str
    version: str  # plotly.js's own version, read from the bundle's banner


@lru_cache(maxsize=1)
def plotly_asset() -> Asset:
    raw = PLOTLY_JS.read_bytes()
    match = re.search(rb"plotly\.js v(\d+\.\d+\.\d+)", raw[:500])
    version = match.group(1).decode() if match else plotly.__version__
    digest = hashlib.sha256(raw).hexdigest()[:16]
    return Asset(raw, gzip.compress(raw, compresslevel=9, mtime=0), f'"{digest}"', version)


def plotly_url() -> str:
    asset = plotly_asset()
    return f"/vendor/plotly-{asset.version}-{asset.etag.strip(chr(34))}.min.js"


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Response:
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "plotly_url": plotly_url(),
            "static_version": static_version(STATIC),
            "version": __version__,
            # The picker is rendered here: the page then fetches only the surface on show.
            "surfaces": [(s.id, s.name) for s in PRESETS.values()],
            "lessons": [(item["id"], item["title"]) for item in LESSONS],
        },
    )


@router.get("/vendor/plotly-{tag}.min.js")
def plotly_js(tag: str, request: Request) -> Response:
    asset = plotly_asset()
    if plotly_url() != f"/vendor/plotly-{tag}.min.js":
        raise HTTPException(404, "Unknown Plotly.js version")
    headers = {
        "Cache-Control": f"public, max-age={YEAR}, immutable",
        "ETag": asset.etag,
        "Vary": "Accept-Encoding",
    }
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type="text/javascript", headers=headers)
    return Response(asset.raw, media_type="text/javascript", headers=headers)
