"""Step-size schedules: η_t as a function of the step count t (closed forms, so a run can resume
at any t).

`step`, `exponential` and `cosine` give the learning rates of torch.optim.lr_scheduler's StepLR,
ExponentialLR and CosineAnnealingLR stepped once per iteration; `inverse_sqrt` is a linear warm-up
followed by 1/√t decay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias


def _require(name: str, value: float, ok: bool, rule: str) -> None:
    if not ok:
        raise ValueError(f"Invalid {name}: {value!r} ({name} must be {rule})")


def _check_gamma(gamma: float) -> None:
    _require("gamma", gamma, math.isfinite(gamma) and 0.0 < gamma <= 1.0, "in (0, 1]")


@dataclass(frozen=True)
class Constant:
    """η_t = η."""

    name: ClassVar[str] = "constant"

    def eta(self, base: float, t: int) -> float:
        return base


@dataclass(frozen=True)
class StepDecay:
    """StepLR: η_t = η · γ^⌊t / step_size⌋."""

    step_size: int = 10
    gamma: float = 0.1
    name: ClassVar[str] = "step"

    def __post_init__(self) -> None:
        _require("step_size", self.step_size, self.step_size >= 1, ">= 1")
        _check_gamma(self.gamma)

    def eta(self, base: float, t: int) -> float:
        return base * self.gamma ** (t // self.step_size)


@dataclass(frozen=True)
class Exponential:
    """ExponentialLR: η_t = η · γ^t."""

    gamma: float = 0.99
    name: ClassVar[str] = "exponential"

    def __post_init__(self) -> None:
        _check_gamma(self.gamma)

    def eta(self, base: float, t: int) -> float:
        return base * self.gamma**t


@dataclass(frozen=True)
class Cosine:
    """CosineAnnealingLR: η_t = η_min + (η − η_min)(1 + cos(π t / t_max)) / 2."""

    t_max: int = 100
    eta_min: float = 0.0
    name: ClassVar[str] = "cosine"

    def __post_init__(self) -> None:
        _require("t_max", self.t_max, self.t_max >= 1, ">= 1")
        _require("eta_min", self.eta_min, math.isfinite(self.eta_min) and self.eta_min >= 0, ">= 0")

    def eta(self, base: float, t: int) -> float:
        return (
            self.eta_min + (base - self.eta_min) * (1.0 + math.cos(math.pi * t / self.t_max)) / 2.0
        )


@dataclass(frozen=True)
class InverseSqrt:
    """η_t = η · min((t + 1) / warmup, √(warmup / (t + 1))): linear warm-up over `warmup` steps,
    then 1/√t decay; with warmup = 0, η_t = η / √(t + 1)."""

    warmup: int = 0
    name: ClassVar[str] = "inverse_sqrt"

    def __post_init__(self) -> None:
        _require("warmup", self.warmup, self.warmup >= 0, ">= 0")

    def eta(self, base: float, t: int) -> float:
        n = t + 1
        if self.warmup == 0:
            return base / math.sqrt(n)
        return base * min(n / self.warmup, math.sqrt(self.warmup / n))


Schedule: TypeAlias = Constant | StepDecay | Exponential | Cosine | InverseSqrt

SCHEDULES: dict[str, type[Schedule]] = {
    cls.name: cls for cls in (Constant, StepDecay, Exponential, Cosine, InverseSqrt)
}

CONSTANT = Constant()


def make_schedule(name: str, **parameters: Any) -> Schedule:
    try:
        cls = SCHEDULES[name]
    except KeyError:
        raise ValueError(
            f"Unknown schedule {name!r}. Valid names: {', '.join(SCHEDULES)}."
        ) from None
    return cls(**parameters)
