"""Sharpness: the largest eigenvalue λ_max of the Hessian of the loss, by Lanczos iteration on
Hessian-vector products (the Hessian itself is never formed).

Lanczos builds an orthonormal basis of the Krylov space {v, Hv, H²v, …} from a start vector
drawn from a seed (so the estimate is deterministic), with full reorthogonalisation (n is small
here: a few thousand parameters at most, against a few dozen iterations), and returns the
eigenvalues of the small tridiagonal matrix it builds (the Ritz values). The largest Ritz value
approaches λ_max from below, fast when λ_max stands apart from the rest of the spectrum.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

from app.core.networks.objective import NetworkLoss

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
