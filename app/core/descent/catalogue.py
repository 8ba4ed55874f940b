"""How an optimizer is described: its name, label, hyperparameters (bounds, defaults, torch names)
and default step size, read from the one place they are declared, the optimizer's class.

An optimizer class (see optimizers.py) is a frozen dataclass deriving from `Declared`; its step
size is the field `eta`, made by `step_size(default)`, and each other hyperparameter is a field made
by `hyperparameter(default, ...)`. `describe(cls)` reads the class back as an `OptimizerSpec`: the
API's request models, GET /api/optimizers and the page's controls are built from that, and the
class checks every value against the same bounds when it is made.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

MAX_ETA = 1e4
FLOAT_CAP = 1e6  # the largest value of an otherwise unbounded hyperparameter (weight decay, ε, …)


@dataclass(frozen=True)
class Bounds:
    """An interval of allowed values; None leaves that side open to infinity (but finite)."""

    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False

    def admits(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.min is not None and (value <= self.min if self.min_exclusive else value < self.min):
            return False
        if self.max is not None and (value >= self.max if self.max_exclusive else value > self.max):
            return False
        return True

    def rule(self) -> str:
        """The interval in words, e.g. "in [0, 1)" or "in (0, 1e+04]"."""
        low = (
            "(-inf" if self.min is None else ("(" if self.min_exclusive else "[") + f"{self.min:g}"
        )
        high = (
            "inf)" if self.max is None else f"{self.max:g}" + (")" if self.max_exclusive else "]")
        )
        return f"in {low}, {high}"


UNIT = Bounds(0.0, 1.0)
OPEN_UNIT = Bounds(0.0, 1.0, max_exclusive=True)  # [0, 1): a decay rate that must forget
NON_NEGATIVE = Bounds(0.0, FLOAT_CAP)
POSITIVE = Bounds(0.0, FLOAT_CAP, min_exclusive=True)
ETA = Bounds(0.0, MAX_ETA, min_exclusive=True)


@dataclass(frozen=True)
class Hyperparameter:
    """One hyperparameter besides the step size, as the page shows it and the API checks it."""

    name: str
    label: str  # in words, e.g. "momentum"
    symbol: str | None  # in mathematics, e.g. "μ"; None where there is no usual symbol
    type: Literal["float", "bool"]
    default: float | bool
    bounds: Bounds | None  # None for a bool
    torch_name: str | None  # the torch.optim argument, e.g. "betas[0]"; None if torch has none
    description: str


@dataclass(frozen=True)
class OptimizerSpec:
    name: str  # the id used by the API, e.g. "adam"
    type_name: str  # the core class's name, e.g. "Adam" (the API names its request model after it)
    label: str  # e.g. "Adam"
    summary: str  # one line, for the page
    description: str  # a few lines, for the API documentation
    default_eta: float
    hyperparameters: tuple[Hyperparameter, ...]  # besides eta, in the class's order
    torch: str | None  # the torch.optim class that follows the same formulas, if any
    line_search: bool  # takes a backtracking line search
    needs_hessian: bool


_KEY = "hyperparameter"
_FIXED = "fixed"


def step_size(default: float) -> Any:
    """The field `eta` of an optimizer class, with its default; its bounds are ETA."""
    return dataclasses.field(default=default)


def hyperparameter(
    default: float | bool,
    label: str,
    description: str,
    *,
    symbol: str | None = None,
    bounds: Bounds | None = None,
    torch_name: str | None = None,
) -> Any:
    """A hyperparameter field of an optimizer class: its default, and how to show and check it."""
    kind: Literal["float", "bool"] = "bool" if isinstance(default, bool) else "float"
    if (kind == "bool") != (bounds is None):
        raise TypeError("a float hyperparameter needs bounds, a bool has none")
    spec = Hyperparameter("", label, symbol, kind, default, bounds, torch_name, description)
    return dataclasses.field(default=default, metadata={_KEY: spec})


def fixed(value: float, rule: str) -> Any:
    """A field a subclass inherits but pins to `value` (not a hyperparameter of its own)."""
    return dataclasses.field(default=value, metadata={_FIXED: rule})


def invalid(name: str, value: Any, rule: str) -> ValueError:
    return ValueError(f"Invalid {name}: {value!r} ({name} must be {rule})")


class Declared:
    """Base of the optimizer classes: what `describe` reads, and the check of every value."""

    name: ClassVar[str]
    label: ClassVar[str]
    summary: ClassVar[str]
    description: ClassVar[str]
    torch: ClassVar[str | None] = None
    line_search: ClassVar[bool] = False
    needs_hessian: ClassVar[bool] = False

    def __post_init__(self) -> None:
        for field in _fields(type(self)):
            value = getattr(self, field.name)
            if field.name == "eta":
                if not _is_number(value) or not ETA.admits(value):
                    raise invalid("eta", value, ETA.rule())
            elif _FIXED in field.metadata:
                if value != field.default:
                    raise invalid(field.name, value, field.metadata[_FIXED])
            elif _KEY in field.metadata:
                spec: Hyperparameter = field.metadata[_KEY]
                if spec.bounds is None:
                    if not isinstance(value, bool):
                        raise invalid(field.name, value, "true or false")
                elif not _is_number(value) or not spec.bounds.admits(value):
                    raise invalid(field.name, value, spec.bounds.rule())


_FIELDS: dict[type, tuple[dataclasses.Field[Any], ...]] = {}


def _fields(cls: type[Declared]) -> tuple[dataclasses.Field[Any], ...]:
    # dataclasses.fields() builds its tuple anew at every call: an optimizer is made per request.
    known = _FIELDS.get(cls)
    if known is None:
        known = _FIELDS[cls] = dataclasses.fields(cls)  # type: ignore[arg-type]
    return known


def field_names(cls: type[Declared]) -> tuple[str, ...]:
    """The names of an optimizer class's fields (its step size and hyperparameters)."""
    return tuple(f.name for f in _fields(cls))


def _is_number(value: Any) -> bool:
    if type(value) is float or type(value) is int:  # the usual case, without the ABC check
        return True
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def describe(cls: type[Declared]) -> OptimizerSpec:
    """The spec of an optimizer class, read from its fields and class variables."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    if "eta" not in fields:
        raise TypeError(f"{cls.__name__} declares no step size `eta`")
    return OptimizerSpec(
        name=cls.name,
        type_name=cls.__name__,
        label=cls.label,
        summary=cls.summary,
        description=cls.description,
        default_eta=fields["eta"].default,  # type: ignore[arg-type]
        hyperparameters=tuple(
            dataclasses.replace(f.metadata[_KEY], name=f.name)
            for f in fields.values()
            if _KEY in f.metadata
        ),
        torch=cls.torch,
        line_search=cls.line_search,
        needs_hessian=cls.needs_hessian,
    )
