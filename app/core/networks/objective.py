"""A network's loss on data as an objective over θ ∈ Rⁿ: value, gradient (backpropagation) and
exact Hessian-vector products (Pearlmutter's R-operator: the directional derivative of
backpropagation along v, i.e. forward-over-reverse; no finite differences).

Losses: "mse" is ½ · the mean squared error over all outputs (Cohen et al.'s setup), and
"cross_entropy" is torch.nn.CrossEntropyLoss: softmax over the outputs, integer labels, mean over
points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

from app.core.networks.mlp import Architecture, activate, curvature, layers

Array: TypeAlias = NDArray[np.float64]
LossName: TypeAlias = Literal["mse", "cross_entropy"]
LOSSES: tuple[str, ...] = get_args(LossName)


@dataclass
class _Pass:
    """One forward pass at θ: each layer's input h and pre-activation z, and the outputs."""

    theta: Array
    inputs: list[Array]  # h_0 = X, h_1, …, h_{L-1}
    pre: list[Array]  # z_1, …, z_L (z_L = the outputs)
    slopes: list[Array]  # σ′(z_1), …, σ′(z_{L-1})
    value: float
    delta: Array  # ∂L/∂outputs
    probs: Array | None  # softmax of the outputs (cross-entropy)
    deltas: list[Array] | None = None  # ∂L/∂z_1, …, ∂L/∂z_L, once the gradient is asked for
    backs: list[Array] = field(default_factory=list)  # δ_{l+1} W_{l+1} for each hidden layer l
    bent: list[Array | None] | None = None  # backs ⊙ σ″(z_l), on the first hvp


