"""Request and response of the gradient field: ∇L sampled on a grid, to draw as arrows."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas import SURFACE_DOC, Coordinate, StrictModel, SurfaceSpec, Whole

MIN_FIELD_N = 5
MAX_FIELD_N = 60  # 3,600 arrows: more than a plot can show legibly
FIELD_N_DOC = f"Arrows per axis, {MIN_FIELD_N} to {MAX_FIELD_N}"


class FieldRequest(StrictModel):
    surface: SurfaceSpec = Field(description=SURFACE_DOC)
    n: Whole = Field(20, ge=MIN_FIELD_N, le=MAX_FIELD_N, description=FIELD_N_DOC)
    xmin: Coordinate | None = None
    xmax: Coordinate | None = None
    ymin: Coordinate | None = None
    ymax: Coordinate | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"surface": "himmelblau", "n": 20},
                {
                    "surface": {
                        "expression": "x**2 + 3*y**2",
                        "domain": {"x": [-3, 3], "y": [-3, 3]},
                    },
                    "n": 15,
                },
            ]
        }
    )


class FieldOut(BaseModel):
    x: list[float] = Field(description="n values")
    y: list[float] = Field(description="n values")
    gx: list[list[float | None]] = Field(
        description="gx[j][i] = ∂L/∂x at (x[i], y[j]); null where ∇L is not finite"
    )
    gy: list[list[float | None]] = Field(
        description="gy[j][i] = ∂L/∂y at (x[i], y[j]); null where ∇L is not finite"
    )
