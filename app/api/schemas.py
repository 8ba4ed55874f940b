"""Request and response models: the API's contract, validated at the edge.

Every request model forbids unknown fields and non-finite numbers. The hyperparameter defaults
mirror those of the core optimizers (a test keeps them in step).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.optimizers import MAX_ETA
from app.settings import get_settings

SurfaceId = Literal[
    "quadratic",
    "ravine",
    "rosenbrock",
    "himmelblau",
    "rastrigin",
    "beale",
    "six_hump_camel",
    "double_well",
    "saddle",
    "booth",
]

MAX_ABS_COORDINATE = 1e6


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


Coordinate = Annotated[float, Field(ge=-MAX_ABS_COORDINATE, le=MAX_ABS_COORDINATE)]
Theta = Annotated[
    list[Coordinate],
    Field(min_length=2, max_length=2, description="A point (x, y)", examples=[[-1.0, 1.0]]),
]
Eta = Annotated[float, Field(gt=0.0, le=MAX_ETA, description="Step size η (learning rate)")]
UnitInterval = Annotated[float, Field(ge=0.0, le=1.0)]
OpenUnitInterval = Annotated[float, Field(ge=0.0, lt=1.0)]
NonNegative = Annotated[float, Field(ge=0.0, le=1e6)]


class GDParams(StrictModel):
    """Plain gradient descent: θ ← θ − η∇L."""

    name: Literal["gd"]
    eta: Eta = 0.01


class MomentumParams(StrictModel):
    """Heavy-ball momentum, as torch.optim.SGD(momentum=…)."""

    name: Literal["momentum"]
    eta: Eta = 0.01
    momentum: UnitInterval = 0.9
    dampening: UnitInterval = 0.0
    weight_decay: NonNegative = 0.0


class NesterovParams(StrictModel):
    """Nesterov momentum, as torch.optim.SGD(momentum=…, nesterov=True)."""

    name: Literal["nesterov"]
    eta: Eta = 0.01
    momentum: UnitInterval = 0.9
    weight_decay: NonNegative = 0.0


class AdagradParams(StrictModel):
    """torch.optim.Adagrad."""

    name: Literal["adagrad"]
    eta: Eta = 0.01
    lr_decay: NonNegative = 0.0
    weight_decay: NonNegative = 0.0
    initial_accumulator_value: NonNegative = 0.0
    eps: NonNegative = 1e-10


class RMSpropParams(StrictModel):
    """torch.optim.RMSprop."""

    name: Literal["rmsprop"]
    eta: Eta = 0.01
    alpha: UnitInterval = 0.99
    eps: NonNegative = 1e-8
    weight_decay: NonNegative = 0.0
    momentum: UnitInterval = 0.0
    centered: bool = False


class AdamParams(StrictModel):
    """torch.optim.Adam (beta1, beta2 are torch's betas)."""

    name: Literal["adam"]
    eta: Eta = 0.001
    beta1: OpenUnitInterval = 0.9
    beta2: OpenUnitInterval = 0.999
    eps: NonNegative = 1e-8
    weight_decay: NonNegative = 0.0
    amsgrad: bool = False


OptimizerParams = Annotated[
    GDParams | MomentumParams | NesterovParams | AdagradParams | RMSpropParams | AdamParams,
    Field(discriminator="name"),
]


# A surface is a preset id or, in later additions, an object that describes one (a dataset loss,
# a formula). Every endpoint that takes a surface accepts all of them: see app/api/resolve.py.
SurfaceSpec = SurfaceId

SURFACE_DOC = "Id of a preset surface (see GET /api/surfaces)"


class GridRequest(StrictModel):
    surface: SurfaceSpec = Field(description=SURFACE_DOC)
    n: int = Field(100, ge=10, le=400, description="Points per axis")
    xmin: Coordinate | None = None
    xmax: Coordinate | None = None
    ymin: Coordinate | None = None
    ymax: Coordinate | None = None

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"surface": "rosenbrock", "n": 100}]}
    )


class SurfaceRequest(StrictModel):
    surface: SurfaceSpec = Field(description=SURFACE_DOC)

    model_config = ConfigDict(json_schema_extra={"examples": [{"surface": "himmelblau"}]})


