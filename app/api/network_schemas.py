"""Request models of network runs (issue 18): an architecture, data, θ₀, an optimizer with its
schedule or line search, and what to report while training; a slice adds its plane.

Like every request model they forbid unknown fields and non-finite numbers, and every field that
sizes work has a cap (the caps are listed by GET /api/networks).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag

from app.api.dataset_schemas import DataIn, DatasetId, surface_tag
from app.api.schemas import OptimizerParams, StrictModel, Whole
from app.core.descent import DEFAULT_RULES
from app.core.networks import MAX_HIDDEN_LAYERS, MAX_NOISE, MAX_POINTS, MAX_WIDTH, Architecture

MAX_STEPS = 10_000  # training steps of one request
MAX_LANCZOS = 50  # Lanczos iterations of one sharpness estimate
MAX_SLICE_M = 101  # a slice's grid: at most m × m points
MAX_THETA = 1e6  # |θ₀ entries|, as a run's divergence threshold
# The most parameters a network can have under the width and depth caps (3 × 128 on 2-D data).
MAX_PARAMS = Architecture(2, (MAX_WIDTH,) * MAX_HIDDEN_LAYERS, 2, "tanh").n_params
DEFAULT_POINTS = {"chebyshev": 20, "moons": 200, "circles": 200, "xor": 200, "spirals": 300}

ToyName = Literal["moons", "circles", "xor", "spirals", "chebyshev"]


class ArchitectureIn(StrictModel):
    """A multilayer perceptron: inputs → hidden widths → outputs (inputs and outputs follow from
    the data), with `activation` after each hidden layer."""

    hidden: list[Annotated[Whole, Field(ge=1, le=MAX_WIDTH)]] = Field(
        default_factory=lambda: [32],
        min_length=1,
        max_length=MAX_HIDDEN_LAYERS,
        description=f"Widths of the hidden layers: 1–{MAX_HIDDEN_LAYERS} layers, each "
        f"1–{MAX_WIDTH} units",
    )
    activation: Literal["tanh", "relu", "gelu"] = Field("tanh", description="tanh, relu or gelu")


class ToyDataIn(StrictModel):
    """A seeded toy dataset: two moons, circles, XOR or spirals (2-D, two classes, trained with
    cross-entropy), or Chebyshev (targets T₄(x) on evenly spaced x in [−1, 1], ½·MSE)."""

    dataset: ToyName = Field(description="moons, circles, xor, spirals or chebyshev")
    points: Annotated[Whole, Field(ge=2, le=MAX_POINTS)] | None = Field(
        None, description="How many points; default: the dataset's (GET /api/networks)"
    )
    noise: Annotated[float, Field(ge=0.0, le=MAX_NOISE)] | None = Field(
        None,
        description="Gaussian noise on the inputs (or Chebyshev's targets); default: the set's",
    )
    seed: Whole = Field(0, ge=0, le=2**32 - 1, description="Seeds the points and their noise")


class PointsDataIn(StrictModel):
    """The regression surfaces' 1-D data for a network: `logistic` data (labels 0/1) as a
    two-class classification, `linear` data as a 1-D regression; a built-in `dataset` or inline
    `data` (e.g. from POST /api/datasets)."""

    kind: Literal["logistic", "linear"]
    dataset: DatasetId | None = Field(None, description="A built-in dataset (GET /api/datasets)")
    data: DataIn | None = Field(None, description=f"Inline points (at most {MAX_POINTS:,})")


def _data_tag(value: Any) -> str | None:
    return "points" if surface_tag(value) == "dataset" or isinstance(value, PointsDataIn) else "toy"


NetworkDataIn = Annotated[
    Annotated[ToyDataIn, Tag("toy")] | Annotated[PointsDataIn, Tag("points")],
    Discriminator(
        _data_tag,
        custom_error_type="data_type",
        custom_error_message='Input should be {"dataset": "moons"} (a toy set) or '
        '{"kind": "logistic" | "linear", ...} (1-D data)',
    ),
]


class InitIn(StrictModel):
    """θ₀: PyTorch's default nn.Linear initialisation drawn from `seed`, or `theta` itself (laid
    out as torch.nn.utils.parameters_to_vector flattens the nn.Sequential)."""

    seed: Whole = Field(0, ge=0, le=2**32 - 1, description="Seeds θ₀ when `theta` is not given")
    theta: list[Annotated[float, Field(ge=-MAX_THETA, le=MAX_THETA)]] | None = Field(
        None,
        max_length=MAX_PARAMS,
        description="θ₀ itself: one number per parameter (see the start line's layout)",
    )


class NetworkResumeIn(StrictModel):
    """Everything needed to continue a network run: copy `resume` from an end line."""

    optimizer: str = Field(description="The optimizer that made the state")
    t: Whole = Field(ge=0, le=1_000_000_000, description="Steps so far (the schedule's position)")
    theta: list[Annotated[float, Field(ge=-MAX_THETA, le=MAX_THETA)]] = Field(max_length=MAX_PARAMS)
    state: dict[str, Any] = Field(description="The optimizer's state: step count and buffers")


class NetworkRunRequest(StrictModel):
    architecture: ArchitectureIn = Field(default_factory=lambda: ArchitectureIn.model_validate({}))
    data: NetworkDataIn = Field(
        default_factory=lambda: ToyDataIn.model_validate({"dataset": "chebyshev"}),
        description='{"dataset": "moons"} (toy sets: moons, circles, xor, spirals, chebyshev) '
        'or 1-D data {"kind": "logistic", "dataset": "overlap"}; the loss follows: '
        "cross-entropy for classes, ½·mean squared error for regression",
    )
    init: InitIn = Field(
        default_factory=lambda: InitIn.model_validate({}), description="θ₀: a seed, or θ₀ itself"
    )
    optimizer: OptimizerParams | None = Field(
        None,
        description="Any first-order optimizer of GET /api/optimizers, with its schedule (and "
        "for GD a line search); default GD with η = 0.1. Newton's method is refused",
    )
    max_steps: Whole = Field(1000, ge=0, le=MAX_STEPS, description="Stop after this many updates")
    tol: float = Field(DEFAULT_RULES.tol, ge=0.0, le=1e6, description="Converged when ‖∇L‖ ≤ tol")
    batch_size: Annotated[Whole, Field(ge=1, le=MAX_POINTS)] | None = Field(
        None,
        description="Minibatch SGD: each update uses the gradient on `batch_size` points "
        "(reshuffled every epoch); loss and ‖∇L‖ are reported on all the data. Default: full batch",
    )
    seed: Whole = Field(0, ge=0, le=2**32 - 1, description="Seeds the minibatch shuffle")
    sharpness_every: Whole = Field(
        0, ge=0, le=MAX_STEPS, description="Measure λ_max of the Hessian every k steps (0: never)"
    )
    sharpness_iterations: Whole = Field(
        20, ge=1, le=MAX_LANCZOS, description="Lanczos iterations of each sharpness estimate"
    )
    theta_every: Whole = Field(
        0, ge=0, le=MAX_STEPS, description="Send θ_t every k steps (0: only the final θ)"
    )
    resume: NetworkResumeIn | None = Field(
        None,
        description="Continue from an end line's `resume` (θ₀ is then ignored); the same "
        "optimizer keeps its state, another starts afresh",
    )


NETWORK_RUN_EXAMPLES: dict[str, Any] = {
    "edge_of_stability": {
        "summary": "Chebyshev, full-batch GD at η = 0.15: the sharpness meets 2/η",
        "value": {
            "architecture": {"hidden": [32], "activation": "tanh"},
            "data": {"dataset": "chebyshev", "points": 20},
            "init": {"seed": 0},
            "optimizer": {"name": "gd", "eta": 0.15},
            "max_steps": 4000,
            "tol": 0.0,
            "sharpness_every": 5,
            "sharpness_iterations": 10,
        },
    },
    "moons_adam": {
        "summary": "Two moons with Adam, θ_t every 50 steps",
        "value": {
            "architecture": {"hidden": [16, 16], "activation": "relu"},
            "data": {"dataset": "moons", "points": 200, "noise": 0.1, "seed": 0},
            "optimizer": {"name": "adam", "eta": 0.01},
            "max_steps": 500,
            "theta_every": 50,
        },
    },
    "sgd_logistic": {
        "summary": "Minibatch SGD on the built-in logistic data",
        "value": {
            "architecture": {"hidden": [8]},
            "data": {"kind": "logistic", "dataset": "overlap"},
            "optimizer": {"name": "gd", "eta": 0.5},
            "batch_size": 16,
            "seed": 1,
            "max_steps": 300,
        },
    },
}


class NetworkSliceRequest(StrictModel):
    run: NetworkRunRequest = Field(
        description="The run to slice, as sent to POST /api/networks/train; it is retrained "
        "(deterministically: the same run gives the same path)"
    )
    plane: Literal["pca", "random"] = Field(
        "pca",
        description="pca: the first two principal components of the trajectory; random: two "
        "filter-normalised Gaussian directions",
    )
    m: Whole = Field(41, ge=2, le=MAX_SLICE_M, description="Grid points per axis")
    through: Annotated[Whole, Field(ge=0, le=MAX_STEPS)] | None = Field(
        None, description="The plane passes through θ at this step; default: the final θ"
    )
    seed: Whole = Field(0, ge=0, le=2**32 - 1, description="Seeds the random directions")


NETWORK_SLICE_EXAMPLES: dict[str, Any] = {
    "pca": {
        "summary": "PCA slice of a moons run",
        "value": {
            "run": {
                "architecture": {"hidden": [16]},
                "data": {"dataset": "moons", "points": 200},
                "optimizer": {"name": "gd", "eta": 0.5},
                "max_steps": 300,
            },
            "plane": "pca",
            "m": 41,
        },
    },
    "random": {
        "summary": "Random filter-normalised slice of the same run",
        "value": {
            "run": {
                "architecture": {"hidden": [16]},
                "data": {"dataset": "moons", "points": 200},
                "optimizer": {"name": "gd", "eta": 0.5},
                "max_steps": 300,
            },
            "plane": "random",
            "m": 41,
            "seed": 0,
        },
    },
}


class NetworkRunOut(BaseModel):
    """A whole run: the stream's start line, its step lines and its end line, as objects."""

    start: dict[str, Any]
    steps: list[dict[str, Any]]
    end: dict[str, Any]


