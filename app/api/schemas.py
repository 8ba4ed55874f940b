"""Request and response models: the API's contract, validated at the edge.

Every request model forbids unknown fields and non-finite numbers. The optimizers' models are
generated from the core's catalogue (app/core/descent/catalogue.py), as the resume models are
from the core's state types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    create_model,
    model_validator,
)

from app.api.dataset_schemas import DataFitOut, DatasetSurface, surface_tag
from app.core.data import Sampling
from app.core.descent import (
    CATALOGUE,
    DEFAULT_RULES,
    ETA,
    MAX_ETA,
    STATE_TYPES,
    Bounds,
    Hyperparameter,
    OptimizerSpec,
    Status,
)
from app.core.formulas import MAX_LENGTH as MAX_EXPRESSION_LENGTH
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


def _integral_float_to_int(value: Any) -> Any:
    # JSON Schema counts 300.0 as an integer; strict mode alone would refuse it.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer that may arrive written as 300.0; booleans and 2.5 are still refused.
Whole = Annotated[int, BeforeValidator(_integral_float_to_int)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


Coordinate = Annotated[float, Field(ge=-MAX_ABS_COORDINATE, le=MAX_ABS_COORDINATE)]
Theta = Annotated[
    list[Coordinate],
    Field(min_length=2, max_length=2, description="A point (x, y)", examples=[[-1.0, 1.0]]),
]


def _limits(bounds: Bounds) -> dict[str, Any]:
    """A core interval as Pydantic's ge/gt/le/lt."""
    out: dict[str, Any] = {}
    if bounds.min is not None:
        out["gt" if bounds.min_exclusive else "ge"] = bounds.min
    if bounds.max is not None:
        out["lt" if bounds.max_exclusive else "le"] = bounds.max
    return out


Eta = Annotated[float, Field(**_limits(ETA), description="Step size η (learning rate)")]


class ConstantSchedule(StrictModel):
    """η_t = η."""

    name: Literal["constant"]


class StepSchedule(StrictModel):
    """torch's StepLR: η_t = η · gamma^⌊t / step_size⌋."""

    name: Literal["step"]
    step_size: Whole = Field(10, ge=1, le=1_000_000)
    gamma: float = Field(0.1, gt=0.0, le=1.0)


class ExponentialSchedule(StrictModel):
    """torch's ExponentialLR: η_t = η · gamma^t."""

    name: Literal["exponential"]
    gamma: float = Field(0.99, gt=0.0, le=1.0)


class CosineSchedule(StrictModel):
    """torch's CosineAnnealingLR: η_t = eta_min + (η − eta_min)(1 + cos(π t / t_max)) / 2."""

    name: Literal["cosine"]
    t_max: Whole = Field(100, ge=1, le=1_000_000)
    eta_min: float = Field(0.0, ge=0.0, le=MAX_ETA)


class InverseSqrtSchedule(StrictModel):
    """η_t = η · min((t+1)/warmup, √(warmup/(t+1))); with warmup = 0, η/√(t+1)."""

    name: Literal["inverse_sqrt"]
    warmup: Whole = Field(0, ge=0, le=1_000_000)


SCHEDULE_MODELS: tuple[type[StrictModel], ...] = (
    ConstantSchedule,
    StepSchedule,
    ExponentialSchedule,
    CosineSchedule,
    InverseSqrtSchedule,
)
ScheduleParams = Annotated[
    ConstantSchedule | StepSchedule | ExponentialSchedule | CosineSchedule | InverseSqrtSchedule,
    Field(discriminator="name", description="Step-size schedule, stepped once per iteration"),
]


class LineSearchParams(StrictModel):
    """Backtracking: shrink the trial step until L(θ − η∇L) ≤ L(θ) − c·η·‖∇L‖² (Armijo)."""

    c: float = Field(1e-4, gt=0.0, lt=1.0)
    shrink: float = Field(0.5, gt=0.0, lt=1.0)


class OptimizerBase(StrictModel):
    schedule: ScheduleParams | None = None


def _hyperparameter_field(h: Hyperparameter) -> tuple[Any, Any]:
    if h.bounds is None:
        return (bool, h.default)
    return (float, Field(h.default, **_limits(h.bounds)))


