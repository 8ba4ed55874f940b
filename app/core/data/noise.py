"""SGD's noise cloud on a regression fit: where minibatch SGD keeps jittering around θ*.

Near θ* SGD at step size η and batch size B moves by θ' − θ* = (I − ηĤ_B)(θ − θ*) − η ĝ_B, with
Ĥ_B and ĝ_B the minibatch's mean Hessian and mean gradient at θ*. With independent batches (the
fresh sampling modes of app.core.data.sampling) ĝ_B has mean G(θ*) = 0 and covariance c_B·C,
C the per-example gradients' covariance at θ* over the n points (population, 1/n) and c_B
`batch_factor` (1/B with replacement; (n − B)/(B(n − 1)) for a fresh subset). So:

* `Cloud.predicted`: the stationary covariance Σ of the discrete Lyapunov equation
  Σ = (I − ηH) Σ (I − ηH)ᵀ + η² c_B C (Mandt, Hoffman & Blei 2017, in discrete time), which takes
  the minibatch Hessian to be H. It exists for 0 < η < 2/λ_max(H), where GD itself is stable.
* `Cloud.exact` (least squares only, whose per-example Hessians are constant): the stationary
  second moment M = E[(θ − θ*)(θ − θ*)ᵀ] exactly, from M = E[(I − ηĤ_B) M (I − ηĤ_B)ᵀ] + η² c_B C
  with E[(I − ηĤ_B) ⊗ (I − ηĤ_B)] = A ⊗ A + η² c_B · mean_i (H_i − H) ⊗ (H_i − H) (the data's
  fourth moments), A = I − ηH. (The cross terms vanish as the stationary mean is θ*.) It is
  larger than Σ: a random Hessian adds noise that grows with θ − θ*, most at B = 1; it exists
  only while that recursion is a contraction (mean-square stability), which is stricter than
  η < 2/λ_max.
* The default per-epoch reshuffle is not covered by either: its steps' noises are dependent (they
  sum to zero over an epoch), so the cloud is smaller than the fresh-subset prediction, the more so
  as B grows (measured on 64 points at η = 0.05: 0.78, 0.37 and 0.14 of it at B = 1, 4, 16;
  tests/core/data/test_noise.py). The prediction is then the fresh subset's, as an upper
  estimate, and says so.

The cloud is measured about θ*, as the mean of (θ_t − θ*)(θ_t − θ*)ᵀ over a run's second half
(the first half is burn-in), which is the quantity predicted; for least squares the stationary
mean is θ*, so this is also the cloud's covariance.

The gradient noise scale B_simple = tr C(θ) / |G(θ)|² (McCandlish et al. 2018) is the batch size
above which larger batches stop buying faster progress. At θ* the full gradient G vanishes, so
it is unbounded there (every batch is noise-dominated): `noise_scale` gives it where the gradient
is not zero, e.g. at a run's θ₀, and None where it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.core.data.regression import DataFit
from app.core.data.sampling import Sampling, batch_factor
from app.core.surfaces.surface import Array


class NoiseError(ValueError):
    """No stationary cloud to predict; the message says why, in words."""


def per_example(fit: DataFit, theta: Array) -> tuple[Array, Array]:
    """Each point's gradient (n × 2) and Hessian (n × 2 × 2) of its own loss at θ = (w, b), the
    penalty included, so that their means are ∇L and ∇²L."""
    u, y = fit.loss.x, fit.loss.y
    w, b = float(theta[0]), float(theta[1])
    a = np.stack([u, np.ones_like(u)], axis=1)
    z = w * u + b
    if fit.kind == "linear":
        residual, curvature = 2.0 * (z - y), np.full_like(u, 2.0)
    else:
        # σ(z) = (1 + tanh(z/2))/2 never overflows; σ(1 − σ) = (1 − tanh²(z/2))/4
        th = np.tanh(0.5 * z)
        residual, curvature = 0.5 * (1.0 + th) - y, 0.25 * (1.0 - th * th)
    penalty = np.array([fit.l2, 0.0])
    grads = residual[:, None] * a + penalty * w
    hessians = curvature[:, None, None] * a[:, :, None] * a[:, None, :]
    hessians[:, 0, 0] += fit.l2
    return grads, hessians


def gradient_covariance(grads: Array) -> tuple[Array, Array]:
    """(G, C): the mean gradient and the population covariance (1/n) of the per-example ones."""
    mean = grads.mean(axis=0)
    centred = grads - mean
    return mean, centred.T @ centred / grads.shape[0]


def _stationary(generator: Array, kick: Array) -> Array:
    """S with vec S = N⁻¹ vec K for the 4 × 4 generator N, symmetrised.

    Σ = AΣAᵀ + η²c·C with A = I − ηH is (I − A ⊗ A) vec Σ = η²c vec C, and I − A ⊗ A =
    η(H ⊕ H − ηH ⊗ H) (H ⊕ H = H ⊗ I + I ⊗ H): divided by η, the system stays well
    conditioned however small η is (I − A ⊗ A itself rounds to 0 at η ~ 1e-17)."""
    s = np.linalg.solve(generator, kick.reshape(-1)).reshape(2, 2)
    return 0.5 * (s + s.T)


def lyapunov_generator(hessian: Array, eta: float) -> Array:
    """(I − A ⊗ A)/η for A = I − ηH."""
    eye = np.eye(2)
    out: Array = np.kron(hessian, eye) + np.kron(eye, hessian) - eta * np.kron(hessian, hessian)
    return out


def noise_scale(fit: DataFit, theta: Array) -> float | None:
    """B_simple = tr C(θ) / |G(θ)|² at θ; None where the full gradient is zero (at θ*), where it
    is unbounded."""
    grad, cov = gradient_covariance(per_example(fit, theta)[0])
    g2, trace = float(grad @ grad), float(np.trace(cov))
    if g2 <= 1e-24 * max(trace, 1e-300):  # zero up to rounding: unbounded
        return None
    return trace / g2


@dataclass(frozen=True)
class Cloud:
    """The predicted noise cloud of SGD at (η, B, sampling) around θ*."""

    optimum: Array  # θ*
    hessian: Array  # H = ∇²L(θ*)
    gradient: Array  # G = ∇L(θ*), zero up to rounding
    noise: Array  # C, the per-example gradients' covariance at θ*
    eta: float
    batch_size: int
    sampling: Sampling
    factor: float  # c_B
    eta_limit: float  # 2/λ_max(H): Σ exists below it
    predicted: Array  # Σ of the Lyapunov equation
    exact: Array | None  # least squares: the exact stationary second moment, if it exists
    exact_note: str  # why `exact` is None, in words ("" when it is not)


def _exact(hessians: Array, hessian: Array, eta: float, c: float, kick: Array) -> Array:
    deviation = hessians - hessian
    fourth = np.einsum("nij,nkl->ikjl", deviation, deviation).reshape(4, 4) / deviation.shape[0]
    # E[(I − ηĤ) ⊗ (I − ηĤ)] = A ⊗ A + η²c·fourth = I − η·generator
    generator = lyapunov_generator(hessian, eta) - eta * c * fourth
    # Stable in mean square iff every eigenvalue μ of the generator has |1 − ημ| < 1, i.e.
    # η|μ|² < 2 Re μ (written so, it does not round to 1 at tiny η).
    mu = np.linalg.eigvals(generator)
    if np.any(eta * np.abs(mu) ** 2 >= 2.0 * mu.real):
        radius = float(np.max(np.abs(1.0 - eta * mu)))
        raise NoiseError(
            f"At η = {eta:g} the random minibatch Hessian makes the second moment grow without "
            f"bound (its recursion's spectral radius is {radius:.3g} ≥ 1): SGD is not stable in "
            "mean square, although the Lyapunov equation, which ignores that, has a solution."
        )
    return _stationary(generator, kick)


def predict_cloud(fit: DataFit, eta: float, batch_size: int, sampling: Sampling) -> Cloud:
    """The cloud of SGD on `fit`; NoiseError when there is none (no finite θ*, η too large)."""
    if fit.optimum is None:
        raise NoiseError(
            "This fit has no finite minimum (separable classes and no penalty), so SGD has no "
            "point to jitter around: set an L2 penalty λ > 0."
        )
    if not (math.isfinite(eta) and eta > 0.0):
        raise NoiseError(f"The step size η must be a positive number (got {eta!r}).")
    optimum = np.array(fit.optimum, dtype=np.float64)
    grads, hessians = per_example(fit, optimum)
    gradient, noise = gradient_covariance(grads)
    hessian = hessians.mean(axis=0)
    hessian = 0.5 * (hessian + hessian.T)
    top = float(np.linalg.eigvalsh(hessian)[-1])
    limit = 2.0 / top
    if eta >= limit:
        raise NoiseError(
            f"η = {eta:g} is at or above 2/λ_max = {limit:.4g}, where λ_max = {top:.4g} is the "
            "largest curvature at θ*: there GD itself diverges along the steepest direction, so "
            "SGD has no stationary cloud and Σ does not exist. Take η below that."
        )
    c = batch_factor(fit.x.size, batch_size, sampling)
    kick = eta * c * noise  # η²c·C / η
    predicted = _stationary(lyapunov_generator(hessian, eta), kick)
    exact: Array | None = None
    note = ""
    if fit.kind == "linear":
        try:
            exact = _exact(hessians, hessian, eta, c, kick)
        except NoiseError as exc:
            note = str(exc)
    else:
        note = "The exact recursion needs a constant per-example Hessian: least squares only."
    return Cloud(
        optimum, hessian, gradient, noise, eta, min(batch_size, fit.x.size), sampling, c, limit,
        predicted, exact, note,
    )  # fmt: skip


def measured(thetas: Array, center: Array) -> Array:
    """The mean of (θ_t − c)(θ_t − c)ᵀ over the second half of a run's iterates θ_0 … θ_T."""
    tail = np.asarray(thetas, dtype=np.float64)[len(thetas) // 2 :] - center
    out: Array = tail.T @ tail / max(1, tail.shape[0])
    return out


def ellipse(center: Array, sigma: Array, k: float, points: int = 73) -> Array:
    """The k-σ ellipse {θ : (θ − c)ᵀ Σ⁻¹ (θ − c) = k²} as a closed polyline (points × 2)."""
    values, vectors = np.linalg.eigh(0.5 * (sigma + sigma.T))
    axes = vectors * (k * np.sqrt(np.maximum(values, 0.0)))
    angle = np.linspace(0.0, 2.0 * np.pi, points)
    circle = np.stack([np.cos(angle), np.sin(angle)])
    out: Array = center + (axes @ circle).T
    return out
