"""Schedules against torch.optim.lr_scheduler; line search, Newton and resume against their
definitions."""

import itertools

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from app.core.descent.optimizers import GD, OPTIMIZERS, make_optimizer
from app.core.descent.runner import LineSearch, Resume, StopRules, run_to_end
from app.core.descent.schedules import (
    SCHEDULES,
    Cosine,
    Exponential,
    InverseSqrt,
    StepDecay,
    make_schedule,
)
from app.core.descent.summary import summarize
from app.core.surfaces.presets import get_preset

SCHEDULERS = torch.optim.lr_scheduler


def torch_rates(scheduler_cls, n: int, base: float, **kwargs) -> list[float]:
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=base)
    scheduler = scheduler_cls(optimizer, **kwargs)
    rates = []
    for _ in range(n):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


@pytest.mark.parametrize(
    ("ours", "theirs", "kwargs"),
    [
        (StepDecay(step_size=7, gamma=0.5), SCHEDULERS.StepLR, {"step_size": 7, "gamma": 0.5}),
        (StepDecay(step_size=1, gamma=0.9), SCHEDULERS.StepLR, {"step_size": 1, "gamma": 0.9}),
        (Exponential(gamma=0.97), SCHEDULERS.ExponentialLR, {"gamma": 0.97}),
        (
            Cosine(t_max=50, eta_min=0.01),
            SCHEDULERS.CosineAnnealingLR,
            {"T_max": 50, "eta_min": 0.01},
        ),
        (Cosine(t_max=13), SCHEDULERS.CosineAnnealingLR, {"T_max": 13}),
    ],
)
def test_schedule_equals_torch(ours, theirs, kwargs) -> None:
    """η_t for t = 0 … 299, with the scheduler stepped once per iteration, as in torch."""
    expected = torch_rates(theirs, 300, 0.3, **kwargs)
    assert_allclose([ours.eta(0.3, t) for t in range(300)], expected, rtol=0, atol=1e-12)


def test_the_run_uses_the_scheduled_step_sizes() -> None:
    """A run's reported η_t are the schedule's, and GD's steps are exactly η_t ∇L."""
    schedule = Exponential(gamma=0.9)
    iterates = run_to_end(
        get_preset("quadratic"),
        GD(0.3),
        (-2.0, 1.0),
        StopRules(max_steps=40, tol=0),
        schedule=schedule,
    )
    assert [it.eta for it in iterates[:-1]] == [schedule.eta(0.3, t) for t in range(40)]
    assert iterates[-1].eta is None
    for a, b in zip(iterates, iterates[1:]):
        assert a.eta is not None
        assert b.theta == (a.theta[0] - a.eta * a.grad[0], a.theta[1] - a.eta * a.grad[1])


def test_inverse_sqrt_warms_up_then_decays() -> None:
    s = InverseSqrt(warmup=4)
    rates = [s.eta(1.0, t) for t in range(12)]
    assert rates[:4] == [0.25, 0.5, 0.75, 1.0]
    assert rates[8] == pytest.approx((4 / 9) ** 0.5)
    assert InverseSqrt().eta(2.0, 3) == 1.0


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("step", {"step_size": 0}, "step_size"),
        ("step", {"gamma": 0.0}, "gamma"),
        ("exponential", {"gamma": 1.5}, "gamma"),
        ("cosine", {"t_max": 0}, "t_max"),
        ("cosine", {"eta_min": -1.0}, "eta_min"),
        ("inverse_sqrt", {"warmup": -1}, "warmup"),
    ],
)
def test_bad_schedule_parameters_name_the_value(name, params, field) -> None:
    with pytest.raises(ValueError, match=f"Invalid {field}: {list(params.values())[0]!r}"):
        make_schedule(name, **params)


@pytest.mark.parametrize("surface_id", ["rosenbrock", "himmelblau", "beale"])
def test_every_line_search_step_satisfies_armijo(surface_id: str) -> None:
    surface = get_preset(surface_id)
    search = LineSearch(c=1e-4, shrink=0.5)
    iterates = run_to_end(
        surface,
        GD(1.0),
        surface.default_start,
        StopRules(max_steps=300, tol=1e-9),
        line_search=search,
    )
    assert len(iterates) > 10
    for a, b in zip(iterates, iterates[1:]):
        slope = a.grad[0] ** 2 + a.grad[1] ** 2
        assert a.eta is not None
        assert b.loss <= a.loss - search.c * a.eta * slope
        assert a.eta in [0.5**k for k in range(61)]  # a trial step of the form η·shrinkᵏ
        # and the step before it (twice as long) failed the test, unless it was the first trial
        if a.eta < 1.0:
            x, y = a.theta
            longer = surface.value(x - 2 * a.eta * a.grad[0], y - 2 * a.eta * a.grad[1])
            assert not longer <= a.loss - search.c * 2 * a.eta * slope


