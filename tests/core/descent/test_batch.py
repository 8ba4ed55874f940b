"""The vectorised batch runner gives each start exactly its single run's outcome."""

import numpy as np
import pytest

from app.core.descent.batch import run_batch
from app.core.descent.optimizers import OPTIMIZERS, make_optimizer
from app.core.descent.runner import LineSearch, StopRules, run_to_end
from app.core.descent.schedules import make_schedule
from app.core.surfaces.presets import get_preset
from app.core.surfaces.surface import Array, Domain, Surface

ETAS = {
    "gd": 0.02,
    "momentum": 0.01,
    "nesterov": 0.01,
    "adagrad": 0.5,
    "rmsprop": 0.05,
    "adam": 0.1,
    "newton": 0.5,
}


def _starts(surface: Surface, k: int, seed: int = 0) -> tuple[Array, Array]:
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
    eta = ETAS[name] / (
        20 if surface_id == "rosenbrock" and name in ("gd", "momentum", "nesterov") else 1
    )
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
    result = run_batch(
        surface, make_optimizer("gd"), xs, ys, rules, etas=np.array([0.05, 1e-4, 0.05])
    )
    assert [result.status_name(i) for i in range(3)] == ["diverged", "max_steps", "converged"]
    assert result.steps[2] == 0
    assert np.isfinite(result.x).all() and np.isfinite(result.loss).all()


def test_progress_is_reported_until_nothing_runs() -> None:
    seen = []
    surface = get_preset("booth")
    run_batch(
        surface,
        make_optimizer("gd", eta=0.05),
        *_starts(surface, 50),
        StopRules(max_steps=300),
        progress=lambda t, running: seen.append((t, running)),
    )
    assert seen[0][0] == 0 and seen[-1][1] == 0
    assert [t for t, _ in seen] == list(range(len(seen)))
    assert all(b <= a for (_, a), (_, b) in zip(seen, seen[1:]))


def _assert_bitwise(surface, optimizer, xs, ys, rules, result, **options):
    """Status, steps and final point exactly those of the single run (the loss may differ in
    the last bit: the single run squares with Python's **, numpy multiplies)."""
    for i in range(len(xs)):
        last = run_to_end(surface, optimizer, (float(xs[i]), float(ys[i])), rules, **options)[-1]
        assert (result.status_name(i), int(result.steps[i])) == (last.status, last.t), i
        assert (float(result.x[i]), float(result.y[i])) == last.theta, i
        assert result.loss[i] == pytest.approx(last.loss, rel=1e-12, abs=1e-300), i


@pytest.mark.parametrize("tol", [0.0, 1e-5])
def test_gd_on_himmelblau_matches_single_runs_bitwise(tol: float) -> None:
    surface = get_preset("himmelblau")
    xs, ys = (a.ravel() for a in np.meshgrid(np.linspace(-5, 5, 24), np.linspace(-5, 5, 24)))
    rules = StopRules(max_steps=500, tol=tol)
    gd = make_optimizer("gd", eta=0.01)
    result = run_batch(surface, gd, xs, ys, rules)
    if tol == 0.0:  # some runs land exactly on (3, 2), where ∇L is exactly 0, at different steps
        hit = result.status == 0
        assert hit.any() and not hit.all() and len(set(result.steps[hit].tolist())) > 1
    _assert_bitwise(surface, gd, xs, ys, rules, result)


@pytest.mark.parametrize(
    ("rules", "reason"),
    [
        (StopRules(max_steps=200), "the loss passed"),
        (StopRules(max_steps=200, max_abs_theta=6.0), "θ left the box"),
        (StopRules(max_steps=200, max_abs_loss=1e308, max_abs_theta=1e308), "overflowed"),
        (StopRules(max_steps=0), ""),
        (StopRules(max_steps=1), ""),
    ],
)
def test_every_way_of_stopping_matches_single_runs_bitwise(rules: StopRules, reason: str) -> None:
    surface = get_preset("himmelblau")
    xs, ys = _starts(surface, 60, seed=5)
    etas = np.geomspace(0.002, 0.08, 60)  # the larger ones diverge, at different steps
    result = run_batch(surface, make_optimizer("gd"), xs, ys, rules, etas=etas)
    reasons = []
    for i in range(len(xs)):
        gd = make_optimizer("gd", eta=float(etas[i]))
        _assert_bitwise(surface, gd, xs[i : i + 1], ys[i : i + 1], rules, _one(result, i))
        reasons.append(run_to_end(surface, gd, (float(xs[i]), float(ys[i])), rules)[-1].reason)
    assert any(reason in r for r in reasons if r) if reason else rules.max_steps <= 1
    if reason:
        assert len(set(result.steps[result.status == 1].tolist())) > 1


