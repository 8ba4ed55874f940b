"""SGD's noise cloud around a minimum of a small network, in θ ∈ Rⁿ and on a slice plane.

The same theory as app.core.data.noise, in n dimensions: near a minimum θ* with Hessian H and
per-example gradients' covariance C (population, 1/n points), SGD at step size η with batches
whose mean gradient has covariance c_B·C (c_B from `batch_factor`: fresh batches, with or
without replacement) keeps its iterates in a cloud whose stationary covariance solves the
discrete Lyapunov equation Σ = AΣAᵀ + η²c_B·C, A = I − ηH.

A is symmetric, so in H's eigenbasis (H = QΛQᵀ, a_i = 1 − ηλ_i) the equation decouples entry by
entry: Σ̃_ij = η²c_B·C̃_ij / (1 − a_i a_j) with C̃ = QᵀCQ. That costs one n × n eigendecomposition
instead of the n² × n² system of the 2-D case. Σ exists when every |a_i| < 1 wherever C has
weight: 0 < ηλ_i < 2. A direction of zero or negative curvature that the noise reaches has no
stationary spread (a random walk, or a drift away), and then no Σ is given.

H comes from n exact Hessian-vector products (so n is capped by MAX_PARAMETERS), C from each
point's own gradient. On a slice plane θ = c + αd₁ + βd₂ the cloud's shadow is PΣPᵀ with
P = (DᵀD)⁻¹Dᵀ, D = [d₁ d₂]: the covariance of the plane coordinates of the nearest points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.data import Batches, NoiseError, Sampling, batch_factor
from app.core.networks.objective import NetworkLoss
from app.core.networks.slices import Plane
from app.core.surfaces.surface import Array

MAX_PARAMETERS = 600  # H from n HVPs and its eigendecomposition: O(n³), ~0.1 s at this size
# A direction counts as reached by the noise when its share of tr C is above this.
_REACHED = 1e-12


def hessian(objective: NetworkLoss, theta: Array) -> Array:
    """∇²L(θ) from n exact Hessian-vector products, symmetrised (the products agree with the
    transpose only up to rounding)."""
    n = objective.n
    eye = np.eye(n)
    columns = np.stack([objective.hvp(theta, eye[i]) for i in range(n)], axis=1)
    out: Array = 0.5 * (columns + columns.T)
    return out


def per_example_gradients(objective: NetworkLoss, theta: Array) -> Array:
    """Each point's gradient of its own loss (points × n): their mean is ∇L(θ)."""
    return np.stack([objective.on([i]).grad(theta) for i in range(objective.points)])


@dataclass(frozen=True, eq=False)
class NetworkCloud:
    """The predicted noise cloud of SGD at (η, B, sampling) around `center`."""

    center: Array  # θ*: where H and C are taken
    eigenvalues: Array  # of H, ascending
    eigenvectors: Array  # columns, in the same order
    gradient: Array  # ∇L(θ*): zero at a minimum, up to how well it was reached
    noise_trace: float  # tr C
    eta: float
    batch_size: int
    sampling: Sampling
    factor: float  # c_B
    predicted: Array  # Σ (n × n)

    @property
    def trace(self) -> float:
        return float(np.trace(self.predicted))


def stationary_covariance(hessian: Array, noise: Array, eta: float, factor: float) -> Array:
    """Σ = AΣAᵀ + η²·factor·C, A = I − ηH, solved in H's eigenbasis; NoiseError if it has no
    solution (a direction the noise reaches is unstable or not curved upwards)."""
    values, vectors = np.linalg.eigh(hessian)
    kick = eta * eta * factor * (vectors.T @ noise @ vectors)
    a = 1.0 - eta * values
    # 1 − a_i a_j = η(λ_i + λ_j − ηλ_iλ_j): written so, it does not round to 0 for tiny η.
    denominator = eta * (values[:, None] + values[None, :] - eta * np.outer(values, values))
    reached = np.abs(np.diag(kick)) > _REACHED * max(float(np.trace(np.abs(kick))), 1e-300)
    unstable = reached & ((np.abs(a) >= 1.0) | (values <= 0.0))
    if np.any(unstable):
        steep = values[unstable & (values > 0.0)]
        if steep.size:
            why = (
                f"a curvature λ = {float(steep.max()):.4g} is at or above 2/η = {2.0 / eta:.4g}, "
                "where the steps themselves diverge"
            )
        else:
            flat = float(values[unstable].min())
            why = (
                f"the noise reaches a direction of curvature λ = {flat:.4g} ≤ 0, along which "
                "it accumulates without bound (a random walk, or a drift away)"
            )
        raise NoiseError(f"SGD has no stationary cloud here: {why}.")
    both = reached[:, None] & reached[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = np.where(both, kick / denominator, 0.0)
    out: Array = vectors @ inner @ vectors.T
    return 0.5 * (out + out.T)


def predict_network_cloud(
    objective: NetworkLoss, theta: Array, eta: float, batch_size: int, sampling: Sampling
) -> NetworkCloud:
    """The predicted cloud around θ (meant to be a minimum; its gradient is reported)."""
    if objective.n > MAX_PARAMETERS:
        raise NoiseError(
            f"The noise cloud needs the full Hessian: this network has {objective.n} parameters, "
            f"at most {MAX_PARAMETERS} are supported. Use fewer or narrower hidden layers."
        )
    if not 1 <= batch_size <= objective.points:
        raise NoiseError(f"Invalid batch size: {batch_size} (a whole number 1–{objective.points})")
    center = np.array(theta, dtype=np.float64)
    grads = per_example_gradients(objective, center)
    mean = grads.mean(axis=0)
    centred = grads - mean
    noise = centred.T @ centred / grads.shape[0]
    h = hessian(objective, center)
    factor = batch_factor(objective.points, batch_size, sampling)
    sigma = stationary_covariance(h, noise, eta, factor)
    values, vectors = np.linalg.eigh(h)
    return NetworkCloud(
        center=center,
        eigenvalues=values,
        eigenvectors=vectors,
        gradient=mean,
        noise_trace=float(np.trace(noise)),
        eta=eta,
        batch_size=batch_size,
        sampling=sampling,
        factor=factor,
        predicted=sigma,
    )


def plane_operator(plane: Plane) -> Array:
    """P = (DᵀD)⁻¹Dᵀ (2 × n): a point's plane coordinates (α, β) relative to the centre."""
    d = np.stack([plane.d1, plane.d2], axis=1)
    out: Array = np.linalg.solve(d.T @ d, d.T).astype(np.float64)
    return out


def plane_covariance(plane: Plane, sigma: Array) -> Array:
    """The 2 × 2 covariance of the cloud's plane coordinates."""
    p = plane_operator(plane)
    out: Array = p @ sigma @ p.T
    return 0.5 * (out + out.T)


def sgd_cloud(
    objective: NetworkLoss,
    theta: Array,
    eta: float,
    batch_size: int,
    sampling: Sampling,
    steps: int,
    seed: int = 0,
) -> Array:
    """The iterates θ_0 … θ_steps of plain minibatch SGD from θ (steps + 1 rows × n)."""
    batches = Batches(objective.points, batch_size, sampling, seed)
    out = np.empty((steps + 1, objective.n))
    out[0] = theta
    current = np.array(theta, dtype=np.float64)
    with np.errstate(all="ignore"):
        for t in range(steps):
            current = current - eta * objective.on(batches.of(t)).grad(current)
            out[t + 1] = current
    return out
