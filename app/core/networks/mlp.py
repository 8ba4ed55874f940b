"""Multilayer perceptrons over a flat parameter vector θ.

θ is laid out exactly as `torch.nn.utils.parameters_to_vector` flattens
`nn.Sequential(Linear, act, Linear, act, ..., Linear)`: for each layer its weight (out × in,
row-major), then its bias. So a θ from here loads into PyTorch with `vector_to_parameters`, and
back. The initial θ follows PyTorch's default `nn.Linear` initialisation: every weight and bias
of a layer uniform on (−1/√fan_in, 1/√fan_in), drawn from numpy's `default_rng(seed)`.

GELU is the exact form x·Φ(x) with Φ the standard normal CDF (torch's default, not the tanh
approximation). numpy has no erf, so Φ uses the C library's erf through numba (a dependency of
the app already), compiled on first use.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, TypeAlias, get_args

import numpy as np
from numpy.typing import NDArray

Array: TypeAlias = NDArray[np.float64]
Activation: TypeAlias = Literal["tanh", "relu", "gelu"]

ACTIVATIONS: tuple[str, ...] = get_args(Activation)
MAX_HIDDEN_LAYERS = 3
MAX_WIDTH = 128
MAX_GRID = 201  # input_grid: at most 201 × 201 points

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class Architecture:
    """inputs → hidden[0] → … → hidden[-1] → outputs, with `activation` after each hidden layer."""

    inputs: int
    hidden: tuple[int, ...]
    outputs: int
    activation: Activation

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(self.hidden))  # a list from JSON, say
        for name, size in (("inputs", self.inputs), ("outputs", self.outputs)):
            if not isinstance(size, int) or isinstance(size, bool) or size < 1:
                raise ValueError(f"Invalid {name}: {size!r} (a whole number >= 1)")
        if len(self.hidden) > MAX_HIDDEN_LAYERS:
            raise ValueError(
                f"Too many hidden layers: {len(self.hidden)} (at most {MAX_HIDDEN_LAYERS})"
            )
        for width in self.hidden:
            if not isinstance(width, int) or isinstance(width, bool) or not 1 <= width <= MAX_WIDTH:
                raise ValueError(f"Invalid hidden width: {width!r} (a whole number 1–{MAX_WIDTH})")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"Unknown activation {self.activation!r}. Valid names: {', '.join(ACTIVATIONS)}."
            )

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """(out, in) of each layer's weight, in order."""
        sizes = (self.inputs, *self.hidden, self.outputs)
        return [(sizes[i + 1], sizes[i]) for i in range(len(sizes) - 1)]

    @property
    def n_params(self) -> int:
        return sum(out * (inp + 1) for out, inp in self.shapes)


def layers(arch: Architecture, theta: Array) -> list[tuple[Array, Array]]:
    """Each layer's (W, b), as views into θ (W is out × in, b has `out` entries)."""
    if theta.shape != (arch.n_params,):
        raise ValueError(f"θ has shape {theta.shape}; this architecture needs ({arch.n_params},)")
    out: list[tuple[Array, Array]] = []
    start = 0
    for rows, cols in arch.shapes:
        w = theta[start : start + rows * cols].reshape(rows, cols)
        start += rows * cols
        out.append((w, theta[start : start + rows]))
        start += rows
    return out


def forward(arch: Architecture, theta: Array, X: Array) -> Array:
    """The network's outputs (points × outputs) at inputs X (points × inputs)."""
    params = layers(arch, theta)
    act = activation(arch.activation)
    h = X
    for w, b in params[:-1]:
        h = act(h @ w.T + b)
    w, b = params[-1]
    return h @ w.T + b


def init_theta(arch: Architecture, seed: int) -> Array:
    """PyTorch's default nn.Linear initialisation: each layer's weights and biases uniform on
    (−1/√fan_in, 1/√fan_in), drawn in θ's order from numpy's default_rng(seed)."""
    bounds = np.concatenate(
        [np.full(rows * (cols + 1), 1.0 / math.sqrt(cols)) for rows, cols in arch.shapes]
    )
    theta: Array = np.random.default_rng(seed).uniform(-1.0, 1.0, arch.n_params) * bounds
    return theta


# --- activations and their first two derivatives ---------------------------------------------


@cache
def _erf() -> Callable[[Any], Any]:
    import numba

    def erf(x: float) -> float:
        return math.erf(x)

    try:
        return numba.vectorize(["float64(float64)"], cache=True)(erf)  # type: ignore[no-any-return]
    except RuntimeError:  # no writable cache directory: compile in this process only
        return numba.vectorize(["float64(float64)"])(erf)  # type: ignore[no-any-return]


