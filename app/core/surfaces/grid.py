"""Sample a surface on a regular mesh, vectorised: one call of the value function."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.surfaces.surface import Array, Domain, Surface


@dataclass(frozen=True)
class Grid:
    x: Array  # n values
    y: Array  # n values
    z: Array  # n × n, z[j, i] = f(x[i], y[j]); NaN where the value is not finite


def sample(surface: Surface, n: int, domain: Domain | None = None) -> Grid:
    box = domain or surface.domain
    x = np.linspace(box.x[0], box.x[1], n)
    y = np.linspace(box.y[0], box.y[1], n)
    xx, yy = np.meshgrid(x, y)  # 'xy' indexing: rows follow y
    with np.errstate(all="ignore"):
        z = np.asarray(surface.value(xx, yy), dtype=np.float64)
    z = np.broadcast_to(z, xx.shape).copy()
    z[~np.isfinite(z)] = np.nan
    return Grid(x, y, z)
