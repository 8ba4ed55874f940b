"""Translate between API models and core objects, and core results into JSON-ready dicts."""

from __future__ import annotations

from typing import Any

from app.api.resolve import resolve_surface
from app.api.schemas import DescentRequest, GDParams, OptimizerParams
from app.core.optimizers import Optimizer, make_optimizer
from app.core.runner import Iterate, StopRules
from app.core.summary import NearestMinimum, RunSummary
from app.core.surface import Minimum, Point, Surface


def optimizer_from(params: OptimizerParams | None, surface: Surface) -> Optimizer:
    chosen = params if params is not None else GDParams(name="gd", eta=surface.default_eta)
    fields = chosen.model_dump(exclude={"name"})
    return make_optimizer(chosen.name, **fields)


def optimizer_to_dict(optimizer: Optimizer) -> dict[str, Any]:
    return {"name": optimizer.name, **vars(optimizer)}


class Run:
    """A descent request resolved into core objects."""

    def __init__(self, request: DescentRequest) -> None:
        self.surface = resolve_surface(request.surface)
        self.optimizer = optimizer_from(request.optimizer, self.surface)
        start = request.theta0 or self.surface.default_start
        self.theta0 = (float(start[0]), float(start[1]))
        self.rules = StopRules(max_steps=request.max_steps, tol=request.tol)

    def start_line(self) -> dict[str, Any]:
        return {
            "type": "start",
            "surface": self.surface.id,
            "theta0": list(self.theta0),
            "optimizer": optimizer_to_dict(self.optimizer),
            "max_steps": self.rules.max_steps,
            "tol": self.rules.tol,
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
    }


def step_to_dict(it: Iterate) -> dict[str, Any]:
    return {"type": "step", "t": it.t, "theta": it.theta, "loss": it.loss, "grad": it.grad}


def summary_fields(summary: RunSummary) -> dict[str, Any]:
    final = summary.final
    return {
        "status": summary.status,
        "message": summary.message,
        "steps": summary.steps,
        "final": {"theta": final.theta, "loss": final.loss, "grad_norm": final.grad_norm},
        "nearest_minimum": nearest_to_dict(summary.nearest_minimum),
    }


def result_to_dict(iterates: list[Iterate], summary: RunSummary) -> dict[str, Any]:
    fields = summary_fields(summary)
    return {
        "status": fields["status"],
        "message": fields["message"],
        "steps": fields["steps"],
        "path": [it.theta for it in iterates],
        "loss": [it.loss for it in iterates],
        "grad": [it.grad for it in iterates],
        "final": fields["final"],
        "nearest_minimum": fields["nearest_minimum"],
    }
