"""Network runs at the API edge: a request → the core's objects (network, data, θ₀, optimizer,
stop rules), its caps and work estimate, and the lines of its stream as JSON-ready dicts.

Every refusal is an HTTPException(422) whose message says what is wrong and what to send.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from fastapi import HTTPException

from app.api import budget
from app.api.network_schemas import (
    DEFAULT_POINTS,
    NetworkRunRequest,
    PointsDataIn,
    ToyDataIn,
)
from app.api.schemas import GDParams, OptimizerParams
from app.core.data import get_builtin
from app.core.descent import (
    CONSTANT,
    LineSearch,
    Optimizer,
    Schedule,
    StopRules,
    make_optimizer,
    make_schedule,
)
from app.core.networks import (
    Architecture,
    Minibatches,
    NetworkLoss,
    StepRecord,
    ToyData,
    from_points,
    init_theta,
    state_from_lists,
    state_to_lists,
    summarize_sharpness,
    toy_dataset,
    train,
)
from app.core.text import sci

DEFAULT_ETA = 0.1
MAX_STORED = 4_000_000  # floats of θ_t kept by one request (theta_every, or a slice's path)
_NOT_HYPERPARAMETERS = {"name", "schedule", "line_search"}


def _fail(message: str) -> HTTPException:
    return HTTPException(422, message)


def resolve_data(spec: ToyDataIn | PointsDataIn) -> ToyData:
    try:
        if isinstance(spec, ToyDataIn):
            points = spec.points if spec.points is not None else DEFAULT_POINTS[spec.dataset]
            return toy_dataset(spec.dataset, points, spec.seed, spec.noise)
        if spec.dataset is not None:
            builtin = get_builtin(spec.dataset)
            return from_points(builtin.id, builtin.x, builtin.y, spec.kind)
        if spec.data is None:
            raise ValueError(
                "give exactly one of `dataset` (a built-in id) and `data` (inline x and y)"
            )
        return from_points("your data", spec.data.x, spec.data.y, spec.kind)
    except ValueError as exc:
        raise _fail(f"data: {exc}") from None


def describe(arch: Architecture) -> str:
    """'1 → 32 → 1, tanh'."""
    sizes = (arch.inputs, *arch.hidden, arch.outputs)
    return f"{' → '.join(map(str, sizes))}, {arch.activation}"


def layout(arch: Architecture) -> list[dict[str, Any]]:
    """Where each torch parameter of nn.Sequential(Linear, act, …, Linear) sits in θ."""
    out: list[dict[str, Any]] = []
    offset = 0
    for i, (rows, cols) in enumerate(arch.shapes):
        for name, shape in (("weight", [rows, cols]), ("bias", [rows])):
            size = math.prod(shape)
            out.append({"name": f"{2 * i}.{name}", "shape": shape, "offset": offset, "size": size})
            offset += size
    return out


def _optimizer(params: OptimizerParams) -> tuple[Optimizer, Schedule, LineSearch | None]:
    if params.name == "newton":
        raise _fail(
            "optimizer: Newton's method needs the whole Hessian of the network's loss (n × n "
            "numbers, each a Hessian-vector product to compute); pick a first-order optimizer "
            "such as gd, momentum or adam"
        )
    try:
        optimizer = make_optimizer(params.name, **params.model_dump(exclude=_NOT_HYPERPARAMETERS))
        schedule: Schedule = CONSTANT
        if params.schedule is not None:
            schedule = make_schedule(
                params.schedule.name, **params.schedule.model_dump(exclude={"name"})
            )
    except ValueError as exc:
        raise _fail(f"optimizer: {exc}") from None
    search = getattr(params, "line_search", None)
    return optimizer, schedule, None if search is None else LineSearch(**search.model_dump())


class NetworkRun:
    """A network request resolved into core objects: what the run will do, before it runs."""

    def __init__(self, request: NetworkRunRequest) -> None:
        self.request = request
        self.data = resolve_data(request.data)
        try:
            self.arch = Architecture(
                self.data.inputs,
                tuple(request.architecture.hidden),
                self.data.outputs,
                request.architecture.activation,
            )
        except ValueError as exc:
            raise _fail(f"architecture: {exc}") from None
        n = self.arch.n_params
        self.objective = NetworkLoss(self.arch, self.data.X, self.data.y, self.data.loss)
        params = request.optimizer or GDParams(name="gd", eta=DEFAULT_ETA)
        self.params = params
        self.optimizer, self.schedule, self.line_search = _optimizer(params)
        self.rules = StopRules(max_steps=request.max_steps, tol=request.tol)
        self.batches: Minibatches | None = None
        if request.batch_size is not None:
            if request.batch_size > self.objective.points:
                raise _fail(
                    f"batch_size = {request.batch_size} is more than the data's "
                    f"{self.objective.points} points"
                )
            self.batches = Minibatches(self.objective.points, request.batch_size, request.seed)
        self.start_t, self.state = 0, None
        if request.resume is not None:
            self.theta0 = self._theta(request.resume.theta, "resume.theta")
            self.start_t = request.resume.t
            if request.resume.optimizer == self.optimizer.name:
                try:
                    self.state = state_from_lists(self.optimizer.name, request.resume.state, n)
                except ValueError as exc:
                    raise _fail(f"resume.state: {exc}") from None
        elif request.init.theta is not None:
            self.theta0 = self._theta(request.init.theta, "init.theta")
        else:
            self.theta0 = init_theta(self.arch, request.init.seed)
        if request.theta_every:
            stored = (request.max_steps // request.theta_every + 2) * n
            if stored > MAX_STORED:
                least = math.ceil(request.max_steps * n / (MAX_STORED - 2 * n))
                raise _fail(
                    f"theta_every = {request.theta_every} would send θ_t ({n:,} numbers) "
                    f"{request.max_steps // request.theta_every + 1:,} times, above this server's "
                    f"cap of {MAX_STORED:,} numbers per request: use theta_every ≥ {least:,}"
                )

    def _theta(self, values: list[float], field: str) -> np.ndarray:
        n = self.arch.n_params
        if len(values) != n:
            raise _fail(
                f"{field} has {len(values):,} numbers; this network ({describe(self.arch)}) has "
                f"{n:,} parameters, so it needs exactly {n:,} (laid out as the start line's "
                "`layout` says)"
            )
        return np.array(values, dtype=np.float64)

    def work(self, grid: int = 0) -> budget.NetworkWork:
        r = self.request
        return budget.NetworkWork(
            params=self.arch.n_params,
            points=self.objective.points,
            units=sum(self.arch.hidden),
            steps=r.max_steps,
            batch=r.batch_size,
            trials=budget.line_search_trials(self.params),
            sharpness_every=r.sharpness_every,
            lanczos=r.sharpness_iterations,
            grid=grid,
        )

    def records(self, theta_every: int | None = None) -> Iterator[StepRecord]:
        r = self.request
        records = train(
            self.objective,
            self.theta0,
            self.optimizer,
            schedule=self.schedule,
            line_search=self.line_search,
            rules=self.rules,
            batches=self.batches,
            sharpness_every=r.sharpness_every,
            sharpness_iterations=r.sharpness_iterations,
            theta_every=r.theta_every if theta_every is None else theta_every,
            start_t=self.start_t,
            state=self.state,
        )
        try:  # θ₀ is checked on the first record
            first = next(records)
        except ValueError as exc:
            raise _fail(str(exc)) from None
        return itertools.chain([first], records)

    def start_line(self) -> dict[str, Any]:
        r = self.request
        optimizer: dict[str, Any] = {"name": self.optimizer.name, **vars(self.optimizer)}
        optimizer["schedule"] = {"name": self.schedule.name, **vars(self.schedule)}
        if self.line_search is not None:
            optimizer["line_search"] = vars(self.line_search)
        return {
            "type": "start",
            "n": self.arch.n_params,
            "architecture": {
                "inputs": self.arch.inputs,
                "hidden": list(self.arch.hidden),
                "outputs": self.arch.outputs,
                "activation": self.arch.activation,
                "text": describe(self.arch),
            },
            "layout": layout(self.arch),
            "data": {
                "name": self.data.name,
                "task": self.data.task,
                "loss": self.data.loss,
                "points": self.objective.points,
                "X": self.data.X,
                "y": self.data.y,
            },
            "theta0": self.theta0,
            "start_t": self.start_t,
            "optimizer": optimizer,
            "stability_limit": 2.0 / self.optimizer.eta,
            "max_steps": r.max_steps,
            "tol": r.tol,
            "batch_size": r.batch_size,
            "seed": r.seed if r.batch_size is not None else None,
            "sharpness_every": r.sharpness_every,
            "sharpness_iterations": r.sharpness_iterations,
            "theta_every": r.theta_every,
        }

    def end_line(
        self, last: StepRecord, first_loss: float, sharp: list[tuple[int, float]]
    ) -> dict[str, Any]:
        assert last.status is not None and last.theta is not None
        steps = last.t - self.start_t
        summary = None
        if sharp:
            plain = self.optimizer.name == "gd"
            s = summarize_sharpness(
                [t for t, _ in sharp],
                [v for _, v in sharp],
                self.optimizer.eta,
                optimizer=None if plain else self.optimizer.label,
            )
            summary = {
                "limit": s.limit,
                "reached_at": s.reached_at,
                "low": s.low,
                "high": s.high,
                "at_edge": s.at_edge,
                "sentence": s.sentence,
            }
        return {
            "type": "end",
            "status": last.status,
            "message": self._message(last, first_loss, summary),
            "steps": steps,
            "final": {
                "t": last.t,
                "loss": last.loss,
                "grad_norm": last.grad_norm,
                "theta": last.theta,
                "sharpness": last.sharpness,
            },
            "sharpness": summary,
            "resume": {
                "optimizer": self.optimizer.name,
                "t": last.t,
                "theta": last.theta,
                "state": state_to_lists(last.state),
            },
        }

    def _message(self, last: StepRecord, first_loss: float, summary: dict[str, Any] | None) -> str:
        steps = last.t - self.start_t
        fell = f"the loss went from {sci(first_loss)} to {sci(last.loss)}"
        if last.status == "converged":
            head = f"Converged in {steps:,} steps (‖∇L‖ ≤ {sci(self.rules.tol)}): {fell}."
        elif last.status == "max_steps":
            head = f"Stopped after max_steps = {steps:,} steps: {fell}."
        else:
            head = f"Diverged {last.reason}."
        if summary is None:
            return head
        sentence = summary["sentence"]
        gd_constant = (
            self.optimizer.name == "gd"
            and self.schedule is CONSTANT
            and self.line_search is None
            and self.batches is None
        )
        if not gd_constant:
            sentence += " (2/η is the stability limit of full-batch GD at a constant η.)"
        return f"{head} {sentence}"


def step_to_dict(record: StepRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "step",
        "t": record.t,
        "loss": record.loss,
        "grad_norm": record.grad_norm,
        "eta": record.eta,
    }
    if record.sharpness is not None:
        out["sharpness"] = record.sharpness
    if record.theta is not None:
        out["theta"] = record.theta
    return out
