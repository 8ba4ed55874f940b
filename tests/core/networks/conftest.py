"""Helpers shared by the network tests: the same network as a torch nn.Sequential."""

import numpy as np
import torch

from app.core.networks import Architecture

# The references are tiny networks: one thread each, so the tests do not fight over the shared
# cores (torch's default thread pool made a 100-step loop several times slower here).
torch.set_num_threads(1)

TORCH_ACT = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "gelu": torch.nn.GELU}


def torch_net(arch: Architecture, theta: np.ndarray | None = None) -> torch.nn.Sequential:
    """nn.Sequential(Linear, act, ..., Linear) in float64, loaded from θ when given."""
    sizes = (arch.inputs, *arch.hidden, arch.outputs)
    modules: list[torch.nn.Module] = []
    for i in range(len(sizes) - 1):
        modules.append(torch.nn.Linear(sizes[i], sizes[i + 1], dtype=torch.float64))
        if i < len(sizes) - 2:
            modules.append(TORCH_ACT[arch.activation]())
    net = torch.nn.Sequential(*modules)
    if theta is not None:
        torch.nn.utils.vector_to_parameters(torch.from_numpy(theta.copy()), net.parameters())
    return net


def torch_loss(name: str, out: torch.Tensor, y: np.ndarray) -> torch.Tensor:
    if name == "mse":
        target = torch.from_numpy(np.asarray(y, dtype=np.float64).reshape(out.shape))
        return 0.5 * torch.nn.functional.mse_loss(out, target)
    return torch.nn.functional.cross_entropy(out, torch.from_numpy(np.asarray(y, dtype=np.int64)))
