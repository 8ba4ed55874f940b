"""Each stop rule, held once: every runner stops where the rule says, at its very threshold.

The four loops that take stop decisions (app.core.descent.stopping) are run on the same start
with the same rules: the generic loop (any optimizer; reached here with GD and an explicit
full-gradient step_gradient), the Python GD loop (compiled=False), the compiled GD kernel (the
default on a compiled preset) and the batch runner. The truth they are held to is the rule as
written in the README, applied by `_rule` below to the iterates of an unbounded reference run:
the first iterate where it fires, with the threshold set exactly to a value the run takes, and
one ulp to the other side (where the rule must not fire there).
"""

import math

import numpy as np
import pytest

from app.core.descent import (
    COMPILED_PRESETS,
    CONVERGED,
    DIVERGED,
    MAX_STEPS,
    STATUS_NAMES,
    LineSearch,
    StopRules,
    make_optimizer,
    run_batch,
    stop_check,
    trajectory,
)
from app.core.descent.stopping import armijo, armijo_array, converged_mask
from app.core.surfaces.presets import get_preset

UNBOUNDED = {"tol": 0.0, "max_abs_theta": math.inf, "max_abs_loss": math.inf}


def _reference(surface_id: str, eta: float, theta0: tuple[float, float], steps: int):
    """The run with no stop rule but max_steps (and overflow): the iterates the rules judge."""
    return trajectory(
        get_preset(surface_id),
        make_optimizer("gd", eta=eta),
        theta0,
        StopRules(max_steps=steps, **UNBOUNDED),
        compiled=False,
    )


def _rule(reference, rules: StopRules) -> tuple[str, int]:
    """The README's rules on the reference iterates: the status and step where the run stops."""
    thetas, losses = reference.thetas.tolist(), reference.losses.tolist()
    grads = reference.grads.tolist()
    for k, ((x, y), loss, (gx, gy)) in enumerate(zip(thetas, losses, grads)):
        if abs(loss) > rules.max_abs_loss or max(abs(x), abs(y)) > rules.max_abs_theta:
            return "diverged", k
        if math.hypot(gx, gy) <= rules.tol:
            return "converged", k
        if k == rules.max_steps:
            return "max_steps", k
    # The next iterate was not finite (the reference itself stopped there, diverged).
    assert reference.status == "diverged" and "overflowed" in reference.reason
    return "diverged", len(reference) - 1


def _every_runner(surface_id: str, eta: float, theta0: tuple[float, float], rules: StopRules):
    """(status, steps, final θ, reason) of each runner; the batch runner has no reason."""
    surface, gd = get_preset(surface_id), make_optimizer("gd", eta=eta)
    assert surface_id in COMPILED_PRESETS

    def full_gradient(t: int, x: float, y: float) -> tuple[float, float]:
        gx, gy = surface.grad(x, y)
        return float(gx), float(gy)

    runs = {
        "generic loop": trajectory(surface, gd, theta0, rules, step_gradient=full_gradient),
        "Python GD loop": trajectory(surface, gd, theta0, rules, compiled=False),
        "compiled kernel": trajectory(surface, gd, theta0, rules),
    }
    python = runs["Python GD loop"]
    for name, run in runs.items():  # the whole run, bit for bit
        for column in ("thetas", "losses", "grads"):
            assert getattr(run, column).tobytes() == getattr(python, column).tobytes(), name
        assert (run.etas, run.state) == (python.etas, python.state), name
    out: dict[str, tuple[str | None, int, tuple[float, ...], str | None]] = {
        name: (run.status, len(run) - 1, tuple(run.thetas[-1].tolist()), run.reason)
        for name, run in runs.items()
    }
    batch = run_batch(surface, gd, np.array([theta0[0]]), np.array([theta0[1]]), rules)
    out["batch runner"] = (
        batch.status_name(0),
        int(batch.steps[0]),
        (float(batch.x[0]), float(batch.y[0])),
        None,
    )
    return out


def _below(value: float) -> float:
    return math.nextafter(value, -math.inf)


