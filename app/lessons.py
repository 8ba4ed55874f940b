"""The lecture's points as guided scenarios: each lesson is a complete state for the page (surface,
optimizer, θ₀, the runs to compare, which views to show) plus a few sentences and a question.

Runs are written in the API's own terms (the bodies of POST /api/descent), so a lesson can be
checked, and replayed by a script, without the page. `expect` states what a run must show; the
tests hold every lesson to it.
"""

from __future__ import annotations

from typing import Any

GD = "gd"


def _run(
    surface: Any, theta0: list[float], eta: float, name: str = GD, label: str = "", **extra: Any
) -> dict[str, Any]:
    optimizer = {"name": name, "eta": eta, **extra.pop("hyper", {})}
    return {"label": label, "surface": surface, "theta0": theta0, "optimizer": optimizer, **extra}


LESSONS: list[dict[str, Any]] = [
    {
        "id": 1,
        "slug": "gradient-points-uphill",
        "title": "The gradient points uphill",
        "text": [
            "Every arrow of the gradient field points in the direction where the loss rises "
            "fastest, at right angles to the contour lines.",
            "Descent steps the other way, along −∇L. On this tilted bowl that is not straight "
            "at the minimum: the path bends.",
        ],
        "question": "Drag θ₀ around the bowl: does −∇L ever point straight at the minimum (1, 3)?",
        "views": {"gradient_field": True},
        "runs": [_run("booth", [-8.0, -6.0], 0.02, label="GD")],
        "expect": [{"status": "converged", "minimum": [1.0, 3.0]}],
    },
    {
        "id": 2,
        "slug": "one-step",
        "title": "One step of steepest descent",
        "text": [
            "One update is θ₁ = θ₀ − η∇L(θ₀): evaluate the gradient, scale it by η, subtract.",
            "The readout writes out θₜ, ∇L(θₜ), −η∇L(θₜ) and θₜ₊₁ with the actual numbers.",
        ],
        "question": "Press → once: does θ₁ equal θ₀ − 0.1·∇L(θ₀), with ∇L(θ₀) = (−5, 4)?",
        "views": {"paused": True, "step_readout": True},
        "runs": [_run("quadratic", [-2.5, 2.0], 0.1, label="GD, η = 0.1")],
        "expect": [{"status": "converged", "first_step": [-2.0, 1.6]}],
    },
    {
        "id": 3,
        "slug": "step-size",
        "title": "η too small, η too large",
        "text": [
            "On x² + y² the curvature is λ = 2 in every direction, and GD multiplies the distance "
            "to the minimum by |1 − ηλ| at each step.",
            "So a tiny η crawls, η = 1/λ lands in one step, η just under 2/λ = 1 oscillates while "
            "it converges, and any η above 2/λ diverges.",
        ],
        "question": "Slide η from 0.01 up to 1.05: where does the path start to zig-zag, and where "
        "does it blow up?",
        "views": {},
        "runs": [
            _run("quadratic", [-2.5, 2.0], 1.05, label="η = 1.05 (above 2/λ)"),
            _run("quadratic", [-2.5, 2.0], 0.01, label="η = 0.01 (crawls)", max_steps=200),
            _run("quadratic", [-2.5, 2.0], 0.9, label="η = 0.9 (oscillates, converges)"),
        ],
        "expect": [
            {"status": "diverged", "message_contains": "2/λ"},
            {"status": "max_steps"},
            {"status": "converged"},
        ],
    },
    {
        "id": 4,
        "slug": "start-decides",
        "title": "θ₀ decides the minimum",
        "text": [
            "Descent only ever goes downhill from where it is, so it ends in the valley it starts "
            "in: the nearer minimum, not the better one.",
            "The basin overlay colours every start by the minimum it reaches.",
        ],
        "question": "Drag θ₀ across the hill in the middle: at which x does the run switch "
        "valleys?",
        "views": {"basins": True},
        "runs": [
            _run("double_well", [0.5, 1.0], 0.05, label="starts right: local minimum"),
            _run("double_well", [-0.2, 1.0], 0.05, label="starts left: global minimum"),
        ],
        "expect": [
            {"status": "converged", "minimum": [0.9601, 0.0], "kind": "local"},
            {"status": "converged", "minimum": [-1.0356, 0.0], "kind": "global"},
        ],
    },
    {
        "id": 5,
        "slug": "ill-conditioning",
        "title": "Ill-conditioning: the ravine",
        "text": [
            "x² + 25y² curves 25 times more steeply across the valley than along it. An η small "
            "enough for the steep direction crawls along the flat one; a larger η zig-zags.",
            "Momentum, at the same η, averages the zig-zag away and arrives in far fewer steps. "
            "Adam rescales each coordinate, so it heads straight down the valley, but its steps "
            "do not shrink with the gradient: it circles the minimum before it settles.",
        ],
        "question": "Which optimizer gets near the minimum first, which one settles first, and "
        "why does GD's path zig-zag?",
        "views": {"race": True},
        "runs": [
            _run("ravine", [-2.8, 1.0], 0.035, label="GD"),
            _run(
                "ravine",
                [-2.8, 1.0],
                0.035,
                name="momentum",
                label="Momentum",
                hyper={"momentum": 0.5},
            ),
            _run("ravine", [-2.8, 1.0], 0.1, name="adam", label="Adam"),
        ],
        "expect": [{"status": "converged"}, {"status": "converged"}, {"status": "converged"}],
    },
    {
        "id": 6,
        "slug": "closed-form",
        "title": "Closed form versus descent",
        "text": [
            "Linear regression has a closed-form answer: least squares, θ* = (XᵀX)⁻¹Xᵀy, marked "
            "on the plots.",
            "Gradient descent does not need the formula: it walks to the same θ*.",
        ],
        "question": "Tick 'standardize x': how does the shape of the loss change, and why does GD "
        "then need fewer steps?",
        "views": {"data_view": True},
        "runs": [
            _run(
                {"kind": "linear", "dataset": "trend"}, [0.0, 0.0], 0.02, label="GD", max_steps=5000
            )
        ],
        "expect": [{"status": "converged", "at_minimum": True}],
    },
    {
        "id": 7,
        "slug": "logistic-regression",
        "title": "The worked example: logistic regression",
        "text": [
            "The model is σ(w·x + b); the loss is the mean cross-entropy over the data. Each step "
            "of GD moves the sigmoid in the data view.",
            "When the classes can be split perfectly, the loss keeps falling as |w| grows: there "
            "is no finite minimum, and the run never stops on its own.",
        ],
        "question": "Switch to the separable data: what happens to w, and to the sigmoid, as the "
        "run goes on?",
        "views": {"data_view": True},
        "runs": [
            _run(
                {"kind": "logistic", "dataset": "overlap"},
                [0.0, 0.0],
                0.5,
                label="overlapping",
                max_steps=5000,
            ),
            _run(
                {"kind": "logistic", "dataset": "separable"},
                [0.0, 0.0],
                0.5,
                label="separable",
                max_steps=2000,
            ),
        ],
        "expect": [{"status": "converged", "at_minimum": True}, {"status": "max_steps"}],
    },
]


def lesson(lesson_id: int) -> dict[str, Any]:
    for item in LESSONS:
        if item["id"] == lesson_id:
            return item
    raise KeyError(f"No lesson {lesson_id}: lessons are numbered 1 to {len(LESSONS)}.")
