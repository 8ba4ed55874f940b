"""Translate between API models and core objects, and core results into JSON-ready dicts."""

from __future__ import annotations

from typing import Any

from app.api.datasets import fit_to_dict
from app.api.resolve import resolve_surface
from app.api.schemas import DescentRequest, GDParams, OptimizerParams
from app.core.data import minibatch_gradient
from app.core.descent import (
    CONSTANT,
    Iterate,
    LineSearch,
    NearestMinimum,
    Optimizer,
    Resume,
    RunSummary,
    Schedule,
    StopRules,
    Trajectory,
    make_optimizer,
    make_schedule,
    state_from_dict,
    state_to_dict,
)
from app.core.surfaces import Minimum, Point, StationaryPoint, Surface, stationary_points

_NOT_HYPERPARAMETERS = {"name", "schedule", "line_search"}


def optimizer_from(params: OptimizerParams | None, surface: Surface) -> Optimizer:
    chosen = params if params is not None else GDParams(name="gd", eta=surface.default_eta)
    return make_optimizer(chosen.name, **chosen.model_dump(exclude=_NOT_HYPERPARAMETERS))


def schedule_from(params: OptimizerParams | None) -> Schedule:
    if params is None or params.schedule is None:
        return CONSTANT
    return make_schedule(params.schedule.name, **params.schedule.model_dump(exclude={"name"}))


def line_search_from(params: OptimizerParams | None) -> LineSearch | None:
    if isinstance(params, GDParams) and params.line_search is not None:
        return LineSearch(**params.line_search.model_dump())
    return None


def optimizer_to_dict(run: ResolvedRun) -> dict[str, Any]:
    out: dict[str, Any] = {"name": run.optimizer.name, **vars(run.optimizer)}
    out["schedule"] = {"name": run.schedule.name, **vars(run.schedule)}
    if run.line_search is not None:
        out["line_search"] = vars(run.line_search)
    return out


class ResolvedRun:
    """A descent request resolved into core objects (the surface, optimizer, schedule, stop rules,
    resume point): what a run will do, before it runs. ValueError explains a bad combination."""

    def __init__(self, request: DescentRequest) -> None:
        self.surface = resolve_surface(request.surface)
        self.optimizer = optimizer_from(request.optimizer, self.surface)
        self.schedule = schedule_from(request.optimizer)
        self.line_search = line_search_from(request.optimizer)
        start = request.theta0 or self.surface.default_start
        self.theta0 = (float(start[0]), float(start[1]))
        self.rules = StopRules(max_steps=request.max_steps, tol=request.tol)
        self.resume: Resume | None = None
        if request.resume is not None:
            saved = request.resume
            same = saved.optimizer == self.optimizer.name
            state = state_from_dict(saved.optimizer, saved.state.model_dump()) if same else None
            theta = (float(saved.theta[0]), float(saved.theta[1]))
            self.resume = Resume(saved.t, theta, saved.optimizer, state)
        self.batch_size, self.seed = request.batch_size, request.seed
        self.sampling = request.sampling
        self.step_gradient = None
        if request.batch_size is not None:
            if self.surface.data is None:
                raise ValueError(
                    "batch_size (minibatch SGD) needs a dataset surface, e.g. "
                    '{"kind": "logistic", "dataset": "overlap"}'
                )
            self.step_gradient = minibatch_gradient(
                self.surface.data, request.batch_size, request.seed, request.sampling
            )

    @property
    def options(self) -> dict[str, Any]:
        return {
            "schedule": self.schedule,
            "line_search": self.line_search,
            "resume": self.resume,
            "step_gradient": self.step_gradient,
        }

    def start_line(self) -> dict[str, Any]:
        return {
            "type": "start",
            "surface": self.surface.id,
            "theta0": list(self.resume.theta if self.resume else self.theta0),
            "start_t": self.resume.t if self.resume else 0,
            "optimizer": optimizer_to_dict(self),
            "max_steps": self.rules.max_steps,
            "tol": self.rules.tol,
            "batch_size": self.batch_size,
            "seed": self.seed if self.batch_size is not None else None,
            "sampling": self.sampling if self.batch_size is not None else None,
        }


