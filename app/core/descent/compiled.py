"""Plain gradient descent on the polynomial presets, compiled with numba.

A step of the Python loop (`Trajectory._gd_python`) costs about 0.5 µs, nearly all of it the
interpreter; compiled, it costs a few ns, so a 10,000-step run takes tens of µs instead of 5 ms.

The compiled code is the presets' own value and gradient functions, compiled as written. numba
keeps IEEE semantics unless asked for fastmath (no fused multiply-add, no reassociation), and
these functions use only +, −, ×, ÷ (no `**`, which Python computes with pow() but numba with
products, and no transcendental function, whose libm and numpy versions may differ in the last
bit; so Rastrigin is not compiled). Each compiled step is therefore bitwise the step the Python
loop takes, which tests/core/test_compiled.py checks on every compiled preset.

The kernel stops *before* any iterate at which a stop rule might fire (its convergence test is
a slightly generous ‖∇L‖² ≤ tol², free of hypot, with a floor against subnormal squares) and
before a step whose result is not finite; the caller then decides that iterate in Python, with
the exact rules, so stop decisions and messages are the Python loop's own. These pre-tests are
the kernel's contract with app.core.descent.stopping, written out there; their constants come
from there (`kernel_g2_stop`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from app.core.descent.stopping import MAX_ABS_LOSS, MAX_ABS_THETA, StopRules, kernel_g2_stop
from app.core.surfaces import presets
from app.core.surfaces.surface import Array, Surface


def _jit(function: Callable[..., Any]) -> Any:
    """numba.njit, with the machine code cached on disk (next to the source, in NUMBA_CACHE_DIR
    or in the user's cache directory). Where none of them is writable numba refuses to cache:
    then the kernel is compiled anew in each process (about a second, once) rather than not at
    all."""
    try:
        compiled = numba.njit(function, cache=True, nogil=True, error_model="numpy")
    except RuntimeError:  # "cannot cache function …: no locator available for file …"
        compiled = numba.njit(function, nogil=True, error_model="numpy")
    return compiled


_QUADRATIC, _ROSENBROCK, _HIMMELBLAU, _BEALE, _CAMEL, _DOUBLE_WELL, _SADDLE, _BOOTH = range(8)

# kind per preset id, and the Python functions the kernel compiles: a surface is compiled only
# if its value and gradient are these very functions (not merely a surface with the same id).
_KINDS: dict[str, int] = {
    "quadratic": _QUADRATIC,
    "ravine": _QUADRATIC,
    "rosenbrock": _ROSENBROCK,
    "himmelblau": _HIMMELBLAU,
    "beale": _BEALE,
    "six_hump_camel": _CAMEL,
    "double_well": _DOUBLE_WELL,
    "saddle": _SADDLE,
    "booth": _BOOTH,
}
COMPILED_PRESETS = frozenset(_KINDS)

_quadratic = _jit(presets.KERNEL_FUNCTIONS["quadratic"][0])
_quadratic_gradient = _jit(presets.KERNEL_FUNCTIONS["quadratic"][1])
_rosenbrock = _jit(presets.KERNEL_FUNCTIONS["rosenbrock"][0])
_rosenbrock_grad = _jit(presets.KERNEL_FUNCTIONS["rosenbrock"][1])
_himmelblau = _jit(presets.KERNEL_FUNCTIONS["himmelblau"][0])
_himmelblau_grad = _jit(presets.KERNEL_FUNCTIONS["himmelblau"][1])
_beale = _jit(presets.KERNEL_FUNCTIONS["beale"][0])
_beale_grad = _jit(presets.KERNEL_FUNCTIONS["beale"][1])
_camel = _jit(presets.KERNEL_FUNCTIONS["camel"][0])
_camel_grad = _jit(presets.KERNEL_FUNCTIONS["camel"][1])
_double_well = _jit(presets.KERNEL_FUNCTIONS["double_well"][0])
_double_well_grad = _jit(presets.KERNEL_FUNCTIONS["double_well"][1])
_saddle = _jit(presets.KERNEL_FUNCTIONS["saddle"][0])
_saddle_grad = _jit(presets.KERNEL_FUNCTIONS["saddle"][1])
_booth = _jit(presets.KERNEL_FUNCTIONS["booth"][0])
_booth_grad = _jit(presets.KERNEL_FUNCTIONS["booth"][1])


@_jit
def value_and_grad(
    kind: int, qa: float, qc: float, x: float, y: float
) -> tuple[float, float, float]:
    if kind == _QUADRATIC:
        return (_quadratic(qa, qc, x, y),) + _quadratic_gradient(qa, qc, x, y)
    if kind == _ROSENBROCK:
        return (_rosenbrock(x, y),) + _rosenbrock_grad(x, y)
    if kind == _HIMMELBLAU:
        return (_himmelblau(x, y),) + _himmelblau_grad(x, y)
    if kind == _BEALE:
        return (_beale(x, y),) + _beale_grad(x, y)
    if kind == _CAMEL:
        return (_camel(x, y),) + _camel_grad(x, y)
    if kind == _DOUBLE_WELL:
        return (_double_well(x, y),) + _double_well_grad(x, y)
    if kind == _SADDLE:
        return (_saddle(x, y),) + _saddle_grad(x, y)
    return (_booth(x, y),) + _booth_grad(x, y)


@_jit
def _gd_steps(
    kind: int,
    qa: float,
    qc: float,
    x: float,
    y: float,
    loss: float,
    gx: float,
    gy: float,
    neta: float,
    max_loss: float,
    box: float,
    g2_stop: float,
    out_theta: Array,
    out_loss: Array,
    out_grad: Array,
) -> tuple[int, float, float, float, float, float]:
    """Up to len(out_loss) steps θ ← θ + (−η)·∇L from the iterate (x, y, loss, gx, gy); each
    iterate left behind goes to the next row of the out arrays. Returns how many, and the
    iterate it stopped at (not written). The pre-tests are stopping's kernel contract."""
    n = out_loss.shape[0]
    i = 0
    while i < n:
        if (
            loss > max_loss
            or loss < -max_loss
            or abs(x) > box
            or abs(y) > box
            or gx * gx + gy * gy <= g2_stop
        ):
            break
        nx = x + neta * gx
        ny = y + neta * gy
        nloss, ngx, ngy = value_and_grad(kind, qa, qc, nx, ny)
        if not (math.isfinite(nloss) and math.isfinite(ngx) and math.isfinite(ngy)):
            break
        out_theta[i, 0] = x
        out_theta[i, 1] = y
        out_loss[i] = loss
        out_grad[i, 0] = gx
        out_grad[i, 1] = gy
        x, y, loss, gx, gy = nx, ny, nloss, ngx, ngy
        i += 1
    return i, x, y, loss, gx, gy


Vec = tuple[float, float]
GDKernel = Callable[
    [Vec, float, Vec, float, StopRules, Array, Array, Array],
    tuple[int, float, float, float, float, float],
]


def gd_kernel(surface: Surface) -> GDKernel | None:
    """The compiled plain-GD stepper for this surface, or None if it has none.

    kernel(theta, loss, grad, eta, rules, out_theta, out_loss, out_grad) steps from the iterate
    (θ, L, ∇L) and writes each iterate it leaves into the next row of the out arrays (as many
    rows as out_loss has at most); it stops before an iterate where a stop rule may fire, or
    a step whose result is not finite. Returns (steps, x, y, L, ∂x, ∂y): how many rows it
    wrote, and the iterate it stopped at."""
    kind = _KINDS.get(surface.id)
    if kind is None or not _same_functions(surface):
        return None
    qa, qc = presets.QUADRATIC_COEFFICIENTS.get(surface.id, (0.0, 0.0))

    def kernel(
        theta: Vec,
        loss: float,
        grad: Vec,
        eta: float,
        rules: StopRules,
        out_theta: Array,
        out_loss: Array,
        out_grad: Array,
    ) -> tuple[int, float, float, float, float, float]:
        return _gd_steps(
            kind,
            qa,
            qc,
            theta[0],
            theta[1],
            loss,
            grad[0],
            grad[1],
            -eta,
            rules.max_abs_loss,
            rules.max_abs_theta,
            kernel_g2_stop(rules.tol),
            out_theta,
            out_loss,
            out_grad,
        )

    return kernel


def _same_functions(surface: Surface) -> bool:
    reference = presets.get_preset(surface.id)
    return surface.value is reference.value and surface.grad is reference.grad


def warm_up() -> None:
    """Compile the kernel (or load it from numba's cache) now rather than in the first run."""
    _gd_steps(
        _QUADRATIC,
        1.0,
        1.0,
        1.0,
        1.0,
        2.0,
        2.0,
        2.0,
        -0.1,
        MAX_ABS_LOSS,
        MAX_ABS_THETA,
        0.0,
        np.empty((1, 2)),
        np.empty(1),
        np.empty((1, 2)),
    )
