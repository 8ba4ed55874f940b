import math
from collections.abc import AsyncIterator, Generator
from typing import Any

import anyio.to_thread
import numpy as np
from fastapi import APIRouter, HTTPException
from fastapi.responses import StreamingResponse

from app.api import budget
from app.api.convert import line_search_from, optimizer_from, schedule_from
from app.api.explore_schemas import BasinsRequest, SweepOut, SweepRequest
from app.api.json import JSONResponse, dumps_line
from app.api.resolve import resolve_surface
from app.api.schemas import ErrorOut
from app.core.descent import (
    STATUS_NAMES,
    BasinMap,
    Landmark,
    StopRules,
    basins,
    indexed_landmarks,
    sweep,
)
from app.core.surfaces import Domain

router = APIRouter(prefix="/api", tags=["explore"])

BAD_INPUT: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The body is not readable (e.g. not UTF-8 JSON)"},
    404: {"model": ErrorOut, "description": "Unknown surface id"},
    422: {"model": ErrorOut, "description": "Invalid request, explained in `message`"},
}

BASINS_DOC = """JSON Lines: `{"type": "progress", "done": 0.125}` while it computes, then one
`{"type": "result", "x", "y", "destination", "steps", "landmarks", "counts"}` line
(see the BasinsResult schema)."""


def _landmark_dicts(points: list[Landmark]) -> list[dict[str, Any]]:
    return [{"x": p.x, "y": p.y, "value": p.value, "kind": p.kind} for p in points]


def _domain(request: BasinsRequest, default: Domain) -> Domain:
    x = (
        default.x[0] if request.xmin is None else request.xmin,
        default.x[1] if request.xmax is None else request.xmax,
    )
    y = (
        default.y[0] if request.ymin is None else request.ymin,
        default.y[1] if request.ymax is None else request.ymax,
    )
    try:
        return Domain(x, y)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


@router.post(
    "/basins",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": BASINS_DOC,
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        },
        **BAD_INPUT,
    },
    summary="Basins of attraction: where descent from every start on a grid ends",
)
def post_basins(request: BasinsRequest) -> StreamingResponse:
    """Runs the optimizer from each of n × n starts (vectorised) and reports, per start, the
    stationary point it reached. Progress lines are streamed while it computes. A request whose
    estimated cost is over the server's budget gets a 422 saying what to reduce; one that runs
    past the wall-clock limit anyway ends with an `{"type": "error", "message"}` line."""
    surface = resolve_surface(request.surface)
    n = request.n
    work = budget.work(request.optimizer, n * n, request.max_steps, batch=True)
    seconds = budget.check_run(surface, work, "This basin map", "n")
    domain = _domain(request, surface.domain)
    try:
        optimizer = optimizer_from(request.optimizer, surface)
        rules = StopRules(max_steps=request.max_steps, tol=request.tol)
        schedule, search = schedule_from(request.optimizer), line_search_from(request.optimizer)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    points = indexed_landmarks(surface)
    # Chunks of rows of about CHUNK_SECONDS of work each (at least a few thousand starts, so the
    # per-step overhead stays small), for frequent progress lines.
    rows = max(math.ceil(2048 / n), int(n * budget.CHUNK_SECONDS / max(seconds, 1e-9)))
    deadline = budget.Deadline()

    def lines() -> Generator[bytes, None, None]:
        try:
            for item in basins(
                surface,
                optimizer,
                n,
                rules,
                domain,
                schedule=schedule,
                line_search=search,
                rows_per_chunk=min(rows, n),
                check=deadline.check,
            ):
                if isinstance(item, BasinMap):
                    yield _result_line(item, points)
                else:
                    yield dumps_line({"type": "progress", "done": item})
        except budget.Stopped as exc:
            yield dumps_line({"type": "error", "message": f"The basin map was stopped: {exc}"})

    return StreamingResponse(_cancellable(lines(), deadline), media_type="application/x-ndjson")


def _result_line(item: BasinMap, points: list[Landmark]) -> bytes:
    values, counts = np.unique(item.destination, return_counts=True)
    return dumps_line(
        {
            "type": "result",
            "x": item.x,
            "y": item.y,
            "destination": item.destination,
            "steps": item.steps,
            "landmarks": _landmark_dicts(points),
            "counts": {str(int(v)): int(c) for v, c in zip(values, counts)},
        }
    )


_DONE = object()


async def _cancellable(
    lines: Generator[bytes, None, None], deadline: budget.Deadline
) -> AsyncIterator[bytes]:
    """The lines, each computed in the threadpool. When the client leaves, Starlette cancels this
    generator, most likely while a thread computes: the deadline is cancelled, and the
    computation, which checks it after every step, stops within a step instead of finishing
    its chunk."""
    try:
        while True:
            # abandon_on_cancel: a cancellation reaches this generator at once, not when the
            # thread's chunk of work is done (the thread then stops at its next step, below).
            line = await anyio.to_thread.run_sync(next, lines, _DONE, abandon_on_cancel=True)
            if line is _DONE:
                return
            yield line  # type: ignore[misc]
    finally:
        deadline.cancel()  # a thread computing the lines stops at its next step
        try:
            lines.close()  # if none is, the work ends here
        except ValueError:  # "generator already executing": the thread stops as above
            pass


@router.post(
    "/sweep",
    response_model=SweepOut,
    responses=BAD_INPUT,
    summary="η sweep: the same run for many step sizes, log-spaced",
)
def post_sweep(request: SweepRequest) -> JSONResponse:
    """Final loss, steps and status for each η in [eta_min, eta_max] (log-spaced), and GD's
    stability limit 2/λ_max at the minimum reached."""
    if request.eta_min >= request.eta_max:
        raise HTTPException(
            422, f"eta_min = {request.eta_min} must be smaller than eta_max = {request.eta_max}"
        )
    surface = resolve_surface(request.surface)
    work = budget.work(request.optimizer, request.count, request.max_steps, batch=True)
    budget.check_run(surface, work, "This sweep", "count")
    start = request.theta0 or surface.default_start
    try:
        optimizer = optimizer_from(request.optimizer, surface)
        rules = StopRules(max_steps=request.max_steps, tol=request.tol)
        schedule = schedule_from(request.optimizer)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    etas = np.geomspace(request.eta_min, request.eta_max, request.count)
    try:
        found = sweep(
            surface,
            optimizer,
            (start[0], start[1]),
            etas,
            rules,
            schedule=schedule,
            check=budget.Deadline().check,
        )
    except budget.Stopped as exc:
        raise budget.stopped_error(exc) from None
    r = found.result
    return JSONResponse(
        {
            "eta": etas,
            "status": [STATUS_NAMES[s] for s in r.status],
            "steps": r.steps,
            "final_loss": r.loss,
            "final_theta": np.stack([r.x, r.y], axis=1),
            "destination": found.destination,
            "landmarks": _landmark_dicts(indexed_landmarks(surface)),
            "stability_limit": found.stability_limit,
            "limit_minimum": found.limit_minimum,
        }
    )
