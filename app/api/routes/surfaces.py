from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from app.api.convert import surface_to_dict
from app.api.deps import SettingsDep
from app.api.json import JSONResponse
from app.api.schemas import MAX_ABS_COORDINATE, ErrorOut, GridOut, SurfaceOut
from app.core.grid import sample
from app.core.presets import PRESETS, get_preset
from app.core.surface import Domain, Surface

router = APIRouter(prefix="/api/surfaces", tags=["surfaces"])

SurfacePath = Annotated[str, Path(description="Surface id", examples=["himmelblau"])]
Bound = Annotated[
    float | None,
    Query(ge=-MAX_ABS_COORDINATE, le=MAX_ABS_COORDINATE, allow_inf_nan=False),
]
NOT_FOUND = {404: {"model": ErrorOut, "description": "Unknown surface id"}}


def _surface(surface_id: str) -> Surface:
    try:
        return get_preset(surface_id)
    except KeyError as exc:
        raise HTTPException(404, exc.args[0]) from None


@router.get("", response_model=list[SurfaceOut], summary="List the preset surfaces")
def list_surfaces() -> JSONResponse:
    """Every preset with its formula, lesson, domain, minima, saddles and default start."""
    return JSONResponse([surface_to_dict(s) for s in PRESETS.values()])


@router.get("/{surface_id}", response_model=SurfaceOut, responses=NOT_FOUND, summary="One surface")
def get_surface(surface_id: SurfacePath) -> JSONResponse:
    return JSONResponse(surface_to_dict(_surface(surface_id)))


@router.get(
    "/{surface_id}/grid",
    response_model=GridOut,
    responses={**NOT_FOUND, 422: {"model": ErrorOut, "description": "Bad grid parameters"}},
    summary="Sample a surface on an n × n grid",
)
def get_grid(
    surface_id: SurfacePath,
    settings: SettingsDep,
    n: Annotated[int, Query(ge=10, le=400, description="Points per axis")] = 100,
    xmin: Bound = None,
    xmax: Bound = None,
    ymin: Bound = None,
    ymax: Bound = None,
) -> JSONResponse:
    """`z[j][i] = f(x[i], y[j])`; values that are not finite are `null`. Bounds default to the
    surface's plot domain."""
    surface = _surface(surface_id)
    if n > settings.grid_max_n:
        raise HTTPException(422, f"n = {n} is above this server's cap of {settings.grid_max_n}")
    d = surface.domain
    x = (d.x[0] if xmin is None else xmin, d.x[1] if xmax is None else xmax)
    y = (d.y[0] if ymin is None else ymin, d.y[1] if ymax is None else ymax)
    try:
        domain = Domain(x, y)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    grid = sample(surface, n, domain)
    return JSONResponse({"x": grid.x, "y": grid.y, "z": grid.z})
