"""The preset surfaces, with analytic gradients and Hessians.

Landmarks (minima, saddles, maxima) are written down to a few digits and polished with Newton's
method on ∇f = 0 at import, so every listed point is exact to machine precision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import cast

import numpy as np

from app.core.surfaces.surface import (
    Array,
    Domain,
    GradFn,
    HessFn,
    Minimum,
    Point,
    Scalar,
    Surface,
    ValueBoundFn,
    ValueFn,
    ValueGradFn,
)

TWO_PI = 2.0 * np.pi


def _polish(grad: GradFn, hess: HessFn, x: float, y: float) -> tuple[float, float]:
    """Newton's method on ∇f = 0 from a close approximation."""
    px, py = np.float64(x), np.float64(y)
    for _ in range(50):
        gx, gy = grad(px, py)
        hxx, hxy, hyy = hess(px, py)
        det = hxx * hyy - hxy * hxy
        dx = np.float64((hyy * gx - hxy * gy) / det)  # scalars in, scalars out
        dy = np.float64((hxx * gy - hxy * gx) / det)
        px, py = px - dx, py - dy
        if abs(dx) + abs(dy) <= 1e-15 * (1.0 + abs(px) + abs(py)):
            break
    return float(px), float(py)


def _preset(
    *,
    id: str,
    name: str,
    formula: str,
    description: str,
    value: ValueFn,
    grad: GradFn,
    hess: HessFn,
    domain: Domain,
    default_start: tuple[float, float],
    default_eta: float,
    minima: Iterable[tuple[float, float]] = (),
    saddles: Iterable[tuple[float, float]] = (),
    maxima: Iterable[tuple[float, float]] = (),
    log_colors: bool = False,
    value_grad: ValueGradFn | None = None,
    value_bound: ValueBoundFn | None = None,
) -> Surface:
    def points(approx: Iterable[tuple[float, float]]) -> list[tuple[float, float, float]]:
        polished = [_polish(grad, hess, x, y) for x, y in approx]
        return [(x, y, float(value(np.float64(x), np.float64(y)))) for x, y in polished]

    mins = points(minima)
    lowest = min((v for _, _, v in mins), default=0.0)
    tolerance = 1e-9 * max(1.0, abs(lowest))
    return Surface(
        id=id,
        name=name,
        formula=formula,
        description=description,
        value=value,
        grad=grad,
        hess=hess,
        domain=domain,
        default_start=default_start,
        default_eta=default_eta,
        minima=tuple(
            Minimum(x, y, v, "global" if v - lowest <= tolerance else "local") for x, y, v in mins
        ),
        saddles=tuple(Point(*p) for p in points(saddles)),
        maxima=tuple(Point(*p) for p in points(maxima)),
        log_colors=log_colors,
        value_grad=value_grad,
        value_bound=value_bound,
    )


# --- quadratic bowls -------------------------------------------------------------------------


# (a, c) of a·x² + c·y² for each quadratic preset (app.core.descent.compiled reads them too).
QUADRATIC_COEFFICIENTS = {"quadratic": (1.0, 1.0), "ravine": (1.0, 25.0)}


def _quadratic(a: float, c: float, x: Scalar, y: Scalar) -> Scalar:
    return a * x * x + c * y * y


def _quadratic_gradient(a: float, c: float, x: Scalar, y: Scalar) -> tuple[Scalar, Scalar]:
    return 2.0 * a * x, 2.0 * c * y


def _quadratic_value(a: float, c: float) -> ValueFn:
    return lambda x, y: _quadratic(a, c, x, y)


def _quadratic_grad(a: float, c: float) -> GradFn:
    return lambda x, y: _quadratic_gradient(a, c, x, y)


def _quadratic_hess(a: float, c: float) -> HessFn:
    return lambda x, y: (2.0 * a + 0.0 * x, 0.0 * x, 2.0 * c + 0.0 * y)


# --- Rosenbrock --------------------------------------------------------------------------------


def _rosenbrock(x: Scalar, y: Scalar) -> Scalar:
    a = 1.0 - x
    r = y - x * x
    return a * a + 100.0 * (r * r)


def _rosenbrock_grad(x: Scalar, y: Scalar) -> tuple[Scalar, Scalar]:
    r = y - x * x
    return -2.0 * (1.0 - x) - 400.0 * x * r, 200.0 * r


