"""Dataset surfaces: the loss of a 1-D model on data as a core Surface over θ = (w, b).

`dataset_surface` builds one (cached by a hash of the data and the options, since the reference
optimum is computed once per surface): θ* is the closed form for `linear` and a Newton polish to
machine precision for `logistic`; separable classes with λ = 0 have no finite minimum, which the
surface says in `note` instead of marking one. `minibatch_gradient` gives the stochastic
gradients of minibatch SGD, a pure function of (seed, t) so that equal seeds give equal paths.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from app.core.data.datasets import Dataset, Kind, check_data, digest
from app.core.data.losses import Linear, Logistic, Loss
from app.core.data.sampling import Batches, Sampling
from app.core.singleflight import Flights
from app.core.surfaces.stationary import StationaryPoint, remember
from app.core.surfaces.surface import Array, Domain, Minimum, Surface
from app.core.text import num

_FORMULAS = {
    "logistic": r"L(w, b) = \frac{1}{n}\sum_{i=1}^{n}\left[\log\left(1 + e^{z_i}\right) - y_i z_i"
    r"\right]{penalty},\quad z_i = w x_i + b",
    "linear": r"L(w, b) = \frac{1}{n}\sum_{i=1}^{n}\left(w x_i + b - y_i\right)^2{penalty}",
}
# The gradient an update uses at step t from θ_t (app.core.descent.runner's `step_gradient` hook).
StepGradient = Callable[[int, float, float], tuple[float, float]]

_MODELS = {"logistic": "Logistic regression", "linear": "Linear regression"}


@dataclass(frozen=True, eq=False)
class DataFit:
    """The data behind a dataset surface, for drawing it and the model θ = (w, b) over it.

    The model's input is u = (x − shift) / scale: shift = mean(x), scale = std(x) when the
    surface was built on standardized x, else 0 and 1. So the model at θ is σ(w·u + b)
    (logistic) or w·u + b (linear) as a function of the raw x.
    """

    kind: Kind
    x: Array  # raw x, as given
    y: Array
    l2: float
    standardized: bool
    shift: float
    scale: float
    optimum: tuple[float, float] | None  # θ* in the surface's coordinates; None if none is finite
    dataset: str | None  # the built-in's id, if any
    digest: str  # content hash of (x, y)
    loss: Loss


def separable(x: Array, y: Array) -> bool:
    """1-D classes are (weakly) separable iff one class's x all lie at or below the other's: then
    the loss falls towards its infimum as |w| → ∞ and, without a penalty, has no finite minimum."""
    x0, x1 = x[y == 0.0], x[y == 1.0]
    return bool(x0.max() <= x1.min() or x1.max() <= x0.min())


def _newton(loss: Logistic) -> tuple[float, float]:
    """The minimiser of a strictly convex logistic loss: damped Newton from the constant model,
    until the step stops changing θ."""
    p = float(loss.y.mean())
    w, b = 0.0, math.log(p / (1.0 - p))
    for _ in range(200):
        gw, gb = (float(v) for v in loss.grad(w, b))
        hww, hwb, hbb = (float(v) for v in loss.hess(w, b))
        det = hww * hbb - hwb * hwb
        dw, db = (hbb * gw - hwb * gb) / det, (hww * gb - hwb * gw) / det
        f0, t, decrement = float(loss.value(w, b)), 1.0, gw * dw + gb * db
        # Backtrack while the loss does not fall enough; near θ* (a decrement below the rounding
        # of L) the full step is taken, as values can no longer tell better from worse.
        while (
            decrement > 1e-13 * (1.0 + abs(f0))
            and t > 1e-12
            and (float(loss.value(w - t * dw, b - t * db)) > f0 - 1e-4 * t * decrement)
        ):
            t *= 0.5
        w, b = w - t * dw, b - t * db
        if t <= 1e-12 or abs(t * dw) + abs(t * db) <= 1e-15 * (1.0 + abs(w) + abs(b)):
            break
    return w, b


def _note(has_minimum: bool, x: Array, y: Array) -> str:
    if has_minimum:
        return ""
    low, high = (0, 1) if x[y == 0.0].max() <= x[y == 1.0].min() else (1, 0)
    return (
        f"The classes are separable: every x of class {low} is at or below every x of class "
        f"{high}. Without a penalty the loss keeps falling as |w| grows, so there is no finite "
        "minimum to mark and descent runs off towards infinity. Set an L2 penalty λ > 0 to get one."
    )


RUNAWAY = 6.0  # a separable fit's frame, along w, in units of the usual half-width (see _frame)


def _frame(
    kind: Kind, u: Array, y: Array, optimum: tuple[float, float] | None
) -> tuple[Domain, tuple[float, float]]:
    """A plot domain around θ* (or the origin) at the data's natural scales, and a start in it."""
    su, mu = float(u.std()), float(u.mean())
    if kind == "logistic":
        ws = 4.0 / su
        bs = 4.0 + ws * abs(mu)
    else:
        sy = float(y.std()) or 1.0
        ws = 2.0 * sy / su
        bs = 2.0 * sy + ws * abs(mu) + abs(float(y.mean()))
    cw, cb = optimum if optimum is not None else (0.0, 0.0)
    hw, hb = max(1.5 * abs(cw), ws), max(1.5 * abs(cb), bs)
    domain = Domain((cw - hw, cw + hw), (cb - hb, cb + hb))
    if kind == "logistic" and optimum is None:
        # Separable classes: descent runs off along w, towards the side that puts class 1 above
        # class 0, slowly (|w| grows like log t). The frame reaches RUNAWAY·ws that way, so a
        # run stays in view for thousands of steps.
        up = float(u[y == 1.0].min()) >= float(u[y == 0.0].max())
        domain = Domain((-hw, RUNAWAY * hw) if up else (-RUNAWAY * hw, hw), domain.y)
    return domain, (cw - 0.7 * hw, cb + 0.7 * hb)


