"""The MLP against torch: θ's layout is parameters_to_vector's, forward is nn.Sequential's, and
init_theta draws from nn.Linear's default distribution."""

import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from app.core.networks import (
    Architecture,
    forward,
    init_theta,
    input_grid,
    layers,
    probabilities,
)
from tests.core.networks.conftest import torch_net

ARCHITECTURES = [
    Architecture(1, (20,), 1, "tanh"),
    Architecture(2, (8, 5), 2, "relu"),
    Architecture(2, (6, 7, 4), 3, "gelu"),
    Architecture(3, (16, 16), 1, "gelu"),
    Architecture(2, (5, 4, 3), 2, "tanh"),
]


@pytest.mark.parametrize("arch", ARCHITECTURES, ids=repr)
def test_n_params_and_layout_are_torchs(arch: Architecture) -> None:
    net = torch_net(arch)
    flat = torch.nn.utils.parameters_to_vector(net.parameters()).detach().numpy()
    assert arch.n_params == flat.size
    params = layers(arch, flat)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert len(params) == len(linears)
    for (w, b), lin in zip(params, linears, strict=True):
        assert_allclose(w, lin.weight.detach().numpy(), rtol=0, atol=0)
        assert_allclose(b, lin.bias.detach().numpy(), rtol=0, atol=0)
        assert np.shares_memory(w, flat) and np.shares_memory(b, flat)  # views, no copies


@pytest.mark.parametrize("arch", ARCHITECTURES, ids=repr)
def test_forward_equals_torch_sequential(arch: Architecture) -> None:
    rng = np.random.default_rng(1)
    theta = rng.normal(size=arch.n_params)
    X = rng.normal(size=(37, arch.inputs)) * 2.0
    expected = torch_net(arch, theta)(torch.from_numpy(X)).detach().numpy()
    assert_allclose(forward(arch, theta, X), expected, rtol=1e-13, atol=1e-13)


def test_init_follows_nn_linear_default_distribution() -> None:
    """Each layer's entries lie in ±1/√fan_in and fill it uniformly (mean 0, variance bound²/3),
    are reproducible from the seed and differ between seeds."""
    arch = Architecture(4, (128, 64), 3, "tanh")
    theta = init_theta(arch, seed=7)
    assert_allclose(theta, init_theta(arch, seed=7), rtol=0, atol=0)
    assert not np.allclose(theta, init_theta(arch, seed=8))
    for (w, b), (_, fan_in) in zip(layers(arch, theta), arch.shapes, strict=True):
        bound = 1.0 / math.sqrt(fan_in)
        entries = np.concatenate([w.ravel(), b])
        assert np.all(np.abs(entries) < bound)
        # the largest entry is near the bound and the variance is bound²/3 (≥ 192 samples: 10%)
        assert np.abs(entries).max() > 0.9 * bound
        assert abs(entries.var() / (bound**2 / 3.0) - 1.0) < 0.2
    # torch's own initialisation, over many layers, has the same bounds
    net = torch_net(arch)
    for lin in (m for m in net if isinstance(m, torch.nn.Linear)):
        bound = 1.0 / math.sqrt(lin.in_features)
        assert lin.weight.abs().max().item() <= bound and lin.bias.abs().max().item() <= bound


def test_bad_architectures_are_refused_in_words() -> None:
    with pytest.raises(ValueError, match="activation"):
        Architecture(1, (4,), 1, "sigmoid")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hidden width"):
        Architecture(1, (0,), 1, "tanh")
    with pytest.raises(ValueError, match="hidden layers"):
        Architecture(1, (4, 4, 4, 4), 1, "tanh")
    with pytest.raises(ValueError, match="shape"):
        layers(Architecture(1, (4,), 1, "tanh"), np.zeros(3))


def test_hidden_widths_given_as_a_list_become_a_tuple() -> None:
    arch = Architecture(2, [8, 4], 2, "relu")  # type: ignore[arg-type]
    assert arch == Architecture(2, (8, 4), 2, "relu") and hash(arch) == hash(arch)
    assert arch.n_params == (2 + 1) * 8 + (8 + 1) * 4 + (4 + 1) * 2


def test_class_probabilities_on_a_grid_under_the_data() -> None:
    """probabilities is torch.softmax of the network's outputs; the grid covers the data's box
    with a margin, x varying fastest (as a contour's z[j][i] wants)."""
    arch = Architecture(2, (6, 5), 3, "gelu")
    theta = np.random.default_rng(2).normal(size=arch.n_params) * 2.0
    X = np.array([[-1.0, 0.0], [3.0, 2.0], [0.5, -2.0]])
    xs, ys, points = input_grid(X, 21, margin=0.25)
    assert (xs[0], xs[-1], ys[0], ys[-1]) == pytest.approx((-2.0, 4.0, -3.0, 3.0))
    assert points.shape == (441, 2)
    assert_allclose(points[:21, 0], xs)
    assert_allclose(points[::21, 1], ys)
    expected = torch.softmax(torch_net(arch, theta)(torch.from_numpy(points)), dim=1)
    assert_allclose(probabilities(arch, theta, points), expected.detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="grid size"):
        input_grid(X, 10_000)
    with pytest.raises(ValueError, match="2-D inputs"):
        input_grid(X[:, :1], 10)