def _optimizer_model(spec: OptimizerSpec) -> type[OptimizerBase]:
    """The request model of one optimizer, e.g. AdamParams, built from its catalogue entry."""
    fields: dict[str, Any] = {
        "name": (Literal[spec.name], ...),
        "eta": (Eta, spec.default_eta),
    }
    if spec.line_search:
        fields["line_search"] = (LineSearchParams | None, None)
    fields.update({h.name: _hyperparameter_field(h) for h in spec.hyperparameters})
    return create_model(
        f"{spec.type_name}Params", __base__=OptimizerBase, __doc__=spec.description, **fields
    )


# One request model per optimizer of the core's catalogue, by name and in its order.
OPTIMIZER_MODELS: dict[str, type[OptimizerBase]] = {
    spec.name: _optimizer_model(spec) for spec in CATALOGUE
}

if TYPE_CHECKING:  # what the type checker knows of the generated models

    class OptimizerParams(OptimizerBase):
        name: str
        eta: float

    class GDParams(OptimizerParams):
        line_search: LineSearchParams | None = None

else:
    GDParams = OPTIMIZER_MODELS["gd"]  # the default optimizer, and the one with a line search
    OptimizerParams = Annotated[
        Union[tuple(OPTIMIZER_MODELS.values())],  # noqa: UP007
        Field(discriminator="name"),
    ]


# --- formulas (issue 5) ---------------------------------------------------------------------

Range = Annotated[list[Coordinate], Field(min_length=2, max_length=2, description="[min, max]")]


class DomainIn(StrictModel):
    """The rectangle a formula is plotted and searched on: min < max on both axes."""

    x: Range
    y: Range

    @model_validator(mode="after")
    def _ordered(self) -> DomainIn:
        for name, (lo, hi) in (("x", self.x), ("y", self.y)):
            if not lo < hi:
                raise ValueError(f"the {name} range [{lo:g}, {hi:g}] needs min < max")
        return self


EXPRESSION_DOC = (
    "A formula f(x, y) in Python syntax: numbers, x, y, pi, e, + - * / ** (x**2, not x^2), "
    "parentheses and sin cos tan asin acos atan sinh cosh tanh exp log ln sqrt abs. "
    f"At most {MAX_EXPRESSION_LENGTH} characters."
)


class ExpressionSurface(StrictModel):
    """A surface typed as a formula, with its domain (default [-5, 5] × [-5, 5])."""

    expression: str = Field(
        min_length=1,
        max_length=MAX_EXPRESSION_LENGTH,
        description=EXPRESSION_DOC,
        examples=["sin(x)*cos(y) + 0.1*(x**2 + y**2)"],
    )
    domain: DomainIn = Field(
        default_factory=lambda: DomainIn(x=[-5.0, 5.0], y=[-5.0, 5.0]),
        description="Plot and search rectangle",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "expression": "(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
                    "domain": {"x": [-5.0, 5.0], "y": [-5.0, 5.0]},
                }
            ]
        }
    )


# A surface is a preset id or an object that describes one (a formula, a dataset loss), told
# apart by `surface_tag`. Every endpoint that takes a surface accepts all of them: see
# app/api/resolve.py.
SurfaceSpec = Annotated[
    Annotated[SurfaceId, Tag("preset")]
    | Annotated[ExpressionSurface, Tag("formula")]
    | Annotated[DatasetSurface, Tag("dataset")],
    Discriminator(
        surface_tag,
        custom_error_type="surface_type",
        custom_error_message="Input should be a preset id or an object describing a surface",
    ),
]

SURFACE_DOC = (
    "Id of a preset surface (see GET /api/surfaces), or a formula: "
    '{"expression": "x**2 + 3*y**2", "domain": {"x": [-3, 3], "y": [-3, 3]}}, '
    'or a model\'s loss on data: {"kind": "logistic", "dataset": "overlap"}'
)


Precision = Literal["double", "single"]
PRECISION_DOC = (
    "z's precision: `double` (the default) gives every value exactly (the shortest text that "
    "reads back as the same float64); `single` rounds z to float32 (about 7 significant digits, "
    "half the bytes), which is plenty to draw it"
)


class GridRequest(StrictModel):
    surface: SurfaceSpec = Field(description=SURFACE_DOC)
    n: Whole = Field(100, ge=10, le=400, description="Points per axis")
    xmin: Coordinate | None = None
    xmax: Coordinate | None = None
    ymin: Coordinate | None = None
    ymax: Coordinate | None = None
    precision: Precision = Field("double", description=PRECISION_DOC)

    model_config = ConfigDict(json_schema_extra={"examples": [{"surface": "rosenbrock", "n": 100}]})


