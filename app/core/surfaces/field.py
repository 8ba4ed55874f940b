"""Sample the gradient of a surface on a regular mesh, vectorised: one call of its gradient."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.surfaces.surface import Array, Domain, Surface


@dataclass(frozen=True)
class GradientField:
    x: Array  # n values
    y: Array  # n values
    gx: Array  # n × n, gx[j, i] = ∂L/∂x at (x[i], y[j]); NaN where the gradient is not finite
    gy: Array  # n × n, gy[j, i] = ∂L/∂y at (x[i], y[j]); NaN where the gradient is not finite


def sample_gradient(surface: Surface, n: int, domain: Domain | None = None) -> GradientField:
    """∇L on an n × n mesh of `domain` (default: the surface's), from the analytic gradient.
    Where either component is not finite the arrow is undefined, so both are NaN there."""
    box = domain or surface.domain
    x = np.linspace(box.x[0], box.x[1], n)
    y = np.linspace(box.y[0], box.y[1], n)
    xx, yy = np.meshgrid(x, y)  # 'xy' indexing: rows follow y
    with np.errstate(all="ignore"):
        gx, gy = surface.grad(xx, yy)
        # A constant component (f = x + y) comes back as a scalar; a formula may give complex.
        gx = np.broadcast_to(np.real(np.asarray(gx)).astype(np.float64), xx.shape).copy()
        gy = np.broadcast_to(np.real(np.asarray(gy)).astype(np.float64), xx.shape).copy()
    bad = ~(np.isfinite(gx) & np.isfinite(gy))
    gx[bad] = np.nan
    gy[bad] = np.nan
    return GradientField(x, y, gx, gy)
