"""POST /api/flow: a run beside its gradient flow and the modified flow of L + (η/4)‖∇L‖²."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Body, HTTPException

from app.api import budget
from app.api.deps import SettingsDep
from app.api.flow_schemas import FLOW_EXAMPLES, FlowResult
from app.api.json import JSONResponse
from app.api.resolve import resolve_surface
from app.api.routes.descent import BAD_INPUT, whole_run
from app.api.schemas import DescentRequest
from app.core.descent import (
    CATALOGUE,
    FLOW_MAX_EVALS,
    FlowCurve,
    flow_distances,
    gradient_flow,
    run_times,
)
from app.core.surfaces import PRESETS, Array, Surface, evaluation_cost

router = APIRouter(prefix="/api", tags=["descent"])

# One evaluation of a flow's right-hand side beyond the surface's own ∇L and Hessian: the
# solver's arithmetic and the reading of its dense output (µs). 43–47 µs in all per evaluation
# measured here on Rosenbrock and Rastrigin, of which the surface is a few.
FLOW_EVAL_US = 40.0
MIN_EVALS = 2_000  # below this a flow would be cut almost at once: refuse instead


def _per_eval_seconds(surface: Surface) -> float:
    cost = budget.PRESET_COST if PRESETS.get(surface.id) is surface else evaluation_cost(surface)
    return (FLOW_EVAL_US + cost.scalar_us + cost.scalar_hess_us) * 1e-6


def _modified_eta(request: DescentRequest, surface: Surface) -> tuple[float | None, str]:
    """The η of the modified flow, or None and why it does not apply."""
    params = request.optimizer
    if params is None:
        return surface.default_eta, ""
    if params.name != "gd":
        label = next(spec.label for spec in CATALOGUE if spec.name == params.name)
        return None, f"{label} is not plain gradient descent"
    if params.schedule is not None and params.schedule.name != "constant":
        return None, "the step size varies (a schedule)"
    if getattr(params, "line_search", None) is not None:
        return None, "a line search picks each step size"
    if request.batch_size is not None:
        return None, "each step uses a minibatch gradient"
    return float(params.eta), ""


def _curve(curve: FlowCurve, path: Array) -> dict[str, object]:
    return {
        "points": curve.points,
        "distance": flow_distances(path, curve),
        "status": curve.status,
        "message": curve.message,
        "method": curve.method,
        "evaluations": curve.evaluations,
    }


@router.post(
    "/flow",
    response_model=FlowResult,
    responses=BAD_INPUT,
    summary="A run beside its gradient flow and the modified flow GD follows",
)
def post_flow(
    request: Annotated[DescentRequest, Body(openapi_examples=FLOW_EXAMPLES)],
    settings: SettingsDep,
) -> JSONResponse:
    """Takes the body of `POST /api/descent` and runs it the same way (same checks, same path),
    then integrates from its first iterate, at the times s_t = Σ_{k<t} η_k of its iterates, the
    gradient flow dθ/ds = −∇L(θ) and, for GD at a constant η on the full gradient, the flow of
    L + (η/4)‖∇L‖² (Barrett & Dherin 2021): GD stays within O(η) of the first and O(η²) of the
    second. Both are integrated by an adaptive Runge-Kutta method (DOP853, relative tolerance
    1e-10; Radau when the flow is stiff) and each `distance[t]` is |θ_t − curve(s_t)|. A curve
    that leaves the bounds a run diverges at, stops being finite or needs more work than the
    budget allows is cut there, with its `message`; its points stop at the cut."""
    surface = resolve_surface(request.surface)
    eta, why_not = _modified_eta(request, surface)
    curves = 1 if eta is None else 2
    work = budget.work(request.optimizer, 1, request.max_steps, batch=False)
    left = budget.BUDGET_SECONDS - budget.estimate_seconds(surface, work)
    evals = min(FLOW_MAX_EVALS, int(left / (curves * _per_eval_seconds(surface))))
    if evals < MIN_EVALS:
        room = budget.BUDGET_SECONDS - curves * MIN_EVALS * _per_eval_seconds(surface)
        steps = max(0, int(room / budget.step_seconds(surface, work)))
        raise HTTPException(
            422,
            f"This run leaves too little of the work budget ({budget.BUDGET_SECONDS:g} s of CPU) "
            f"to integrate its flow on {surface.name}: use max_steps ≤ {steps:,}",
        )
    run = whole_run(request, settings)
    path = np.asarray(run["path"], dtype=np.float64)
    theta0 = (float(path[0, 0]), float(path[0, 1]))
    flow = gradient_flow(surface, theta0, run_times(run["eta"]), eta, max_evals=evals)
    if eta is None:
        note = f"Only the gradient flow is drawn: {why_not}."
    else:
        note = (
            f"GD at η = {eta:g} stays within O(η) of the gradient flow and O(η²) of the flow of "
            "L + (η/4)‖∇L‖²."
        )
    return JSONResponse(
        {
            "status": run["status"],
            "message": run["message"],
            "steps": run["steps"],
            "start_t": run["start_t"],
            "path": path,
            "times": flow.times,
            "eta": eta,
            "flow": _curve(flow.flow, path),
            "modified": None if flow.modified is None else _curve(flow.modified, path),
            "note": note,
        }
    )
