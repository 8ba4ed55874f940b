"""First-order optimizers as pure (init, update) pairs, following torch.optim's formulas.

A parameter vector θ is a pair (x, y) whose entries are floats or numpy arrays of one shape,
so one optimizer serves a single run and a vectorised batch of runs. `update` never mutates:
it returns the step Δθ (θ_{t+1} = θ_t + Δθ) and a new state, and the state holds exactly what a
learner may want to see (velocity, moments, step count).

Names and defaults of every hyperparameter besides the step size `eta` match torch.optim
(SGD, Adagrad, RMSprop, Adam), so a path can be checked against PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, TypeAlias

import numpy as np

from app.core.surfaces.surface import Scalar

Vec: TypeAlias = tuple[Scalar, Scalar]

MAX_ETA = 1e4


def _each(fn: Callable[..., Scalar], *vecs: Vec) -> Vec:
    """Apply a scalar formula to the x and the y components."""
    if len(vecs) == 2:  # the common case, spelt out: this runs at every step of every run
        a, b = vecs
        return fn(a[0], b[0]), fn(a[1], b[1])
    return fn(*(v[0] for v in vecs)), fn(*(v[1] for v in vecs))


def _sqrt(value: Scalar) -> Scalar:
    """math.sqrt for a Python float (a single run: several times faster), np.sqrt otherwise."""
    return math.sqrt(value) if type(value) is float and value >= 0.0 else np.sqrt(value)


def _zeros(theta: Vec) -> Vec:
    return 0.0 * theta[0], 0.0 * theta[1]


def _filled(theta: Vec, value: float) -> Vec:
    return 0.0 * theta[0] + value, 0.0 * theta[1] + value


def _check(name: str, value: float, ok: bool, rule: str) -> None:
    if not ok:
        raise ValueError(f"Invalid {name}: {value!r} ({name} must be {rule})")


def _check_eta(eta: float) -> None:
    _check("eta", eta, bool(np.isfinite(eta)) and 0.0 < eta <= MAX_ETA, f"> 0 and <= {MAX_ETA:g}")


def _check_unit(name: str, value: float, *, closed: bool = True) -> None:
    ok = bool(np.isfinite(value)) and 0.0 <= value and (value <= 1.0 if closed else value < 1.0)
    _check(name, value, ok, "in [0, 1]" if closed else "in [0, 1)")


def _check_nonnegative(name: str, value: float) -> None:
    _check(name, value, bool(np.isfinite(value)) and value >= 0.0, ">= 0 and finite")


def _with_weight_decay(grad: Vec, theta: Vec, weight_decay: float) -> Vec:
    if weight_decay == 0.0:
        return grad
    return _each(lambda g, p: g + weight_decay * p, grad, theta)


class GDState(NamedTuple):
    step: int


class MomentumState(NamedTuple):
    step: int
    velocity: Vec  # torch's momentum_buffer


class AdagradState(NamedTuple):
    step: int
    sum: Vec  # running sum of squared gradients


class RMSpropState(NamedTuple):
    step: int
    square_avg: Vec
    grad_avg: Vec  # used when centered
    momentum_buffer: Vec  # used when momentum > 0


class AdamState(NamedTuple):
    step: int
    exp_avg: Vec  # first moment m
    exp_avg_sq: Vec  # second moment v
    max_exp_avg_sq: Vec  # used when amsgrad


@dataclass(frozen=True)
class GD:
    """Plain gradient descent: θ ← θ − η∇L."""

    eta: float = 0.01
    name: ClassVar[str] = "gd"

    def __post_init__(self) -> None:
        _check_eta(self.eta)

    def init(self, theta: Vec) -> GDState:
        return GDState(step=0)

    def update(
        self, grad: Vec, state: GDState, theta: Vec, eta: float | None = None
    ) -> tuple[Vec, GDState]:
        eta = self.eta if eta is None else eta
        return (-eta * grad[0], -eta * grad[1]), GDState(step=state.step + 1)


@dataclass(frozen=True)
class Momentum:
    """Heavy ball, as torch.optim.SGD(momentum=…): v ← μv + (1−τ)g (v₁ = g), θ ← θ − ηv."""

    eta: float = 0.01
    momentum: float = 0.9
    dampening: float = 0.0
    weight_decay: float = 0.0
    name: ClassVar[str] = "momentum"
    nesterov: ClassVar[bool] = False

    def __post_init__(self) -> None:
        _check_eta(self.eta)
        _check_unit("momentum", self.momentum)
        _check_unit("dampening", self.dampening)
        _check_nonnegative("weight_decay", self.weight_decay)

    def init(self, theta: Vec) -> MomentumState:
        return MomentumState(step=0, velocity=_zeros(theta))

    def update(
        self, grad: Vec, state: MomentumState, theta: Vec, eta: float | None = None
    ) -> tuple[Vec, MomentumState]:
        g = _with_weight_decay(grad, theta, self.weight_decay)
        mu, keep = self.momentum, 1.0 - self.dampening
        if state.step == 0:
            velocity = g
        else:
            velocity = _each(lambda v, gi: mu * v + keep * gi, state.velocity, g)
        direction = _each(lambda gi, v: gi + mu * v, g, velocity) if self.nesterov else velocity
        lr = self.eta if eta is None else eta
        step = _each(lambda d: -lr * d, direction)
        return step, MomentumState(step=state.step + 1, velocity=velocity)


@dataclass(frozen=True)
class Nesterov(Momentum):
    """torch.optim.SGD(momentum=…, nesterov=True): θ ← θ − η(g + μv)."""

    name: ClassVar[str] = "nesterov"
    nesterov: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        _check("dampening", self.dampening, self.dampening == 0.0, "0 for Nesterov momentum")


@dataclass(frozen=True)
class Adagrad:
    """torch.optim.Adagrad: s ← s + g², θ ← θ − η/(1 + (t−1)·lr_decay) · g/(√s + ε)."""

    eta: float = 0.01
    lr_decay: float = 0.0
    weight_decay: float = 0.0
    initial_accumulator_value: float = 0.0
    eps: float = 1e-10
    name: ClassVar[str] = "adagrad"

    def __post_init__(self) -> None:
        _check_eta(self.eta)
        for field_name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            _check_nonnegative(field_name, getattr(self, field_name))

    def init(self, theta: Vec) -> AdagradState:
        return AdagradState(step=0, sum=_filled(theta, self.initial_accumulator_value))

    def update(
        self, grad: Vec, state: AdagradState, theta: Vec, eta: float | None = None
    ) -> tuple[Vec, AdagradState]:
        g = _with_weight_decay(grad, theta, self.weight_decay)
        t = state.step + 1
        clr = (self.eta if eta is None else eta) / (1.0 + (t - 1) * self.lr_decay)
        total = _each(lambda s, gi: s + gi * gi, state.sum, g)
        eps = self.eps
        step = _each(lambda gi, s: -clr * gi / (_sqrt(s) + eps), g, total)
        return step, AdagradState(step=t, sum=total)


@dataclass(frozen=True)
class RMSprop:
    """torch.optim.RMSprop: v ← αv + (1−α)g², θ ← θ − η g/(√v + ε), optionally centred and with
    momentum."""

    eta: float = 0.01
    alpha: float = 0.99
    eps: float = 1e-8
    weight_decay: float = 0.0
    momentum: float = 0.0
    centered: bool = False
    name: ClassVar[str] = "rmsprop"

    def __post_init__(self) -> None:
        _check_eta(self.eta)
        _check_unit("alpha", self.alpha)
        _check_unit("momentum", self.momentum)
        _check_nonnegative("eps", self.eps)
        _check_nonnegative("weight_decay", self.weight_decay)

    def init(self, theta: Vec) -> RMSpropState:
        zeros = _zeros(theta)
        return RMSpropState(step=0, square_avg=zeros, grad_avg=zeros, momentum_buffer=zeros)

    def update(
        self, grad: Vec, state: RMSpropState, theta: Vec, eta: float | None = None
    ) -> tuple[Vec, RMSpropState]:
        g = _with_weight_decay(grad, theta, self.weight_decay)
        a, eps, mu = self.alpha, self.eps, self.momentum
        lr = self.eta if eta is None else eta
        square_avg = _each(lambda v, gi: a * v + (1.0 - a) * gi * gi, state.square_avg, g)
        grad_avg = state.grad_avg
        if self.centered:
            grad_avg = _each(lambda m, gi: m + (1.0 - a) * (gi - m), state.grad_avg, g)
            avg = _each(lambda v, m: _sqrt(v - m * m) + eps, square_avg, grad_avg)
        else:
            avg = _each(lambda v: _sqrt(v) + eps, square_avg)
        buffer = state.momentum_buffer
        if mu > 0.0:
            buffer = _each(lambda b, gi, d: mu * b + gi / d, state.momentum_buffer, g, avg)
            step = _each(lambda b: -lr * b, buffer)
        else:
            step = _each(lambda gi, d: -lr * gi / d, g, avg)
        new_state = RMSpropState(state.step + 1, square_avg, grad_avg, buffer)
        return step, new_state


@dataclass(frozen=True)
class Adam:
    """torch.optim.Adam: bias-corrected moving averages of g and g², optionally AMSGrad."""

    eta: float = 0.001
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    amsgrad: bool = False
    name: ClassVar[str] = "adam"

    def __post_init__(self) -> None:
        _check_eta(self.eta)
        _check_unit("beta1", self.beta1, closed=False)
        _check_unit("beta2", self.beta2, closed=False)
        _check_nonnegative("eps", self.eps)
        _check_nonnegative("weight_decay", self.weight_decay)

    def init(self, theta: Vec) -> AdamState:
        zeros = _zeros(theta)
        return AdamState(step=0, exp_avg=zeros, exp_avg_sq=zeros, max_exp_avg_sq=zeros)

    def update(
        self, grad: Vec, state: AdamState, theta: Vec, eta: float | None = None
    ) -> tuple[Vec, AdamState]:
        g = _with_weight_decay(grad, theta, self.weight_decay)
        b1, b2, eps = self.beta1, self.beta2, self.eps
        t = state.step + 1
        exp_avg = _each(lambda m, gi: m + (1.0 - b1) * (gi - m), state.exp_avg, g)
        exp_avg_sq = _each(lambda v, gi: b2 * v + (1.0 - b2) * gi * gi, state.exp_avg_sq, g)
        step_size = (self.eta if eta is None else eta) / (1.0 - b1**t)
        bias_correction2_sqrt = (1.0 - b2**t) ** 0.5
        max_sq = state.max_exp_avg_sq
        if self.amsgrad:
            max_sq = _each(np.maximum, state.max_exp_avg_sq, exp_avg_sq)
            second = max_sq
        else:
            second = exp_avg_sq
        step = _each(
            lambda m, v: -step_size * m / (_sqrt(v) / bias_correction2_sqrt + eps),
            exp_avg,
            second,
        )
        return step, AdamState(t, exp_avg, exp_avg_sq, max_sq)


class NewtonState(NamedTuple):
    step: int
    damped_steps: Scalar  # steps at which the Hessian had to be modified (see Newton)


def _where(condition: Scalar, a: Scalar, b: Scalar) -> Scalar:
    if isinstance(condition, np.ndarray):
        return np.where(condition, a, b)
    return a if condition else b


@dataclass(frozen=True)
class Newton:
    """Newton's method: θ ← θ − η H⁻¹∇L, with H the Hessian.

    Where H is not safely positive-definite (an eigenvalue below `min_curvature`), the step uses
    H̃ = V diag(max(|λᵢ|, min_curvature)) Vᵀ instead ("saddle-free Newton"): negative curvature is
    flipped and flat directions are bounded, so every step still goes downhill. The state counts
    the steps at which that happened.
    """

    eta: float = 1.0
    min_curvature: float = 1e-2
    name: ClassVar[str] = "newton"
    needs_hessian: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_eta(self.eta)
        _check(
            "min_curvature",
            self.min_curvature,
            bool(np.isfinite(self.min_curvature)) and self.min_curvature > 0,
            "> 0 and finite",
        )

    def init(self, theta: Vec) -> NewtonState:
        return NewtonState(
            step=0, damped_steps=0 * theta[0] if isinstance(theta[0], np.ndarray) else 0
        )

    def update(
        self,
        grad: Vec,
        state: NewtonState,
        theta: Vec,
        eta: float | None = None,
        hess: tuple[Scalar, Scalar, Scalar] | None = None,
    ) -> tuple[Vec, NewtonState]:
        if hess is None:
            raise ValueError("Newton's method needs the Hessian")
        lr = self.eta if eta is None else eta
        a, b, c = hess
        gx, gy = grad
        # Eigen-decomposition of [[a, b], [b, c]] in closed form, so it broadcasts over batches.
        mean, radius = (a + c) / 2.0, np.hypot((a - c) / 2.0, b)
        low, high = mean - radius, mean + radius
        safe = low >= self.min_curvature
        det = a * c - b * b
        with np.errstate(all="ignore"):
            newton_x, newton_y = (c * gx - b * gy) / det, (a * gy - b * gx) / det
        phi = np.arctan2(2.0 * b, a - c) / 2.0  # angle of the eigenvector of `high`
        ux, uy = np.cos(phi), np.sin(phi)
        along_high = (ux * gx + uy * gy) / np.maximum(np.abs(high), self.min_curvature)
        along_low = (-uy * gx + ux * gy) / np.maximum(np.abs(low), self.min_curvature)
        modified_x = ux * along_high - uy * along_low
        modified_y = uy * along_high + ux * along_low
        dx = _where(safe, newton_x, modified_x)
        dy = _where(safe, newton_y, modified_y)
        damped = state.damped_steps + _where(safe, 0, 1)
        return (-lr * dx, -lr * dy), NewtonState(state.step + 1, damped)


Optimizer: TypeAlias = GD | Momentum | Nesterov | Adagrad | RMSprop | Adam | Newton

OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (GD, Momentum, Nesterov, Adagrad, RMSprop, Adam, Newton)
}


def needs_hessian(optimizer: Optimizer) -> bool:
    return getattr(optimizer, "needs_hessian", False)


def make_optimizer(name: str, **hyperparameters: Any) -> Optimizer:
    """Build an optimizer by name; ValueError names an unknown optimizer or a bad value."""
    try:
        cls = OPTIMIZERS[name]
    except KeyError:
        raise ValueError(
            f"Unknown optimizer {name!r}. Valid names: {', '.join(OPTIMIZERS)}."
        ) from None
    return cls(**hyperparameters)


def state_to_dict(state: Any) -> dict[str, Any]:
    """An optimizer state as plain JSON-ready values (pairs become lists)."""
    out: dict[str, Any] = {}
    for field, value in state._asdict().items():
        if isinstance(value, tuple):
            out[field] = [float(v) for v in value]
        elif field == "step":
            out[field] = int(value)
        else:
            out[field] = float(value)
    return out


STATE_TYPES: dict[str, type] = {
    "gd": GDState,
    "momentum": MomentumState,
    "nesterov": MomentumState,
    "adagrad": AdagradState,
    "rmsprop": RMSpropState,
    "adam": AdamState,
    "newton": NewtonState,
}


def state_from_dict(optimizer: str, data: dict[str, Any]) -> Any:
    """Rebuild the state of `optimizer` from `state_to_dict`'s output; ValueError says what is
    wrong."""
    if optimizer not in STATE_TYPES:
        valid = ", ".join(STATE_TYPES)
        raise ValueError(f"Unknown optimizer {optimizer!r}. Valid names: {valid}.")
    cls = STATE_TYPES[optimizer]
    expected = set(cls._fields)
    if set(data) != expected:
        raise ValueError(
            f"The saved state of {optimizer} needs exactly the fields {', '.join(cls._fields)}; "
            f"got {', '.join(sorted(data)) or 'none'}"
        )
    values: dict[str, Any] = {}
    for field in cls._fields:
        value = data[field]
        if field == "step":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Invalid state.step: {value!r} (a whole number >= 0)")
            values[field] = value
        elif isinstance(value, (list, tuple)):
            if len(value) != 2 or not all(_finite_number(v) for v in value):
                raise ValueError(f"Invalid state.{field}: {value!r} (two finite numbers)")
            values[field] = (float(value[0]), float(value[1]))
        elif _finite_number(value):
            values[field] = float(value)
        else:
            raise ValueError(f"Invalid state.{field}: {value!r} (a finite number)")
    return cls(**values)


def _finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
