"""Turn the `surface` of a request into a core Surface.

A surface is named by a preset id, or described by an object (a dataset loss, a formula):
each kind of description adds one branch here, and every endpoint that takes a surface
(descent, stream, grid, describe) accepts it at once.
"""

from __future__ import annotations

from fastapi import HTTPException

from app.api.schemas import SurfaceSpec
from app.core.presets import get_preset
from app.core.surface import Surface


def resolve_surface(spec: SurfaceSpec) -> Surface:
    """The core surface for a request's `surface`; 404 for an unknown preset id, 422 for a bad
    description."""
    if isinstance(spec, str):
        try:
            return get_preset(spec)
        except KeyError as exc:
            raise HTTPException(404, exc.args[0]) from None
    raise HTTPException(422, f"Unsupported surface description: {type(spec).__name__}")
