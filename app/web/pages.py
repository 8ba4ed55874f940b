"""The page: `GET /` renders templates/index.html; Plotly.js is served from the installed `plotly`
package (no CDN, no vendored copy) under a versioned URL. Both are rendered and compressed (gzip
and Brotli) once per worker, before it accepts traffic (`warm_up`, called by the lifespan), and
sent in the encoding the request accepts."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import plotly
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from app import __version__
from app.core.surfaces import PRESETS
from app.lessons import LESSONS
from app.web import assets
from app.web.assets import Encoded, SingleFlight
from app.web.static import IMMUTABLE, static_version

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
PLOTLY = "plotly"  # the key of Plotly's bundle among ASSETS; the page's is page_key()
NETWORK = "network"  # the network page's key is "network " + page_key()

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES)


@lru_cache(maxsize=1)
def plotly_version() -> str:
    """plotly.js's own version, read from the bundle's banner."""
    with PLOTLY_JS.open("rb") as bundle:
        match = re.search(rb"plotly\.js v(\d+\.\d+\.\d+)", bundle.read(500))
    return match.group(1).decode() if match else plotly.__version__


def plotly_url() -> str:
    return f"/vendor/plotly-{plotly_version()}-{ASSETS.get(PLOTLY).etag.strip(chr(34))}.min.js"


def render_index(version: str) -> bytes:
    return (
        templates.get_template("index.html")
        .render(
            plotly_url=plotly_url(),
            static_version=version,
            version=__version__,
            # The picker is rendered here: the page then fetches only the surface on show.
            surfaces=[(s.id, s.name) for s in PRESETS.values()],
            lessons=[(item["id"], item["title"]) for item in LESSONS],
        )
        .encode()
    )


def render_network(version: str) -> bytes:
    """The network page (issue 18): train a small network, its sharpness and its 2-D slices."""
    return (
        templates.get_template("network.html")
        .render(
            plotly_url=plotly_url(),
            static_version=version,
            version=__version__,
            lessons=[(item["id"], item["title"]) for item in LESSONS],
        )
        .encode()
    )


def page_key() -> str:
    """The page's key: the static files' version, then the templates' (an edit to either makes a
    new page)."""
    return f"{static_version(STATIC)} {static_version(TEMPLATES)}"


def build(key: str) -> Encoded:
    if key == PLOTLY:
        raw = PLOTLY_JS.read_bytes()
    elif key.startswith(NETWORK):
        raw = render_network(key.split()[1])
    else:
        raw = render_index(key.split()[0])
    return assets.encode(raw, assets.CACHE)


ASSETS: SingleFlight[str, Encoded] = SingleFlight(build)


def warm_up() -> None:
    """Compress Plotly's bundle and render and compress the page now, not on a first request."""
    ASSETS.get(PLOTLY)
    ASSETS.get(page_key())


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Response:
    # Revalidated on every visit (a 304 costs a few hundred bytes): a new static version must
    # reach the browser at once.
    return assets.respond(ASSETS.get(page_key()), request, "text/html", "no-cache")


@router.get("/network", response_class=HTMLResponse)
def network(request: Request) -> Response:
    return assets.respond(ASSETS.get(f"{NETWORK} {page_key()}"), request, "text/html", "no-cache")


@router.get("/vendor/plotly-{tag}.min.js")
def plotly_js(tag: str, request: Request) -> Response:
    if plotly_url() != f"/vendor/plotly-{tag[:100]}.min.js":
        raise HTTPException(404, "Unknown Plotly.js version")
    return assets.respond(ASSETS.get(PLOTLY), request, "text/javascript", IMMUTABLE)