def _one(result, i):
    return type(result)(
        *(getattr(result, f)[i : i + 1] for f in ("x", "y", "loss", "grad_norm", "steps", "status"))
    )


def test_a_loss_at_the_bound_is_decided_by_the_single_runs_arithmetic() -> None:
    # L = x, ∇L = (1, 0): GD walks x down by η. On arrays this surface's value is one ulp
    # beyond the scalar one, as numpy's and Python's arithmetic may differ; at x = −100 the
    # single run has |L| = 100, not above max_abs_loss = 100, and goes on one more step.
    def value(x, y):
        return np.nextafter(x, -np.inf) if isinstance(x, np.ndarray) else x

    surface = Surface(
        id="line",
        name="line",
        formula="",
        description="",
        value=value,
        grad=lambda x, y: (1.0 + 0.0 * x, 0.0 * y),
        hess=lambda x, y: (0.0, 0.0, 0.0),
        domain=Domain((-200.0, 200.0), (-1.0, 1.0)),
        default_start=(0.0, 0.0),
    )
    rules = StopRules(max_steps=50, max_abs_loss=100.0)
    gd = make_optimizer("gd", eta=0.25)
    result = run_batch(surface, gd, np.array([-99.5, -98.0]), np.zeros(2), rules)
    assert [result.status_name(i) for i in range(2)] == ["diverged", "diverged"]
    assert result.steps.tolist() == [3, 9]
    for i, x0 in enumerate((-99.5, -98.0)):
        assert run_to_end(surface, gd, (x0, 0.0), rules)[-1].t == result.steps[i]


def test_gradients_that_are_the_inputs_themselves_are_not_overwritten() -> None:
    # L = x·y: ∇L = (y, x) returns the very input arrays; momentum keeps ∇L in its state while
    # the runner swaps finished starts out of its arrays.
    surface = Surface(
        id="xy",
        name="xy",
        formula="",
        description="",
        value=lambda x, y: x * y,
        grad=lambda x, y: (y, x),
        hess=lambda x, y: (0.0 * x, 1.0 + 0.0 * x, 0.0 * x),
        domain=Domain((-2.0, 2.0), (-2.0, 2.0)),
        default_start=(0.5, 0.5),
    )
    xs, ys = _starts(surface, 40, seed=2)
    rules = StopRules(max_steps=300, max_abs_loss=1e6)
    for name in ("gd", "momentum"):
        optimizer = make_optimizer(name, eta=0.05)
        result = run_batch(surface, optimizer, xs, ys, rules)
        assert len(set(result.steps.tolist())) > 5
        _assert_bitwise(surface, optimizer, xs, ys, rules, result)


def test_the_fused_himmelblau_evaluation_is_bitwise_value_and_grad() -> None:
    surface = get_preset("himmelblau")
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-1e3, 1e3, 5000), rng.normal(0.0, 4.0, 5000)
    gx, gy = surface.grad(x, y)
    expected = (surface.value(x, y), gx, gy)
    out = tuple(np.empty(5000) for _ in range(5))
    for got in (surface.value_and_grad(x, y), surface.value_and_grad(x, y, out)):
        for a, b in zip(got, expected):
            assert a is not None and np.array_equal(a, b)
    assert all(a is b for a, b in zip(surface.value_and_grad(x, y, out), out[:3]))


def test_gd_with_a_schedule_and_many_step_sizes_matches_single_runs_bitwise() -> None:
    surface = get_preset("himmelblau")
    xs, ys = _starts(surface, 40, seed=11)
    etas = np.geomspace(0.001, 0.05, 40)
    schedule = make_schedule("cosine", t_max=150, eta_min=1e-4)
    rules = StopRules(max_steps=300, tol=1e-4)
    result = run_batch(surface, make_optimizer("gd"), xs, ys, rules, etas=etas, schedule=schedule)
    assert len(set(result.status.tolist())) == 3
    for i in range(len(xs)):
        gd = make_optimizer("gd", eta=float(etas[i]))
        _assert_bitwise(
            surface, gd, xs[i : i + 1], ys[i : i + 1], rules, _one(result, i), schedule=schedule
        )


def test_himmelblau_value_bound_bounds_the_loss() -> None:
    surface = get_preset("himmelblau")
    rng = np.random.default_rng(4)
    for r in (0.5, 5.0, 37.0, 1e3, 1e6):
        x, y = rng.uniform(-r, r, 20000), rng.uniform(-r, r, 20000)
        x[:4], y[:4] = [r, -r, r, -r], [r, r, -r, -r]
        assert surface.value_bound is not None
        assert np.abs(surface.value(x, y)).max() <= surface.value_bound(r)