def _rosenbrock_hess(x: Scalar, y: Scalar) -> tuple[Scalar, Scalar, Scalar]:
    return 2.0 - 400.0 * (y - 3.0 * x * x), -400.0 * x, 200.0 + 0.0 * x


# --- Himmelblau --------------------------------------------------------------------------------


def _himmelblau(x: Scalar, y: Scalar) -> Scalar:
    a = x * x + y - 11.0
    b = x + y * y - 7.0
    return a * a + b * b


def _himmelblau_grad(x: Scalar, y: Scalar) -> tuple[Scalar, Scalar]:
    a = x * x + y - 11.0
    b = x + y * y - 7.0
    return 4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b


def _himmelblau_value_grad(
    x: Scalar, y: Scalar, out: tuple[Array | None, ...] | None = None
) -> tuple[Scalar | None, Scalar, Scalar]:
    """_himmelblau and _himmelblau_grad at once, sharing a and b (see ValueGradFn): the same
    roundings as the two, in place when `out` is given."""
    if out is None:
        a = x * x + y - 11.0
        b = x + y * y - 7.0
        return a * a + b * b, 4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b
    # Five float arrays of x's shape (ValueGradFn), out[0] None when L is not wanted.
    value, gx, gy, a, b = cast(tuple[Array | None, Array, Array, Array, Array], out)
    mul, add = np.multiply, np.add
    mul(x, x, out=a)  # a = x·x + y − 11
    add(a, y, out=a)
    add(a, -11.0, out=a)
    mul(y, y, out=b)  # b = x + y·y − 7
    add(b, x, out=b)
    add(b, -7.0, out=b)
    if value is not None:  # L = a·a + b·b
        mul(a, a, out=value)
        mul(b, b, out=gx)
        add(value, gx, out=value)
    mul(x, 4.0, out=gx)  # ∂x = 4x·a + 2b
    mul(gx, a, out=gx)
    mul(b, 2.0, out=gy)
    add(gx, gy, out=gx)
    mul(y, 4.0, out=gy)  # ∂y = 2a + 4y·b
    mul(gy, b, out=gy)
    mul(a, 2.0, out=a)
    add(gy, a, out=gy)
    return value, gx, gy


def _himmelblau_bound(r: float) -> float:
    """|f| on the square |x|, |y| ≤ r: |x² + y − 11| ≤ r² + r + 11, |x + y² − 7| ≤ r² + r + 7."""
    s = r * r + r
    return (s + 11.0) * (s + 11.0) + (s + 7.0) * (s + 7.0)


def _himmelblau_hess(x: Scalar, y: Scalar) -> tuple[Scalar, Scalar, Scalar]:
    return (
        12.0 * x * x + 4.0 * y - 42.0,
        4.0 * (x + y),
        12.0 * y * y + 4.0 * x - 26.0,
    )


# --- Rastrigin ---------------------------------------------------------------------------------


def _rastrigin(x: Scalar, y: Scalar) -> Scalar:
    return 20.0 + x * x - 10.0 * np.cos(TWO_PI * x) + y * y - 10.0 * np.cos(TWO_PI * y)


def _rastrigin_grad(x: Scalar, y: Scalar) -> tuple[Scalar, Scalar]:
    return (
        2.0 * x + 10.0 * TWO_PI * np.sin(TWO_PI * x),
        2.0 * y + 10.0 * TWO_PI * np.sin(TWO_PI * y),
    )


def _rastrigin_hess(x: Scalar, y: Scalar) -> tuple[Scalar, Scalar, Scalar]:
    k = 10.0 * TWO_PI * TWO_PI
    return 2.0 + k * np.cos(TWO_PI * x), 0.0 * x, 2.0 + k * np.cos(TWO_PI * y)


def _rastrigin_landmarks(
    limit: int,
) -> tuple[list[tuple[float, float]], list[tuple[float, float]], list[tuple[float, float]]]:
    """In 1-D, g(t) = t² − 10 cos 2πt has minima near the integers and maxima near the halves."""
    lows = [float(k) for k in range(-limit, limit + 1)]
    highs = [k + 0.5 for k in range(-limit, limit)]
    minima = [(a, b) for a in lows for b in lows]
    saddles = [(a, b) for a in lows for b in highs] + [(a, b) for a in highs for b in lows]
    maxima = [(a, b) for a in highs for b in highs]
    return minima, saddles, maxima


# --- Beale -------------------------------------------------------------------------------------


