"""The lecture's points as guided scenarios: each lesson is a complete state for the page (surface,
optimizer, θ₀, the runs to compare, which views to show) plus a few sentences and a question.

Runs are written in the API's own terms (the bodies of POST /api/descent), so a lesson can be
checked, and replayed by a script, without the page. `expect` states what a run must show; the
tests hold every lesson to it.

Network lessons (8 and 9) have the same structure, with two additions the page reads:

- `views["network"]` is True: the page shows the network view (loss and sharpness charts, slices)
  instead of a 2-D surface; `views["sharpness"]` / `views["slice"]` say which of its panels.
- each run has `api`, the endpoint its body is sent to: "/api/networks/train" (the body is a
  network run) or "/api/networks/slice" (the body is {"run": …, "plane": …, "m": …}). A run
  without `api` is a POST /api/descent body, as in lessons 1–7.

Their `expect` keys: `status`; `sharpness_at_edge` (the end line's sharpness summary says the
run reached 2/η and stayed within ±10% of it); `loss_falls` (the final loss is below a tenth of
the first); `message_contains`; for slices `explained_at_least` (PC1 + PC2 share of the path's
variance), `misleading_within` (every misleading stretch ends by this step),
`variance_in_plane_below` and `misleading_at_least` (that many kept iterates are misleading).

Lesson 10 (SGD's noise) turns on the noise cloud (`views["noise_cloud"]`); its `expect` key
`noise_within` says that POST /api/noise, given the run, measures tr Σ over the run's second half
within that fraction of the predicted tr Σ.
"""

from __future__ import annotations

from typing import Any

GD = "gd"


def _run(
    surface: Any, theta0: list[float], eta: float, name: str = GD, label: str = "", **extra: Any
) -> dict[str, Any]:
    optimizer = {"name": name, "eta": eta, **extra.pop("hyper", {})}
    return {"label": label, "surface": surface, "theta0": theta0, "optimizer": optimizer, **extra}


TRAIN, SLICE = "/api/networks/train", "/api/networks/slice"


def _noise_run(batch: int, eta: float, label: str) -> dict[str, Any]:
    """Minibatch SGD with replacement on the standardized noisy trend, long enough for its
    second half to be a stationary cloud (relaxation takes ~10 steps at η = 0.05)."""
    trend = {"kind": "linear", "dataset": "trend", "standardize": True}
    extra: dict[str, Any] = {"batch_size": batch, "seed": 0, "sampling": "with_replacement"}
    return _run(trend, [0.0, 0.0], eta, label=label, max_steps=4000, tol=0.0, **extra)


def _chebyshev(eta: float, max_steps: int, label: str) -> dict[str, Any]:
    """Full-batch GD on Cohen et al.'s Chebyshev setup, as tests/core/networks's edge-of-stability
    test runs it: 1 → 32 → 1 tanh from seed 0 on T₄ at 20 points, sharpness every 5 steps."""
    return {
        "label": label,
        "api": TRAIN,
        "architecture": {"hidden": [32], "activation": "tanh"},
        "data": {"dataset": "chebyshev", "points": 20},
        "init": {"seed": 0},
        "optimizer": {"name": GD, "eta": eta},
        "max_steps": max_steps,
        "tol": 0.0,
        "sharpness_every": 5,
        "sharpness_iterations": 10,
    }


