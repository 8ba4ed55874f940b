"""Request and response of POST /api/noise: SGD's noise cloud around θ*, predicted and measured."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas import SURFACE_DOC, Eta, StrictModel, SurfaceSpec, Theta, Whole
from app.core.data import Sampling
from app.settings import get_settings

Matrix = list[list[float]]
MAX_BATCH = 10_000  # the data's row cap: a larger batch is the whole data anyway

SAMPLING_DOC = (
    "How each step's batch is chosen. `with_replacement`: B indices drawn independently, "
    "c_B = 1/B. `without_replacement`: a fresh subset of B distinct points every step, "
    "c_B = (n − B)/(B(n − 1)) (the finite-population correction). `epoch`: the default of "
    "POST /api/descent, reshuffled every epoch and cut in order; its steps are dependent (their "
    "noises sum to zero over an epoch), no c_B describes it exactly, and the prediction shown is "
    "the fresh subset's, which overestimates its cloud (measured ~0.8× at B = 1, less as B grows)"
)

EXAMPLE: dict[str, Any] = {
    "surface": {"kind": "linear", "dataset": "trend", "standardize": True},
    "eta": 0.05,
    "batch_size": 4,
    "sampling": "with_replacement",
    "run": {"theta0": [0.0, 0.0], "max_steps": 4000, "seed": 1},
}


class NoiseRun(StrictModel):
    """An SGD run to measure the cloud on: GD at the request's η, batch size and sampling, with
    exactly the path POST /api/descent gives for the same settings."""

    theta0: Theta | None = Field(None, description="θ₀; default: the surface's")
    max_steps: Whole = Field(
        4000, ge=2, le=get_settings().max_steps, description="Steps (the server's cap at most)"
    )
    seed: Whole = Field(0, ge=0, le=2**32 - 1, description="Seeds the batches")
    tol: float = Field(
        0.0, ge=0.0, le=1e6, description="Stop when the full ‖∇L‖ ≤ tol, as a descent does"
    )


class NoiseRequest(StrictModel):
    surface: SurfaceSpec = Field(description=SURFACE_DOC + ". It must be a dataset surface")
    eta: Eta
    batch_size: Annotated[Whole, Field(ge=1, le=MAX_BATCH)] = Field(
        description="B, the points per step (larger than the data: all of it)"
    )
    sampling: Sampling = Field("with_replacement", description=SAMPLING_DOC)
    run: NoiseRun | None = Field(
        None, description="Run SGD and measure its cloud over the run's second half"
    )

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})


NOISE_EXAMPLES: dict[str, Any] = {
    "measured": {"summary": "Predict and measure, B = 4 with replacement", "value": EXAMPLE},
    "predicted": {
        "summary": "Only the prediction, logistic regression, fresh subsets of 8",
        "value": {
            "surface": {"kind": "logistic", "dataset": "overlap"},
            "eta": 0.5,
            "batch_size": 8,
            "sampling": "without_replacement",
        },
    },
}


class CovarianceOut(BaseModel):
    sigma: Matrix = Field(description="The 2 × 2 covariance (second moment about θ*)")
    trace: float = Field(description="tr Σ")


class EllipseOut(BaseModel):
    k: float = Field(description="The ellipse (θ − θ*)ᵀ Σ⁻¹ (θ − θ*) = k²")
    points: Matrix = Field(description="A closed polyline [[w, b], …]")


class PredictedOut(CovarianceOut):
    ellipses: list[EllipseOut] = Field(description="1σ and 2σ of the predicted Σ, around θ*")


class NoiseScaleOut(BaseModel):
    at_theta0: float | None = Field(
        description="B_simple = tr C/|G|² at θ₀ (null where ∇L = 0 there)"
    )
    theta0: list[float]
    at_optimum: None = Field(description="Always null: ∇L(θ*) = 0, so B_simple is unbounded")
    message: str


class MeasuredOut(CovarianceOut):
    from_t: int = Field(description="The first iterate measured (the second half of the run)")
    to_t: int = Field(description="The last iterate measured")
    ratio: float | None = Field(
        description="Measured tr Σ over predicted tr Σ (null when the prediction is 0: no noise)"
    )
    path: Matrix = Field(description="The iterates measured (the cloud), [[w, b], …]")
    status: str = Field(description="How the run ended, as POST /api/descent says it")


class NoiseOut(BaseModel):
    theta_star: list[float] = Field(description="θ* = (w, b)")
    hessian: Matrix = Field(description="H = ∇²L(θ*)")
    gradient: list[float] = Field(description="G = ∇L(θ*): zero up to rounding")
    noise: Matrix = Field(description="C, the per-example gradients' covariance at θ* (1/n)")
    n: int = Field(description="Points in the data")
    eta: float
    batch_size: int = Field(description="B (at most n)")
    sampling: Sampling
    factor: float = Field(description="c_B: the minibatch mean gradient's covariance is c_B·C")
    equation: str = Field(description="The equation Σ solves, with its numbers")
    eta_limit: float = Field(description="2/λ_max(H): Σ exists for η below it")
    predicted: PredictedOut = Field(description="Σ of the discrete Lyapunov equation")
    exact: CovarianceOut | None = Field(
        description="Least squares: the exact stationary second moment (random minibatch "
        "Hessian included); null for logistic or where SGD is not mean-square stable"
    )
    exact_note: str = Field(description="Why `exact` is null, in words ('' otherwise)")
    noise_scale: NoiseScaleOut
    measured: MeasuredOut | None = Field(description="The run's cloud, if `run` was given")
    note: str = Field(description="What the prediction assumes for this sampling, in words")
    message: str = Field(description="The result in a sentence")
