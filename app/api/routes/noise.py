"""POST /api/noise: the cloud minibatch SGD keeps jittering in around θ*, predicted (Lyapunov, and
exactly for least squares) and, for a run, measured over its second half."""

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Body, HTTPException

from app.api.deps import SettingsDep
from app.api.noise_schemas import NOISE_EXAMPLES, NoiseOut, NoiseRequest, NoiseRun
from app.api.resolve import resolve_surface
from app.api.routes.descent import BAD_INPUT, whole_run
from app.api.schemas import DescentRequest
from app.core.data import (
    Cloud,
    DataFit,
    NoiseError,
    ellipse,
    measured,
    noise_scale,
    predict_cloud,
)
from app.core.surfaces import Surface
from app.core.text import num
from app.settings import Settings

router = APIRouter(prefix="/api", tags=["noise"])

NOT_DATA = (
    "The noise cloud needs a dataset surface (a model on data, e.g. "
    '{"kind": "linear", "dataset": "trend"}): SGD\'s noise comes from sampling the data\'s points, '
    "and a preset or a formula has no points to sample."
)
NOTES = {
    "with_replacement": "Batches of B indices drawn independently (repeats allowed): c_B = 1/B.",
    "without_replacement": "A fresh subset of B distinct points every step: c_B = (n − B)/(B(n − "
    "1)), smaller than 1/B, and 0 when the batch is all the data.",
    "epoch": "Reshuffled every epoch and cut in order: the steps are not independent (their "
    "noises cancel over an epoch), so no Lyapunov equation describes it exactly. The prediction "
    "shown is the fresh subset's, an overestimate (about 0.8× at B = 1, less as B grows).",
}


def _matrix(a: np.ndarray) -> list[list[float]]:
    return [[float(v) for v in row] for row in a]


def _fit(surface: Surface) -> DataFit:
    if surface.data is None:
        raise HTTPException(422, NOT_DATA)
    fit: DataFit = surface.data
    return fit


def _measure(
    request: NoiseRequest, run: NoiseRun, cloud: Cloud, settings: Settings
) -> dict[str, Any]:
    descent = DescentRequest.model_validate(
        {
            "surface": request.model_dump(mode="json")["surface"],
            "theta0": run.theta0,
            "optimizer": {"name": "gd", "eta": request.eta},
            "max_steps": run.max_steps,
            "tol": run.tol,
            "batch_size": request.batch_size,
            "seed": run.seed,
            "sampling": request.sampling,
        },
        strict=False,
    )
    result = whole_run(descent, settings)  # the path POST /api/descent gives, its checks too
    path = np.array(result["path"])
    if result["status"] == "diverged" or len(path) < 4:
        raise HTTPException(
            422,
            f"The run {result['status']} after {result['steps']} steps, which leaves no cloud to "
            f"measure: {result['message']}",
        )
    sigma = measured(path, cloud.optimum)
    first = len(path) // 2
    trace, predicted = float(np.trace(sigma)), float(np.trace(cloud.predicted))
    return {
        "sigma": _matrix(sigma),
        "trace": trace,
        "from_t": result["start_t"] + first,
        "to_t": result["start_t"] + len(path) - 1,
        "ratio": trace / predicted if predicted > 0.0 else None,
        "path": path[first:].tolist(),
        "status": result["status"],
    }


def _scale(fit: DataFit, theta0: np.ndarray) -> dict[str, Any]:
    at = noise_scale(fit, theta0)
    where = f"at θ₀ = ({num(float(theta0[0]))}, {num(float(theta0[1]))})"
    said = (
        f"B_simple = tr C/|G|² is {num(at)} {where}: batches much larger than that barely speed up "
        "the first steps."
        if at is not None
        else f"∇L is zero {where}, so B_simple is unbounded there."
    )
    return {
        "at_theta0": at,
        "theta0": [float(v) for v in theta0],
        "at_optimum": None,
        "message": said + " At θ* the full gradient vanishes and B_simple is unbounded: every "
        "batch size is noise-dominated there, which is why SGD never sits still.",
    }


def noise(request: NoiseRequest, settings: Settings) -> dict[str, Any]:
    surface = resolve_surface(request.surface)
    fit = _fit(surface)
    try:
        cloud = predict_cloud(fit, request.eta, request.batch_size, request.sampling)
    except NoiseError as exc:
        raise HTTPException(422, str(exc)) from None
    start = request.run.theta0 if request.run and request.run.theta0 else surface.default_start
    trace = float(np.trace(cloud.predicted))
    out: dict[str, Any] = {
        "theta_star": [float(v) for v in cloud.optimum],
        "hessian": _matrix(cloud.hessian),
        "gradient": [float(v) for v in cloud.gradient],
        "noise": _matrix(cloud.noise),
        "n": int(fit.x.size),
        "eta": cloud.eta,
        "batch_size": cloud.batch_size,
        "sampling": request.sampling,
        "factor": cloud.factor,
        "equation": f"Σ = (I − ηH) Σ (I − ηH)ᵀ + η²·c_B·C with η = {num(cloud.eta)}, "
        f"c_B = {num(cloud.factor)}",
        "eta_limit": cloud.eta_limit,
        "predicted": {
            "sigma": _matrix(cloud.predicted),
            "trace": trace,
            "ellipses": [
                {"k": k, "points": ellipse(cloud.optimum, cloud.predicted, k).tolist()}
                for k in (1.0, 2.0)
            ],
        },
        "exact": None
        if cloud.exact is None
        else {"sigma": _matrix(cloud.exact), "trace": float(np.trace(cloud.exact))},
        "exact_note": cloud.exact_note,
        "noise_scale": _scale(fit, np.array(start, dtype=np.float64)),
        "measured": None,
        "note": NOTES[request.sampling],
    }
    said = f"Predicted tr Σ = {num(trace)} at η = {num(cloud.eta)}, B = {cloud.batch_size}"
    if request.run is not None:
        out["measured"] = got = _measure(request, request.run, cloud, settings)
        said += f"; measured {num(got['trace'])} over t = {got['from_t']}…{got['to_t']}"
        if got["ratio"] is not None:
            said += f" ({num(got['ratio'])}× the prediction)"
    out["message"] = said + "."
    return out


@router.post(
    "/noise",
    response_model=NoiseOut,
    responses=BAD_INPUT,
    summary="SGD's noise cloud around θ*: predicted covariance, and measured on a run",
)
def post_noise(
    request: Annotated[NoiseRequest, Body(openapi_examples=NOISE_EXAMPLES)], settings: SettingsDep
) -> dict[str, Any]:
    """Near θ*, minibatch SGD at step size η and batch size B does not converge: it jitters in
    a cloud whose covariance Σ solves the discrete Lyapunov equation
    Σ = (I − ηH) Σ (I − ηH)ᵀ + η²·c_B·C (H the Hessian at θ*, C the per-example gradients'
    covariance there, c_B from the sampling: see `sampling`). For least squares the exact
    stationary second moment (which also counts the minibatch Hessian's randomness) is given
    too. With `run`, SGD is run as POST /api/descent would (GD at η with these batches) and its
    cloud measured about θ* over the run's second half. 422 for a surface that is not a dataset,
    a fit with no finite minimum, or η ≥ 2/λ_max, where Σ does not exist."""
    return noise(request, settings)
