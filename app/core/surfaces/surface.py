"""The Surface type: a 2-D loss with its value, gradient, Hessian and known landmarks.

Every function takes x and y as floats or numpy arrays of one shape and broadcasts, so the
same code evaluates one iterate, a batch of iterates or a whole plotting grid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import numpy as np
from numpy.typing import NDArray

Array: TypeAlias = NDArray[np.float64]
Scalar: TypeAlias = float | np.floating | Array
ValueFn: TypeAlias = Callable[[Scalar, Scalar], Scalar]
GradFn: TypeAlias = Callable[[Scalar, Scalar], tuple[Scalar, Scalar]]
HessFn: TypeAlias = Callable[[Scalar, Scalar], tuple[Scalar, Scalar, Scalar]]
# The value and the gradient at once, sharing subexpressions, bitwise equal to (value, *grad)
# on arrays: f(x, y, out=None) -> (L, ∂x, ∂y). With `out`, five float arrays of x's shape (none
# of them x or y), it allocates nothing: L, ∂x, ∂y go into out[0], out[1], out[2] and are
# returned, out[3] and out[4] are scratch; if out[0] is None, L is not computed (None instead).
ValueGradFn: TypeAlias = Callable[..., tuple[Scalar | None, Scalar, Scalar]]
# An upper bound of |L(x, y)| over the square |x|, |y| ≤ r (math.inf where there is none).
ValueBoundFn: TypeAlias = Callable[[float], float]
MinimumKind: TypeAlias = Literal["global", "local"]


@dataclass(frozen=True)
class Domain:
    """The plotting rectangle [x0, x1] × [y0, y1]."""

    x: tuple[float, float]
    y: tuple[float, float]

    def __post_init__(self) -> None:
        for name, (lo, hi) in (("x", self.x), ("y", self.y)):
            if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
                raise ValueError(
                    f"Invalid {name} range [{lo}, {hi}]: need finite bounds with min < max"
                )

    @property
    def diagonal(self) -> float:
        return float(np.hypot(self.x[1] - self.x[0], self.y[1] - self.y[0]))

    def contains(self, x: float, y: float) -> bool:
        return self.x[0] <= x <= self.x[1] and self.y[0] <= y <= self.y[1]


@dataclass(frozen=True)
class Minimum:
    x: float
    y: float
    value: float
    kind: MinimumKind


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: float


@dataclass(frozen=True)
class Surface:
    id: str
    name: str
    formula: str  # LaTeX
    description: str  # one sentence on what the surface teaches
    value: ValueFn
    grad: GradFn
    hess: HessFn
    domain: Domain
    default_start: tuple[float, float]
    default_eta: float = 0.01
    minima: tuple[Minimum, ...] = ()
    saddles: tuple[Point, ...] = ()
    maxima: tuple[Point, ...] = field(default=())
    log_colors: bool = False  # the surface spans decades: colour the contour on a log scale
    # Optional extras, appended so existing constructors are unaffected:
    note: str = ""  # a caveat in words, e.g. "no finite minimum: the classes are separable"
    data: Any = None  # the data behind a dataset loss (app.core.data.regression.DataFit), else None
    value_grad: ValueGradFn | None = None  # optional fused (value, ∂x, ∂y); see value_and_grad
    value_bound: ValueBoundFn | None = None  # optional: lets a batch skip L while θ stays small

    def value_and_grad(
        self, x: Scalar, y: Scalar, out: tuple[Array | None, ...] | None = None
    ) -> tuple[Scalar | None, Scalar, Scalar]:
        """(L, ∂L/∂x, ∂L/∂y): the fused `value_grad` if the surface has one (it gives exactly
        the values of `value` and `grad` on arrays, only cheaper), else `value` and `grad` one
        after the other. `out` is as for ValueGradFn; without `value_grad` it only says whether
        L is wanted (out[0] is None: it is not), and the results are new arrays (or constants)."""
        if self.value_grad is not None:
            return self.value_grad(x, y) if out is None else self.value_grad(x, y, out)
        gx, gy = self.grad(x, y)
        if out is not None and out[0] is None:
            return None, gx, gy
        return self.value(x, y), gx, gy

    def hessian_matrix(self, x: float, y: float) -> Array:
        hxx, hxy, hyy = self.hess(np.float64(x), np.float64(y))
        return np.array([[hxx, hxy], [hxy, hyy]], dtype=np.float64)

    def max_curvature(self, x: float, y: float) -> float:
        """Largest Hessian eigenvalue at (x, y): GD is locally stable there only for η < 2/λ."""
        return float(np.linalg.eigvalsh(self.hessian_matrix(x, y))[-1])