def _beale_terms(x: Scalar, y: Scalar) -> tuple[Scalar, Scalar, Scalar]:
    return 1.5 - x + x * y, 2.25 - x + x * y * y, 2.625 - x + x * y * y * y


def _beale(x: Scalar, y: Scalar) -> Scalar:  # _beale_terms written out: numba compiles it
    a = 1.5 - x + x * y
    b = 2.25 - x + x * y * y
    c = 2.625 - x + x * y * y * y
    return a * a + b * b + c * c


def _beale_grad(x: Scalar, y: Scalar) -> tuple[Scalar, Scalar]:
    a = 1.5 - x + x * y
    b = 2.25 - x + x * y * y
    c = 2.625 - x + x * y * y * y
    y2, y3 = y * y, y * y * y
    gx = 2.0 * (a * (y - 1.0) + b * (y2 - 1.0) + c * (y3 - 1.0))
    gy = 2.0 * x * (a + 2.0 * y * b + 3.0 * y2 * c)
    return gx, gy


def _beale_hess(x: Scalar, y: Scalar) -> tuple[Scalar, Scalar, Scalar]:
    a, b, c = _beale_terms(x, y)
    y2, y3 = y * y, y * y * y
    hxx = 2.0 * ((y - 1.0) ** 2 + (y2 - 1.0) ** 2 + (y3 - 1.0) ** 2)
    # ∂/∂y of gx: a' = x, b' = 2xy, c' = 3xy²
    hxy = 2.0 * (
        x * (y - 1.0)
        + a
        + 2.0 * x * y * (y2 - 1.0)
        + 2.0 * y * b
        + 3.0 * x * y2 * (y3 - 1.0)
        + 3.0 * y2 * c
    )
    hyy = 2.0 * x * (x + 2.0 * b + 4.0 * x * y2 + 6.0 * y * c + 9.0 * x * y2 * y2)
    return hxx, hxy, hyy


# --- six-hump camel ----------------------------------------------------------------------------


