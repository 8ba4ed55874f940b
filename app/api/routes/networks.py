"""Small networks (issue 18): train one (whole run or JSON Lines stream), slice its loss in 2-D,
and describe what can be built."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Generator, Iterator
from typing import Annotated, Any

import anyio
import numpy as np
from fastapi import APIRouter, Body, HTTPException
from fastapi.responses import StreamingResponse

from app.api import budget
from app.api.json import JSONResponse, dumps_line
from app.api.network_schemas import (
    DEFAULT_POINTS,
    MAX_LANCZOS,
    MAX_PARAMS,
    MAX_SLICE_M,
    MAX_STEPS,
    NETWORK_NOISE_EXAMPLES,
    NETWORK_RUN_EXAMPLES,
    NETWORK_SLICE_EXAMPLES,
    NetworkNoiseRequest,
    NetworkRunOut,
    NetworkRunRequest,
    NetworkSliceOut,
    NetworkSliceRequest,
)
from app.api.networks import MAX_STORED, NetworkRun, step_to_dict
from app.api.schemas import ErrorOut
from app.core.data import BUILTINS, NoiseError, ellipse
from app.core.descent import CATALOGUE
from app.core.networks import (
    ACTIVATIONS,
    DEFAULT_NOISE,
    MAX_HIDDEN_LAYERS,
    MAX_NOISE,
    MAX_POINTS,
    MAX_WIDTH,
    NETWORK_NOISE_MAX_PARAMETERS,
    TOY_DATASETS,
    Plane,
    StepRecord,
    loss_slice,
    pca_plane,
    per_example_gradients,
    plane_covariance,
    plane_operator,
    predict_network_cloud,
    random_plane,
    sgd_cloud,
)

router = APIRouter(prefix="/api/networks", tags=["networks"])

RunBody = Annotated[NetworkRunRequest, Body(openapi_examples=NETWORK_RUN_EXAMPLES)]
SliceBody = Annotated[NetworkSliceRequest, Body(openapi_examples=NETWORK_SLICE_EXAMPLES)]
BAD_INPUT: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The body is not readable (e.g. not UTF-8 JSON)"},
    422: {"model": ErrorOut, "description": "Invalid request, explained in `message`"},
}
LINES_PER_WRITE = 256

STREAM_DOC = """JSON Lines (`application/x-ndjson`), one object per line:

```
{"type": "start", "n": 97, "architecture": {...}, "layout": [{"name": "0.weight",
 "shape": [32, 1], "offset": 0, "size": 32}, ...], "data": {...}, "theta0": [...], ...}
{"type": "step", "t": 0, "loss": 0.61, "grad_norm": 1.2, "eta": 0.15, "sharpness": 3.1}
...
{"type": "end", "status": "max_steps", "message": "... The sharpness reached 2/η = 13.3 at step
 1,240 and stays within ±10% of it: gradient descent is at the edge of stability ...",
 "steps": 4000, "final": {"t", "loss", "grad_norm", "theta", "sharpness"},
 "sharpness": {"limit", "reached_at", "low", "high", "at_edge", "sentence"},
 "resume": {"optimizer", "t", "theta", "state"}}
```

