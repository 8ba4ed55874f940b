"""Sharpness: the largest eigenvalue λ_max of the Hessian of the loss, by Lanczos iteration on
Hessian-vector products (the Hessian itself is never formed).

Lanczos builds an orthonormal basis of the Krylov space {v, Hv, H²v, …} from a start vector
drawn from a seed (so the estimate is deterministic), with full reorthogonalisation (n is small
here: a few thousand parameters at most, against a few dozen iterations), and returns the
eigenvalues of the small tridiagonal matrix it builds (the Ritz values). The largest Ritz value
approaches λ_max from below, fast when λ_max stands apart from the rest of the spectrum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

from app.core.networks.objective import NetworkLoss
from app.core.text import sci

Array: TypeAlias = NDArray[np.float64]

DEFAULT_ITERATIONS = 20
MAX_ITERATIONS = 200


def lanczos(matvec: Callable[[Array], Array], n: int, iterations: int, seed: int = 0) -> Array:
    """Ritz values (ascending) of the symmetric operator `matvec` on Rⁿ after `iterations` Lanczos
    steps (fewer if the Krylov space closes sooner; at most n)."""
    if not isinstance(iterations, int) or not 1 <= iterations <= MAX_ITERATIONS:
        raise ValueError(f"Invalid iterations: {iterations!r} (a whole number 1–{MAX_ITERATIONS})")
    k = min(iterations, n)
    basis = np.zeros((k, n))
    alpha, beta = np.zeros(k), np.zeros(k)
    v = np.random.default_rng(seed).standard_normal(n)
    basis[0] = v / np.linalg.norm(v)
    m = k
    for j in range(k):
        w = matvec(basis[j])
        alpha[j] = w @ basis[j]
        # full reorthogonalisation, twice ("twice is enough"): keeps the basis orthonormal
        for _ in range(2):
            w = w - basis[: j + 1].T @ (basis[: j + 1] @ w)
        if j == k - 1:
            break
        beta[j] = np.linalg.norm(w)
        if beta[j] <= 1e-12 * max(1.0, np.abs(alpha[: j + 1]).max()):
            m = j + 1  # an invariant subspace: its Ritz values are exact eigenvalues
            break
        basis[j + 1] = w / beta[j]
    tridiagonal = np.diag(alpha[:m]) + np.diag(beta[: m - 1], 1) + np.diag(beta[: m - 1], -1)
    return np.linalg.eigvalsh(tridiagonal).astype(np.float64)


def sharpness(
    objective: NetworkLoss, theta: Array, iterations: int = DEFAULT_ITERATIONS, seed: int = 0
) -> float:
    """λ_max of the Hessian of `objective` at θ, by `iterations` Lanczos steps."""
    return float(lanczos(lambda v: objective.hvp(theta, v), objective.n, iterations, seed)[-1])


@dataclass(frozen=True)
class SharpnessSummary:
    """What the sharpness did against the stability limit 2/η of gradient descent."""

    limit: float  # 2/η
    reached_at: int | None  # the first measured step with λ_max ≥ 2/η
    low: float | None  # the smallest and largest λ_max / (2/η) from then on
    high: float | None
    at_edge: bool  # reached, and within ±band of 2/η ever since
    sentence: str


def summarize_sharpness(
    steps: Sequence[int],
    values: Sequence[float],
    eta: float,
    band: float = 0.1,
    optimizer: str | None = None,
) -> SharpnessSummary:
    """The sharpness measured at `steps` during GD with step size η, against 2/η, in words:
    "The sharpness reached 2/η = 8 at step 1,240 and stays within ±10% of it: GD is at the edge
    of stability." A quadratic with curvature above 2/η diverges under GD; a network at the edge
    does not. 2/η is plain GD's limit: for another `optimizer` (its label) the words compare
    with it instead of calling it that optimizer's limit."""
    if len(steps) != len(values) or not values:
        raise ValueError("Give the sharpness as one value per measured step (at least one)")
    limit = 2.0 / eta
    ratio = np.asarray(values, dtype=np.float64) / limit
    above = np.flatnonzero(ratio >= 1.0)
    if above.size == 0:
        top = int(np.argmax(ratio))
        verdict = (
            "gradient descent is stable here, as on a quadratic."
            if optimizer is None
            else f"below plain gradient descent's limit ({optimizer} has a limit of its own)."
        )
        sentence = (
            f"The sharpness stayed below 2/η = {sci(limit)} (at most {sci(values[top])}, at step "
            f"{steps[top]:,}): {verdict}"
        )
        return SharpnessSummary(limit, None, None, None, False, sentence)
    first = int(above[0])
    after = ratio[first:]
    low, high = float(after.min()), float(after.max())
    at_edge = 1.0 - band <= low and high <= 1.0 + band
    where = "started above" if first == 0 else "reached"
    head = f"The sharpness {where} 2/η = {sci(limit)} at step {steps[first]:,}"
    if at_edge and optimizer is None:
        sentence = (
            f"{head} and stays within ±{band:.0%} of it: gradient descent is at the edge of "
            "stability (on a quadratic this sharpness would make it diverge)."
        )
    elif at_edge:
        sentence = (
            f"{head} and stays within ±{band:.0%} of it: where plain gradient descent would be "
            f"at the edge of stability. {optimizer} scales or accumulates its steps, so its own "
            "limit differs: read 2/η as a comparison."
        )
    else:
        sentence = (
            f"{head}; since then it has ranged from {sci(low * limit)} to {sci(high * limit)} "
            f"({low:.0%}–{high:.0%} of 2/η)."
        )
    return SharpnessSummary(limit, steps[first], low, high, at_edge, sentence)
