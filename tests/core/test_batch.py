"""The vectorised batch runner gives each start exactly its single run's outcome."""

import numpy as np
import pytest

from app.core.batch import run_batch
from app.core.optimizers import OPTIMIZERS, make_optimizer
from app.core.presets import get_preset
from app.core.runner import LineSearch, StopRules, run_to_end
from app.core.schedules import make_schedule

ETAS = {"gd": 0.02, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.5, "rmsprop": 0.05,
        "adam": 0.1, "newton": 0.5}


def _starts(surface, k: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.uniform(*surface.domain.x, k), rng.uniform(*surface.domain.y, k)


def _assert_matches_single_runs(surface, optimizer, xs, ys, rules, result, **options):
    for i in range(len(xs)):
        last = run_to_end(surface, optimizer, (xs[i], ys[i]), rules, **options)[-1]
        assert result.status_name(i) == last.status, i
        assert result.steps[i] == last.t, i
        assert (result.x[i], result.y[i]) == pytest.approx(last.theta, abs=1e-9, rel=1e-9)
        assert result.loss[i] == pytest.approx(last.loss, abs=1e-9, rel=1e-9)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("surface_id", ["himmelblau", "six_hump_camel", "rosenbrock"])
def test_each_start_matches_its_single_run(name: str, surface_id: str) -> None:
    surface = get_preset(surface_id)
    eta = ETAS[name] / (20 if surface_id == "rosenbrock" and name in ("gd", "momentum", "nesterov") else 1)
    optimizer = make_optimizer(name, eta=eta)
    xs, ys = _starts(surface, 40)
    rules = StopRules(max_steps=300)
    result = run_batch(surface, optimizer, xs, ys, rules)
    _assert_matches_single_runs(surface, optimizer, xs, ys, rules, result)


def test_many_step_sizes_at_once_match_single_runs() -> None:
    surface = get_preset("quadratic")
    etas = np.geomspace(0.01, 2.0, 25)
    xs, ys = np.full(25, -2.5), np.full(25, 2.0)
    rules = StopRules(max_steps=400)
    result = run_batch(surface, make_optimizer("gd"), xs, ys, rules, etas=etas)
    for i, eta in enumerate(etas):
        last = run_to_end(surface, make_optimizer("gd", eta=eta), (-2.5, 2.0), rules)[-1]
        assert (result.status_name(i), result.steps[i]) == (last.status, last.t)
    names = [result.status_name(i) for i in range(25)]
    first_diverging = etas[names.index("diverged")]
    assert first_diverging > 1.0 and etas[names.index("diverged") - 1] < 1.0  # 2/λ = 1


def test_schedules_and_line_search_match_single_runs() -> None:
    surface = get_preset("himmelblau")
    xs, ys = _starts(surface, 30, seed=3)
    rules = StopRules(max_steps=200)
    schedule = make_schedule("cosine", t_max=80, eta_min=1e-3)
    optimizer = make_optimizer("momentum", eta=0.01)
    result = run_batch(surface, optimizer, xs, ys, rules, schedule=schedule)
    _assert_matches_single_runs(surface, optimizer, xs, ys, rules, result, schedule=schedule)

    search = LineSearch()
    gd = make_optimizer("gd", eta=1.0)
    result = run_batch(surface, gd, xs, ys, rules, line_search=search)
    _assert_matches_single_runs(surface, gd, xs, ys, rules, result, line_search=search)


def test_divergence_and_overflow_per_start() -> None:
    surface = get_preset("rosenbrock")
    xs, ys = np.array([-1.5, 0.5, 1.0]), np.array([2.0, 0.2, 1.0])
    rules = StopRules(max_steps=100)
    result = run_batch(surface, make_optimizer("gd"), xs, ys, rules, etas=np.array([0.05, 1e-4, 0.05]))
    assert [result.status_name(i) for i in range(3)] == ["diverged", "max_steps", "converged"]
    assert result.steps[2] == 0
    assert np.isfinite(result.x).all() and np.isfinite(result.loss).all()


def test_progress_is_reported_until_nothing_runs() -> None:
    seen = []
    surface = get_preset("booth")
    run_batch(surface, make_optimizer("gd", eta=0.05), *_starts(surface, 50), StopRules(max_steps=300),
              progress=lambda t, running: seen.append((t, running)))
    assert seen[0][0] == 0 and seen[-1][1] == 0
    assert [t for t, _ in seen] == list(range(len(seen)))
    assert all(b <= a for (_, a), (_, b) in zip(seen, seen[1:]))
