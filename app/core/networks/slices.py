"""2-D slices of a network's loss: planes through a chosen θ, the loss on a grid over them, and
how faithful the picture is to the trajectory drawn on it.

A plane is θ(α, β) = θ_c + α·d₁ + β·d₂ through a centre θ_c (the final θ by default), spanned by
either

- the first two principal components of a trajectory (Li et al., NeurIPS 2018, §7). The rows
  θ_t − θ_final are centred before the PCA, as the reference code's sklearn PCA does; centring
  makes the subtraction of θ_final irrelevant to the directions, and is what makes a pure random
  walk's first component explain 6/π² of the variance (Antognini & Sohl-Dickstein, 2018). The
  directions are unit vectors, so α and β are distances in θ-space; or
- two filter-normalised Gaussian directions (Li et al., §4). For an MLP a "filter" is a neuron:
  row i of a layer's weight matrix together with entry i of its bias, i.e. everything that feeds
  that neuron's pre-activation z_i = W_i·h + b_i. Each such block of the random direction is
  scaled to the norm of θ's same block. The reference code instead zeroes the bias part of the
  direction ("ignore biasbn"); we keep it in the neuron's block because the scale symmetry
  filter normalisation is there to undo (for ReLU, multiplying a neuron's incoming weights and
  bias by c > 0 and its outgoing weights by 1/c leaves the function unchanged) scales the weights
  and the bias together, and so that every parameter can move on the slice.

The grid is evaluated fast: the first layer's pre-activations are affine in (α, β), so
Z₁(α, β) = Z₁(θ_c) + α·(X·W₁(d₁)ᵀ + b₁(d₁)) + β·(X·W₁(d₂)ᵀ + b₁(d₂)) costs one small matrix
product per block of grid points, and the later layers run as batched matrix products over
blocks of grid points, each with its own weights θ_c + α·d₁ + β·d₂ layer by layer.

Faithfulness: each iterate is projected onto the plane (least squares, since random directions
need not be orthogonal); its distance from the plane and the loss at its projection (the height
the picture draws it at) are set beside its true loss, with a sentence when the two disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from app.core.networks.mlp import Architecture, activation, layers
from app.core.networks.objective import NetworkLoss

Array: TypeAlias = NDArray[np.float64]
PlaneKind: TypeAlias = Literal["pca", "random"]

# A trajectory's Gram matrix up to this size is diagonalised in full; larger ones by subspace
# iteration for the leading components only (numpy has no partial eigensolver).
_FULL_EIGH_MAX = 300
_SUBSPACE = 12  # block size of the subspace iteration (the two wanted + a margin for speed)
_SUBSPACE_MAX_ITER = 300
# Grid points per block: about this many activations (floats) at once keeps a block in cache.
_BLOCK_FLOATS = 1 << 17
# An iterate's drawn height is "wrong" when it is off its true loss by more than this share of
# the range of the true loss along the trajectory.
HEIGHT_TOLERANCE = 0.05


@dataclass(frozen=True, eq=False)
class Plane:
    """θ(α, β) = center + α·d1 + β·d2."""

    kind: PlaneKind
    center: Array
    d1: Array
    d2: Array
    # PCA planes: the share of the (centred) trajectory's variance along d1 and along d2.
    explained_variance: tuple[float, float] | None = None

    def point(self, alpha: float, beta: float) -> Array:
        return self.center + alpha * self.d1 + beta * self.d2


@dataclass(frozen=True, eq=False)
class Projection:
    """Iterates projected onto a plane."""

    coords: Array  # T × 2: (α, β) of the nearest point of the plane
    distance: Array  # T: ‖θ_t − its projection‖
    offset: Array  # T: ‖θ_t − center‖ (so distance / offset is the share off the plane)


@dataclass(frozen=True, eq=False)
class Faithfulness:
    """How far the slice can be trusted along a trajectory."""

    steps: NDArray[np.int64]  # the step number of each iterate
    projection: Projection
    true_loss: Array  # L(θ_t)
    plane_loss: Array  # L at θ_t's projection: the height the picture draws θ_t at
    variance_in_plane: float  # share of the centred trajectory's variance inside the plane
    explained_variance: tuple[float, float] | None
    tolerance: float  # |true − drawn| above this counts as misleading
    misleading: list[tuple[int, int]]  # runs of steps (first, last) where it does
    message: str


# --- planes ----------------------------------------------------------------------------------


def _as_iterates(iterates: ArrayLike) -> Array:
    M = np.asarray(iterates, dtype=np.float64)
    if M.ndim != 2 or M.shape[0] < 1 or M.shape[1] < 2:
        raise ValueError(
            f"Iterates have shape {M.shape}; expected (steps, parameters) with >= 2 parameters"
        )
    if not np.all(np.isfinite(M)):
        raise ValueError("An iterate has a value that is not a finite number")
    return M


def _leading_eigen(G: Array, k: int) -> tuple[Array, Array]:
    """The k largest eigenvalues (descending) of a symmetric positive semi-definite G and their
    unit eigenvectors (columns)."""
    m = G.shape[0]
    if m <= _FULL_EIGH_MAX:
        w, U = np.linalg.eigh(G)
        return w[::-1][:k], U[:, ::-1][:, :k]
    # Subspace iteration with Rayleigh-Ritz, from a fixed start (deterministic), until the
    # wanted Ritz pairs' residuals ‖G·u − λ·u‖ are at rounding level.
    p = min(_SUBSPACE, m)
    Q = np.linalg.qr(np.random.default_rng(0).standard_normal((m, p)))[0]
    for _ in range(_SUBSPACE_MAX_ITER):
        Z = G @ Q
        w, V = np.linalg.eigh(Q.T @ Z)
        w, V = w[::-1][:k], V[:, ::-1][:, :k]
        U = Q @ V
        residual = np.linalg.norm(Z @ V - U * w, axis=0)
        if residual.max() <= 1e-12 * w[0]:
            break
        Q = np.linalg.qr(Z)[0]
    return w, U


def pca_directions(iterates: ArrayLike) -> tuple[Array, Array]:
    """The first two principal components of a trajectory (rows θ_t) as unit vectors (2 × n),
    and the share of the variance each explains. The rows are centred (so subtracting θ_final
    first, as Li et al. write it, changes nothing). Each direction's sign is chosen so that the
    trajectory runs from negative to positive coordinates (θ_0 projects below θ_final)."""
    M = _as_iterates(iterates)
    if M.shape[0] < 3:
        raise ValueError("A PCA plane needs a trajectory of at least 3 iterates")
    if np.all(M == M[0]):
        raise ValueError("The trajectory does not move: no PCA plane is defined")
    C = M - M.mean(axis=0)
    total = float(np.einsum("ij,ij->", C, C))
    # The nonzero eigenvalues of CᵀC and CCᵀ are the same: diagonalise the smaller one.
    if C.shape[0] <= C.shape[1]:
        w, U = _leading_eigen(C @ C.T, 2)
        D = (U.T @ C) / np.sqrt(np.maximum(w, np.finfo(float).tiny))[:, None]
    else:
        w, V = _leading_eigen(C.T @ C, 2)
        D = V.T.copy()
    if w[1] <= 1e-12 * w[0]:  # σ₂ below 1e-6·σ₁: noise of the Gram matrix
        raise ValueError(
            "The trajectory moves along fewer than two directions: no PCA plane is defined "
            "(use random directions)"
        )
    D /= np.linalg.norm(D, axis=1, keepdims=True)  # exact unit length after the division
    for i in range(2):
        if D[i] @ (M[0] - M[-1]) > 0.0:
            D[i] = -D[i]
    return D, np.clip(w / total, 0.0, 1.0)


def pca_plane(iterates: ArrayLike, center: ArrayLike | None = None) -> Plane:
    """The plane through `center` (the last iterate by default) spanned by the trajectory's
    first two principal components."""
    M = _as_iterates(iterates)
    D, ratios = pca_directions(M)
    c = M[-1].copy() if center is None else _vector(center, M.shape[1], "center")
    return Plane("pca", c, D[0], D[1], (float(ratios[0]), float(ratios[1])))


def filter_normalized(arch: Architecture, theta: Array, rng: np.random.Generator) -> Array:
    """A Gaussian direction whose every neuron block (a row of a layer's weight with the
    matching bias entry) has the norm of θ's same block (Li et al. §4, biases included)."""
    d = rng.standard_normal(arch.n_params)
    for (w, b), (dw, db) in zip(layers(arch, theta), layers(arch, d)):
        target = np.sqrt(np.einsum("ij,ij->i", w, w) + b * b)
        norm = np.sqrt(np.einsum("ij,ij->i", dw, dw) + db * db)
        scale = np.divide(target, norm, out=np.zeros_like(norm), where=norm > 0.0)
        dw *= scale[:, None]
        db *= scale
    return d