`sharpness` (λ_max of the Hessian, by Lanczos) is on the steps where it was measured
(`sharpness_every`), `theta` on those asked for (`theta_every`) and on the last step. θ is laid
out as `torch.nn.utils.parameters_to_vector` flattens `nn.Sequential(nn.Linear, activation, …,
nn.Linear)`: `layout` gives each tensor's name, shape and offset. The steps are exactly those of
`POST /api/networks/train`. A run stopped by the server's limits ends with a
`{"type": "error", "message": ...}` line instead; when the client leaves, the run stops."""


def _resolve(request: NetworkRunRequest) -> NetworkRun:
    run = NetworkRun(request)
    budget.check_network(run.work(), "This training run")
    return run


def _chunk(run: NetworkRun) -> int:
    """Steps between two looks at the clock: about budget.CHUNK_SECONDS of work."""
    step = budget.network_step_seconds(run.work())
    return max(1, min(LINES_PER_WRITE, int(budget.CHUNK_SECONDS / step)))


class _Tracker:
    """Follows the records of a run for its end line: the first loss and the sharpness."""

    def __init__(self) -> None:
        self.first_loss: float | None = None
        self.sharp: list[tuple[int, float]] = []
        self.last: StepRecord | None = None

    def see(self, record: StepRecord) -> None:
        if self.first_loss is None:
            self.first_loss = record.loss
        if record.sharpness is not None:
            self.sharp.append((record.t, record.sharpness))
        self.last = record

    def end(self, run: NetworkRun) -> dict[str, Any]:
        assert self.last is not None and self.first_loss is not None
        return run.end_line(self.last, self.first_loss, self.sharp)


def train_records(
    run: NetworkRun, deadline: budget.Deadline, theta_every: int | None = None
) -> Iterator[StepRecord]:
    """The run's records, with a look at the deadline every chunk of steps (raises Stopped)."""
    chunk = _chunk(run)
    for i, record in enumerate(run.records(theta_every)):
        yield record
        if (i + 1) % chunk == 0:
            deadline.check()


@router.post(
    "/train",
    response_model=NetworkRunOut,
    responses=BAD_INPUT,
    summary="Train a small network and return the whole run",
)
def post_train(request: RunBody) -> JSONResponse:
    """The same start, step and end objects as the stream's lines, in one JSON object: `start`,
    `steps` (one per iterate, the sharpness and θ_t where asked for) and `end` (status, message
    in words with the sharpness summary, final θ, resume state)."""
    run = _resolve(request)
    tracker = _Tracker()
    steps = []
    try:
        for record in train_records(run, budget.Deadline()):
            tracker.see(record)
            steps.append(step_to_dict(record))
    except budget.Stopped as exc:
        raise budget.stopped_error(exc) from None
    return JSONResponse({"start": run.start_line(), "steps": steps, "end": tracker.end(run)})


def _lines(run: NetworkRun, deadline: budget.Deadline) -> Generator[bytes, None, None]:
    tracker = _Tracker()
    batch: list[bytes] = [dumps_line(run.start_line())]
    try:
        for record in train_records(run, deadline):
            tracker.see(record)
            batch.append(dumps_line(step_to_dict(record)))
            # the first step goes out at once, later ones in batches
            if len(batch) >= LINES_PER_WRITE or record.t == run.start_t:
                yield b"".join(batch)
                batch.clear()
    except budget.Stopped as exc:
        batch.append(dumps_line({"type": "error", "message": f"The run was stopped: {exc}"}))
        yield b"".join(batch)
        return
    batch.append(dumps_line(tracker.end(run)))
    yield b"".join(batch)


_DONE = object()


async def _cancellable(
    lines: Generator[bytes, None, None], deadline: budget.Deadline
) -> AsyncIterator[bytes]:
    """The lines, each batch computed in the threadpool. When the client leaves, Starlette
    cancels this generator: the deadline is cancelled, and the run, which looks at it every
    chunk of steps, stops there."""
    try:
        while True:
            line = await anyio.to_thread.run_sync(next, lines, _DONE, abandon_on_cancel=True)
            if line is _DONE:
                return
            yield line  # type: ignore[misc]
    finally:
        deadline.cancel()
        try:
            lines.close()
        except ValueError:  # "generator already executing": the thread stops at its next check
            pass


@router.post(
    "/train/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": STREAM_DOC,
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        },
        **BAD_INPUT,
    },
    summary="Train a small network and stream its steps as JSON Lines",
)
def post_train_stream(request: RunBody) -> StreamingResponse:
    """The run of POST /api/networks/train as JSON Lines while it computes: a start line, a
    line per step (the first at once, later ones in batches), and an end line. A client that
    leaves stops the run. Works with `curl -N`."""
    run = _resolve(request)
    deadline = budget.Deadline()
    lines = _lines(run, deadline)
    first = next(lines)  # θ₀ checked here: a loss that is not finite at θ₀ is a 422, not a line
    return StreamingResponse(
        _prepend(first, _cancellable(lines, deadline)), media_type="application/x-ndjson"
    )


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


