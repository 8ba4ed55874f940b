"""Turn the `surface` of a request into a core Surface.

A surface is named by a preset id, or described by an object (a dataset loss, a formula):
each kind of description adds one branch here, and every endpoint that takes a surface
(descent, stream, grid, describe) accepts it at once.
"""

from __future__ import annotations

from fastapi import HTTPException

from app.api.datasets import resolve_dataset
from app.api.schemas import DatasetSurface, ExpressionSurface, SurfaceSpec
from app.core.formulas import ExpressionError, Formula, FormulaBusyError, formula_surface
from app.core.surfaces import Domain, Surface, get_preset


def resolve_formula(spec: ExpressionSurface, loc: tuple[str, ...]) -> Formula:
    """The compiled formula; 422 with the error's position in `detail`, 503 if every formula
    worker is busy."""
    domain = Domain((spec.domain.x[0], spec.domain.x[1]), (spec.domain.y[0], spec.domain.y[1]))
    try:
        return formula_surface(spec.expression, domain)
    except FormulaBusyError as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "1"}) from None
    except ExpressionError as exc:
        raise HTTPException(422, [{"loc": list(loc), **exc.detail()}]) from None


def resolve_surface(spec: SurfaceSpec | str) -> Surface:
    """The core surface for a request's `surface` (or a path's surface id); 404 for an unknown
    preset id, 422 for a bad description."""
    if isinstance(spec, str):
        try:
            return get_preset(spec)
        except KeyError as exc:
            raise HTTPException(404, exc.args[0]) from None
    if isinstance(spec, ExpressionSurface):
        return resolve_formula(spec, ("body", "surface", "expression")).surface
    if isinstance(spec, DatasetSurface):
        return resolve_dataset(spec)
    raise HTTPException(422, f"Unsupported surface description: {type(spec).__name__}")
