"""Stationary points of any surface: Newton's method on ∇f = 0 from many starts, classified.

The starts are the centres of an n × n grid over the domain. All of them iterate at once (numpy
arrays, no Python loop over starts): a Newton step solves H·s = ∇f through the eigenvectors of
the symmetric 2 × 2 Hessian, ignoring directions of ~zero curvature (a pseudo-inverse), and is
clipped to a fraction of the grid spacing so each start settles on a nearby point instead of
jumping across the domain. Converged points inside the domain are deduplicated and classified by
the Hessian's eigenvalues: both positive, a minimum; both negative, a maximum; opposite signs, a
saddle. When an eigenvalue is ~0 the point is flagged `degenerate` and its kind is read from the
values of f on a small circle around it (e.g. x⁴ + y⁴ has a degenerate minimum at the origin).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np

from app.core.singleflight import Flights
from app.core.surfaces.surface import Array, Minimum, Point, Surface

Kind: TypeAlias = Literal["minimum", "maximum", "saddle"]

STARTS = 48  # per axis
ITERATIONS = 60
MAX_POINTS = 500
_PROBES = 16


@dataclass(frozen=True)
class StationaryPoint:
    x: float
    y: float
    value: float
    kind: Kind
    degenerate: bool  # an eigenvalue of the Hessian is ~0: the kind comes from nearby values
    eigenvalues: tuple[float, float]  # of the Hessian, ascending


def _hessians(surface: Surface, x: Array, y: Array) -> Array:
    hxx, hxy, hyy = (
        np.broadcast_to(np.asarray(h, dtype=np.float64), x.shape) for h in surface.hess(x, y)
    )
    return np.stack([np.stack([hxx, hxy], -1), np.stack([hxy, hyy], -1)], -2)


def _gradients(surface: Surface, x: Array, y: Array) -> Array:
    gx, gy = (np.broadcast_to(np.asarray(g, dtype=np.float64), x.shape) for g in surface.grad(x, y))
    return np.stack([gx, gy], -1)


def _newton_step(surface: Surface, x: Array, y: Array) -> tuple[Array, Array]:
    """The Newton steps (k × 2) and gradients (k × 2) at k points; NaN where not finite."""
    g = _gradients(surface, x, y)
    h = _hessians(surface, x, y)
    bad = ~(np.isfinite(g).all(-1) & np.isfinite(h).all((-2, -1)))
    h[bad] = np.eye(2)
    w, v = np.linalg.eigh(h)
    scale = np.max(np.abs(w), axis=-1, keepdims=True)
    inv = np.where(np.abs(w) > 1e-12 * scale, 1.0 / np.where(w == 0.0, 1.0, w), 0.0)
    coeff = np.einsum("kij,ki->kj", v, g) * inv  # components of g along the eigenvectors, / λ
    step = np.einsum("kij,kj->ki", v, coeff)
    step[bad] = np.nan
    g[bad] = np.nan
    return step, g


def find_stationary_points(
    surface: Surface,
    starts: int = STARTS,
    iterations: int = ITERATIONS,
    max_points: int = MAX_POINTS,
) -> tuple[StationaryPoint, ...]:
    """The stationary points of `surface` inside its domain, minima first, then saddles, then
    maxima, each group by increasing value (at most `max_points`)."""
    d = surface.domain
    width, height = d.x[1] - d.x[0], d.y[1] - d.y[0]
    cx = d.x[0] + (np.arange(starts) + 0.5) * width / starts
    cy = d.y[0] + (np.arange(starts) + 0.5) * height / starts
    xx, yy = np.meshgrid(cx, cy)
    x, y = xx.ravel(), yy.ravel()
    max_step = 0.5 * min(width, height) / starts * 2.0
    with np.errstate(all="ignore"):
        f0 = np.asarray(surface.value(x, y), dtype=np.float64)
        finite = f0[np.isfinite(f0)]
        f_scale = float(np.ptp(finite)) if finite.size else 1.0
        g0 = np.hypot(*_gradients(surface, x, y).T)
        g_scale = float(np.median(g0[np.isfinite(g0)])) if np.isfinite(g0).any() else 1.0
        for _ in range(iterations):
            step, _ = _newton_step(surface, x, y)
            norm = np.hypot(step[:, 0], step[:, 1])
            if np.all(norm <= 1e-13 * (1.0 + np.abs(x) + np.abs(y))):
                break
            shrink = np.minimum(1.0, max_step / np.where(norm > 0, norm, 1.0))
            x = x - step[:, 0] * shrink
            y = y - step[:, 1] * shrink
            keep = np.isfinite(x) & np.isfinite(y)
            x, y = x[keep], y[keep]
            if x.size == 0:
                return ()
        for _ in range(3):  # unclipped polish
            step, _ = _newton_step(surface, x, y)
            x, y = x - step[:, 0], y - step[:, 1]
        step, g = _newton_step(surface, x, y)
        gnorm = np.hypot(g[:, 0], g[:, 1])
        slack = 1e-9 * np.hypot(width, height)
        settled = np.hypot(step[:, 0], step[:, 1]) <= slack  # not still crawling (x**100: x/99)
        ok = (
            np.isfinite(x)
            & np.isfinite(y)
            & settled
            & (gnorm <= 1e-7 * max(g_scale, 1e-300))
            & (x >= d.x[0] - slack)
            & (x <= d.x[1] + slack)
            & (y >= d.y[0] - slack)
            & (y <= d.y[1] + slack)
        )
        x, y = np.clip(x[ok], *d.x), np.clip(y[ok], *d.y)
        x, y = _dedupe(x, y, 1e-5 * np.hypot(width, height))
        if x.size == 0:
            return ()
        return _classify(surface, x, y, f_scale / (width * width + height * height), max_points)


def _dedupe(x: Array, y: Array, radius: float) -> tuple[Array, Array]:
    """One point per cluster of points closer than `radius` (vectorised)."""
    cells = np.round(np.c_[x, y] / radius)
    _, first = np.unique(cells, axis=0, return_index=True)
    x, y = x[np.sort(first)], y[np.sort(first)]
    close = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :]) < radius
    dropped = np.triu(close, k=1).any(axis=0)  # j is dropped when an earlier i is close to it
    return x[~dropped], y[~dropped]


def _classify(
    surface: Surface, x: Array, y: Array, curvature_scale: float, max_points: int
) -> tuple[StationaryPoint, ...]:
    w = np.linalg.eigvalsh(_hessians(surface, x, y))
    value = np.broadcast_to(np.asarray(surface.value(x, y), dtype=np.float64), x.shape)
    finite = np.isfinite(value) & np.isfinite(w).all(axis=-1)
    x, y, w, value = x[finite], y[finite], w[finite], value[finite]
    big = np.maximum(np.max(np.abs(w), axis=-1), curvature_scale)
    degenerate = np.min(np.abs(w), axis=-1) <= 1e-6 * big
    kind = np.where(w[:, 0] > 0, 0, np.where(w[:, 1] < 0, 2, 1))  # 0 min, 1 saddle, 2 max
    if degenerate.any():
        kind[degenerate] = _probe(surface, x[degenerate], y[degenerate], value[degenerate])
    order = np.lexsort((value, kind))[:max_points]
    names: tuple[Kind, ...] = ("minimum", "saddle", "maximum")
    return tuple(
        StationaryPoint(
            float(x[i]),
            float(y[i]),
            float(value[i]),
            names[kind[i]],
            bool(degenerate[i]),
            (float(w[i, 0]), float(w[i, 1])),
        )
        for i in order
    )


def _probe(surface: Surface, x: Array, y: Array, value: Array) -> Array:
    """Kinds of degenerate points from f on a small circle around each: all higher, a minimum;
    all lower, a maximum; both, a saddle (flat counts as a minimum)."""
    d = surface.domain
    r = 1e-3 * np.hypot(d.x[1] - d.x[0], d.y[1] - d.y[0])
    angles = np.linspace(0.0, 2.0 * np.pi, _PROBES, endpoint=False)
    px = x[:, None] + r * np.cos(angles)[None, :]
    py = y[:, None] + r * np.sin(angles)[None, :]
    around = np.broadcast_to(np.asarray(surface.value(px, py), dtype=np.float64), px.shape)
    diff = around - value[:, None]
    tol = 1e-12 * np.maximum(1.0, np.abs(value))[:, None]
    up, down = (diff > tol).any(axis=1), (diff < -tol).any(axis=1)
    return np.where(up & down, 1, np.where(down, 2, 0))


# --- per-surface cache ---------------------------------------------------------------------------

_KNOWN: weakref.WeakKeyDictionary[Surface, tuple[StationaryPoint, ...]] = (
    weakref.WeakKeyDictionary()
)
_LOCK = threading.Lock()
_FLIGHTS: Flights[tuple[StationaryPoint, ...]] = Flights()


def remember(surface: Surface, points: tuple[StationaryPoint, ...]) -> None:
    """Record points found elsewhere (a formula's, found in its worker process)."""
    with _LOCK:
        _KNOWN[surface] = points


def stationary_points(surface: Surface) -> tuple[StationaryPoint, ...]:
    """find_stationary_points(surface), computed once per surface: concurrent first calls for
    the same surface wait for one computation (single flight) instead of each computing it."""
    with _LOCK:
        known = _KNOWN.get(surface)
    if known is not None:
        return known
    return _FLIGHTS.run(id(surface), lambda: _compute(surface))


def _compute(surface: Surface) -> tuple[StationaryPoint, ...]:
    with _LOCK:
        known = _KNOWN.get(surface)  # a flight that ended just before this one began
    if known is None:
        known = find_stationary_points(surface)
        remember(surface, known)
    return known


def forget_all() -> None:
    """Drop every cached result (tests use it to measure a cold start)."""
    with _LOCK:
        _KNOWN.clear()


def minima_saddles_maxima(
    points: tuple[StationaryPoint, ...],
) -> tuple[tuple[Minimum, ...], tuple[Point, ...], tuple[Point, ...]]:
    """Minima (global when within 1e-9 of the lowest), saddles and maxima, as Surface holds them."""
    minima = [p for p in points if p.kind == "minimum"]
    lowest = min((p.value for p in minima), default=0.0)
    tol = 1e-9 * max(1.0, abs(lowest))
    return (
        tuple(
            Minimum(p.x, p.y, p.value, "global" if p.value - lowest <= tol else "local")
            for p in minima
        ),
        tuple(Point(p.x, p.y, p.value) for p in points if p.kind == "saddle"),
        tuple(Point(p.x, p.y, p.value) for p in points if p.kind == "maximum"),
    )
