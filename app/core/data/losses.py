"""Loss functions of a 1-D model on data, over θ = (w, b): value, gradient and Hessian.

* logistic: L(w, b) = mean_i [log(1 + e^{z_i}) − y_i z_i] + (λ/2) w², z_i = w x_i + b, y ∈ {0, 1}
  (mean binary cross-entropy of σ(z)). The intercept b is not penalised, as in scikit-learn.
* linear: L(w, b) = mean_i (z_i − y_i)² + (λ/2) w² (mean squared error; λ > 0 is ridge).

Every function broadcasts over w and b like the preset surfaces, so one call evaluates an iterate
or a whole plotting grid. The logistic loss is summed over the data with numpy, one chunk of grid
cells at a time (`CHUNK_ELEMENTS` cells × points per chunk, sized for the L2 cache), large grids
split over threads, which bounds the memory of a 200 × 200 grid over 10,000 points to a few MB.
The linear loss is a quadratic, evaluated exactly from centred sufficient statistics, so its cost
does not depend on the number of points.

Stability: with m = (1 − 2y) z, log(1 + e^z) − yz = max(m, 0) + log1p(e^{−|m|}), a sum of
non-negative terms that never overflows (|m| = |z|). Σ max(m, 0) comes from sorted prefix sums
(`_Hinge`); σ(z) − y = ±σ(m), from e = e^{−|m|} as e/(1 + e) or 1 − e/(1 + e);
σ(z)(1 − σ(z)) = e / (1 + e)². Underflow of e^{−|z|} to 0 (for |z| > 745) is exact enough and
silenced.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

from app.core.surfaces.surface import Array, Scalar

# Grid cells × data points per chunk: 64k float64 (512 kB) per buffer keeps the passes over a
# chunk in the CPU's L2 cache, which measured 1.5× faster here than 16 MB chunks.
CHUNK_ELEMENTS = 1 << 16
# Evaluations of at least this many terms are split over threads (numpy releases the GIL).
PARALLEL_ELEMENTS = 1 << 22
WORKERS = max(1, min(4, os.cpu_count() or 1))
_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="loss")
    return _pool


def _cells(w: Scalar, b: Scalar) -> tuple[Array, Array, tuple[int, ...]]:
    ww, bb = np.broadcast_arrays(np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64))
    return ww.reshape(-1), bb.reshape(-1), ww.shape


def _shaped(values: Array, shape: tuple[int, ...]) -> Scalar:
    out = values.reshape(shape)
    return out[()] if out.ndim == 0 else out


def _over_cells(
    w: Scalar, b: Scalar, x: Array, k: int, fill: Callable[[Array, Array, Array], None]
) -> list[Scalar]:
    """For every cell (w, b): z = w·x + b (a chunk of cells at a time), then
    `fill(z, scratch, out)` writes k sums per cell into out[:, cells] (z and scratch[0],
    scratch[1] are buffers of the chunk's shape that it may overwrite)."""
    wf, bf, shape = _cells(w, b)
    out = np.empty((k, wf.size))
    rows = min(max(1, CHUNK_ELEMENTS // max(1, x.size)), wf.size)

    def cells(first: int, last: int) -> None:
        buf, scratch = np.empty((rows, x.size)), np.empty((2, rows, x.size))
        with np.errstate(under="ignore"):
            for start in range(first, last, rows):
                stop = min(start + rows, last)
                z = buf[: stop - start]
                np.multiply(wf[start:stop, None], x[None, :], out=z)
                z += bf[start:stop, None]
                fill(z, scratch[:, : stop - start], out[:, start:stop])

    parts = WORKERS if wf.size * x.size >= PARALLEL_ELEMENTS else 1
    if parts == 1:
        cells(0, wf.size)
    else:  # contiguous ranges of whole chunks, one per thread
        per = -(-wf.size // (parts * rows)) * rows
        ranges = [(lo, min(lo + per, wf.size)) for lo in range(0, wf.size, per)]
        for done in [_executor().submit(cells, lo, hi) for lo, hi in ranges]:
            done.result()
    return [_shaped(row, shape) for row in out]


class _Hinge:
    """Σ_i max(s·(w·x_i + b), 0) over one class's points, for every cell, in O(log n) per cell.

    With a = s·w and c = s·b the positive terms are a contiguous run of the sorted x (x > −c/a
    for a > 0, x < −c/a for a < 0, all or none for a = 0), so the sum is a·Σx + c·count over
    that run, from prefix sums in extended precision: no cancellation at double precision.
    """

    def __init__(self, x: Array, s: float) -> None:
        self.x = np.sort(x)
        self.s = s
        self.prefix = np.concatenate([[0.0], np.cumsum(self.x.astype(np.longdouble))])

    def __call__(self, w: Array, b: Array) -> Array:
        a, c = self.s * w, self.s * b
        n = self.x.size
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            t = -c / a
        lo = np.where(a > 0, np.searchsorted(self.x, t, side="right"), 0)
        hi = np.where(a < 0, np.searchsorted(self.x, t, side="left"), n)
        flat = a == 0
        lo = np.where(flat, np.where(c > 0, 0, n), lo)
        hi = np.where(flat, n, hi)
        total: NDArray[np.longdouble] = a.astype(np.longdouble) * (
            self.prefix[hi] - self.prefix[lo]
        ) + c.astype(np.longdouble) * (hi - lo)
        return np.maximum(total, 0.0).astype(np.float64)


class Logistic:
    """Mean binary cross-entropy of σ(w·x + b), plus (λ/2) w²."""

    def __init__(self, x: Array, y: Array, l2: float = 0.0) -> None:
        self.x, self.y, self.l2 = x, y, float(l2)
        self.n = x.size
        # Sums over the data ignore its order: sorted by class (0s first), m = z on the first
        # n0 columns and −z on the rest.
        self.n0 = int(np.count_nonzero(y == 0.0))
        self.xs = np.ascontiguousarray(x[np.argsort(y, kind="stable")])
        self.x2s = self.xs * self.xs
        # Σ max(m, 0): z > 0 for class 0, z < 0 for class 1.
        self.hinges = (_Hinge(self.xs[: self.n0], 1.0), _Hinge(self.xs[self.n0 :], -1.0))

    def _value_sums(self, z: Array, scratch: Array, out: Array) -> None:
        np.abs(z, out=z)
        np.negative(z, out=z)
        np.exp(z, out=z)
        np.log1p(z, out=z)
        out[0] = z.sum(axis=1)

    def _grad_sums(self, z: Array, scratch: Array, out: Array) -> None:
        # σ(z) − y is σ(m) for class 0 and −σ(m) for class 1, with m = ±z as in the value; σ(m)
        # is s = e/(1 + e) for m < 0 and 1 − s for m ≥ 0 (e = e^{−|m|}): tiny values keep their
        # relative precision, which Newton's θ* needs when the loss itself is tiny.
        n0, s, t = self.n0, scratch[0], scratch[1]
        np.negative(z[:, n0:], out=z[:, n0:])  # z ← m
        np.abs(z, out=s)
        np.negative(s, out=s)
        np.exp(s, out=s)
        np.add(s, 1.0, out=t)
        np.divide(s, t, out=s)
        np.subtract(1.0, s, out=t)
        np.copyto(s, t, where=z >= 0.0)  # s ← σ(m)
        out[0] = s[:, :n0] @ self.xs[:n0] - s[:, n0:] @ self.xs[n0:]
        out[1] = s[:, :n0].sum(axis=1) - s[:, n0:].sum(axis=1)

    def _hess_sums(self, z: Array, scratch: Array, out: Array) -> None:
        d = scratch[0]
        np.abs(z, out=z)
        np.negative(z, out=z)
        np.exp(z, out=z)  # e = e^{−|z|}
        np.add(z, 1.0, out=d)
        d *= d
        np.divide(z, d, out=z)  # σ(1 − σ) = e / (1 + e)²
        out[0] = z @ self.x2s
        out[1] = z @ self.xs
        out[2] = z.sum(axis=1)

    def value(self, w: Scalar, b: Scalar) -> Scalar:
        (total_log,) = _over_cells(w, b, self.xs, 1, self._value_sums)
        wf, bf, shape = _cells(w, b)
        total_relu = _shaped(self.hinges[0](wf, bf) + self.hinges[1](wf, bf), shape)
        return (total_relu + total_log) / self.n + 0.5 * self.l2 * w * w

    def grad(self, w: Scalar, b: Scalar) -> tuple[Scalar, Scalar]:
        tx, t1 = _over_cells(w, b, self.xs, 2, self._grad_sums)
        return tx / self.n + self.l2 * w, t1 / self.n + 0.0 * w

    def hess(self, w: Scalar, b: Scalar) -> tuple[Scalar, Scalar, Scalar]:
        sxx, sx, s1 = _over_cells(w, b, self.xs, 3, self._hess_sums)
        return sxx / self.n + self.l2, sx / self.n, s1 / self.n

    def curvature_bound(self) -> float:
        """Largest eigenvalue of ¼·mean([x², x; x, 1]) + λ e₁e₁ᵀ, which bounds the Hessian
        everywhere (σ(1 − σ) ≤ ¼): GD with η < 2 / bound is stable at every θ."""
        m = np.array(
            [[0.25 * self.x2s.mean() + self.l2, 0.25 * self.x.mean()], [0.25 * self.x.mean(), 0.25]]
        )
        return float(np.linalg.eigvalsh(m)[-1])

    def batch_grad(self, w: float, b: float, idx: NDArray[np.int64]) -> tuple[float, float]:
        """The gradient of the same loss on the points `idx` only (a minibatch)."""
        xb, yb = self.x[idx], self.y[idx]
        sign = 1.0 - 2.0 * yb
        m = sign * (w * xb + b)
        with np.errstate(under="ignore"):
            e = np.exp(-np.abs(m))
        s = e / (1.0 + e)
        r = sign * np.where(m >= 0.0, 1.0 - s, s)  # σ(z) − y
        return float(r @ xb) / idx.size + self.l2 * w, float(r.sum()) / idx.size


class Linear:
    """Mean squared error of w·x + b, plus (λ/2) w², from centred sufficient statistics:
    L = (Vxx + λ/2) w² − 2 Cxy w + Vyy + c², c = w x̄ + b − ȳ."""

    def __init__(self, x: Array, y: Array, l2: float = 0.0) -> None:
        self.x, self.y, self.l2 = x, y, float(l2)
        self.mx, self.my = float(x.mean()), float(y.mean())
        dx, dy = x - self.mx, y - self.my
        self.vxx, self.cxy, self.vyy = (
            float(dx @ dx) / x.size,
            float(dx @ dy) / x.size,
            float(dy @ dy) / x.size,
        )

    def value(self, w: Scalar, b: Scalar) -> Scalar:
        c = w * self.mx + b - self.my
        return (self.vxx + 0.5 * self.l2) * w * w - 2.0 * self.cxy * w + self.vyy + c * c

    def grad(self, w: Scalar, b: Scalar) -> tuple[Scalar, Scalar]:
        c = w * self.mx + b - self.my
        return (2.0 * self.vxx + self.l2) * w - 2.0 * self.cxy + 2.0 * c * self.mx, 2.0 * c

    def hess(self, w: Scalar, b: Scalar) -> tuple[Scalar, Scalar, Scalar]:
        zero = 0.0 * np.asarray(w, dtype=np.float64) * np.asarray(b, dtype=np.float64)
        hww = 2.0 * (self.vxx + self.mx * self.mx) + self.l2
        return hww + zero, 2.0 * self.mx + zero, 2.0 + zero

    def minimum(self) -> tuple[float, float]:
        """The closed form: c = 0 and (2 Vxx + λ) w = 2 Cxy."""
        w = self.cxy / (self.vxx + 0.5 * self.l2)
        return w, self.my - w * self.mx

    def curvature_bound(self) -> float:
        hww, hwb, hbb = (float(v) for v in self.hess(0.0, 0.0))
        return float(np.linalg.eigvalsh(np.array([[hww, hwb], [hwb, hbb]]))[-1])

    def batch_grad(self, w: float, b: float, idx: NDArray[np.int64]) -> tuple[float, float]:
        xb = self.x[idx]
        r = w * xb + b - self.y[idx]
        return 2.0 * float(r @ xb) / idx.size + self.l2 * w, 2.0 * float(r.sum()) / idx.size


Loss = Logistic | Linear
