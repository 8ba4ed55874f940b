"""Loss surfaces over θ = (x, y): the Surface type, the presets, stationary points, grids, fields.

What the rest of the app may import from this room is listed here; every other name is internal.
"""

from app.core.surfaces.cost import EvaluationCost, evaluation_cost
from app.core.surfaces.field import sample_gradient
from app.core.surfaces.grid import sample
from app.core.surfaces.precomputed import warm_presets
from app.core.surfaces.presets import KERNEL_FUNCTIONS, PRESETS, QUADRATIC_COEFFICIENTS, get_preset
from app.core.surfaces.stationary import (
    StationaryPoint,
    find_stationary_points,
    remember,
    stationary_points,
)
from app.core.surfaces.surface import Array, Domain, Minimum, Point, Scalar, Surface

__all__ = [
    "KERNEL_FUNCTIONS",
    "PRESETS",
    "QUADRATIC_COEFFICIENTS",
    "Array",
    "Domain",
    "EvaluationCost",
    "Minimum",
    "Point",
    "Scalar",
    "StationaryPoint",
    "Surface",
    "evaluation_cost",
    "find_stationary_points",
    "get_preset",
    "remember",
    "sample",
    "sample_gradient",
    "stationary_points",
    "warm_presets",
]