def random_plane(arch: Architecture, center: ArrayLike, seed: int) -> Plane:
    """The plane through `center` spanned by two filter-normalised random directions drawn from
    numpy's default_rng(seed)."""
    c = _vector(center, arch.n_params, "center")
    if not np.any(c):
        raise ValueError("θ is all zeros: filter-normalised directions would be zero")
    rng = np.random.default_rng(seed)
    return Plane("random", c, filter_normalized(arch, c, rng), filter_normalized(arch, c, rng))


def _vector(v: ArrayLike, n: int, name: str) -> Array:
    a = np.array(v, dtype=np.float64)
    if a.shape != (n,):
        raise ValueError(f"{name} has shape {a.shape}; expected ({n},)")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} has a value that is not a finite number")
    return a


# --- the loss on the plane -------------------------------------------------------------------


def _losses_of_outputs(objective: NetworkLoss, F: Array) -> Array:
    """The loss of each stack of outputs F (grid points × points × outputs), as NetworkLoss."""
    if objective.loss == "mse":
        r = F - objective.y
        mse: Array = 0.5 * np.einsum("gij,gij->g", r, r) / (r.shape[1] * r.shape[2])
        return mse
    top = F.max(axis=2, keepdims=True)
    log_total = np.log(np.exp(F - top).sum(axis=2)) + top[:, :, 0]
    labels = np.asarray(objective.y, dtype=np.intp)[None, :, None]
    picked = np.take_along_axis(F, labels, axis=2)[:, :, 0]
    ce: Array = (log_total - picked).mean(axis=1)
    return ce


