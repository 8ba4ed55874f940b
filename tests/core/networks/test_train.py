"""Training against torch.optim on the same nn.Sequential loaded from θ₀ (vector_to_parameters):
GD, momentum and Adam over 100 steps, full batch and minibatch; the stop rules; line search;
sharpness and θ on the steps asked for."""

import json
import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from app.core.descent import LineSearch, StopRules, make_optimizer, make_schedule
from app.core.networks import (
    Architecture,
    Minibatches,
    NetworkLoss,
    init_theta,
    sharpness,
    state_from_lists,
    state_to_lists,
    toy_dataset,
    train,
)
from tests.core.networks.conftest import torch_loss, torch_net

OPTIMIZERS = [
    ("gd", {"eta": 0.1}, lambda p: torch.optim.SGD(p, lr=0.1)),
    ("momentum", {"eta": 0.05, "momentum": 0.9}, lambda p: torch.optim.SGD(p, 0.05, 0.9)),
    ("adam", {"eta": 0.01}, lambda p: torch.optim.Adam(p, lr=0.01)),
]
SETUPS = [
    ("chebyshev", Architecture(1, (20,), 1, "tanh")),
    ("moons", Architecture(2, (10, 8), 2, "gelu")),
    ("xor", Architecture(2, (8, 8, 6), 2, "relu")),
]


def setup(name: str, arch: Architecture, points: int = 40) -> tuple[NetworkLoss, np.ndarray]:
    data = toy_dataset(name, points, seed=1)
    return NetworkLoss(arch, data.X, data.y, data.loss), init_theta(arch, seed=3)


def torch_path(objective, theta0, make, steps, batches=None) -> list[np.ndarray]:
    net = torch_net(objective.arch, theta0)
    opt = make(list(net.parameters()))
    X = torch.from_numpy(objective.X)
    path = [theta0.copy()]
    for t in range(steps):
        idx = np.arange(objective.points) if batches is None else batches.indices(t)
        opt.zero_grad()
        torch_loss(objective.loss, net(X[idx]), objective.y[idx]).backward()
        opt.step()
        path.append(torch.nn.utils.parameters_to_vector(net.parameters()).detach().numpy())
    return path


def our_path(objective, theta0, name, params, steps, batches=None) -> list[np.ndarray]:
    records = list(
        train(
            objective,
            theta0,
            make_optimizer(name, **params),
            rules=StopRules(max_steps=steps, tol=0.0),
            batches=batches,
            theta_every=1,
        )
    )
    assert len(records) == steps + 1 and records[-1].status == "max_steps"
    thetas = [r.theta for r in records]
    assert all(theta is not None for theta in thetas)
    return [theta for theta in thetas if theta is not None]