def warm_up() -> None:
    """Compile GELU's erf (or load it from numba's cache) now rather than in the first GELU
    request (~1 s to compile)."""
    _erf()


def normal_cdf(z: Array) -> Array:
    """Φ(z) = ½(1 + erf(z/√2)), elementwise."""
    phi: Array = 0.5 * (1.0 + _erf()(z * _INV_SQRT2))
    return phi


def _gelu(z: Array) -> Array:
    return z * normal_cdf(z)


def _gelu_grad(z: Array) -> Array:
    return normal_cdf(z) + z * _INV_SQRT_2PI * np.exp(-0.5 * z * z)


def _gelu_hess(z: Array) -> Array:
    return (2.0 - z * z) * _INV_SQRT_2PI * np.exp(-0.5 * z * z)


def _tanh(z: Array) -> Array:
    """tanh(z) = 1 − 2/(e^{2z} + 1): numpy's exp is vectorised and its tanh is not, so this is
    about 5× faster than np.tanh, within a few ulps of 1 of it (e^{2z} = inf gives 1)."""
    with np.errstate(over="ignore"):
        out: Array = 1.0 - 2.0 / (np.exp(2.0 * z) + 1.0)
    return out


def _relu(z: Array) -> Array:
    return np.maximum(z, 0.0)


def _relu_grad(z: Array) -> Array:
    return (z > 0.0).astype(np.float64)  # 0 at z = 0, as torch's backward


def _zero(z: Array) -> Array:
    return np.zeros_like(z)


def _tanh_grad(z: Array) -> Array:
    t = _tanh(z)
    return 1.0 - t * t


def _tanh_hess(z: Array) -> Array:
    t = _tanh(z)
    return -2.0 * t * (1.0 - t * t)


_ACT: dict[str, tuple[Callable[[Array], Array], ...]] = {
    "tanh": (_tanh, _tanh_grad, _tanh_hess),
    "relu": (_relu, _relu_grad, _zero),
    "gelu": (_gelu, _gelu_grad, _gelu_hess),
}


def activation(name: str) -> Callable[[Array], Array]:
    """σ, elementwise."""
    return _ACT[name][0]


def activation_grad(name: str) -> Callable[[Array], Array]:
    """σ′, elementwise (ReLU's is 0 at 0, as torch's)."""
    return _ACT[name][1]


def activation_hess(name: str) -> Callable[[Array], Array]:
    """σ″, elementwise (0 for ReLU)."""
    return _ACT[name][2]


def activate(name: str, z: Array) -> tuple[Array, Array]:
    """σ(z) and σ′(z) together, sharing their work (σ′ from σ for tanh, Φ once for GELU)."""
    if name == "tanh":
        h = _tanh(z)
        return h, 1.0 - h * h
    if name == "relu":
        return np.maximum(z, 0.0), (z > 0.0).astype(np.float64)
    phi = normal_cdf(z)
    return z * phi, phi + z * _INV_SQRT_2PI * np.exp(-0.5 * z * z)


def curvature(name: str, z: Array, h: Array, slope: Array) -> Array | None:
    """σ″(z), given σ(z) = h and σ′(z) = slope; None where it is 0 everywhere (ReLU)."""
    if name == "tanh":
        out: Array = -2.0 * h * slope
        return out
    if name == "relu":
        return None
    return _gelu_hess(z)


def probabilities(arch: Architecture, theta: Array, X: Array) -> Array:
    """The softmax of the outputs at inputs X (points × outputs): a classifier's class
    probabilities, as torch.softmax(net(X), dim=1)."""
    f = forward(arch, theta, X)
    e = np.exp(f - f.max(axis=1, keepdims=True))
    p: Array = e / e.sum(axis=1, keepdims=True)
    return p


def input_grid(X: Array, m: int, margin: float = 0.1) -> tuple[Array, Array, Array]:
    """An m × m grid over the box of 2-D inputs X widened by `margin` of its size on each side:
    the grid's x and y coordinates and its points (m² × 2, x varying fastest), for drawing a
    classifier's decision regions under the data."""
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"A grid of inputs needs 2-D inputs; got shape {X.shape}")
    if not 2 <= m <= MAX_GRID:
        raise ValueError(f"Invalid grid size: {m!r} (a whole number 2–{MAX_GRID})")
    low, high = X.min(axis=0), X.max(axis=0)
    pad = margin * np.maximum(high - low, 1e-9)
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], m)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], m)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.column_stack([gx.ravel(), gy.ravel()])
