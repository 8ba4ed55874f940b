"""Response and examples of POST /api/flow: the gradient flow and the modified flow beside a run."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from app.api.schemas import RunStatus

FLOW_EXAMPLES: dict[str, Any] = {
    "gd": {
        "summary": "GD on the double well: 50 steps of η = 0.02 (s = 1)",
        "value": {
            "surface": "double_well",
            "theta0": [0.5, 1.0],
            "optimizer": {"name": "gd", "eta": 0.02},
            "max_steps": 50,
            "tol": 0,
        },
    },
    "adam": {
        "summary": "Adam on Himmelblau: only the gradient flow applies",
        "value": {
            "surface": "himmelblau",
            "theta0": [-1.0, 1.0],
            "optimizer": {"name": "adam", "eta": 0.05},
            "max_steps": 300,
        },
    },
    "formula": {
        "summary": "Your formula",
        "value": {
            "surface": {
                "expression": "sin(x)*cos(y) + 0.1*(x**2 + y**2)",
                "domain": {"x": [-6, 6], "y": [-6, 6]},
            },
            "theta0": [1.0, 0.5],
            "optimizer": {"name": "gd", "eta": 0.1},
            "max_steps": 100,
        },
    },
}


class FlowCurveOut(BaseModel):
    points: list[list[float]] = Field(
        description="points[t] = the curve at s_t, for the first len(points) iterates (all of "
        "them unless the curve was cut)"
    )
    distance: list[float] = Field(description="distance[t] = |θ_t − points[t]|")
    status: Literal["complete", "diverged", "budget", "failed"] = Field(
        description="`complete`, or why the curve was cut: it left the bounds a run diverges "
        "at or stopped being finite (`diverged`), it needed more work than allowed (`budget`), "
        "or the solver could not go on (`failed`)"
    )
    message: str
    method: str = Field(description="`DOP853`, or `DOP853 then Radau` once stiffness was seen")
    evaluations: int = Field(description="Evaluations of the right-hand side")


class FlowResult(BaseModel):
    status: RunStatus = Field(description="The run's status, as POST /api/descent answers")
    message: str = Field(description="The run's outcome, as POST /api/descent answers")
    steps: int
    start_t: int
    path: list[list[float]] = Field(description="The run's θ_t, as POST /api/descent answers")
    times: list[float] = Field(description="s_t = Σ_{k<t} η_k: the flow's time at iterate t")
    eta: float | None = Field(
        description="The η of the modified loss L + (η/4)‖∇L‖²; null when it does not apply"
    )
    flow: FlowCurveOut = Field(description="The gradient flow dθ/ds = −∇L(θ) from θ₀")
    modified: FlowCurveOut | None = Field(
        description="The flow of L + (η/4)‖∇L‖²: dθ/ds = −(∇L + (η/2)·H∇L); only for GD at a "
        "constant η on the full gradient"
    )
    note: str = Field(description="What is drawn, in words")
