"""First-order optimizers as pure (init, update) pairs, following torch.optim's formulas.

A parameter vector θ is a pair (x, y) whose entries are floats or numpy arrays of one shape,
so one optimizer serves a single run and a vectorised batch of runs. `update` never mutates:
it returns the step Δθ (θ_{t+1} = θ_t + Δθ) and a new state, and the state holds exactly what a
learner may want to see (velocity, moments, step count).

Names and defaults of every hyperparameter besides the step size `eta` match torch.optim
(SGD, Adagrad, RMSprop, Adam), so a path can be checked against PyTorch.

Each class is the one declaration of its optimizer (see catalogue.py): label, summary, default η,
each hyperparameter's default, bounds, label, symbol and torch name. `CATALOGUE` reads them back.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, TypeAlias

import numpy as np
from numpy.typing import NDArray

from app.core.descent.catalogue import (
    MAX_ETA,
    NON_NEGATIVE,
    OPEN_UNIT,
    POSITIVE,
    UNIT,
    Declared,
    OptimizerSpec,
    describe,
    field_names,
    fixed,
    hyperparameter,
    step_size,
)
from app.core.surfaces.surface import Scalar

Vec: TypeAlias = tuple[Scalar, Scalar]

__all__ = ["MAX_ETA", "OptimizerSpec"]  # re-exported from the catalogue


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


def _weight_decay() -> Any:
    return hyperparameter(
        0.0,
        "weight decay",
        "Adds weight_decay · θ to the gradient (an L2 penalty on θ)",
        symbol="λ",
        bounds=NON_NEGATIVE,
        torch_name="weight_decay",
    )


def _eps(default: float) -> Any:
    return hyperparameter(
        default,
        "epsilon",
        "Added to the root of the squared-gradient average, so no step divides by zero",
        symbol="ε",
        bounds=NON_NEGATIVE,
        torch_name="eps",
    )


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
class GD(Declared):
    """Plain gradient descent: θ ← θ − η∇L."""

    name: ClassVar[str] = "gd"
    label: ClassVar[str] = "Gradient descent"
    summary: ClassVar[str] = "Steps straight downhill: θ ← θ − η∇L."
    description: ClassVar[str] = (
        "Plain gradient descent: θ ← θ − η∇L, optionally with a backtracking line search."
    )
    torch: ClassVar[str | None] = "torch.optim.SGD"
    line_search: ClassVar[bool] = True

    eta: float = step_size(0.01)

    def init(self, theta: Vec) -> GDState:
        return GDState(step=0)

    def update(
        self, grad: Vec, state: GDState, theta: Vec, eta: float | None = None
    ) -> tuple[Vec, GDState]:
        eta = self.eta if eta is None else eta
        return (-eta * grad[0], -eta * grad[1]), GDState(step=state.step + 1)


@dataclass(frozen=True)
class Momentum(Declared):
    """Heavy ball, as torch.optim.SGD(momentum=…): v ← μv + (1−τ)g (v₁ = g), θ ← θ − ηv."""

    name: ClassVar[str] = "momentum"
    label: ClassVar[str] = "Momentum"
    summary: ClassVar[str] = "Heavy ball: a velocity gathers past gradients, θ ← θ − ηv."
    description: ClassVar[str] = "Heavy-ball momentum, as torch.optim.SGD(momentum=…)."
    torch: ClassVar[str | None] = "torch.optim.SGD"
    nesterov: ClassVar[bool] = False

    eta: float = step_size(0.01)
    momentum: float = hyperparameter(
        0.9,
        "momentum",
        "How much of the velocity is kept at each step: v ← μv + (1 − τ)g",
        symbol="μ",
        bounds=UNIT,
        torch_name="momentum",
    )
    dampening: float = hyperparameter(
        0.0,
        "dampening",
        "How much of each new gradient is left out of the velocity (from the second step)",
        symbol="τ",
        bounds=UNIT,
        torch_name="dampening",
    )
    weight_decay: float = _weight_decay()

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
    label: ClassVar[str] = "Nesterov"
    summary: ClassVar[str] = "Momentum that looks ahead: steps along g + μv instead of v."
    description: ClassVar[str] = "Nesterov momentum, as torch.optim.SGD(momentum=…, nesterov=True)."
    nesterov: ClassVar[bool] = True

    dampening: float = fixed(0.0, "0 for Nesterov momentum")


@dataclass(frozen=True)
class Adagrad(Declared):
    """torch.optim.Adagrad: s ← s + g², θ ← θ − η/(1 + (t−1)·lr_decay) · g/(√s + ε)."""

    name: ClassVar[str] = "adagrad"
    label: ClassVar[str] = "Adagrad"
    summary: ClassVar[str] = (
        "Divides each coordinate's step by the root of the sum of its squared gradients."
    )
    description: ClassVar[str] = "torch.optim.Adagrad."
    torch: ClassVar[str | None] = "torch.optim.Adagrad"

    eta: float = step_size(0.01)
    lr_decay: float = hyperparameter(
        0.0,
        "η decay",
        "The step size at step t is η / (1 + (t − 1) · lr_decay)",
        bounds=NON_NEGATIVE,
        torch_name="lr_decay",
    )
    weight_decay: float = _weight_decay()
    initial_accumulator_value: float = hyperparameter(
        0.0,
        "initial accumulator",
        "The sum of squared gradients starts at this value",
        bounds=NON_NEGATIVE,
        torch_name="initial_accumulator_value",
    )
    eps: float = _eps(1e-10)

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
class RMSprop(Declared):
    """torch.optim.RMSprop: v ← αv + (1−α)g², θ ← θ − η g/(√v + ε), optionally centred and with
    momentum."""

    name: ClassVar[str] = "rmsprop"
    label: ClassVar[str] = "RMSprop"
    summary: ClassVar[str] = (
        "Divides each coordinate's step by a moving root mean square of its gradients."
    )
    description: ClassVar[str] = "torch.optim.RMSprop."
    torch: ClassVar[str | None] = "torch.optim.RMSprop"

    eta: float = step_size(0.01)
    alpha: float = hyperparameter(
        0.99,
        "smoothing",
        "How much of the squared-gradient average is kept at each step: v ← αv + (1 − α)g²",
        symbol="α",
        bounds=UNIT,
        torch_name="alpha",
    )
    eps: float = _eps(1e-8)
    weight_decay: float = _weight_decay()
    momentum: float = hyperparameter(
        0.0,
        "momentum",
        "Momentum on the scaled steps (0: none)",
        symbol="μ",
        bounds=UNIT,
        torch_name="momentum",
    )
    centered: bool = hyperparameter(
        False,
        "centered",
        "Divide by an estimate of the gradient's variance instead of its second moment",
        torch_name="centered",
    )

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
class Adam(Declared):
    """torch.optim.Adam: bias-corrected moving averages of g and g², optionally AMSGrad."""

    name: ClassVar[str] = "adam"
    label: ClassVar[str] = "Adam"
    summary: ClassVar[str] = (
        "Momentum and RMSprop together: bias-corrected moving averages of g and g²."
    )
    description: ClassVar[str] = "torch.optim.Adam (beta1, beta2 are torch's betas)."
    torch: ClassVar[str | None] = "torch.optim.Adam"

    eta: float = step_size(0.001)
    beta1: float = hyperparameter(
        0.9,
        "first-moment decay",
        "How much of the moving average of g is kept at each step: m ← β₁m + (1 − β₁)g",
        symbol="β₁",
        bounds=OPEN_UNIT,
        torch_name="betas[0]",
    )
    beta2: float = hyperparameter(
        0.999,
        "second-moment decay",
        "How much of the moving average of g² is kept at each step: v ← β₂v + (1 − β₂)g²",
        symbol="β₂",
        bounds=OPEN_UNIT,
        torch_name="betas[1]",
    )
    eps: float = _eps(1e-8)
    weight_decay: float = _weight_decay()
    amsgrad: bool = hyperparameter(
        False,
        "AMSGrad",
        "Divide by the largest second moment so far, so the step size never grows",
        torch_name="amsgrad",
    )

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


def _where(condition: bool | np.bool_ | NDArray[np.bool_], a: Scalar, b: Scalar) -> Scalar:
    if isinstance(condition, np.ndarray):
        return np.where(condition, a, b)
    return a if condition else b


@dataclass(frozen=True)
class Newton(Declared):
    """Newton's method: θ ← θ − η H⁻¹∇L, with H the Hessian.

    Where H is not safely positive-definite (an eigenvalue below `min_curvature`), the step uses
    H̃ = V diag(max(|λᵢ|, min_curvature)) Vᵀ instead ("saddle-free Newton"): negative curvature is
    flipped and flat directions are bounded, so every step still goes downhill. The state counts
    the steps at which that happened.
    """

    name: ClassVar[str] = "newton"
    label: ClassVar[str] = "Newton"
    summary: ClassVar[str] = (
        "Jumps to the minimum of the local quadratic model: θ ← θ − ηH⁻¹∇L (natural η = 1)."
    )
    description: ClassVar[str] = (
        "Newton's method θ ← θ − η H⁻¹∇L; where the Hessian is not positive-definite, its\n"
        "eigenvalues are replaced by max(|λ|, min_curvature) (saddle-free Newton)."
    )
    needs_hessian: ClassVar[bool] = True

    eta: float = step_size(1.0)  # the minimum of the local quadratic model is one full step away
    min_curvature: float = hyperparameter(
        1e-2,
        "min curvature",
        "Eigenvalues of the Hessian are replaced by max(|λ|, min_curvature), so every step goes "
        "downhill",
        bounds=POSITIVE,
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

# Every optimizer as the API and the page show it, in the page's order.
CATALOGUE: tuple[OptimizerSpec, ...] = tuple(describe(cls) for cls in OPTIMIZERS.values())


def needs_hessian(optimizer: Optimizer) -> bool:
    return optimizer.needs_hessian


def make_optimizer(name: str, **hyperparameters: Any) -> Optimizer:
    """Build an optimizer by name; ValueError names an unknown optimizer or a bad value."""
    try:
        cls = OPTIMIZERS[name]
    except KeyError:
        raise ValueError(
            f"Unknown optimizer {name!r}. Valid names: {', '.join(OPTIMIZERS)}."
        ) from None
    known = field_names(cls)
    unknown = sorted(set(hyperparameters) - set(known))
    if unknown:
        raise ValueError(
            f"{cls.label} has no hyperparameter {unknown[0]!r}; it takes {', '.join(known)}"
        )
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


State: TypeAlias = GDState | MomentumState | AdagradState | RMSpropState | AdamState | NewtonState
# Each optimizer's state type, as its `init` declares it.
STATE_TYPES: dict[str, type[State]] = {
    name: typing.get_type_hints(cls.init)["return"] for name, cls in OPTIMIZERS.items()
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