# A small classifier on two moons, sliced twice.
_MOONS_RUN: dict[str, Any] = {
    "architecture": {"hidden": [16], "activation": "tanh"},
    "data": {"dataset": "moons", "points": 200},
    "init": {"seed": 0},
    "optimizer": {"name": GD, "eta": 0.5},
    "max_steps": 300,
}

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
    {
        "id": 8,
        "slug": "edge-of-stability",
        "title": "η sets the sharpness: the edge of stability",
        "text": [
            "On a quadratic, GD with step size η converges only if the curvature λ stays below "
            "2/η. A network's curvature is not fixed: its sharpness, the largest eigenvalue of "
            "the Hessian, changes as it trains.",
            "Here full-batch GD sharpens the network until the sharpness reaches 2/η, and then "
            "it hovers there, while the loss keeps falling, jaggedly, instead of diverging: the "
            "edge of stability (Cohen et al., 2021). A smaller η lets it settle higher.",
        ],
        "question": "Compare the two runs: where does each one's sharpness stop rising, and what "
        "does the loss do once it gets there?",
        "views": {"network": True, "sharpness": True},
        "runs": [
            _chebyshev(0.15, 4000, "GD, η = 0.15 (2/η = 13.3)"),
            _chebyshev(0.133, 5000, "GD, η = 0.133 (2/η = 15.0)"),
        ],
        "expect": [
            {
                "status": "max_steps",
                "sharpness_at_edge": True,
                "loss_falls": True,
                "message_contains": "edge of stability",
            },
            {
                "status": "max_steps",
                "sharpness_at_edge": True,
                "loss_falls": True,
                "message_contains": "edge of stability",
            },
        ],
    },
    {
        "id": 9,
        "slug": "honest-slices",
        "title": "A network's loss in 2-D: what a slice shows and what it hides",
        "text": [
            "A network has hundreds of parameters, so any picture of its loss is a slice: a "
            "plane through θ, with the path projected onto it.",
            "The plane of the path's two principal components holds almost all of its "
            "movement; a random plane through the same θ holds almost none, so the path's drawn "
            "heights there are not its losses. The faithfulness line says which iterates lie.",
        ],
        "question": "Switch between the two planes: which iterates does each one draw at the "
        "wrong height, and how much of the path's variance does each hold?",
        "views": {"network": True, "slice": True},
        "runs": [
            {"label": "PCA plane", "api": SLICE, "run": _MOONS_RUN, "plane": "pca", "m": 41},
            {
                "label": "random plane",
                "api": SLICE,
                "run": _MOONS_RUN,
                "plane": "random",
                "m": 41,
                "seed": 0,
            },
        ],
        "expect": [
            {"status": "max_steps", "explained_at_least": 0.9, "misleading_within": 5},
            {
                "status": "max_steps",
                "variance_in_plane_below": 0.1,
                "misleading_at_least": 150,
                "message_contains": "are not their losses",
            },
        ],
    },
    {
        "id": 10,
        "slug": "sgd-noise",
        "title": "SGD never sits still: batch size and η set the noise",
        "text": [
            "Minibatch SGD steps along the gradient of a few points, not of all of them. At θ* "
            "the full gradient is zero but a batch's is not, so the iterates never settle: they "
            "jitter in a cloud around θ*.",
            "Its covariance Σ solves Σ = (I − ηH)Σ(I − ηH)ᵀ + (η²/B)·C (H the curvature at θ*, "
            "C the spread of the points' own gradients): the ellipses are its 1σ and 2σ, the dots "
            "the run's second half. 16 times the batch gives a 16 times smaller tr Σ; half the "
            "step size, about half.",
        ],
        "question": "Move B from 1 to 16 with the slider: tr Σ falls 16-fold, but how much "
        "narrower does the cloud get, and why?",
        "views": {"noise_cloud": True},
        "runs": [
            _noise_run(1, 0.05, "B = 1"),
            _noise_run(16, 0.05, "B = 16"),
            _noise_run(1, 0.025, "B = 1, η/2"),
        ],
        "expect": [
            {"status": "max_steps", "noise_within": 0.2},
            {"status": "max_steps", "noise_within": 0.2},
            {"status": "max_steps", "noise_within": 0.2},
        ],
    },
    {
        "id": 11,
        "slug": "gd-is-not-gradient-flow",
        "title": "GD is not gradient flow",
        "text": [
            "Each step θₜ₊₁ = θₜ − η∇L(θₜ) is one Euler step of the gradient flow "
            "dθ/ds = −∇L, at time s = η·t. Euler's method drifts: θₜ stays off the flow (the "
            "dashed ink curve) by an amount proportional to η.",
            "To second order in η, GD follows another flow: that of the modified loss "
            "L + (η/4)‖∇L‖² (the gold curve; Barrett & Dherin, 2021), which quietly penalises "
            "steep places. θₜ's distance from it shrinks like η².",
        ],
        "question": "Read the distances at s = 1 (t = 5 at η = 0.2, t = 10 at η = 0.1): when η "
        "is halved, by how much does θₜ move closer to each curve?",
        "views": {"gradient_flow": True},
        "runs": [
            _run("double_well", [0.5, 1.0], 0.2, label="GD, η = 0.2"),
            _run("double_well", [0.5, 1.0], 0.1, label="GD, η = 0.1"),
        ],
        # flow_at_s: θ_t's distances from both curves are read at this s (POST /api/flow);
        # modified_closer: the modified flow is over 3 times closer there; halves_gaps_of: k,
        # run k has twice this run's η and 2 ± 0.25 times its distance from the flow, 4 ± 0.5
        # times its distance from the modified flow.
        "expect": [
            {"status": "converged", "flow_at_s": 1.0, "modified_closer": True},
            {
                "status": "converged",
                "flow_at_s": 1.0,
                "modified_closer": True,
                "halves_gaps_of": 0,
            },
        ],
    },
]


def lesson(lesson_id: int) -> dict[str, Any]:
    for item in LESSONS:
        if item["id"] == lesson_id:
            return item
    raise KeyError(f"No lesson {lesson_id}: lessons are numbered 1 to {len(LESSONS)}.")