def _camel(x: Scalar, y: Scalar) -> Scalar:
    x2, y2 = x * x, y * y
    return (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (-4.0 + 4.0 * y2) * y2


def _camel_grad(x: Scalar, y: Scalar) -> tuple[Scalar, Scalar]:
    x2 = x * x
    return 8.0 * x - 8.4 * x2 * x + 2.0 * x2 * x2 * x + y, x - 8.0 * y + 16.0 * y * y * y


def _camel_hess(x: Scalar, y: Scalar) -> tuple[Scalar, Scalar, Scalar]:
    x2 = x * x
    return 8.0 - 25.2 * x2 + 10.0 * x2 * x2, 1.0 + 0.0 * x, -8.0 + 48.0 * y * y


# --- asymmetric double well --------------------------------------------------------------------


def _double_well(x: Scalar, y: Scalar) -> Scalar:
    a = x * x - 1.0
    return a * a + y * y + 0.3 * x


def _double_well_grad(x: Scalar, y: Scalar) -> tuple[Scalar, Scalar]:
    return 4.0 * x * (x * x - 1.0) + 0.3, 2.0 * y


def _double_well_hess(x: Scalar, y: Scalar) -> tuple[Scalar, Scalar, Scalar]:
    return 12.0 * x * x - 4.0, 0.0 * x, 2.0 + 0.0 * y


# --- saddle ------------------------------------------------------------------------------------


def _saddle(x: Scalar, y: Scalar) -> Scalar:
    return x * x - y * y


def _saddle_grad(x: Scalar, y: Scalar) -> tuple[Scalar, Scalar]:
    return 2.0 * x, -2.0 * y


def _saddle_hess(x: Scalar, y: Scalar) -> tuple[Scalar, Scalar, Scalar]:
    return 2.0 + 0.0 * x, 0.0 * x, -2.0 + 0.0 * y


# --- Booth -------------------------------------------------------------------------------------


def _booth(x: Scalar, y: Scalar) -> Scalar:
    a = x + 2.0 * y - 7.0
    b = 2.0 * x + y - 5.0
    return a * a + b * b


def _booth_grad(x: Scalar, y: Scalar) -> tuple[Scalar, Scalar]:
    a = x + 2.0 * y - 7.0
    b = 2.0 * x + y - 5.0
    return 2.0 * a + 4.0 * b, 4.0 * a + 2.0 * b


def _booth_hess(x: Scalar, y: Scalar) -> tuple[Scalar, Scalar, Scalar]:
    return 10.0 + 0.0 * x, 8.0 + 0.0 * x, 10.0 + 0.0 * y


# The scalar value and gradient of each polynomial preset, written as numba can compile them
# (squares as products, no pow): descent/compiled.py compiles exactly these functions, so the
# kernel and the Surface share one source of their arithmetic. The quadratic pair takes its
# coefficients (a, c) first.
KERNEL_FUNCTIONS: dict[str, tuple[Callable[..., Scalar], Callable[..., tuple[Scalar, Scalar]]]] = {
    "quadratic": (_quadratic, _quadratic_gradient),
    "rosenbrock": (_rosenbrock, _rosenbrock_grad),
    "himmelblau": (_himmelblau, _himmelblau_grad),
    "beale": (_beale, _beale_grad),
    "camel": (_camel, _camel_grad),
    "double_well": (_double_well, _double_well_grad),
    "saddle": (_saddle, _saddle_grad),
    "booth": (_booth, _booth_grad),
}

_RASTRIGIN_MINIMA, _RASTRIGIN_SADDLES, _RASTRIGIN_MAXIMA = _rastrigin_landmarks(5)

_PRESETS: tuple[Surface, ...] = (
    _preset(
        id="quadratic",
        name="Quadratic bowl",
        formula=r"f(x, y) = x^2 + y^2",
        description="The easiest case: every gradient points straight at the one minimum, "
        "and GD converges for any η < 2/λ = 1.",
        value=_quadratic_value(*QUADRATIC_COEFFICIENTS["quadratic"]),
        grad=_quadratic_grad(*QUADRATIC_COEFFICIENTS["quadratic"]),
        hess=_quadratic_hess(*QUADRATIC_COEFFICIENTS["quadratic"]),
        domain=Domain((-3.0, 3.0), (-3.0, 3.0)),
        default_start=(-2.5, 2.0),
        default_eta=0.1,
        minima=[(0.0, 0.0)],
    ),
    _preset(
        id="ravine",
        name="Ravine (ill-conditioned quadratic)",
        formula=r"f(x, y) = x^2 + 25\,y^2",
        description="Curvatures differ 25-fold: an η small enough for the steep direction "
        "crawls along the flat one, and a larger η zig-zags across the valley.",
        value=_quadratic_value(*QUADRATIC_COEFFICIENTS["ravine"]),
        grad=_quadratic_grad(*QUADRATIC_COEFFICIENTS["ravine"]),
        hess=_quadratic_hess(*QUADRATIC_COEFFICIENTS["ravine"]),
        domain=Domain((-3.0, 3.0), (-3.0, 3.0)),
        default_start=(-2.8, 1.0),
        default_eta=0.035,
        minima=[(0.0, 0.0)],
        log_colors=True,
    ),
    _preset(
        id="rosenbrock",
        name="Rosenbrock's banana",
        formula=r"f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2",
        description="Finding the curved valley is easy; following it to the minimum at (1, 1) "
        "takes plain GD thousands of steps.",
        value=_rosenbrock,
        grad=_rosenbrock_grad,
        hess=_rosenbrock_hess,
        domain=Domain((-2.0, 2.0), (-1.0, 3.0)),
        default_start=(-1.5, 2.0),
        default_eta=0.001,
        minima=[(1.0, 1.0)],
        log_colors=True,
    ),
    _preset(
        id="himmelblau",
        name="Himmelblau's function",
        formula=r"f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        description="Four equally good minima: which one descent finds depends only on where it "
        "starts.",
        value=_himmelblau,
        grad=_himmelblau_grad,
        hess=_himmelblau_hess,
        value_grad=_himmelblau_value_grad,
        value_bound=_himmelblau_bound,
        domain=Domain((-5.0, 5.0), (-5.0, 5.0)),
        default_start=(-1.0, 1.0),
        default_eta=0.01,
        minima=[(3.0, 2.0), (-2.805118, 3.131313), (-3.779310, -3.283186), (3.584428, -1.848127)],
        saddles=[
            (0.086678, 2.884255),
            (-3.073026, -0.081353),
            (3.385154, 0.073852),
            (-0.127961, -1.953715),
        ],
        maxima=[(-0.270845, -0.923039)],
        log_colors=True,
    ),
    _preset(
        id="rastrigin",
        name="Rastrigin's function",
        formula=r"f(x, y) = 20 + x^2 - 10\cos(2\pi x) + y^2 - 10\cos(2\pi y)",
        description="A bowl covered in ripples: 121 local minima, and descent stops in whichever "
        "dimple it starts in.",
        value=_rastrigin,
        grad=_rastrigin_grad,
        hess=_rastrigin_hess,
        domain=Domain((-5.12, 5.12), (-5.12, 5.12)),
        default_start=(2.3, -1.7),
        default_eta=0.002,
        minima=_RASTRIGIN_MINIMA,
        saddles=_RASTRIGIN_SADDLES,
        maxima=_RASTRIGIN_MAXIMA,
    ),
    _preset(
        id="beale",
        name="Beale's function",
        formula=r"f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        description="Flat plateaus and steep walls: a fixed η is too small on one and too "
        "large on the other, which is where adaptive methods shine.",
        value=_beale,
        grad=_beale_grad,
        hess=_beale_hess,
        domain=Domain((-4.5, 4.5), (-4.5, 4.5)),
        default_start=(1.0, 1.5),
        default_eta=0.001,
        minima=[(3.0, 0.5)],
        saddles=[(0.0, 1.0), (0.100538, -2.644514)],
        log_colors=True,
    ),
    _preset(
        id="six_hump_camel",
        name="Six-hump camel",
        formula=r"f(x, y) = \left(4 - 2.1x^2 + \tfrac{x^4}{3}\right)x^2 + xy + (4y^2 - 4)\,y^2",
        description="Two global and four local minima: a small change of θ₀ can land you in a "
        "worse valley.",
        value=_camel,
        grad=_camel_grad,
        hess=_camel_hess,
        domain=Domain((-2.2, 2.2), (-1.2, 1.2)),
        default_start=(-1.5, -0.2),
        default_eta=0.01,
        minima=[
            (0.089842, -0.712656),
            (-0.089842, 0.712656),
            (1.703607, -0.796084),
            (-1.703607, 0.796084),
            (1.607105, 0.568651),
            (-1.607105, -0.568651),
        ],
        saddles=[
            (0.0, 0.0),
            (1.109205, -0.768260),
            (-1.109205, 0.768260),
            (1.296065, 0.605080),
            (-1.296065, -0.605080),
            (1.638068, 0.228673),
            (-1.638068, -0.228673),
        ],
        maxima=[(1.230630, 0.162332), (-1.230630, -0.162332)],
    ),
    _preset(
        id="double_well",
        name="Asymmetric double well",
        formula=r"f(x, y) = (x^2 - 1)^2 + y^2 + 0.3x",
        description="Two valleys, one deeper than the other: descent finds the nearer one, not "
        "the better one.",
        value=_double_well,
        grad=_double_well_grad,
        hess=_double_well_hess,
        domain=Domain((-2.0, 2.0), (-1.5, 1.5)),
        default_start=(0.5, 1.0),
        default_eta=0.05,
        minima=[(-1.036, 0.0), (0.96, 0.0)],
        saddles=[(0.075, 0.0)],
    ),
    _preset(
        id="saddle",
        name="Saddle",
        formula=r"f(x, y) = x^2 - y^2",
        description="Unbounded below: descent slows near the saddle point at the origin, then "
        "escapes along y and never stops.",
        value=_saddle,
        grad=_saddle_grad,
        hess=_saddle_hess,
        domain=Domain((-2.0, 2.0), (-2.0, 2.0)),
        default_start=(-1.8, 0.01),
        default_eta=0.05,
        saddles=[(0.0, 0.0)],
    ),
    _preset(
        id="booth",
        name="Booth's function",
        formula=r"f(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2",
        description="A tilted, stretched bowl: its gradient does not point at the minimum, so "
        "GD curves towards (1, 3).",
        value=_booth,
        grad=_booth_grad,
        hess=_booth_hess,
        domain=Domain((-10.0, 10.0), (-10.0, 10.0)),
        default_start=(-8.0, -6.0),
        default_eta=0.02,
        minima=[(1.0, 3.0)],
        log_colors=True,
    ),
)

PRESETS: dict[str, Surface] = {s.id: s for s in _PRESETS}


def get_preset(surface_id: str) -> Surface:
    """The preset with this id; KeyError names the valid ids."""
    try:
        return PRESETS[surface_id]
    except KeyError:
        raise KeyError(
            f"Unknown surface {surface_id!r}. Valid ids: {', '.join(PRESETS)}."
        ) from None