def _round_down(value: float) -> float:
    """Two significant digits, rounded down: a tidy step size that is no larger."""
    exponent = math.floor(math.log10(value)) - 1
    return float(f"{math.floor(value / 10.0**exponent)}e{exponent}")


class _Keyed:
    """Data arrays that hash and compare by their digest, so lru_cache can key on them."""

    def __init__(self, x: Array, y: Array) -> None:
        self.x, self.y, self.digest = x, y, digest(x, y)

    def __hash__(self) -> int:
        return hash(self.digest)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Keyed) and other.digest == self.digest


_FLIGHTS: Flights[Surface] = Flights()


def dataset_surface(
    kind: Kind,
    x: Array,
    y: Array,
    *,
    l2: float = 0.0,
    standardize: bool = False,
    dataset: Dataset | None = None,
) -> Surface:
    """The loss surface of `kind` on (x, y); DataError if the data do not suit `kind`."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    check_data(x, y, kind)
    if not (math.isfinite(l2) and l2 >= 0.0):
        raise ValueError(f"Invalid l2: {l2!r} (the penalty λ must be >= 0 and finite)")
    key = (kind, _Keyed(x, y), float(l2), bool(standardize), dataset.id if dataset else None)
    # Concurrent first requests for the same fit wait for one computation (single flight).
    return _FLIGHTS.run(key, lambda: _cached(*key))


def _source_name(dataset: str | None, digest_: str, n: int) -> tuple[str, str]:
    if dataset is not None:
        return dataset, f"“{dataset}”"
    return f"data-{digest_[:12]}", f"{n} uploaded points"


@lru_cache(maxsize=64)
def _cached(kind: Kind, data: _Keyed, l2: float, standardize: bool, dataset: str | None) -> Surface:
    x, y = data.x, data.y
    shift, scale = (float(x.mean()), float(x.std())) if standardize else (0.0, 1.0)
    u = (x - shift) / scale
    loss: Loss = Logistic(u, y, l2) if kind == "logistic" else Linear(u, y, l2)
    if isinstance(loss, Linear):
        optimum: tuple[float, float] | None = loss.minimum()
    elif l2 > 0.0 or not separable(u, y):
        optimum = _newton(loss)
    else:
        optimum = None
    domain, start = _frame(kind, u, y, optimum)
    # GD is stable for η < 2/L with L the largest curvature (a bound of it for logistic). 1/L is
    # a steady default; on a round quadratic it would jump to θ* in one step, so linear takes
    # 1/(2L): the error halves per step along the stiffest direction, a path one can watch.
    eta = _round_down((1.0 if kind == "logistic" else 0.5) / loss.curvature_bound())
    source, source_text = _source_name(dataset, data.digest, x.size)
    options = [f"λ = {num(l2)}"] if l2 > 0.0 else []
    options += ["standardized x"] if standardize else []
    extra = f" ({', '.join(options)})" if options else ""
    minima: tuple[Minimum, ...] = ()
    if optimum is not None:
        minima = (Minimum(optimum[0], optimum[1], float(loss.value(*optimum)), "global"),)
    penalty = r" + \frac{\lambda}{2} w^2" if l2 > 0.0 else ""
    what = "mean binary cross-entropy" if kind == "logistic" else "mean squared error"
    fit = DataFit(kind, x, y, l2, standardize, shift, scale, optimum, dataset, data.digest, loss)
    surface = Surface(
        id=f"{kind}-{source}" + ("-std" if standardize else "") + (f"-l2={l2:g}" if l2 else ""),
        name=f"{_MODELS[kind]} on {source_text}{extra}",
        formula=_FORMULAS[kind].replace("{penalty}", penalty),
        description=f"The {what} of the model over θ = (w, b) on {x.size} points; "
        + (
            "θ* is the closed-form least-squares fit."
            if kind == "linear"
            else "θ* is found by Newton's method."
            if optimum
            else "it has no finite minimum."
        ),
        value=loss.value,
        grad=loss.grad,
        hess=loss.hess,
        domain=domain,
        default_start=start,
        default_eta=eta,
        minima=minima,
        note=_note(optimum is not None, u, y),
        data=fit,
    )
    remember(surface, _stationary(surface))
    return surface


def _stationary(surface: Surface) -> tuple[StationaryPoint, ...]:
    """The loss is convex, strictly so with a unique θ*, so θ* is its only stationary point (and
    with no finite minimum there is none): no need for the generic many-start search."""
    return tuple(
        StationaryPoint(
            m.x,
            m.y,
            m.value,
            "minimum",
            False,
            tuple(  # type: ignore[arg-type]
                float(v) for v in np.linalg.eigvalsh(surface.hessian_matrix(m.x, m.y))
            ),
        )
        for m in surface.minima
    )


def minibatch_gradient(
    fit: DataFit, batch_size: int, seed: int, sampling: Sampling = "epoch"
) -> StepGradient:
    """∇L on a minibatch at step t, the batch chosen as app.core.data.sampling's `sampling` says
    (by default the data are shuffled once per epoch and cut into batches of `batch_size`), so
    the gradient at step t depends only on (seed, t): equal seeds give equal paths, also when
    resumed."""
    batches = Batches(fit.x.size, batch_size, sampling, seed)

    def gradient(t: int, w: float, b: float) -> tuple[float, float]:
        return fit.loss.batch_grad(w, b, batches.of(t))

    return gradient