def minimum_to_dict(m: Minimum) -> dict[str, Any]:
    return {"x": m.x, "y": m.y, "value": m.value, "kind": m.kind}


def point_to_dict(p: Point) -> dict[str, Any]:
    return {"x": p.x, "y": p.y, "value": p.value}


def nearest_to_dict(near: NearestMinimum | None) -> dict[str, Any] | None:
    if near is None:
        return None
    return {**minimum_to_dict(near.minimum), "distance": near.distance}


def surface_to_dict(s: Surface) -> dict[str, Any]:
    return {
        "id": s.id,
        "name": s.name,
        "formula": s.formula,
        "description": s.description,
        "domain": {"x": list(s.domain.x), "y": list(s.domain.y)},
        "minima": [minimum_to_dict(m) for m in s.minima],
        "saddles": [point_to_dict(p) for p in s.saddles],
        "maxima": [point_to_dict(p) for p in s.maxima],
        "default_start": list(s.default_start),
        "default_eta": s.default_eta,
        "log_colors": s.log_colors,
        "stationary_points": [stationary_to_dict(p) for p in stationary_points(s)],
        "note": s.note,
        "data": fit_to_dict(s.data),
        # θ's two coordinates by name: a model on data has a weight and a bias
        "parameters": ["w", "b"] if s.data is not None else ["x", "y"],
    }


def stationary_to_dict(p: StationaryPoint) -> dict[str, Any]:
    return {
        "x": p.x,
        "y": p.y,
        "value": p.value,
        "kind": p.kind,
        "degenerate": p.degenerate,
        "eigenvalues": list(p.eigenvalues),
    }


def step_to_dict(it: Iterate) -> dict[str, Any]:
    return {
        "type": "step",
        "t": it.t,
        "theta": it.theta,
        "loss": it.loss,
        "grad": it.grad,
        "eta": it.eta,
    }


def resume_to_dict(run: ResolvedRun, final: Iterate) -> dict[str, Any]:
    return {
        "t": final.t,
        "theta": final.theta,
        "optimizer": run.optimizer.name,
        "state": state_to_dict(final.state),
    }


def summary_fields(run: ResolvedRun, summary: RunSummary) -> dict[str, Any]:
    final = summary.final
    return {
        "status": summary.status,
        "message": summary.message,
        "steps": summary.steps,
        "final": {"theta": final.theta, "loss": final.loss, "grad_norm": final.grad_norm},
        "nearest_minimum": nearest_to_dict(summary.nearest_minimum),
        "resume": resume_to_dict(run, final),
    }


def result_to_dict(
    run: ResolvedRun, iterates: list[Iterate], summary: RunSummary
) -> dict[str, Any]:
    fields = summary_fields(run, summary)
    return {
        "status": fields["status"],
        "message": fields["message"],
        "steps": fields["steps"],
        "start_t": iterates[0].t,
        "path": [it.theta for it in iterates],
        "loss": [it.loss for it in iterates],
        "grad": [it.grad for it in iterates],
        "eta": [it.eta for it in iterates[:-1]],
        "final": fields["final"],
        "nearest_minimum": fields["nearest_minimum"],
        "resume": fields["resume"],
    }


def trajectory_to_dict(run: ResolvedRun, path: Trajectory, summary: RunSummary) -> dict[str, Any]:
    """The same object as `result_to_dict` over the same iterates, from the run's columns."""
    fields = summary_fields(run, summary)
    return {
        "status": fields["status"],
        "message": fields["message"],
        "steps": fields["steps"],
        "start_t": path.t0,
        "path": path.thetas,
        "loss": path.losses,
        "grad": path.grads,
        "eta": path.etas,
        "final": fields["final"],
        "nearest_minimum": fields["nearest_minimum"],
        "resume": fields["resume"],
    }