class TrajectoryOut(BaseModel):
    t: list[int] = Field(
        description="Step of each kept iterate (every `every` steps, and the last)"
    )
    alpha: list[float] = Field(description="Its projection's coordinate along the first direction")
    beta: list[float]
    distance: list[float] = Field(description="Its distance from the plane")
    offset: list[float] = Field(description="Its distance from the plane's centre")
    true_loss: list[float | None] = Field(description="L(θ_t)")
    plane_loss: list[float | None] = Field(description="L at its projection: the drawn height")


class FaithfulnessOut(BaseModel):
    variance_in_plane: float = Field(description="Share of the path's variance inside the plane")
    tolerance: float = Field(description="|true − drawn| above this counts as misleading")
    misleading: list[list[int]] = Field(description="Stretches of steps [first, last] that do")
    message: str = Field(description="The verdict in words")


class NetworkSliceOut(BaseModel):
    plane: Literal["pca", "random"]
    through: int = Field(description="The step whose θ is the plane's centre (α = β = 0)")
    m: int
    alpha: list[float] = Field(description="m values along the first direction")
    beta: list[float] = Field(description="m values along the second direction")
    loss: list[list[float | None]] = Field(
        description="loss[j][i] at (alpha[i], beta[j]); null where not a finite number"
    )
    explained_variance: list[float] | None = Field(
        description="PCA: the share of the path's variance along each direction"
    )
    every: int = Field(description="The path is kept every this many steps (and its last step)")
    trajectory: TrajectoryOut
    faithfulness: FaithfulnessOut
    run: dict[str, Any] = Field(description="status, message and steps of the retrained run")