def _tanh_inplace(z: Array) -> Array:
    """tanh(z) = 1 − 2/(e^{2z} + 1), in place: numpy's exp is vectorised and its tanh is not
    (here 3× slower than torch's). Off by at most a few units of 1e-16 absolute. For z > 354
    e^{2z} overflows to inf and the result is 1, as it should be; call it under
    np.errstate(over="ignore")."""
    z *= 2.0
    np.exp(z, out=z)
    z += 1.0
    np.divide(2.0, z, out=z)
    np.subtract(1.0, z, out=z)
    return z


def _relu_inplace(z: Array) -> Array:
    return np.maximum(z, 0.0, out=z)


def _activation_inplace(name: str) -> Callable[[Array], Array]:
    """σ applied in place where that is faster (the block's pre-activations are not needed
    again), else the network's own σ."""
    return {"tanh": _tanh_inplace, "relu": _relu_inplace}.get(name) or activation(name)


def plane_losses(objective: NetworkLoss, plane: Plane, alpha: ArrayLike, beta: ArrayLike) -> Array:
    """L(center + α_k·d1 + β_k·d2) for each pair (α_k, β_k) of the equal-length arrays."""
    a = np.asarray(alpha, dtype=np.float64).ravel()
    b = np.asarray(beta, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"alpha and beta differ in length: {a.size} and {b.size}")
    arch, X = objective.arch, objective.X
    base, one, two = (layers(arch, v) for v in (plane.center, plane.d1, plane.d2))
    sigma = _activation_inplace(arch.activation)
    # The first layer's pre-activations at the centre and along d1 and d2 (points × width), and
    # each later layer's weights and biases at the centre and along d1 and d2, stacked so that
    # one product with the rows (1, α, β) gives them at every grid point of a block.
    (w0, b0), (u0, c0), (v0, e0) = base[0], one[0], two[0]
    first = np.stack([X @ w0.T + b0, X @ u0.T + c0, X @ v0.T + e0]).reshape(3, -1)
    later = [
        (np.stack([w, u, v]).reshape(3, -1), np.stack([bias, c, e]), w.shape)
        for (w, bias), (u, c), (v, e) in zip(base[1:], one[1:], two[1:])
    ]
    width = max((*arch.hidden, arch.outputs))
    block = max(1, _BLOCK_FLOATS // (X.shape[0] * width))
    out = np.empty(a.size)
    with np.errstate(over="ignore", invalid="ignore"):  # far off θ the loss may overflow: inf
        for start in range(0, a.size, block):
            stop = min(start + block, a.size)
            ab = np.column_stack([np.ones(stop - start), a[start:stop], b[start:stop]])
            z = (ab @ first).reshape(ab.shape[0], X.shape[0], -1)
            for weights, biases, shape in later:
                w_at = (ab @ weights).reshape(-1, *shape)
                z = np.matmul(sigma(z), w_at.transpose(0, 2, 1))
                z += (ab @ biases)[:, None, :]
            out[start:stop] = _losses_of_outputs(objective, z)
    return out


@dataclass(frozen=True, eq=False)
class Grid:
    alpha: Array  # m values along d1
    beta: Array  # m values along d2
    loss: Array  # m × m: loss[j, i] at (alpha[i], beta[j])


def loss_grid(
    objective: NetworkLoss,
    plane: Plane,
    alpha_range: tuple[float, float],
    beta_range: tuple[float, float],
    m: int,
) -> Grid:
    """The loss on an m × m grid of the plane, evenly spaced over the two ranges."""
    if not isinstance(m, int) or isinstance(m, bool) or m < 2:
        raise ValueError(f"Invalid grid size: {m!r} (a whole number >= 2)")
    for name, (lo, hi) in (("alpha", alpha_range), ("beta", beta_range)):
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"Invalid {name} range: ({lo}, {hi}) (finite, low < high)")
    alpha, beta = np.linspace(*alpha_range, m), np.linspace(*beta_range, m)
    A, B = np.meshgrid(alpha, beta)
    return Grid(alpha, beta, plane_losses(objective, plane, A, B).reshape(m, m))


