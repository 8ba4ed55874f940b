"""NetworkLoss against torch.autograd in float64: value, gradient and Hessian-vector product
(double backward) for every architecture (1-3 hidden layers, tanh/relu/gelu) and loss, at random
θ; minibatches; and bad data refused in words."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from app.core.networks import Architecture, NetworkLoss
from tests.core.networks.conftest import torch_loss, torch_net

HIDDEN = [(16,), (8, 6), (7, 5, 4)]
CASES = [
    (hidden, act, loss)
    for hidden in HIDDEN
    for act in ("tanh", "relu", "gelu")
    for loss in ("mse", "cross_entropy")
]


def problem(hidden, act, loss, seed=0):
    rng = np.random.default_rng(seed)
    outputs = 3 if loss == "cross_entropy" else 2
    arch = Architecture(2, hidden, outputs, act)
    X = rng.normal(size=(40, 2))
    y = rng.integers(0, outputs, 40) if loss == "cross_entropy" else rng.normal(size=(40, 2))
    return NetworkLoss(arch, X, y, loss), rng.normal(size=arch.n_params) * 0.8, rng


def torch_reference(objective, theta, v):
    net = torch_net(objective.arch, theta)
    params = list(net.parameters())
    value = torch_loss(objective.loss, net(torch.from_numpy(objective.X)), objective.y)
    grads = torch.autograd.grad(value, params, create_graph=True)
    flat = torch.cat([g.reshape(-1) for g in grads])
    hv = torch.autograd.grad(flat @ torch.from_numpy(v), params)
    return (
        value.item(),
        flat.detach().numpy(),
        torch.cat([h.reshape(-1) for h in hv]).numpy(),
    )


def close(ours, theirs, rtol=1e-10):
    """Relative agreement in norm, and entrywise up to rtol of the largest entry."""
    scale = np.abs(theirs).max()
    assert np.linalg.norm(ours - theirs) <= rtol * np.linalg.norm(theirs)
    assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize(("hidden", "act", "loss"), CASES)
def test_value_grad_hvp_equal_torch_autograd(hidden, act, loss) -> None:
    objective, theta, rng = problem(hidden, act, loss)
    v = rng.normal(size=objective.n)
    value, grad, hv = torch_reference(objective, theta, v)
    ours_value, ours_grad = objective.value_and_grad(theta)
    assert ours_value == pytest.approx(value, rel=1e-12)
    close(ours_grad, grad)
    close(objective.grad(theta), grad)
    close(objective.hvp(theta, v), hv)


def test_minibatch_is_the_loss_on_those_points() -> None:
    objective, theta, rng = problem((8, 6), "gelu", "cross_entropy")
    idx = rng.choice(objective.points, 10, replace=False)
    sub = objective.on(idx)
    v = rng.normal(size=objective.n)
    value, grad, hv = torch_reference(sub, theta, v)
    assert sub.points == 10 and sub.value(theta) == pytest.approx(value, rel=1e-12)
    close(sub.grad(theta), grad)
    close(sub.hvp(theta, v), hv)


def test_hvp_is_symmetric_and_linear() -> None:
    """uᵀHv = vᵀHu and H(2u + v) = 2Hu + Hv: properties of a Hessian, checked on a new θ after
    another θ was evaluated (the cached forward pass must follow θ)."""
    objective, theta, rng = problem((7, 5, 4), "tanh", "mse")
    u, v = rng.normal(size=(2, objective.n))
    objective.value(theta + 1.0)
    hu, hv = objective.hvp(theta, u), objective.hvp(theta, v)
    assert u @ hv == pytest.approx(v @ hu, rel=1e-10)
    close(objective.hvp(theta, 2 * u + v), 2 * hu + hv)


def test_bad_data_is_refused_in_words() -> None:
    arch = Architecture(2, (4,), 2, "tanh")
    X = np.zeros((5, 2))
    with pytest.raises(ValueError, match="X has shape"):
        NetworkLoss(arch, np.zeros((5, 3)), np.zeros(5), "cross_entropy")
    with pytest.raises(ValueError, match="labels must lie"):
        NetworkLoss(arch, X, np.array([0, 1, 2, 0, 1]), "cross_entropy")
    with pytest.raises(ValueError, match="whole-number"):
        NetworkLoss(arch, X, np.array([0, 1, 0.5, 0, 1]), "cross_entropy")
    with pytest.raises(ValueError, match="y has shape"):
        NetworkLoss(arch, X, np.zeros(5), "mse")
    with pytest.raises(ValueError, match="not a finite"):
        NetworkLoss(arch, np.full((5, 2), np.nan), np.zeros((5, 2)), "mse")
    with pytest.raises(ValueError, match="Unknown loss"):
        NetworkLoss(arch, X, np.zeros((5, 2)), "hinge")  # type: ignore[arg-type]