MAX_NOISE_STEPS = 20_000  # SGD steps from θ* that measure the cloud


class NetworkNoiseRequest(StrictModel):
    run: NetworkRunRequest = Field(
        description="The run whose final θ is taken as the minimum θ*, as sent to POST "
        "/api/networks/train: train it to convergence (e.g. full-batch GD with a small tol)"
    )
    eta: Annotated[float, Field(gt=0.0, le=1e4)] | None = Field(
        None, description="SGD's step size around θ*; default: the run's η"
    )
    batch_size: Whole = Field(ge=1, le=MAX_POINTS, description="SGD's batch size B")
    sampling: Literal["with_replacement", "without_replacement"] = Field(
        "with_replacement",
        description="Fresh batches every step: with replacement (C/B) or a fresh subset of "
        "distinct points ((n − B)/(B(n − 1))·C)",
    )
    plane: Literal["steepest", "widest", "pca", "random"] = Field(
        "steepest",
        description="The plane through θ* the cloud is shown on: steepest = the Hessian's two "
        "largest curvatures (where SGD settles fastest); widest = the predicted Σ's two largest "
        "axes (often flat directions, which a run takes very long to fill); pca and random = "
        "the planes of POST /api/networks/slice through the final θ (random seeded by `seed`)",
    )
    measure_steps: Whole = Field(
        4000,
        ge=0,
        le=MAX_NOISE_STEPS,
        description="SGD steps from θ* whose second half measures the cloud (0: predict only)",
    )
    seed: Whole = Field(
        0, ge=0, le=2**32 - 1, description="Seeds the batches (and a random plane's directions)"
    )


NETWORK_NOISE_EXAMPLES: dict[str, Any] = {
    "chebyshev": {
        "summary": "The cloud of SGD (B = 1) around a Chebyshev fit trained by Adam",
        "value": {
            "run": {
                "architecture": {"hidden": [3], "activation": "tanh"},
                "data": {"dataset": "chebyshev", "points": 60, "noise": 0.5},
                "optimizer": {"name": "adam", "eta": 0.01},
                "max_steps": 5000,
                "tol": 1e-7,
            },
            "eta": 0.05,
            "batch_size": 1,
            "measure_steps": 6000,
        },
    }
}