def window(
    plane: Plane, projection: Projection | None = None, margin: float = 0.2
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Ranges of α and β that hold the centre and every projected iterate with a margin (a share
    of the span). A random plane spans at least [−1, 1] (Li et al.'s default: one unit is θ's own
    per-neuron scale); a PCA plane without iterates, ±1 as well."""
    ranges = []
    for i in range(2):
        lo = hi = 0.0
        if projection is not None and projection.coords.size:
            lo = min(0.0, float(projection.coords[:, i].min()))
            hi = max(0.0, float(projection.coords[:, i].max()))
        pad = margin * (hi - lo)
        lo, hi = lo - pad, hi + pad
        if plane.kind == "random" or hi - lo == 0.0:
            lo, hi = min(lo, -1.0), max(hi, 1.0)
        ranges.append((lo, hi))
    return ranges[0], ranges[1]


# --- projection and faithfulness -------------------------------------------------------------


def project(plane: Plane, iterates: ArrayLike) -> Projection:
    """Each iterate's nearest point on the plane, as (α, β), with its distance from the plane."""
    M = _as_iterates(iterates)
    if M.shape[1] != plane.center.size:
        raise ValueError(
            f"Iterates have {M.shape[1]} parameters; the plane has {plane.center.size}"
        )
    Q, R = np.linalg.qr(np.column_stack([plane.d1, plane.d2]))
    if abs(R[1, 1]) <= 1e-12 * abs(R[0, 0]) or R[0, 0] == 0.0:
        raise ValueError("The plane's two directions are parallel or zero")
    V = M - plane.center
    inside = V @ Q  # T × 2, coordinates in the orthonormal basis Q
    coords = np.linalg.solve(R, inside.T).T
    distance = np.linalg.norm(V - inside @ Q.T, axis=1)
    return Projection(coords, distance, np.linalg.norm(V, axis=1))


def faithfulness(
    objective: NetworkLoss,
    plane: Plane,
    iterates: ArrayLike,
    steps: ArrayLike | None = None,
    true_loss: ArrayLike | None = None,
) -> Faithfulness:
    """How honest the slice is about a trajectory: per iterate its projection, distance from the
    plane, true loss and drawn height; the share of the trajectory's variance inside the plane;
    and a sentence. `steps` numbers the iterates (0, 1, … by default); `true_loss` saves
    recomputing L(θ_t) when the run already has it."""
    M = _as_iterates(iterates)
    T = M.shape[0]
    t = np.arange(T) if steps is None else np.asarray(steps, dtype=np.int64)
    if t.shape != (T,):
        raise ValueError(f"steps has shape {t.shape}; expected ({T},)")
    proj = project(plane, M)
    if true_loss is None:
        with np.errstate(over="ignore", invalid="ignore"):
            truth = np.array([objective.value(theta) for theta in M])
    else:
        truth = np.array(true_loss, dtype=np.float64)
        if truth.shape != (T,):
            raise ValueError(f"true_loss has shape {truth.shape}; expected ({T},)")
    drawn = plane_losses(objective, plane, proj.coords[:, 0], proj.coords[:, 1])
    C = M - M.mean(axis=0)
    total = float(np.einsum("ij,ij->", C, C))
    Q = np.linalg.qr(np.column_stack([plane.d1, plane.d2]))[0]
    inside = C @ Q
    in_plane = float(np.einsum("ij,ij->", inside, inside)) / total if total > 0.0 else 1.0
    finite = truth[np.isfinite(truth)]
    spread = float(finite.max() - finite.min()) if finite.size else 0.0
    tolerance = HEIGHT_TOLERANCE * spread if spread > 0.0 else 1e-12 * max(1.0, abs(truth[0]))
    gap = np.abs(truth - drawn)
    bad = ~(gap <= tolerance)  # a NaN gap is misleading too
    runs = _runs(bad)
    misleading = [(int(t[i]), int(t[j])) for i, j in runs]
    message = _message(plane, proj, t, gap, truth, runs, tolerance, in_plane)
    return Faithfulness(
        steps=t,
        projection=proj,
        true_loss=truth,
        plane_loss=drawn,
        variance_in_plane=min(in_plane, 1.0),
        explained_variance=plane.explained_variance,
        tolerance=tolerance,
        misleading=misleading,
        message=message,
    )


def _runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), ends.tolist()))