@pytest.mark.parametrize("surface_id", ["quadratic", "ravine", "booth"])
def test_newton_reaches_a_quadratics_minimum_in_one_step(surface_id: str) -> None:
    surface = get_preset(surface_id)
    (m,) = surface.minima
    newton = make_optimizer("newton")
    iterates = run_to_end(surface, newton, surface.default_start, StopRules(tol=1e-9))
    assert len(iterates) == 2 and iterates[-1].status == "converged"
    assert_allclose(iterates[-1].theta, (m.x, m.y), atol=1e-12)


def test_newton_escapes_a_saddle_and_says_it_damped() -> None:
    surface = get_preset("himmelblau")
    saddle = surface.saddles[0]
    start = (saddle.x + 0.05, saddle.y + 0.05)
    newton = make_optimizer("newton", eta=0.5)
    rules = StopRules(max_steps=200)
    iterates = run_to_end(surface, newton, start, rules)
    summary = summarize(surface, newton, start, rules, iterates[-1], [])
    assert summary.status == "converged" and "minimum" in summary.message
    assert "eigenvalue below min_curvature" in summary.message


SCHEDULE_CASES = [
    make_schedule("constant"),
    make_schedule("step", step_size=15, gamma=0.5),
    make_schedule("exponential", gamma=0.98),
    make_schedule("cosine", t_max=60, eta_min=1e-4),
    make_schedule("inverse_sqrt", warmup=10),
]
ETAS = {
    "gd": 0.01,
    "momentum": 0.005,
    "nesterov": 0.005,
    "adagrad": 0.5,
    "rmsprop": 0.01,
    "adam": 0.05,
    "newton": 0.5,
}


@pytest.mark.parametrize(
    ("name", "schedule"),
    list(itertools.product(OPTIMIZERS, SCHEDULE_CASES)),
    ids=lambda v: getattr(v, "name", v),
)
def test_split_and_resume_equals_the_uninterrupted_run(name, schedule) -> None:
    """100 steps at once equal 40 steps, then 60 more resumed from the 40th's saved state."""
    surface = get_preset("himmelblau")
    optimizer = make_optimizer(name, eta=ETAS[name])
    whole = run_to_end(
        surface, optimizer, (-0.5, 0.3), StopRules(max_steps=100, tol=0), schedule=schedule
    )
    first = run_to_end(
        surface, optimizer, (-0.5, 0.3), StopRules(max_steps=40, tol=0), schedule=schedule
    )
    end = first[-1]
    resume = Resume(end.t, end.theta, optimizer.name, end.state)
    rest = run_to_end(
        surface,
        optimizer,
        (9.0, 9.0),
        StopRules(max_steps=60, tol=0),
        schedule=schedule,
        resume=resume,
    )
    assert [it.t for it in rest] == list(range(40, 101))
    joined = first[:-1] + rest
    assert [it.theta for it in joined] == [it.theta for it in whole]
    assert [it.eta for it in joined] == [it.eta for it in whole]
    assert joined[-1].state == whole[-1].state


def test_resuming_with_another_optimizer_starts_its_state_afresh() -> None:
    surface = get_preset("himmelblau")
    first = run_to_end(surface, GD(0.01), (-0.5, 0.3), StopRules(max_steps=10, tol=0))
    adam = make_optimizer("adam", eta=0.1)
    resume = Resume(first[-1].t, first[-1].theta, "gd", first[-1].state)
    rest = run_to_end(surface, adam, (0, 0), StopRules(max_steps=5, tol=0), resume=resume)
    fresh = run_to_end(surface, adam, first[-1].theta, StopRules(max_steps=5, tol=0))
    assert [it.theta for it in rest] == [it.theta for it in fresh]
    assert rest[0].t == 10 and rest[-1].state.step == 5


def test_schedule_registry_is_complete() -> None:
    assert set(SCHEDULES) == {"constant", "step", "exponential", "cosine", "inverse_sqrt"}
    assert np.isclose(make_schedule("cosine", t_max=10).eta(1.0, 10), 0.0)
