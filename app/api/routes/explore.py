import ast
from collections.abc import Iterator
from typing import Any

import numpy as np
from fastapi import APIRouter, HTTPException
from fastapi.responses import StreamingResponse

from app.api.convert import line_search_from, optimizer_from, schedule_from
from app.api.explore_schemas import BasinsRequest, SweepOut, SweepRequest
from app.api.json import JSONResponse, dumps_line
from app.api.resolve import resolve_surface
from app.api.schemas import ErrorOut, ExpressionSurface, SurfaceSpec
from app.core.descent import (
    STATUS_NAMES,
    BasinMap,
    Landmark,
    StopRules,
    basins,
    indexed_landmarks,
    sweep,
)
from app.core.surfaces import Domain, Surface

router = APIRouter(prefix="/api", tags=["explore"])

BAD_INPUT: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The body is not readable (e.g. not UTF-8 JSON)"},
    404: {"model": ErrorOut, "description": "Unknown surface id"},
    422: {"model": ErrorOut, "description": "Invalid request, explained in `message`"},
}

BASINS_DOC = """JSON Lines: `{"type": "progress", "done": 0.125}` while it computes, then one
`{"type": "result", "x", "y", "destination", "steps", "landmarks", "counts"}` line
(see the BasinsResult schema)."""


# Every field is capped, but a batch run costs starts × steps × (the cost of one evaluation), and
# two kinds of surface cost far more per evaluation than a preset: a logistic loss sums over its
# data (a linear one uses sufficient statistics), and a formula evaluates each of its parts (and
# of its gradient's). Both caps are about what the costliest preset run costs (256 × 256 starts ×
# 2,000 steps on Rastrigin, ~20 s of CPU here); beyond them the request is refused up front.
MAX_DATA_WORK = 1_000_000_000  # starts × steps × data points
MAX_FORMULA_WORK = 2_000_000_000  # starts × steps × parts of the formula


def _formula_parts(text: str) -> int:
    """Parts as app.core.formulas.expressions counts them (operators are not parts). The text has
    already been checked, so parsing it is safe and the tree is small."""
    skip = (ast.operator, ast.unaryop, ast.expr_context)
    return sum(not isinstance(n, skip) for n in ast.walk(ast.parse(text, mode="eval").body))


def _check_work(spec: SurfaceSpec, surface: Surface, starts: int, max_steps: int) -> None:
    fit = surface.data
    if fit is not None and fit.kind == "logistic":
        size, what, cap = fit.x.size, "data points", MAX_DATA_WORK
    elif isinstance(spec, ExpressionSurface):
        size, what, cap = _formula_parts(spec.expression), "parts of the formula", MAX_FORMULA_WORK
    else:
        return
    work = starts * max_steps * size
    if work > cap:
        raise HTTPException(
            422,
            f"{starts:,} starts × {max_steps:,} steps × {size:,} {what} = {work:,} is above this "
            f"server's cap of {cap:,} on the work of one request: use fewer starts or steps",
        )


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
    stationary point it reached. Progress lines are streamed while it computes."""
    surface = resolve_surface(request.surface)
    _check_work(request.surface, surface, request.n * request.n, request.max_steps)
    domain = _domain(request, surface.domain)
    try:
        optimizer = optimizer_from(request.optimizer, surface)
        rules = StopRules(max_steps=request.max_steps, tol=request.tol)
        schedule, search = schedule_from(request.optimizer), line_search_from(request.optimizer)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    points = indexed_landmarks(surface)

    def lines() -> Iterator[bytes]:
        for item in basins(
            surface, optimizer, request.n, rules, domain, schedule=schedule, line_search=search
        ):
            if isinstance(item, BasinMap):
                values, counts = np.unique(item.destination, return_counts=True)
                yield dumps_line(
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
            else:
                yield dumps_line({"type": "progress", "done": item})

    return StreamingResponse(lines(), media_type="application/x-ndjson")


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
    _check_work(request.surface, surface, request.count, request.max_steps)
    start = request.theta0 or surface.default_start
    try:
        optimizer = optimizer_from(request.optimizer, surface)
        rules = StopRules(max_steps=request.max_steps, tol=request.tol)
        schedule = schedule_from(request.optimizer)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    etas = np.geomspace(request.eta_min, request.eta_max, request.count)
    found = sweep(surface, optimizer, (start[0], start[1]), etas, rules, schedule=schedule)
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