def _num(x: float) -> str:
    return f"{x:.3g}"


def _message(
    plane: Plane,
    proj: Projection,
    t: NDArray[np.int64],
    gap: Array,
    truth: Array,
    runs: list[tuple[int, int]],
    tolerance: float,
    in_plane: float,
) -> str:
    held = f"The plane holds {in_plane:.0%} of the trajectory's variance"
    if plane.explained_variance is not None:
        r1, r2 = plane.explained_variance
        held += f" (PC1 {r1:.0%}, PC2 {r2:.0%})"
    if not runs:
        return (
            f"{held}. Every iterate is drawn within {_num(tolerance)} of its true loss "
            f"({HEIGHT_TOLERANCE:.0%} of the loss range along the path), so its drawn height "
            "can be trusted."
        )
    named = []
    for i, j in runs[:3]:
        named.append(f"iterate {t[i]}" if i == j else f"iterates {t[i]}–{t[j]}")
    if len(runs) > 3:
        named.append(f"{len(runs) - 3} more stretch{'es' if len(runs) > 4 else ''}")
    where = ", ".join(named[:-1]) + (" and " if len(named) > 1 else "") + named[-1]
    count = sum(j - i + 1 for i, j in runs)
    worst = int(np.argmax(np.where(np.isnan(gap), np.inf, gap)))
    share = np.divide(
        proj.distance, proj.offset, out=np.zeros_like(proj.distance), where=proj.offset > 0
    )
    off = max(float(share[i : j + 1].max()) for i, j in runs)
    verb = "lies" if count == 1 else "lie"
    return (
        f"{where[0].upper()}{where[1:]} {verb} off this plane (up to {off:.0%} of their "
        f"displacement from the centre is off it): their drawn heights are not their losses "
        f"(off by up to {_num(float(gap[worst]))} at step {t[worst]}, true loss "
        f"{_num(float(truth[worst]))}). {held}."
    )


@dataclass(frozen=True, eq=False)
class Slice:
    """Everything a view of a slice needs: the plane, the loss on a grid over it and, when a
    trajectory was given, how faithful the slice is to it."""

    plane: Plane
    grid: Grid
    faithfulness: Faithfulness | None


def loss_slice(
    objective: NetworkLoss,
    kind: PlaneKind,
    m: int,
    *,
    iterates: ArrayLike | None = None,
    center: ArrayLike | None = None,
    seed: int = 0,
    steps: ArrayLike | None = None,
    true_loss: ArrayLike | None = None,
) -> Slice:
    """The slice of `kind` through `center` (by default the last iterate), its loss on an m × m
    grid over a window holding the centre and the projected iterates, and its faithfulness to
    the iterates. A PCA slice needs the iterates; a random one needs the iterates or a centre."""
    path = None if iterates is None else _as_iterates(iterates)
    if kind == "pca":
        if path is None:
            raise ValueError("A PCA slice needs the trajectory's iterates")
        plane = pca_plane(path, center)
    elif kind == "random":
        if center is not None:
            plane = random_plane(objective.arch, center, seed)
        elif path is not None:
            plane = random_plane(objective.arch, path[-1], seed)
        else:
            raise ValueError("A random slice needs a centre θ or the trajectory's iterates")
    else:
        raise ValueError(f"Unknown slice kind {kind!r}. Valid kinds: pca, random.")
    if path is None:
        report = None
        alpha_range, beta_range = window(plane)
    else:
        report = faithfulness(objective, plane, path, steps, true_loss)
        alpha_range, beta_range = window(plane, report.projection)
    return Slice(plane, loss_grid(objective, plane, alpha_range, beta_range, m), report)
