"""The gradient field: ∇L sampled on an n × n grid, for drawing arrows over the contour."""

from typing import Annotated

from fastapi import APIRouter, Body, Query

from app.api import budget
from app.api.field_schemas import FIELD_N_DOC, MAX_FIELD_N, MIN_FIELD_N, FieldOut, FieldRequest
from app.api.json import JSONResponse
from app.api.resolve import resolve_surface
from app.api.routes.surfaces import BAD_INPUT, NOT_FOUND, Bound, Bounds, SurfacePath, domain_of
from app.core.surfaces import Surface, sample_gradient

router = APIRouter(prefix="/api", tags=["surfaces"])


def _field(surface: Surface, n: int, bounds: Bounds) -> JSONResponse:
    budget.check_grid(surface, n, True, "This field")
    field = sample_gradient(surface, n, domain_of(surface, bounds))
    return JSONResponse({"x": field.x, "y": field.y, "gx": field.gx, "gy": field.gy})


@router.get(
    "/surfaces/{surface_id}/field",
    response_model=FieldOut,
    responses={**NOT_FOUND, 422: BAD_INPUT[422]},
    summary="The gradient of a preset on an n × n grid",
)
def get_field(
    surface_id: SurfacePath,
    n: Annotated[int, Query(ge=MIN_FIELD_N, le=MAX_FIELD_N, description=FIELD_N_DOC)] = 20,
    xmin: Bound = None,
    xmax: Bound = None,
    ymin: Bound = None,
    ymax: Bound = None,
) -> JSONResponse:
    """`gx[j][i]`, `gy[j][i]` = ∇L at `(x[i], y[j])`, from the analytic gradient; both are `null`
    where either is not finite. Bounds default to the surface's plot domain."""
    return _field(resolve_surface(surface_id), n, (xmin, xmax, ymin, ymax))


@router.post(
    "/field",
    response_model=FieldOut,
    responses={**NOT_FOUND, **BAD_INPUT},
    summary="The gradient of any surface on an n × n grid",
)
def post_field(request: Annotated[FieldRequest, Body()]) -> JSONResponse:
    """Like `GET /api/surfaces/{id}/field`, for any surface a descent accepts."""
    surface = resolve_surface(request.surface)
    return _field(surface, request.n, (request.xmin, request.xmax, request.ymin, request.ymax))
