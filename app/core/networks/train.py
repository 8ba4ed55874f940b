"""Training a network: full-batch gradient descent or minibatch SGD over θ ∈ Rⁿ with any of the
descent core's first-order optimizers, step-size schedules and Armijo line search, under the
same stop rules as a 2-D run, with the sharpness measured every k steps.

The optimizers of app.core.descent take θ as a pair of components whose entries may be numpy
arrays; a network's θ is passed as the pair (θ, an empty array), so every elementwise formula
runs on the whole vector at once and the optimizers need no change.

At step t from θ_t: the gradient g is ∇L(θ_t) on the full data (GD) or on minibatch t (SGD);
η_t = schedule(η, t), shrunk by Armijo backtracking on the same loss if asked; the optimizer's
update gives θ_{t+1}. Minibatches follow torch's DataLoader(shuffle=True, drop_last=False): each
epoch is a fresh permutation of the points cut into batches, here the permutation of epoch e
drawn from default_rng((seed, e)), so the batch of any step is known without replaying the run.

Each record reports the full-data loss L(θ_t) and ‖∇L(θ_t)‖, and the run stops as a 2-D run
does: ``diverged`` (|L| beyond max_abs_loss, a coordinate of θ beyond max_abs_theta, or a next
iterate that is not finite), ``converged`` (‖∇L‖ ≤ tol) or ``max_steps``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from app.core.descent import (
    CONSTANT,
    STATE_TYPES,
    LineSearch,
    Optimizer,
    Schedule,
    Status,
    StopRules,
)
from app.core.descent.stopping import MAX_SHRINKS
from app.core.networks.objective import NetworkLoss
from app.core.networks.sharpness import DEFAULT_ITERATIONS, sharpness
from app.core.text import sci

Array: TypeAlias = NDArray[np.float64]
Pair: TypeAlias = tuple[Array, Array]

EMPTY: Array = np.empty(0)


@dataclass(frozen=True)
class StepRecord:
    """One iterate of a training run."""

    t: int
    loss: float  # L(θ_t) on all the data
    grad_norm: float  # ‖∇L(θ_t)‖ on all the data
    eta: float | None  # the step size used to leave θ_t; None on the last record
    theta: Array | None = None  # θ_t, on the steps asked for (theta_every)
    sharpness: float | None = None  # λ_max(θ_t), on the steps asked for (sharpness_every)
    status: Status | None = None  # on the last record only
    reason: str = ""  # why the run diverged, in words
    state: Any = None  # the optimizer's state at θ_t, on the last record only


@dataclass(frozen=True)
class Minibatches:
    """Batches of `size` points out of `points`, reshuffled every epoch from the seed."""

    points: int
    size: int
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.size <= self.points:
            raise ValueError(f"Invalid batch size: {self.size} (a whole number 1–{self.points})")

    @property
    def per_epoch(self) -> int:
        return -(-self.points // self.size)

    def indices(self, t: int) -> NDArray[np.intp]:
        """The points of the minibatch used at step t."""
        epoch, k = divmod(t, self.per_epoch)
        order = np.random.default_rng((self.seed, epoch)).permutation(self.points)
        return order[k * self.size : (k + 1) * self.size]


def armijo(
    objective: NetworkLoss, theta: Array, loss: float, grad: Array, eta: float, search: LineSearch
) -> float:
    """The first η in η, η·shrink, … (at most MAX_SHRINKS shrinks) with
    L(θ − η∇L) ≤ L(θ) − c·η·‖∇L‖²; the last one if none does."""
    slope = float(grad @ grad)
    with np.errstate(all="ignore"):
        for _ in range(MAX_SHRINKS):
            trial = objective.value(theta - eta * grad)
            if trial <= loss - search.c * eta * slope:
                return eta
            eta *= search.shrink
    return eta


def _stop(
    t: int, theta: Array, loss: float, gnorm: float, rules: StopRules, last_t: int
) -> tuple[Status, str] | None:
    if loss > rules.max_abs_loss:
        return "diverged", f"at step {t}: the loss passed {sci(rules.max_abs_loss)}"
    if loss < -rules.max_abs_loss:
        return "diverged", f"at step {t}: the loss fell below −{sci(rules.max_abs_loss)}"
    if np.abs(theta).max() > rules.max_abs_theta:
        return "diverged", f"at step {t}: a parameter passed ±{sci(rules.max_abs_theta)}"
    if gnorm <= rules.tol:
        return "converged", ""
    if t >= last_t:
        return "max_steps", ""
    return None


def train(
    objective: NetworkLoss,
    theta0: Array,
    optimizer: Optimizer,
    *,
    schedule: Schedule = CONSTANT,
    line_search: LineSearch | None = None,
    rules: StopRules | None = None,
    batches: Minibatches | None = None,
    sharpness_every: int = 0,
    sharpness_iterations: int = DEFAULT_ITERATIONS,
    theta_every: int = 0,
    start_t: int = 0,
    state: Any = None,
) -> Iterator[StepRecord]:
    """Train from θ₀ (at step start_t, with the optimizer's `state` when resuming), yielding a
    record per iterate until a stop rule fires. `batches` makes it minibatch SGD; the sharpness
    (and θ_t) are reported every `sharpness_every` (`theta_every`) steps from start_t and on the
    last record (0: never)."""
    if getattr(optimizer, "needs_hessian", False):
        raise ValueError(f"{optimizer.label} needs the full Hessian; pick a first-order optimizer")
    for name, every in (("sharpness_every", sharpness_every), ("theta_every", theta_every)):
        if every < 0:
            raise ValueError(f"Invalid {name}: {every} (a whole number >= 0)")
    if batches is not None and batches.points != objective.points:
        raise ValueError("The minibatches are drawn over a different number of points")
    rules = StopRules() if rules is None else rules
    theta = np.array(theta0, dtype=np.float64)
    if theta.shape != (objective.n,):
        raise ValueError(f"θ₀ has shape {theta.shape}; this network needs ({objective.n},)")
    last_t = start_t + rules.max_steps
    state = optimizer.init((theta, EMPTY)) if state is None else state
    t = start_t
    with np.errstate(all="ignore"):
        loss, grad = objective.value_and_grad(theta)
    if not _finite(theta, loss, grad):
        raise ValueError("The loss or its gradient at θ₀ is not a finite number")
    while True:
        gnorm = float(np.linalg.norm(grad))
        stop = _stop(t, theta, loss, gnorm, rules, last_t)
        since = t - start_t
        show_theta = theta_every > 0 and since % theta_every == 0
        measure = sharpness_every > 0 and since % sharpness_every == 0
        if stop is None:
            if batches is None:
                step_objective, step_loss, g = objective, loss, grad
            else:
                step_objective = objective.on(batches.indices(t))
                step_loss, g = step_objective.value_and_grad(theta)
            eta = schedule.eta(optimizer.eta, t)
            with np.errstate(all="ignore"):
                if line_search is not None:
                    eta = armijo(step_objective, theta, step_loss, g, eta, line_search)
                step, new_state = optimizer.update((g, EMPTY), state, (theta, EMPTY), eta)
                new_theta = theta + step[0]
                new_loss, new_grad = objective.value_and_grad(new_theta)
            if _finite(new_theta, new_loss, new_grad):
                yield StepRecord(
                    t,
                    loss,
                    gnorm,
                    eta,
                    theta.copy() if show_theta else None,
                    _sharpness(objective, theta, sharpness_iterations) if measure else None,
                )
                theta, loss, grad, state, t = new_theta, new_loss, new_grad, new_state, t + 1
                continue
            stop = _overflowed(t + 1)
        yield StepRecord(
            t,
            loss,
            gnorm,
            None,
            theta.copy(),
            _sharpness(objective, theta, sharpness_iterations) if sharpness_every > 0 else None,
            *stop,
            state,
        )
        return


def _sharpness(objective: NetworkLoss, theta: Array, iterations: int) -> float | None:
    """λ_max at θ; None where it is not a finite number (far out on a diverging run)."""
    with np.errstate(all="ignore"):
        value = sharpness(objective, theta, iterations)
    return value if math.isfinite(value) else None


def _overflowed(t: int) -> tuple[Status, str]:
    return "diverged", f"at step {t}: θ, the loss or its gradient overflowed (infinite or NaN)"


def _finite(theta: Array, loss: float, grad: Array) -> bool:
    return bool(math.isfinite(loss) and np.all(np.isfinite(grad)) and np.all(np.isfinite(theta)))


def state_to_lists(state: Any) -> dict[str, Any]:
    """An optimizer state of a network run as JSON-ready values: the step count, and each
    per-parameter buffer as a list of n floats (θ's layout)."""
    out: dict[str, Any] = {}
    for name, value in state._asdict().items():
        out[name] = int(value) if name == "step" else [float(v) for v in value[0]]
    return out


def state_from_lists(optimizer: str, data: dict[str, Any], n: int) -> Any:
    """Rebuild the state of `optimizer` over n parameters from `state_to_lists`'s output;
    ValueError says what is wrong."""
    if optimizer not in STATE_TYPES or optimizer == "newton":
        valid = ", ".join(name for name in STATE_TYPES if name != "newton")
        raise ValueError(f"Unknown optimizer {optimizer!r} for a network. Valid names: {valid}.")
    cls = STATE_TYPES[optimizer]
    if set(data) != set(cls._fields):
        raise ValueError(
            f"The saved state of {optimizer} needs exactly the fields {', '.join(cls._fields)}; "
            f"got {', '.join(sorted(data)) or 'none'}"
        )
    values: dict[str, Any] = {}
    for name in cls._fields:
        value = data[name]
        if name == "step":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Invalid state.step: {value!r} (a whole number >= 0)")
            values[name] = value
            continue
        try:
            buffer = np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            buffer = np.empty(0)
        if buffer.shape != (n,) or not np.all(np.isfinite(buffer)):
            raise ValueError(f"Invalid state.{name}: expected a list of {n} finite numbers")
        values[name] = (buffer, EMPTY)
    return cls(**values)