@dataclass
class NetworkLoss:
    """The loss of network `arch` on points X (points × inputs) with targets y: for "mse" an
    array (points × outputs, or points when there is one output), for "cross_entropy" class
    labels 0 … outputs − 1."""

    arch: Architecture
    X: Array
    y: NDArray[np.float64] | NDArray[np.integer[Any]]  # targets, or class labels
    loss: LossName = "mse"
    _last: _Pass | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"Unknown loss {self.loss!r}. Valid names: {', '.join(LOSSES)}.")
        X = np.asarray(self.X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.arch.inputs or X.shape[0] < 1:
            raise ValueError(
                f"X has shape {X.shape}; expected (points, {self.arch.inputs}) with points >= 1"
            )
        if not np.all(np.isfinite(X)):
            raise ValueError("X has a value that is not a finite number")
        self.X = X
        if self.loss == "mse":
            y = np.asarray(self.y, dtype=np.float64)
            if y.ndim == 1 and self.arch.outputs == 1:
                y = y[:, None]
            if y.shape != (X.shape[0], self.arch.outputs):
                raise ValueError(
                    f"y has shape {y.shape}; expected ({X.shape[0]}, {self.arch.outputs})"
                )
            if not np.all(np.isfinite(y)):
                raise ValueError("y has a value that is not a finite number")
        else:
            y = np.asarray(self.y)
            if y.shape != (X.shape[0],) or not np.all(np.equal(np.mod(y, 1), 0)):
                raise ValueError(f"y must hold {X.shape[0]} whole-number class labels")
            y = y.astype(np.intp)
            if y.min() < 0 or y.max() >= self.arch.outputs:
                raise ValueError(
                    f"Class labels must lie in 0 … {self.arch.outputs - 1}; "
                    f"got {y.min()} … {y.max()}"
                )
        self.y = y

    @property
    def n(self) -> int:
        """The number of parameters."""
        return self.arch.n_params

    @property
    def points(self) -> int:
        return int(self.X.shape[0])

    def on(self, indices: ArrayLike) -> NetworkLoss:
        """The same loss on the points `indices` (a minibatch)."""
        idx = np.asarray(indices, dtype=np.intp)
        return NetworkLoss(self.arch, self.X[idx], self.y[idx], self.loss)

    def value(self, theta: Array) -> float:
        return self._forward(theta).value

    def grad(self, theta: Array) -> Array:
        return self.value_and_grad(theta)[1]

    def value_and_grad(self, theta: Array) -> tuple[float, Array]:
        p = self._forward(theta)
        deltas = self._backward(p)
        out = np.empty(self.n)
        for i, (gw, gb) in enumerate(layers(self.arch, out)):
            np.matmul(deltas[i].T, p.inputs[i], out=gw)
            np.sum(deltas[i], axis=0, out=gb)
        return p.value, out

    def hvp(self, theta: Array, v: Array) -> Array:
        """H(θ)·v exactly, by the R-operator: R{·} is the derivative along v of each quantity
        of the forward pass and of backpropagation. What does not depend on v (the forward
        pass, backpropagation's δ, σ″ times the backpropagated signal) is kept for the next
        product at the same θ, so Lanczos pays for it once."""
        p = self._forward(theta)
        deltas = self._backward(p)
        bent = self._bent(p)
        params = layers(self.arch, p.theta)
        dirs = layers(self.arch, np.asarray(v, dtype=np.float64))
        n_layers = len(params)
        # forward: R{z_l} = R{h_{l-1}} W_lᵀ + h_{l-1} V_lᵀ + c_l, R{h_l} = σ′(z_l) R{z_l}
        r_pre: list[Array] = []
        r_h: list[Array] = []
        for i in range(n_layers):
            (w, _), (dw, db) = params[i], dirs[i]
            rz = p.inputs[i] @ dw.T
            rz += db
            if i:
                rz += r_h[i - 1] @ w.T
            r_pre.append(rz)
            if i < n_layers - 1:
                r_h.append(p.slopes[i] * rz)
        # the loss: R{δ_L} = (∂²L/∂f²) R{f}
        rf = r_pre[-1]
        if p.probs is None:
            r_delta = rf / rf.size
        else:
            pr = p.probs
            r_delta = pr * (rf - np.sum(pr * rf, axis=1, keepdims=True)) / rf.shape[0]
        # backward: R{∂L/∂W_l} = R{δ_l}ᵀ h_{l-1} + δ_lᵀ R{h_{l-1}},
        # R{δ_{l-1}} = (R{δ_l} W_l + δ_l V_l) ⊙ σ′(z_{l-1}) + (δ_l W_l) ⊙ σ″(z_{l-1}) ⊙ R{z_{l-1}}
        out = np.empty(self.n)
        hv = layers(self.arch, out)
        for i in range(n_layers - 1, -1, -1):
            hw, hb = hv[i]
            np.matmul(r_delta.T, p.inputs[i], out=hw)
            np.sum(r_delta, axis=0, out=hb)
            if i:
                hw += deltas[i].T @ r_h[i - 1]
                r_delta = r_delta @ params[i][0]
                r_delta += deltas[i] @ dirs[i][0]
                r_delta *= p.slopes[i - 1]
                bend = bent[i - 1]
                if bend is not None:
                    r_delta += bend * r_pre[i - 1]
        return out

    def _backward(self, p: _Pass) -> list[Array]:
        """δ_l = ∂L/∂z_l for every layer (kept on the pass), and the signals δ_l W_l."""
        if p.deltas is None:
            params = layers(self.arch, p.theta)
            deltas: list[Array] = [p.delta]
            backs: list[Array] = []
            for i in range(len(params) - 1, 0, -1):
                back = deltas[0] @ params[i][0]
                backs.insert(0, back)
                deltas.insert(0, back * p.slopes[i - 1])
            p.backs = backs  # before deltas: a pass shared between threads is read after it
            p.deltas = deltas
        return p.deltas

    def _bent(self, p: _Pass) -> list[Array | None]:
        """(δ_l W_l) ⊙ σ″(z_{l-1}) for each hidden layer; None where σ″ = 0 (ReLU)."""
        if p.bent is None:
            self._backward(p)
            name = self.arch.activation
            bent: list[Array | None] = []
            for z, h, slope, back in zip(p.pre, p.inputs[1:], p.slopes, p.backs, strict=False):
                bend = curvature(name, z, h, slope)
                bent.append(None if bend is None else back * bend)
            p.bent = bent
        return p.bent

    def _forward(self, theta: Array) -> _Pass:
        theta = np.asarray(theta, dtype=np.float64)
        last = self._last
        if last is not None and np.array_equal(last.theta, theta):
            return last
        theta = theta.copy()
        params = layers(self.arch, theta)
        name = self.arch.activation
        inputs, pre, slopes = [self.X], [], []
        for i, (w, b) in enumerate(params):
            z = inputs[-1] @ w.T + b
            pre.append(z)
            if i < len(params) - 1:
                h, slope = activate(name, z)
                inputs.append(h)
                slopes.append(slope)
        f = pre[-1]
        probs = None
        if self.loss == "mse":
            r = f - self.y
            value = 0.5 * float(np.mean(r * r))
            delta = r / r.size
        else:
            shifted = f - f.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            total = e.sum(axis=1, keepdims=True)
            probs = e / total
            rows = np.arange(f.shape[0])
            value = float(np.mean(np.log(total[:, 0]) - shifted[rows, self.y]))
            delta = probs.copy()
            delta[rows, self.y] -= 1.0
            delta /= f.shape[0]
        self._last = _Pass(theta, inputs, pre, slopes, value, delta, probs)
        return self._last
