"""The application factory: routers, static files, pages and error handlers."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware

from app import __version__
from app.api.errors import install_error_handlers
from app.api.json import JSONResponse
from app.api.routes import (
    datasets,
    descent,
    explore,
    expressions,
    field,
    flow,
    health,
    lessons,
    live,
    networks,
    noise,
    optimizers,
    surfaces,
)
from app.core.descent import compiled
from app.core.formulas import sandbox
from app.core.networks import warm_up as warm_networks
from app.core.surfaces import warm_presets
from app.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from app.settings import Settings, get_settings
from app.web import docs, http, pages
from app.web.static import VersionedStaticFiles

DESCRIPTION = """Run gradient-descent optimizers on 2-D loss surfaces and watch the iterates.

Every number in a response is finite: JSON has no NaN or Infinity, so a value that is not finite
is `null` on a grid and ends a run as *diverged*."""


def warm_up() -> None:
    """The presets' stationary points, known before the worker takes traffic (many concurrent
    first requests would otherwise all wait for them): read from the file where the image build
    or an earlier worker put them, else computed (~0.5 s in all) and written there."""
    warm_presets()


def compile_kernels() -> None:
    """numba's kernels, compiled (or loaded from its cache) while the server starts: GD on the
    presets, and GELU's erf."""
    compiled.warm_up()
    warm_networks()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    sandbox.start()  # the formula compiler's process server, started now rather than on demand
    threading.Thread(target=compile_kernels, name="compile-kernels", daemon=True).start()
    await run_in_threadpool(warm_up)  # uvicorn accepts connections once this is done
    await run_in_threadpool(pages.warm_up)  # the page and Plotly, rendered and compressed
    yield


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Descent Lab",
        version=__version__,
        description=DESCRIPTION,
        default_response_class=JSONResponse,
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc are app/web/docs.py's: local assets, no inline script
        redoc_url=None,
    )
    install_error_handlers(app)
    # Routes are matched in this order, one by one: the busiest endpoint first.
    app.include_router(descent.router)
    app.include_router(health.router)
    app.include_router(surfaces.router)
    app.include_router(field.router)
    app.include_router(flow.router)
    app.include_router(live.router)
    app.include_router(optimizers.router)
    app.include_router(datasets.router)
    app.include_router(noise.router)
    app.include_router(explore.router)
    app.include_router(expressions.router)
    app.include_router(lessons.router)
    app.include_router(networks.router)
    app.include_router(pages.router)
    app.include_router(docs.router)
    app.mount("/static", VersionedStaticFiles(pages.STATIC), name="static")
    app.add_middleware(http.ConditionalGetMiddleware)
    app.add_middleware(http.GZipMiddleware, **http.GZIP_OPTIONS)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", "x-request-id"],
        )
    app.add_middleware(RequestContextMiddleware)  # outermost: ids, headers and logs for all
    return app


app = create_app()