# (rule, surface, η, θ₀, steps of the reference run, the steps k whose values set thresholds)
CASES = [
    # ‖∇L_k‖ ≤ tol; on the quadratic from k ≈ 1630 on, ‖∇L‖² and tol² are subnormal
    ("tol", "ravine", 0.01, (1.0, 0.7), 2000, [0, 1, 40, 400]),
    ("tol", "quadratic", 0.1, (1.0, 0.7), 2000, [1630, 1634, 1636, 1650, 1700]),
    ("tol", "himmelblau", 0.01, (-1.0, 1.0), 600, [0, 5, 30, 39]),
    # L_k > max_abs_loss: GD past 2/λ on the quadratic, the loss grows at every step
    ("loss", "quadratic", 1.05, (0.5, 0.5), 5000, [0, 1, 100, 600]),
    # L_k < −max_abs_loss: the saddle is unbounded below
    ("loss", "saddle", 0.4, (0.5, 0.5), 5000, [1, 20, 40]),
    # max(|x_k|, |y_k|) > max_abs_theta
    ("theta", "quadratic", 1.05, (0.5, 0.5), 5000, [1, 100, 2000]),
    ("theta", "saddle", 0.4, (0.5, 0.5), 5000, [1, 20, 600]),
    # θ_{k+1}, L or ∇L not finite (no bound): diverged at k, the last finite iterate
    ("overflow", "saddle", 0.4, (0.5, 0.5), 5000, []),
    ("overflow", "rosenbrock", 0.01, (-1.5, 2.0), 5000, []),
    # t = max_steps
    ("max_steps", "ravine", 0.01, (1.0, 0.7), 300, [0, 1, 299]),
    ("max_steps", "himmelblau", 0.001, (0.5, 0.5), 300, [0, 150, 299]),
]


def _thresholds(rule: str, reference, k: int) -> list[tuple[StopRules, bool]]:
    """Rules whose threshold is exactly the value the run takes at step k (where it first
    passes that value), and one ulp to the other side; with whether the run stops at k."""
    grad = math.hypot(*reference.grads[k].tolist())
    loss = abs(float(reference.losses[k]))
    box = float(np.abs(reference.thetas[k]).max())
    steps = len(reference) - 1
    if rule == "tol":  # converged: ‖∇L‖ ≤ tol
        return [
            (StopRules(max_steps=steps, tol=grad), True),
            (StopRules(max_steps=steps, tol=_below(grad)), False),
        ]
    if rule == "loss":  # diverged: |L| > max_abs_loss
        return [
            (StopRules(steps, 0.0, max_abs_theta=math.inf, max_abs_loss=_below(loss)), True),
            (StopRules(steps, 0.0, max_abs_theta=math.inf, max_abs_loss=loss), False),
        ]
    if rule == "theta":  # diverged: |x| or |y| > max_abs_theta
        return [
            (StopRules(steps, 0.0, max_abs_loss=math.inf, max_abs_theta=_below(box)), True),
            (StopRules(steps, 0.0, max_abs_loss=math.inf, max_abs_theta=box), False),
        ]
    # max_steps = k; with tol at ‖∇L_k‖ too, converged wins
    return [(StopRules(max_steps=k, tol=0.0), True), (StopRules(max_steps=k, tol=grad), True)]


@pytest.mark.parametrize(
    ("rule", "surface_id", "eta", "theta0", "steps", "ks"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES],
)
def test_every_runner_stops_where_the_rule_says(
    rule: str,
    surface_id: str,
    eta: float,
    theta0: tuple[float, float],
    steps: int,
    ks: list[int],
) -> None:
    reference = _reference(surface_id, eta, theta0, steps)
    if rule == "overflow":
        assert reference.status == "diverged" and len(reference) - 1 < steps
        every = [(len(reference) - 1, StopRules(max_steps=steps, **UNBOUNDED), True)]
    else:
        every = [(at, r, stops) for at in ks for r, stops in _thresholds(rule, reference, at)]
    for at, rules, stops_there in every:
        status, k = _rule(reference, rules)
        assert (k == at) == stops_there, (at, k, rules)
        got = _every_runner(surface_id, eta, theta0, rules)
        final = tuple(reference.thetas[k].tolist())
        for runner, (s, steps_taken, theta, _) in got.items():
            assert (s, steps_taken, theta) == (status, k, final), (runner, rules)
        reasons = {reason for _, _, _, reason in got.values() if reason is not None}
        assert len(reasons) == 1, reasons  # the same words from every single runner
        expected = {
            "tol": "",
            "max_steps": "",
            "loss": "the loss",
            "theta": "θ left the box",
            "overflow": "overflowed",
        }[rule if status == "diverged" else "tol"]
        assert expected in reasons.pop()