class SurfaceRequest(StrictModel):
    surface: SurfaceSpec = Field(description=SURFACE_DOC)

    model_config = ConfigDict(json_schema_extra={"examples": [{"surface": "himmelblau"}]})


Pair = Annotated[list[float], Field(min_length=2, max_length=2)]


def _resume_model(
    optimizer: str, state_name: str, state_fields: tuple[str, ...]
) -> type[StrictModel]:
    """`resume` for one optimizer: its state's fields, typed (from the core's NamedTuple of the
    state, its name and fields)."""
    fields: dict[str, Any] = {
        # Capped like `t`: an unbounded step count overflowed the JSON encoder (a 500).
        name: (Whole, Field(ge=0, le=1_000_000_000))
        if name == "step"
        else ((float, Field(ge=0.0, le=1e9)) if name == "damped_steps" else (Pair, ...))
        for name in state_fields
    }
    state = create_model(f"{state_name}In", __base__=StrictModel, **fields)
    tag: Any = Literal[optimizer]  # a Literal made at run time: no static type
    return create_model(
        f"Resume{optimizer.title()}",
        __base__=StrictModel,
        __doc__="Everything needed to continue a run: copy `resume` from a response's end.",
        optimizer=(tag, Field(description="The optimizer that made the state")),
        t=(
            Whole,
            Field(ge=0, le=1_000_000_000, description="Steps so far (the schedule's position)"),
        ),
        theta=(Theta, ...),
        state=(state, Field(description="The optimizer's state: step count, velocity, moments…")),
    )


if TYPE_CHECKING:  # what the type checker knows of the generated models

    class ResumeIn(StrictModel):
        optimizer: str
        t: int
        theta: Theta
        state: StrictModel

else:
    ResumeIn = Annotated[
        Union[  # noqa: UP007
            tuple(
                _resume_model(name, cls.__name__, cls._fields) for name, cls in STATE_TYPES.items()
            )
        ],
        Field(discriminator="optimizer"),
    ]