class DescentRequest(StrictModel):
    surface: SurfaceSpec = Field(description=SURFACE_DOC)
    theta0: Theta | None = Field(None, description="Start point θ₀; default: the surface's")
    optimizer: OptimizerParams | None = Field(
        None, description="Optimizer and its hyperparameters; default: GD with the surface's η"
    )
    max_steps: int = Field(
        1000,
        ge=0,
        le=get_settings().max_steps,
        description="Stop after this many updates (at most the server's cap, DESCENT_MAX_STEPS)",
    )
    tol: float = Field(1e-6, ge=0.0, le=1e6, description="Converged when ‖∇L‖ ≤ tol")

    @field_validator("max_steps", mode="before")
    @classmethod
    def _integral_float_is_an_integer(cls, value: Any) -> Any:
        # JSON Schema counts 300.0 as an integer; strict mode alone would refuse it.
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "surface": "himmelblau",
                    "theta0": [-1.0, 1.0],
                    "optimizer": {"name": "gd", "eta": 0.01},
                    "max_steps": 1000,
                    "tol": 1e-6,
                }
            ]
        }
    )


DESCENT_EXAMPLES: dict[str, Any] = {
    "gd": {
        "summary": "Plain GD on Himmelblau",
        "value": {
            "surface": "himmelblau",
            "theta0": [-1.0, 1.0],
            "optimizer": {"name": "gd", "eta": 0.01},
            "max_steps": 1000,
            "tol": 1e-6,
        },
    },
    "adam": {
        "summary": "Adam on Rosenbrock",
        "value": {
            "surface": "rosenbrock",
            "theta0": [-1.5, 2.0],
            "optimizer": {"name": "adam", "eta": 0.05, "beta1": 0.9, "beta2": 0.999},
            "max_steps": 5000,
        },
    },
    "diverges": {
        "summary": "η above 2/λ: GD diverges",
        "value": {"surface": "quadratic", "theta0": [-2.5, 2.0], "optimizer": {"name": "gd", "eta": 1.1}},
    },
}


# --- responses -------------------------------------------------------------------------------


class DomainOut(BaseModel):
    x: list[float] = Field(description="[min, max]")
    y: list[float] = Field(description="[min, max]")


class MinimumOut(BaseModel):
    x: float
    y: float
    value: float
    kind: Literal["global", "local"]


class PointOut(BaseModel):
    x: float
    y: float
    value: float


class SurfaceOut(BaseModel):
    id: str
    name: str
    formula: str = Field(description="LaTeX")
    description: str = Field(description="What the surface teaches, in one sentence")
    domain: DomainOut
    minima: list[MinimumOut]
    saddles: list[PointOut]
    maxima: list[PointOut]
    default_start: list[float]
    default_eta: float = Field(description="A step size for GD that shows the surface well")
    log_colors: bool = Field(description="The values span decades: colour contours on a log scale")


class GridOut(BaseModel):
    x: list[float]
    y: list[float]
    z: list[list[float | None]] = Field(description="z[j][i] = f(x[i], y[j]); null if not finite")


class NearestMinimumOut(MinimumOut):
    distance: float


class FinalOut(BaseModel):
    theta: list[float]
    loss: float
    grad_norm: float


RunStatus = Literal["converged", "diverged", "max_steps"]


class DescentResult(BaseModel):
    status: RunStatus
    message: str
    steps: int = Field(description="Updates made; path, loss and grad hold θ_0 … θ_steps")
    path: list[list[float]]
    loss: list[float]
    grad: list[list[float]]
    final: FinalOut
    nearest_minimum: NearestMinimumOut | None


class StreamStart(BaseModel):
    type: Literal["start"]
    surface: str
    theta0: list[float]
    optimizer: dict[str, Any]
    max_steps: int
    tol: float


class StreamStep(BaseModel):
    type: Literal["step"]
    t: int
    theta: list[float]
    loss: float
    grad: list[float]


class StreamEnd(BaseModel):
    type: Literal["end"]
    status: RunStatus
    message: str
    steps: int
    final: FinalOut
    nearest_minimum: NearestMinimumOut | None


class ErrorOut(BaseModel):
    message: str = Field(description="What went wrong, for a person")
    detail: Any = Field(description="The same, structured (FastAPI's format)")


class HealthOut(BaseModel):
    status: Literal["ok"]
