"""Toy datasets for small networks, seeded: four 2-D, two-class sets learners know from TensorFlow
Playground (two moons, circles, XOR, spirals), with Gaussian noise on the inputs, and Cohen et
al.'s 1-D regression: x evenly spaced in [−1, 1], targets the Chebyshev polynomial
T₄(x) = 8x⁴ − 8x² + 1.

Classification sets have labels 0/1 (half the points each, class 0 first) and go with
"cross_entropy" over 2 outputs; Chebyshev goes with "mse" over 1 output. `from_points` brings
the 1-D data of the regression surfaces (built-in or uploaded) to networks the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array: TypeAlias = NDArray[np.float64]
Task: TypeAlias = Literal["classification", "regression"]

MAX_POINTS = 5000
MAX_NOISE = 10.0


@dataclass(frozen=True)
class ToyData:
    name: str
    X: Array  # points × inputs
    y: Array  # class labels (classification) or targets (regression)
    task: Task

    @property
    def inputs(self) -> int:
        return int(self.X.shape[1])

    @property
    def outputs(self) -> int:
        """The network outputs this data needs: one per class, or one value."""
        return 2 if self.task == "classification" else 1

    @property
    def loss(self) -> Literal["mse", "cross_entropy"]:
        return "cross_entropy" if self.task == "classification" else "mse"


def _halves(n: int) -> tuple[int, int]:
    return n // 2, n - n // 2


def _labels(n: int) -> Array:
    a, b = _halves(n)
    return np.concatenate([np.zeros(a), np.ones(b)])


def _moons(n: int, rng: np.random.Generator) -> Array:
    """Two interleaving half circles (as sklearn's make_moons)."""
    a, b = _halves(n)
    t0, t1 = np.linspace(0.0, math.pi, a), np.linspace(0.0, math.pi, b)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    return np.concatenate([upper, lower])


def _circles(n: int, rng: np.random.Generator) -> Array:
    """An outer circle of radius 1 (class 0) around an inner one of radius 0.5 (class 1)."""
    a, b = _halves(n)
    t0 = np.linspace(0.0, 2.0 * math.pi, a, endpoint=False)
    t1 = np.linspace(0.0, 2.0 * math.pi, b, endpoint=False)
    outer = np.column_stack([np.cos(t0), np.sin(t0)])
    inner = 0.5 * np.column_stack([np.cos(t1), np.sin(t1)])
    return np.concatenate([outer, inner])


def _xor(n: int, rng: np.random.Generator) -> Array:
    """Uniform points in [−1, 1]²: class 0 in the quadrants where x·y < 0, class 1 where > 0."""
    a, b = _halves(n)
    mag = rng.uniform(0.05, 1.0, size=(n, 2))
    sign_x = rng.choice([-1.0, 1.0], size=n)
    sign_y = np.concatenate([-sign_x[:a], sign_x[a:]])
    points: Array = mag * np.column_stack([sign_x, sign_y])
    return points


def _spirals(n: int, rng: np.random.Generator) -> Array:
    """Two interleaved spirals, one and three quarter turns each, radius growing to 1."""
    a, b = _halves(n)
    out = []
    for count, phase in ((a, 0.0), (b, math.pi)):
        t = np.linspace(0.0, 1.0, count)
        angle = 3.5 * math.pi * t + phase
        out.append(np.column_stack([t * np.cos(angle), t * np.sin(angle)]))
    return np.concatenate(out)


_CLASSIFICATION = {"moons": _moons, "circles": _circles, "xor": _xor, "spirals": _spirals}

TOY_DATASETS: dict[str, str] = {
    "moons": "Two moons: interleaving half circles (2 classes)",
    "circles": "Circles: a ring around a disc (2 classes)",
    "xor": "XOR: opposite quadrants share a class (2 classes)",
    "spirals": "Spirals: two interleaved spirals (2 classes)",
    "chebyshev": "Chebyshev: T₄(x) = 8x⁴ − 8x² + 1 on evenly spaced x in [−1, 1] (regression)",
}
DEFAULT_NOISE: dict[str, float] = {
    "moons": 0.1,
    "circles": 0.05,
    "xor": 0.05,
    "spirals": 0.03,
    "chebyshev": 0.0,
}


def chebyshev_t4(x: Array) -> Array:
    return 8.0 * x**4 - 8.0 * x**2 + 1.0


def toy_dataset(name: str, n: int, seed: int = 0, noise: float | None = None) -> ToyData:
    """`n` points of dataset `name`, with Gaussian noise of standard deviation `noise` (the
    set's default when None) on the inputs (classification) or the targets (Chebyshev)."""
    if name not in TOY_DATASETS:
        raise ValueError(f"Unknown dataset {name!r}. Valid names: {', '.join(TOY_DATASETS)}.")
    if not isinstance(n, int) or isinstance(n, bool) or not 2 <= n <= MAX_POINTS:
        raise ValueError(f"Invalid number of points: {n!r} (a whole number 2–{MAX_POINTS})")
    noise = DEFAULT_NOISE[name] if noise is None else noise
    if not (isinstance(noise, (int, float)) and 0.0 <= noise <= MAX_NOISE):
        raise ValueError(f"Invalid noise: {noise!r} (a number 0–{MAX_NOISE:g})")
    rng = np.random.default_rng(seed)
    if name == "chebyshev":
        x = np.linspace(-1.0, 1.0, n)
        y = chebyshev_t4(x) + noise * rng.standard_normal(n)
        return ToyData(name, x[:, None], y, "regression")
    X = _CLASSIFICATION[name](n, rng)
    X = X + noise * rng.standard_normal(X.shape)
    return ToyData(name, X, _labels(n), "classification")


def from_points(
    name: str, x: ArrayLike, y: ArrayLike, kind: Literal["logistic", "linear"]
) -> ToyData:
    """1-D data (a built-in dataset of app.core.data or an uploaded CSV) for a network:
    "logistic" data (labels 0/1) becomes a two-class classification, "linear" data a 1-D
    regression."""
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    if xs.ndim != 1 or ys.shape != xs.shape or xs.size < 2:
        raise ValueError(
            f"x and y must be two lists of the same length, at least 2 points; "
            f"got shapes {xs.shape} and {ys.shape}"
        )
    if xs.size > MAX_POINTS:  # a surface's data may hold more (app.core.data allows 10,000)
        raise ValueError(
            f"A network trains on at most {MAX_POINTS:,} points; this data has {xs.size:,}. "
            "Use a sample of it."
        )
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        raise ValueError("x or y has a value that is not a finite number")
    if kind == "logistic":
        if not np.all((ys == 0.0) | (ys == 1.0)):
            raise ValueError("A classification needs labels 0 and 1 only")
        return ToyData(name, xs[:, None], ys, "classification")
    if kind == "linear":
        return ToyData(name, xs[:, None], ys, "regression")
    raise ValueError(f"Unknown kind {kind!r}. Valid kinds: logistic, linear.")
