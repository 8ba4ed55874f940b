from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Body, HTTPException, Path, Query

from app.api import budget
from app.api.convert import surface_to_dict
from app.api.deps import SettingsDep
from app.api.json import JSONResponse
from app.api.resolve import resolve_surface
from app.api.schemas import (
    MAX_ABS_COORDINATE,
    PRECISION_DOC,
    ErrorOut,
    GridOut,
    GridRequest,
    Precision,
    SurfaceOut,
    SurfaceRequest,
)
from app.core.surfaces import PRESETS, Domain, Surface, sample
from app.settings import Settings

router = APIRouter(prefix="/api", tags=["surfaces"])

SurfacePath = Annotated[str, Path(description="Surface id", examples=["himmelblau"])]
Bound = Annotated[
    float | None,
    Query(ge=-MAX_ABS_COORDINATE, le=MAX_ABS_COORDINATE, allow_inf_nan=False),
]
# Extra responses of a route, in the shape FastAPI takes them.
Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"model": ErrorOut, "description": "Unknown surface id"}}
BAD_INPUT: Responses = {
    400: {"model": ErrorOut, "description": "The body is not readable (e.g. not UTF-8 JSON)"},
    422: {"model": ErrorOut, "description": "Invalid request, explained in `message`"},
}


Bounds = tuple[float | None, float | None, float | None, float | None]  # xmin, xmax, ymin, ymax


def domain_of(surface: Surface, bounds: Bounds) -> Domain:
    """The rectangle a request asks for: each missing bound is the surface's; 422 if empty."""
    xmin, xmax, ymin, ymax = bounds
    d = surface.domain
    x = (d.x[0] if xmin is None else xmin, d.x[1] if xmax is None else xmax)
    y = (d.y[0] if ymin is None else ymin, d.y[1] if ymax is None else ymax)
    try:
        return Domain(x, y)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def _grid(
    surface: Surface,
    settings: Settings,
    n: int,
    bounds: Bounds,
    precision: Precision = "double",
) -> JSONResponse:
    if n > settings.grid_max_n:
        raise HTTPException(422, f"n = {n} is above this server's cap of {settings.grid_max_n}")
    budget.check_grid(surface, n, False, "This grid")
    grid = sample(surface, n, domain_of(surface, bounds))
    # float32 overflows to ±inf (sent as null, like any non-finite value) only past 3.4e38.
    with np.errstate(over="ignore"):
        z = grid.z if precision == "double" else grid.z.astype(np.float32)
    return JSONResponse({"x": grid.x, "y": grid.y, "z": z})


@router.get("/surfaces", response_model=list[SurfaceOut], summary="List the preset surfaces")
def list_surfaces() -> JSONResponse:
    """Every preset with its formula, lesson, domain, minima, saddles and default start."""
    return JSONResponse([surface_to_dict(s) for s in PRESETS.values()])


@router.get(
    "/surfaces/{surface_id}", response_model=SurfaceOut, responses=NOT_FOUND, summary="One surface"
)
def get_surface(surface_id: SurfacePath) -> JSONResponse:
    return JSONResponse(surface_to_dict(resolve_surface(surface_id)))


@router.post(
    "/surface",
    response_model=SurfaceOut,
    responses={**NOT_FOUND, **BAD_INPUT},
    summary="Describe any surface: a preset, a dataset loss or a formula",
)
def describe_surface(request: SurfaceRequest) -> JSONResponse:
    """The same description as `GET /api/surfaces/{id}`, for any surface a descent accepts."""
    return JSONResponse(surface_to_dict(resolve_surface(request.surface)))


@router.get(
    "/surfaces/{surface_id}/grid",
    response_model=GridOut,
    responses={**NOT_FOUND, 422: BAD_INPUT[422]},
    summary="Sample a preset on an n × n grid",
)
def get_grid(
    surface_id: SurfacePath,
    settings: SettingsDep,
    n: Annotated[int, Query(ge=10, le=400, description="Points per axis")] = 100,
    xmin: Bound = None,
    xmax: Bound = None,
    ymin: Bound = None,
    ymax: Bound = None,
    precision: Annotated[Precision, Query(description=PRECISION_DOC)] = "double",
) -> JSONResponse:
    """`z[j][i] = f(x[i], y[j])`; values that are not finite are `null`. Bounds default to the
    surface's plot domain."""
    bounds = (xmin, xmax, ymin, ymax)
    return _grid(resolve_surface(surface_id), settings, n, bounds, precision)


@router.post(
    "/grid",
    response_model=GridOut,
    responses={**NOT_FOUND, **BAD_INPUT},
    summary="Sample any surface on an n × n grid",
)
def post_grid(request: Annotated[GridRequest, Body()], settings: SettingsDep) -> JSONResponse:
    """Like `GET /api/surfaces/{id}/grid`, for any surface a descent accepts."""
    surface = resolve_surface(request.surface)
    bounds = (request.xmin, request.xmax, request.ymin, request.ymax)
    return _grid(surface, settings, request.n, bounds, request.precision)