class DescentRequest(StrictModel):
    surface: SurfaceSpec = Field(description=SURFACE_DOC)
    theta0: Theta | None = Field(None, description="Start point θ₀; default: the surface's")
    optimizer: OptimizerParams | None = Field(
        None, description="Optimizer and its hyperparameters; default: GD with the surface's η"
    )
    max_steps: Whole = Field(
        DEFAULT_RULES.max_steps,
        ge=0,
        le=get_settings().max_steps,
        description="Stop after this many updates (at most the server's cap, DESCENT_MAX_STEPS)",
    )
    tol: float = Field(DEFAULT_RULES.tol, ge=0.0, le=1e6, description="Converged when ‖∇L‖ ≤ tol")
    resume: ResumeIn | None = Field(
        None,
        description="Continue a run from its `resume` object (θ₀ is then ignored); the new "
        "optimizer settings apply from here, and `max_steps` counts the new steps",
    )
    batch_size: Annotated[Whole, Field(ge=1, le=10_000)] | None = Field(
        None,
        description="Minibatch SGD, for a dataset surface: each update uses the gradient on "
        "`batch_size` points (the data are reshuffled every epoch); the path, its loss and "
        "‖∇L‖ (which decides convergence) are those of the full data. Default: full batch",
    )
    seed: Whole = Field(
        0, ge=0, le=2**32 - 1, description="Seeds the minibatch shuffle: same seed, same path"
    )
    sampling: Sampling = Field(
        "epoch",
        description="How a minibatch is chosen: `epoch` reshuffles the data every epoch and "
        "cuts it into batches in order; `with_replacement` draws B indices independently each "
        "step; `without_replacement` draws a fresh subset of B points each step",
    )

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
    "schedule": {
        "summary": "GD with a step-decay schedule",
        "value": {
            "surface": "ravine",
            "optimizer": {
                "name": "gd",
                "eta": 0.05,
                "schedule": {"name": "step", "step_size": 20, "gamma": 0.5},
            },
        },
    },
    "line_search": {
        "summary": "GD with backtracking line search",
        "value": {
            "surface": "rosenbrock",
            "optimizer": {"name": "gd", "eta": 1.0, "line_search": {"c": 1e-4, "shrink": 0.5}},
        },
    },
    "newton": {
        "summary": "Newton's method: one step on a quadratic",
        "value": {"surface": "ravine", "optimizer": {"name": "newton"}},
    },
    "resume": {
        "summary": "Continue a run with a new η",
        "value": {
            "surface": "himmelblau",
            "optimizer": {"name": "gd", "eta": 0.005},
            "resume": {
                "t": 5,
                "theta": [-2.41888, 3.03554],
                "optimizer": "gd",
                "state": {"step": 5},
            },
        },
    },
    "diverges": {
        "summary": "η above 2/λ: GD diverges",
        "value": {
            "surface": "quadratic",
            "theta0": [-2.5, 2.0],
            "optimizer": {"name": "gd", "eta": 1.1},
        },
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


class StationaryPointOut(BaseModel):
    x: float
    y: float
    value: float
    kind: Literal["minimum", "maximum", "saddle"] = Field(
        description="From the Hessian's eigenvalues (both > 0, both < 0, mixed)"
    )
    degenerate: bool = Field(
        description="An eigenvalue is ~0: the kind was read from nearby values of f instead"
    )
    eigenvalues: list[float] = Field(description="Of the Hessian there, ascending")


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
    stationary_points: list[StationaryPointOut] = Field(
        description="Every point in the domain where ∇f = 0, found by Newton's method from many "
        "starts: minima first, then saddles, then maxima, each by increasing value"
    )
    note: str = Field("", description="A caveat in words, e.g. why no minimum is marked")
    data: DataFitOut | None = Field(
        None, description="For a dataset surface: the data, θ* and how to draw the model"
    )
    parameters: list[str] = Field(
        ["x", "y"],
        description="The names of θ's two coordinates: w and b for a model on data, else x and y",
    )


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


RunStatus = Status  # the status names of app.core.descent.stopping


class ResumeOut(BaseModel):
    t: int
    theta: list[float]
    optimizer: str
    state: dict[str, int | float | list[float]]


class DescentResult(BaseModel):
    status: RunStatus
    message: str
    steps: int = Field(description="Updates made; path, loss and grad hold θ_0 … θ_steps")
    start_t: int = Field(description="t of the first iterate: 0, or where a resumed run began")
    path: list[list[float]]
    loss: list[float]
    grad: list[list[float]]
    eta: list[float] = Field(description="eta[k]: the step size used from path[k] to path[k+1]")
    final: FinalOut
    nearest_minimum: NearestMinimumOut | None
    resume: ResumeOut


class StreamStart(BaseModel):
    type: Literal["start"]
    surface: str
    theta0: list[float]
    optimizer: dict[str, Any]
    max_steps: int
    tol: float
    batch_size: int | None = Field(None, description="Minibatch size; null for full batch")
    seed: int | None = Field(None, description="The minibatch seed; null for full batch")
    sampling: str | None = Field(None, description="How batches are drawn; null for full batch")


class StreamStep(BaseModel):
    type: Literal["step"]
    t: int
    theta: list[float]
    loss: float
    grad: list[float]
    eta: float | None = Field(description="Step size used to leave θ_t; null on the last step")


class StreamEnd(BaseModel):
    type: Literal["end"]
    status: RunStatus
    message: str
    steps: int
    final: FinalOut
    nearest_minimum: NearestMinimumOut | None
    resume: ResumeOut


class ErrorOut(BaseModel):
    message: str = Field(description="What went wrong, for a person")
    detail: Any = Field(description="The same, structured (FastAPI's format)")


class HealthOut(BaseModel):
    status: Literal["ok"]


class TypesetOut(BaseModel):
    text: str = Field(description="Canonical text in the formula language")
    latex: str
    mathml: str = Field(description="A complete presentation-MathML <math> element")


class ExpressionOut(BaseModel):
    expression: str = Field(description="The canonical form of the formula")
    f: TypesetOut
    gradient: list[TypesetOut] = Field(description="[∂f/∂x, ∂f/∂y]")
    hessian: list[str] = Field(description="[f_xx, f_xy, f_yy], canonical text")
    domain: DomainOut
    stationary_points: list[StationaryPointOut]
    surface: SurfaceOut = Field(
        description="The description every surface has (as POST /api/surface returns it)"
    )