MAX_SLICE_ITERATES = 400  # iterates of the path a slice is fitted to and checked against


def _kept_every(run: NetworkRun) -> int:
    """Keep every k-th θ_t of the path: at most MAX_SLICE_ITERATES of them, and at most
    MAX_STORED numbers in all."""
    steps, n = run.request.max_steps, run.arch.n_params
    by_count = -(-steps // MAX_SLICE_ITERATES)
    by_size = -(-(steps + 1) * n // (MAX_STORED - 2 * n))
    return max(1, by_count, by_size)


@router.post(
    "/slice",
    response_model=NetworkSliceOut,
    responses=BAD_INPUT,
    summary="The loss of a trained network on a 2-D plane, and how faithful that picture is",
)
def post_slice(request: SliceBody) -> JSONResponse:
    """Retrains `run` (the same run gives the same path), then draws the loss on an m × m grid
    of a plane through θ at step `through` (the final θ by default): spanned by the trajectory's
    first two principal components (`pca`) or by two filter-normalised random directions
    (`random`). The path is projected onto the plane; for each kept iterate, its distance from
    the plane, its true loss and the loss at its projection (the height the picture draws it at)
    are returned, with the share of the path's variance the plane holds and a sentence saying
    where the picture misleads."""
    run = NetworkRun(request.run)
    every = _kept_every(run)
    kept = request.run.max_steps // every + 3
    budget.check_network(run.work(grid=request.m**2 + kept), "This slice")
    through = request.through
    iterates, steps, losses = [], [], []
    center = None
    tracker = _Tracker()
    try:
        for record in train_records(run, budget.Deadline(), theta_every=1):
            tracker.see(record)
            assert record.theta is not None
            since = record.t - run.start_t
            if since % every == 0 or record.status is not None:
                iterates.append(record.theta)
                steps.append(record.t)
                losses.append(record.loss)
            if through is not None and record.t == through:
                center = record.theta
    except budget.Stopped as exc:
        raise budget.stopped_error(exc) from None
    end = tracker.end(run)
    if through is not None and center is None:
        raise HTTPException(
            422,
            f"through = {through}: the run has no step {through} (it went from step "
            f"{run.start_t} to step {end['final']['t']}, {end['status']})",
        )
    try:
        cut = loss_slice(
            run.objective,
            request.plane,
            request.m,
            iterates=np.array(iterates),
            center=center,
            seed=request.seed,
            steps=steps,
            true_loss=losses,
        )
    except ValueError as exc:
        raise HTTPException(422, f"The slice cannot be drawn: {exc}") from None
    report = cut.faithfulness
    assert report is not None
    coords = report.projection.coords
    return JSONResponse(
        {
            "plane": request.plane,
            "through": end["final"]["t"] if through is None else through,
            "m": request.m,
            "alpha": cut.grid.alpha,
            "beta": cut.grid.beta,
            "loss": cut.grid.loss,
            "explained_variance": cut.plane.explained_variance,
            "every": every,
            "trajectory": {
                "t": report.steps,
                "alpha": coords[:, 0],
                "beta": coords[:, 1],
                "distance": report.projection.distance,
                "offset": report.projection.offset,
                "true_loss": report.true_loss,
                "plane_loss": report.plane_loss,
            },
            "faithfulness": {
                "variance_in_plane": report.variance_in_plane,
                "tolerance": report.tolerance,
                "misleading": report.misleading,
                "message": report.message,
            },
            "run": {k: end[k] for k in ("status", "message", "steps")},
        }
    )


@router.get("", summary="What networks can be built: datasets, activations, limits")
def get_networks() -> JSONResponse:
    """The toy datasets (with their default sizes and noise), the built-in 1-D datasets, the
    activations, the optimizers a network may use, and every cap of a request."""
    toy = [
        {
            "id": name,
            "description": TOY_DATASETS[name],
            "task": "regression" if name == "chebyshev" else "classification",
            "loss": "mse" if name == "chebyshev" else "cross_entropy",
            "inputs": 1 if name == "chebyshev" else 2,
            "outputs": 1 if name == "chebyshev" else 2,
            "default_points": DEFAULT_POINTS[name],
            "default_noise": DEFAULT_NOISE[name],
        }
        for name in TOY_DATASETS
    ]
    builtin = [
        {"kind": kind, "dataset": d.id, "name": d.name, "points": int(d.x.size)}
        for d in BUILTINS.values()
        for kind in d.kinds
    ]
    return JSONResponse(
        {
            "datasets": toy,
            "builtin": builtin,
            "activations": list(ACTIVATIONS),
            "optimizers": [spec.name for spec in CATALOGUE if spec.name != "newton"],
            "defaults": NetworkRunRequest.model_validate({}).model_dump(),
            "limits": {
                "hidden_layers": MAX_HIDDEN_LAYERS,
                "width": MAX_WIDTH,
                "parameters": MAX_PARAMS,
                "points": MAX_POINTS,
                "noise": MAX_NOISE,
                "steps": MAX_STEPS,
                "sharpness_iterations": MAX_LANCZOS,
                "slice_m": MAX_SLICE_M,
                "slice_iterates": MAX_SLICE_ITERATES,
                "stored_numbers": MAX_STORED,
                "cpu_seconds": budget.BUDGET_SECONDS,
                "wall_seconds": budget.WALL_SECONDS,
            },
        }
    )


NoiseBody = Annotated[NetworkNoiseRequest, Body(openapi_examples=NETWORK_NOISE_EXAMPLES)]
MAX_CLOUD_POINTS = 2000  # measured iterates sent back (thinned evenly)


@router.post(
    "/noise",
    responses=BAD_INPUT,
    summary="SGD's noise cloud around a trained network's minimum: predicted and measured",
)
def post_noise(request: NoiseBody) -> JSONResponse:
    """Retrains `run` and takes its final θ as the minimum θ*. There, from the Hessian H (n exact
    Hessian-vector products) and the per-example gradients' covariance C, the stationary
    covariance Σ of minibatch SGD at (η, B, sampling) is the solution of the discrete Lyapunov
    equation Σ = (I − ηH)Σ(I − ηH)ᵀ + η²c_B·C (c_B = 1/B with replacement, (n − B)/(B(n − 1))
    for fresh subsets). Σ is shown on a plane through θ* (`plane`) as its 1σ and 2σ ellipses, in
    the plane's coordinates (α, β); with `measure_steps`, SGD runs from θ* and the second half
    of its iterates, projected on the plane, is the measured cloud. Also the gradient noise scale
    tr C/|G|² at the run's θ₀ (McCandlish et al. 2018). 422 in words where no cloud exists
    (a curvature at or above 2/η, or noise along a direction that is not curved upwards)."""
    run = NetworkRun(request.run)
    if run.arch.n_params > NETWORK_NOISE_MAX_PARAMETERS:
        raise HTTPException(
            422,
            f"The noise cloud needs the full Hessian: this network has {run.arch.n_params:,} "
            f"parameters, at most {NETWORK_NOISE_MAX_PARAMETERS} are supported. Use fewer or "
            "narrower hidden layers.",
        )
    if request.batch_size > run.objective.points:
        raise HTTPException(
            422,
            f"batch_size = {request.batch_size} is more than the data's "
            f"{run.objective.points} points",
        )
    seconds = budget.network_noise_seconds(run.work(), request.batch_size, request.measure_steps)
    if seconds > budget.BUDGET_SECONDS:
        raise HTTPException(
            422,
            f"This noise cloud would take about {seconds:,.0f} s of CPU time, above this "
            f"server's budget of {budget.BUDGET_SECONDS:g} s: use fewer measure_steps, fewer "
            "points or training steps, or a smaller network",
        )
    tracker = _Tracker()
    deadline = budget.Deadline()
    # The PCA plane is POST /api/networks/slice's: from the same kept iterates.
    every, iterates = _kept_every(run), []
    try:
        for record in train_records(
            run, deadline, theta_every=1 if request.plane == "pca" else None
        ):
            tracker.see(record)
            since = record.t - run.start_t
            if request.plane == "pca" and (since % every == 0 or record.status is not None):
                iterates.append(record.theta)
    except budget.Stopped as exc:
        raise budget.stopped_error(exc) from None
    end = tracker.end(run)
    if end["status"] == "diverged":
        raise HTTPException(422, f"The run diverged, so it found no minimum: {end['message']}")
    center = np.array(end["final"]["theta"], dtype=np.float64)
    eta = request.eta if request.eta is not None else run.optimizer.eta
    try:
        cloud = predict_network_cloud(
            run.objective, center, eta, request.batch_size, request.sampling
        )
    except NoiseError as exc:
        advice = (
            " Pick a smaller η for SGD (`eta`)."
            if "2/η" in str(exc)
            else " The run's final θ is not a strict minimum (a saddle, or a valley with a "
            "flat or downhill side): train longer, with a smaller tol, or with Adam, to reach one."
        )
        raise HTTPException(422, str(exc) + advice) from None
    deadline.check()
    if request.plane == "steepest":
        plane = Plane("pca", center, cloud.eigenvectors[:, -1], cloud.eigenvectors[:, -2])
    elif request.plane == "widest":
        axes = np.linalg.eigh(cloud.predicted)[1]
        plane = Plane("pca", center, axes[:, -1], axes[:, -2])
    elif request.plane == "pca":
        plane = pca_plane(np.array(iterates), center)
    else:
        plane = random_plane(run.arch, center, request.seed)
    predicted = plane_covariance(plane, cloud.predicted)
    measured: dict[str, Any] | None = None
    if request.measure_steps:
        path = sgd_cloud(
            run.objective,
            center,
            eta,
            request.batch_size,
            request.sampling,
            request.measure_steps,
            request.seed,
        )
        deadline.check()
        coords = (path[len(path) // 2 :] - center) @ plane_operator(plane).T
        spread = coords.T @ coords / len(coords)
        keep = coords[:: max(1, -(-len(coords) // MAX_CLOUD_POINTS))]
        measured = {
            "steps": request.measure_steps,
            "covariance": spread.tolist(),
            "trace_ratio": float(np.trace(spread) / np.trace(predicted)),
            "alpha": keep[:, 0].tolist(),
            "beta": keep[:, 1].tolist(),
        }
    at_start = per_example_gradients(run.objective, run.theta0)
    mean = at_start.mean(axis=0)
    g2 = float(mean @ mean)
    spread0 = float(((at_start - mean) ** 2).sum(axis=1).mean())
    grad_norm = float(np.linalg.norm(cloud.gradient))
    message = (
        f"Around θ* (‖∇L‖ = {grad_norm:.3g}), SGD with B = {request.batch_size} at η = {eta:.4g} "
        f"is predicted to jitter with tr Σ = {cloud.trace:.3g} over all {run.arch.n_params} "
        f"parameters; on the {request.plane} plane the cloud's spread is "
        f"tr = {float(np.trace(predicted)):.3g}"
        + (
            f", measured {measured['trace_ratio']:.2f}× that over {request.measure_steps:,} steps."
            if measured
            else "."
        )
    )
    if grad_norm > 1e-3 * max(1.0, math.sqrt(spread0)):
        message += (
            " θ is not quite a minimum (its gradient is not zero): train longer or with a "
            "smaller tol for a prediction that holds."
        )
    return JSONResponse(
        {
            "n": run.arch.n_params,
            "eta": eta,
            "eta_limit": 2.0 / float(cloud.eigenvalues[-1]),
            "batch_size": request.batch_size,
            "sampling": request.sampling,
            "factor": cloud.factor,
            "grad_norm": grad_norm,
            "curvatures": {
                "min": float(cloud.eigenvalues[0]),
                "max": float(cloud.eigenvalues[-1]),
            },
            "trace_predicted": cloud.trace,
            "plane": request.plane,
            "covariance": predicted.tolist(),
            "ellipses": {
                str(k): ellipse(np.zeros(2), predicted, float(k)).tolist() for k in (1, 2)
            },
            "measured": measured,
            "noise_scale_at_theta0": spread0 / g2 if g2 > 0.0 else None,
            "run": {k: end[k] for k in ("status", "message", "steps")},
            "message": message,
        }
    )
