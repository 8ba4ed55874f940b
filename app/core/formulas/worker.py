"""The work on a formula that may be slow, done in a sandboxed child process (app/core/sandbox.py).

`analyse` checks and builds the formula, differentiates it twice, prints it (canonical text,
LaTeX, MathML), compiles it to numpy, finds its stationary points and picks a start and a step
size. The answer is plain data plus the SymPy expressions, so the parent only has to lambdify
them. The forkserver imports it and warms it up (formula_warmup.py) once for every child.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.mathml import mathml
from sympy.printing.str import StrPrinter

from app.core.formulas.errors import FormulaTooLargeError, NotAllowedError
from app.core.formulas.expressions import FUNCTIONS, X, build, check, derivatives, numeric
from app.core.surfaces import stationary
from app.core.surfaces.surface import Domain, Surface

MAX_CODE = 20_000  # characters of the printed Hessian: bigger derivatives are refused
_SUPPORTED = {type(FUNCTIONS[name](X)).__name__ for name in FUNCTIONS} | {"sign"}
MATHML_NS = "http://www.w3.org/1998/Math/MathML"


class _CanonicalPrinter(StrPrinter):
    """SymPy's str() in the formula language: e for E, abs for Abs, floats as Python writes them.
    It parses back to the same expression (as long as its numbers stay within the literal cap)."""

    def _print_Exp1(self, expr: sp.Expr) -> str:
        return "e"

    def _print_Abs(self, expr: sp.Expr) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_Float(self, expr: sp.Float) -> str:
        return repr(float(expr))  # the shortest text that reads back as the same float64


def canonical(expr: sp.Expr) -> str:
    return str(_CanonicalPrinter().doprint(expr))


@dataclass(frozen=True)
class Typeset:
    text: str  # canonical, in the formula language
    latex: str
    mathml: str  # a complete <math> element


def typeset(expr: sp.Expr) -> Typeset:
    body = mathml(expr, printer="presentation")
    return Typeset(
        canonical(expr), sp.latex(expr), f'<math xmlns="{MATHML_NS}" display="block">{body}</math>'
    )


@dataclass(frozen=True)
class Analysis:
    f: Typeset
    gradient: tuple[Typeset, Typeset]
    hessian: tuple[str, str, str]  # canonical text of f_xx, f_xy, f_yy
    exprs: tuple[sp.Expr, ...]  # f, f_x, f_y, f_xx, f_xy, f_yy
    points: tuple[stationary.StationaryPoint, ...]
    default_start: tuple[float, float]
    default_eta: float
    log_colors: bool


def surface_from(exprs: tuple[sp.Expr, ...], domain: Domain, **fields: Any) -> Surface:
    """A Surface whose functions are the lambdified expressions (no landmarks unless given)."""
    f, fx, fy, hxx, hxy, hyy = exprs
    base: dict[str, Any] = dict(
        id="expression", name="f(x, y)", formula="", description="", default_start=(0.0, 0.0)
    )
    base.update(fields)
    return Surface(
        value=numeric([f]),
        grad=numeric([fx, fy]),
        hess=numeric([hxx, hxy, hyy]),
        domain=domain,
        **base,
    )


def _check_functions(exprs: tuple[sp.Expr, ...]) -> None:
    for e in exprs:
        for func in e.atoms(sp.Function):
            if type(func).__name__ not in _SUPPORTED:
                raise NotAllowedError(
                    f"The derivative needs {type(func).__name__}(), which cannot "
                    "be evaluated numerically here"
                )
    if len(str(exprs[3:])) > MAX_CODE:
        raise FormulaTooLargeError(
            "The second derivatives of this formula are too large to evaluate quickly; simplify it",
            kind="derivatives_too_large",
        )


def _defaults(
    surface: Surface, points: tuple[stationary.StationaryPoint, ...]
) -> tuple[tuple[float, float], float, bool]:
    d = surface.domain
    u = np.array([0.2, 0.8, 0.35, 0.65, 0.5, 0.1, 0.9])
    candidates = [
        (d.x[0] + a * (d.x[1] - d.x[0]), d.y[0] + b * (d.y[1] - d.y[0])) for a, b in zip(u, u[::-1])
    ]
    start = candidates[0]
    for cx, cy in candidates:
        gx, gy = surface.grad(cx, cy)
        finite = np.isfinite(surface.value(cx, cy)) and np.isfinite(gx) and np.isfinite(gy)
        if finite and np.hypot(gx, gy) > 0:
            start = (float(cx), float(cy))
            break
    minima = [p for p in points if p.kind == "minimum" and not p.degenerate]
    curvature = max((p.eigenvalues[1] for p in minima), default=0.0)
    if curvature <= 0.0:
        w = np.linalg.eigvalsh(surface.hessian_matrix(*start))
        curvature = float(np.max(np.abs(w))) if np.isfinite(w).all() else 0.0
    eta = float(np.clip(1.0 / curvature, 1e-4, 0.1)) if curvature > 0 else 0.01
    xs, ys = np.meshgrid(np.linspace(*d.x, 41), np.linspace(*d.y, 41))
    z = np.asarray(surface.value(xs, ys), dtype=np.float64)
    z = z[np.isfinite(z)]
    log_colors = False
    if z.size:
        low, mid, high = np.percentile(z, [0, 50, 100])
        log_colors = bool(high - low > 100.0 * (mid - low) > 0.0)
    return start, eta, log_colors


def analyse(text: str, x_range: tuple[float, float], y_range: tuple[float, float]) -> Analysis:
    """Everything about a formula on a domain; ExpressionError if it cannot be used."""
    f = build(check(text))
    (fx, fy), (hxx, hxy, hyy) = derivatives(f)
    exprs = (f, fx, fy, hxx, hxy, hyy)
    _check_functions(exprs)
    surface = surface_from(exprs, Domain(x_range, y_range))
    points = stationary.find_stationary_points(surface)
    start, eta, log_colors = _defaults(surface, points)
    return Analysis(
        f=typeset(f),
        gradient=(typeset(fx), typeset(fy)),
        hessian=(canonical(hxx), canonical(hxy), canonical(hyy)),
        exprs=exprs,
        points=points,
        default_start=start,
        default_eta=eta,
        log_colors=log_colors,
    )