def test_the_rules_are_tested_in_order_diverged_converged_max_steps() -> None:
    rules = StopRules(max_steps=5, tol=1.0, max_abs_theta=10.0, max_abs_loss=100.0)
    assert stop_check(5, 11.0, 0.0, 0.0, 0.0, 0.0, rules, 5) == (
        "diverged",
        "at step 5: θ left the box |x|, |y| ≤ 10",
    )
    assert stop_check(5, 0.0, 0.0, 101.0, 0.0, 0.0, rules, 5) == (
        "diverged",
        "at step 5: the loss passed 100",
    )
    assert stop_check(5, 0.0, 0.0, -101.0, 0.0, 0.0, rules, 5) == (
        "diverged",
        "at step 5: the loss fell below −100",
    )
    assert stop_check(5, 10.0, -10.0, 100.0, 0.6, 0.8, rules, 5) == ("converged", "")
    assert stop_check(5, 10.0, -10.0, -100.0, 0.6, 0.81, rules, 5) == ("max_steps", "")
    assert stop_check(4, 10.0, -10.0, -100.0, 0.6, 0.81, rules, 5) is None


def test_status_codes_index_the_status_names() -> None:
    assert STATUS_NAMES == ("converged", "diverged", "max_steps")
    assert [STATUS_NAMES[c] for c in (CONVERGED, DIVERGED, MAX_STEPS)] == list(STATUS_NAMES)


def test_converged_mask_is_exactly_math_hypot() -> None:
    rng = np.random.default_rng(7)
    for tol in (1e-5, 1.0, 3e-150, 1e-300, 0.0):
        angle = rng.uniform(0, 2 * np.pi, 4000)
        r = tol * (1 + rng.integers(-4, 5, 4000) * 2.0**-52)  # within a few ulps of tol
        gx = np.asarray(r * np.cos(angle), dtype=np.float64)
        gy = np.asarray(r * np.sin(angle), dtype=np.float64)
        gx[:10], gy[:10] = 0.0, 0.0
        gx[10:20], gy[10:20] = 5e-324, 0.0
        expected = [math.hypot(a, b) <= tol for a, b in zip(gx.tolist(), gy.tolist())]
        assert converged_mask(gx, gy, tol).tolist() == expected, tol


@pytest.mark.parametrize("surface_id", ["rosenbrock", "himmelblau", "beale"])
def test_batched_armijo_is_the_scalar_armijo(surface_id: str) -> None:
    """Per point, the batched line search picks the scalar one's η, and that η satisfies the
    Armijo condition (or is the last of MAX_SHRINKS shrinks)."""
    surface, search = get_preset(surface_id), LineSearch(c=0.3, shrink=0.5)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(*surface.domain.x, 200), rng.uniform(*surface.domain.y, 200)
    loss = np.asarray(surface.value(x, y), dtype=np.float64)
    gx, gy = (np.asarray(g, dtype=np.float64) for g in surface.grad(x, y))
    etas = armijo_array(surface.value, x, y, loss, gx, gy, 1.0, search)
    for i in range(200):
        a, b, g, h = float(x[i]), float(y[i]), float(gx[i]), float(gy[i])
        eta = armijo(surface.value, a, b, float(loss[i]), g, h, 1.0, search)
        assert etas[i] == eta, i
        trial = float(surface.value(a - eta * g, b - eta * h))
        assert trial <= float(loss[i]) - search.c * eta * (g * g + h * h) or eta < 1e-17
