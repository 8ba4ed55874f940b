"""The advice for a run stopped by max_steps must be true for what its path does (issue 16).

Each preset's minimum is approached from a small offset with GD at η just under and just over
GD's stability limit 2/λ_max there, and at a tiny η; the advice is checked against what a
smaller or a larger η then actually does.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.core.descent import DIAGNOSIS_TAIL, StopRules, path_shape, run_to_end, summarize
from app.core.descent.optimizers import GD
from app.core.surfaces import PRESETS, Surface

WITH_MINIMA = [s for s in PRESETS.values() if s.minima]
RULES = StopRules(max_steps=200, tol=1e-9)


def _start(surface: Surface) -> tuple[tuple[float, float], float]:
    """A start near the global minimum, off both of its Hessian's axes, and λ_max there."""
    m = min(surface.minima, key=lambda m: m.value)
    values, vectors = np.linalg.eigh(surface.hessian_matrix(m.x, m.y))
    offset = 1e-3 * surface.domain.diagonal * (vectors[:, 0] + vectors[:, 1]) / math.sqrt(2)
    return (m.x + float(offset[0]), m.y + float(offset[1])), float(values[-1])


def _run(surface: Surface, eta: float, theta0: tuple[float, float]):
    iterates = run_to_end(surface, GD(eta), theta0, RULES)
    return iterates, summarize(
        surface, GD(eta), theta0, RULES, iterates[-1], iterates[-DIAGNOSIS_TAIL:]
    )


def _steps_to(surface: Surface, eta: float, theta0: tuple[float, float], target: float) -> int:
    """Steps until ‖∇L‖ falls below `target` (max_steps + 1 if it never does)."""
    iterates = run_to_end(surface, GD(eta), theta0, StopRules(max_steps=4000, tol=target))
    return len(iterates) if iterates[-1].status == "converged" else 4001


@pytest.mark.parametrize("surface", WITH_MINIMA, ids=lambda s: s.id)
def test_just_under_the_limit_the_advice_never_asks_for_a_larger_eta(surface: Surface) -> None:
    theta0, lam = _start(surface)
    eta = 0.99 * 2.0 / lam
    iterates, summary = _run(surface, eta, theta0)
    assert summary.status == "max_steps"
    message = summary.message
    assert "2/λ" in message and "try a larger η" not in message
    if "A smaller η converges faster" in message or "A smaller η stops the zig-zag" in message:
        # The advice is true: a smaller η gets further in the same number of steps.
        target = iterates[-1].grad_norm
        assert _steps_to(surface, 0.8 * eta, theta0, target) < len(iterates)
    else:
        # The flat direction rules the tail: the run goes steadily downhill.
        assert path_shape(iterates[-DIAGNOSIS_TAIL:]).shape == "monotone"
        assert "a larger η would diverge" in message


@pytest.mark.parametrize("surface", WITH_MINIMA, ids=lambda s: s.id)
def test_just_over_the_limit_the_advice_is_a_smaller_eta(surface: Surface) -> None:
    theta0, lam = _start(surface)
    eta = 1.01 * 2.0 / lam
    iterates, summary = _run(surface, eta, theta0)
    m = min(surface.minima, key=lambda m: m.value)
    final = iterates[-1].theta
    if summary.status == "converged":  # it left the unstable minimum for a flatter one
        assert math.hypot(final[0] - m.x, final[1] - m.y) > 1e-3
    else:
        assert "smaller η" in summary.message
        if summary.status == "max_steps":
            assert "above 2/λ" in summary.message or "flips direction" in summary.message


@pytest.mark.parametrize("surface", WITH_MINIMA, ids=lambda s: s.id)
def test_at_a_tiny_eta_the_advice_is_more_steps_or_a_larger_eta(surface: Surface) -> None:
    theta0, lam = _start(surface)
    eta = 1e-3 * 2.0 / lam
    iterates, summary = _run(surface, eta, theta0)
    assert summary.status == "max_steps"
    assert "Allow more steps or try a larger η" in summary.message or (
        "allow more steps or try a larger η" in summary.message
    )
    # True: ten times the step gets further in the same number of steps.
    assert _steps_to(surface, 10 * eta, theta0, iterates[-1].grad_norm) < len(iterates)


def test_the_quadratic_just_under_one_is_told_the_contraction_factor() -> None:
    """/?surface=quadratic&eta=0.999: θ flips across the minimum, shrinking by |1 − 2η|."""
    surface = PRESETS["quadratic"]
    iterates, summary = _run(surface, 0.999, surface.default_start)
    assert summary.status == "max_steps"
    assert "η = 0.999 is just under 2/λ = 1" in summary.message
    assert "|1 − ηλ| = 0.998 per step" in summary.message
    assert "A smaller η converges faster" in summary.message
    assert "larger η" not in summary.message
    shape = path_shape(iterates[-DIAGNOSIS_TAIL:])
    assert shape.shape == "oscillating" and shape.rate == pytest.approx(0.998, abs=1e-9)


def test_a_ravine_at_the_balanced_eta_zig_zags() -> None:
    """x² + 25y² at η ≈ 2/(λ_min + λ_max): both directions shrink by ~0.92 per step, the steep
    one by flipping sides, so the path zig-zags along the valley."""
    surface = PRESETS["ravine"]
    iterates, summary = _run(surface, 0.0385, (-2.5, 1.0))
    assert path_shape(iterates[-DIAGNOSIS_TAIL:]).shape == "zigzag"
    assert "zig-zags across the valley" in summary.message


def test_steps_of_length_zero_in_the_tail_are_skipped_not_divided_by() -> None:
    """A cosine schedule with t_max = 2 and eta_min = 0 makes η_t = 0 at every other step
    (found by schemathesis: 0/0 in the step cosines was a 500)."""
    from app.core.descent import make_schedule
    from app.core.descent.optimizers import Adam

    surface = PRESETS["himmelblau"]
    rules = StopRules(max_steps=1000)
    schedule = make_schedule("cosine", t_max=2, eta_min=0.0)
    iterates = run_to_end(surface, Adam(eta=0.001), (-1.0, 1.0), rules, schedule=schedule)
    assert any(it.eta == 0.0 for it in iterates[-DIAGNOSIS_TAIL:-1])
    summary = summarize(
        surface, Adam(eta=0.001), (-1.0, 1.0), rules, iterates[-1], iterates[-DIAGNOSIS_TAIL:]
    )
    assert summary.status == "max_steps" and "Stopped at the maximum" in summary.message
