"""Each optimizer's path equals torch.optim's on the same gradients (torch is a test-only
dependency)."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from app.core.descent.optimizers import make_optimizer
from app.core.descent.runner import StopRules, run_to_end
from app.core.surfaces.presets import get_preset

CASES = [
    ("gd", {"eta": 0.01}, torch.optim.SGD, {"lr": 0.01}),
    (
        "momentum",
        {"eta": 0.005, "momentum": 0.8, "dampening": 0.1, "weight_decay": 0.01},
        torch.optim.SGD,
        {"lr": 0.005, "momentum": 0.8, "dampening": 0.1, "weight_decay": 0.01},
    ),
    (
        "nesterov",
        {"eta": 0.005, "momentum": 0.9},
        torch.optim.SGD,
        {"lr": 0.005, "momentum": 0.9, "nesterov": True},
    ),
    (
        "adagrad",
        {"eta": 0.5, "lr_decay": 0.01, "initial_accumulator_value": 0.1},
        torch.optim.Adagrad,
        {"lr": 0.5, "lr_decay": 0.01, "initial_accumulator_value": 0.1},
    ),
    ("rmsprop", {"eta": 0.01}, torch.optim.RMSprop, {"lr": 0.01}),
    (
        "rmsprop",
        {"eta": 0.01, "centered": True, "momentum": 0.5, "alpha": 0.9},
        torch.optim.RMSprop,
        {"lr": 0.01, "centered": True, "momentum": 0.5, "alpha": 0.9},
    ),
    ("adam", {"eta": 0.05}, torch.optim.Adam, {"lr": 0.05}),
    (
        "adam",
        {"eta": 0.05, "beta1": 0.8, "beta2": 0.99, "amsgrad": True, "weight_decay": 0.1},
        torch.optim.Adam,
        {"lr": 0.05, "betas": (0.8, 0.99), "amsgrad": True, "weight_decay": 0.1},
    ),
]


@pytest.mark.parametrize("surface_id", ["himmelblau", "rosenbrock"])
@pytest.mark.parametrize(
    ("name", "ours", "torch_cls", "theirs"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_path_matches_torch(surface_id, name, ours, torch_cls, theirs) -> None:
    surface = get_preset(surface_id)
    start = (-1.2, 1.1)
    if surface_id == "rosenbrock" and name in ("gd", "momentum", "nesterov"):
        # Rosenbrock's curvature (≈1000) needs a ten times smaller step to stay stable.
        ours = {**ours, "eta": ours["eta"] / 10}
        theirs = {**theirs, "lr": theirs["lr"] / 10}
    iterates = run_to_end(
        surface, make_optimizer(name, **ours), start, StopRules(max_steps=100, tol=0.0)
    )
    assert len(iterates) == 101

    param = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = torch_cls([param], **theirs)
    path = [param.detach().numpy().copy()]
    for _ in range(100):
        x, y = param.detach().numpy()
        param.grad = torch.tensor(surface.grad(float(x), float(y)), dtype=torch.float64)
        optimizer.step()
        path.append(param.detach().numpy().copy())
    assert_allclose([it.theta for it in iterates], np.array(path), rtol=1e-10, atol=1e-12)