@pytest.mark.parametrize(("name", "params", "make"), OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
@pytest.mark.parametrize(("data", "arch"), SETUPS, ids=[s[0] for s in SETUPS])
def test_100_steps_equal_torch_optim(name, params, make, data, arch) -> None:
    objective, theta0 = setup(data, arch)
    ours = our_path(objective, theta0, name, params, 100)
    theirs = torch_path(objective, theta0, make, 100)
    assert not np.allclose(ours[-1], theta0, atol=1e-3)  # the run went somewhere
    for a, b in zip(ours, theirs, strict=True):
        assert_allclose(a, b, rtol=1e-9, atol=1e-9 * np.abs(b).max())


MORE_OPTIMIZERS = [
    ("nesterov", {"eta": 0.05}, lambda p: torch.optim.SGD(p, 0.05, 0.9, nesterov=True)),
    ("adagrad", {"eta": 0.05}, lambda p: torch.optim.Adagrad(p, lr=0.05)),
    (
        "rmsprop",
        {"eta": 0.001, "centered": True},
        lambda p: torch.optim.RMSprop(p, 0.001, centered=True),
    ),
    (
        "adam",
        {"eta": 0.01, "weight_decay": 0.1, "amsgrad": True},
        lambda p: torch.optim.Adam(p, 0.01, weight_decay=0.1, amsgrad=True),
    ),
]


@pytest.mark.parametrize(
    ("name", "params", "make"), MORE_OPTIMIZERS, ids=[o[0] for o in MORE_OPTIMIZERS]
)
def test_every_other_optimizer_equals_torch_optim(name, params, make) -> None:
    objective, theta0 = setup("chebyshev", Architecture(1, (12,), 1, "gelu"), points=20)
    ours = our_path(objective, theta0, name, params, 100)
    theirs = torch_path(objective, theta0, make, 100)
    for a, b in zip(ours, theirs, strict=True):
        assert_allclose(a, b, rtol=1e-9, atol=1e-9 * np.abs(b).max())


@pytest.mark.parametrize(("name", "params", "make"), OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_minibatch_sgd_equals_torch_on_the_same_batches(name, params, make) -> None:
    objective, theta0 = setup("moons", Architecture(2, (10, 8), 2, "tanh"), points=50)
    batches = Minibatches(50, 16, seed=4)  # 4 batches per epoch, the last one of 2 points
    assert [len(batches.indices(t)) for t in range(5)] == [16, 16, 16, 2, 16]
    epoch = np.concatenate([batches.indices(t) for t in range(4)])
    assert sorted(epoch) == list(range(50))
    ours = our_path(objective, theta0, name, params, 100, batches)
    theirs = torch_path(objective, theta0, make, 100, batches)
    for a, b in zip(ours, theirs, strict=True):
        assert_allclose(a, b, rtol=1e-9, atol=1e-9 * np.abs(b).max())


def test_records_report_full_loss_gradient_schedule_and_sharpness() -> None:
    objective, theta0 = setup("chebyshev", Architecture(1, (20,), 1, "tanh"))
    schedule = make_schedule("exponential", gamma=0.9)
    records = list(
        train(
            objective,
            theta0,
            make_optimizer("gd", eta=0.2),
            schedule=schedule,
            rules=StopRules(max_steps=12, tol=0.0),
            sharpness_every=5,
            theta_every=4,
        )
    )
    assert [r.t for r in records] == list(range(13))
    assert [r.eta for r in records[:-1]] == pytest.approx([0.2 * 0.9**t for t in range(12)])
    assert records[-1].eta is None and records[-1].state.step == 12
    assert [r.t for r in records if r.sharpness is not None] == [0, 5, 10, 12]
    assert [r.t for r in records if r.theta is not None] == [0, 4, 8, 12]
    for r in records:
        if r.theta is not None:
            loss, grad = objective.value_and_grad(r.theta)
            assert r.loss == loss and r.grad_norm == pytest.approx(np.linalg.norm(grad))
        if r.sharpness is not None and r.theta is not None:
            assert r.sharpness == sharpness(objective, r.theta)


def test_stop_rules() -> None:
    objective, theta0 = setup("chebyshev", Architecture(1, (20,), 1, "tanh"))
    # a huge step size diverges, and the run says why
    run = list(train(objective, theta0, make_optimizer("gd", eta=1e4), sharpness_every=1))
    last = run[-1]
    assert last.status == "diverged" and last.reason.startswith("at step")
    assert run[0].sharpness is not None  # measured, and no numpy warning on the way out
    assert math.isfinite(last.loss)
    # a loose tolerance converges at the first iterate whose gradient norm is within it
    records = list(
        train(objective, theta0, make_optimizer("adam", eta=0.01), rules=StopRules(tol=0.5))
    )
    assert records[-1].status == "converged" and records[-1].grad_norm <= 0.5
    assert all(r.grad_norm > 0.5 for r in records[:-1])
    # Newton needs the whole Hessian: refused in words
    with pytest.raises(ValueError, match="first-order"):
        next(train(objective, theta0, make_optimizer("newton")))


def test_armijo_line_search_decreases_the_loss_every_step() -> None:
    objective, theta0 = setup("moons", Architecture(2, (10, 8), 2, "gelu"))
    search = LineSearch()
    records = list(
        train(
            objective,
            theta0,
            make_optimizer("gd", eta=50.0),
            line_search=search,
            rules=StopRules(max_steps=30, tol=0.0),
        )
    )
    losses = [r.loss for r in records]
    assert all(b < a for a, b in zip(losses, losses[1:]))
    # each step is the Armijo step: at most η, a power of the shrink factor below it
    for r in records[:-1]:
        assert r.eta is not None
        k = math.log(50.0 / r.eta, 2)
        assert abs(k - round(k)) < 1e-9
    assert any(r.eta is not None and r.eta < 50.0 for r in records[:-1])


def test_resume_continues_the_same_path() -> None:
    objective, theta0 = setup("xor", Architecture(2, (8,), 2, "tanh"))
    opt = make_optimizer("adam", eta=0.05)
    whole = list(train(objective, theta0, opt, rules=StopRules(max_steps=40, tol=0.0)))
    first = list(train(objective, theta0, opt, rules=StopRules(max_steps=15, tol=0.0)))
    assert first[-1].theta is not None
    rest = list(
        train(
            objective,
            first[-1].theta,
            opt,
            rules=StopRules(max_steps=25, tol=0.0),
            start_t=15,
            state=first[-1].state,
        )
    )
    assert rest[-1].t == 40
    assert rest[-1].theta is not None and whole[-1].theta is not None
    assert_allclose(rest[-1].theta, whole[-1].theta, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("name", "params"),
    [("gd", {}), ("momentum", {}), ("adagrad", {}), ("rmsprop", {"centered": True}), ("adam", {})],
)
def test_resume_from_a_state_saved_as_json(name, params) -> None:
    """A run stopped at t = 15, its state through JSON, resumed: the same θ at t = 30 as the run
    that never stopped."""
    objective, theta0 = setup("moons", Architecture(2, (6,), 2, "tanh"))
    opt = make_optimizer(name, eta=0.05, **params)
    whole = list(train(objective, theta0, opt, rules=StopRules(max_steps=30, tol=0.0)))
    first = list(train(objective, theta0, opt, rules=StopRules(max_steps=15, tol=0.0)))
    saved = json.loads(json.dumps(state_to_lists(first[-1].state)))
    assert saved["step"] == 15
    state = state_from_lists(name, saved, objective.n)
    assert first[-1].theta is not None
    theta = np.array(json.loads(json.dumps(first[-1].theta.tolist())))
    rules = StopRules(max_steps=15, tol=0.0)
    rest = list(train(objective, theta, opt, rules=rules, start_t=15, state=state))
    assert rest[-1].theta is not None and whole[-1].theta is not None
    assert_allclose(rest[-1].theta, whole[-1].theta, rtol=0, atol=0)


def test_a_bad_saved_state_is_refused_in_words() -> None:
    with pytest.raises(ValueError, match="Unknown optimizer"):
        state_from_lists("newton", {"step": 1, "damped_steps": 0}, 3)
    with pytest.raises(ValueError, match="exactly the fields step, velocity"):
        state_from_lists("momentum", {"step": 1}, 3)
    with pytest.raises(ValueError, match="list of 3 finite numbers"):
        state_from_lists("momentum", {"step": 1, "velocity": [1.0, "x", 2.0]}, 3)
    with pytest.raises(ValueError, match="list of 3 finite numbers"):
        state_from_lists("momentum", {"step": 1, "velocity": [1.0, 2.0]}, 3)
    with pytest.raises(ValueError, match="state.step"):
        state_from_lists("gd", {"step": -1}, 3)
