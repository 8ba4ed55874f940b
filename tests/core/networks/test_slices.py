"""2-D slices: PCA directions (a random walk's 6/π², the SVD of the centred trajectory),
filter-normalised directions (per-neuron norms of θ), the fast grid against point-by-point
evaluation, projections against planes built by hand, and the faithfulness report."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from app.core.networks import Architecture, NetworkLoss, init_theta, layers
from app.core.networks.slices import (
    Plane,
    faithfulness,
    filter_normalized,
    loss_grid,
    loss_slice,
    pca_directions,
    pca_plane,
    plane_losses,
    project,
    random_plane,
    window,
)

HIDDEN = [(), (16,), (8, 6), (7, 5, 4)]
CASES = [
    (hidden, act, loss)
    for hidden in HIDDEN
    for act in ("tanh", "relu", "gelu")
    for loss in ("mse", "cross_entropy")
]


def problem(hidden, act, loss, seed=0, points=60):
    rng = np.random.default_rng(seed)
    outputs = 3 if loss == "cross_entropy" else 2
    arch = Architecture(2, hidden, outputs, act)
    X = rng.normal(size=(points, 2))
    y = (
        rng.integers(0, outputs, points)
        if loss == "cross_entropy"
        else rng.normal(size=(points, 2))
    )
    return NetworkLoss(arch, X, y, loss), rng.normal(size=arch.n_params) * 0.8, rng


def gd_path(objective, theta, eta, steps):
    path = [theta]
    for _ in range(steps):
        path.append(path[-1] - eta * objective.grad(path[-1]))
    return np.array(path)


# --- PCA --------------------------------------------------------------------------------------


def test_random_walk_first_component_explains_six_over_pi_squared() -> None:
    """Antognini & Sohl-Dickstein (2018): in n ≫ T dimensions the centred random walk's Gram
    matrix concentrates on T·n times the walk's centred covariance, whose eigenvalues fall as
    1/k², so PC1 explains (1/1²)/Σ1/k² = 6/π² ≈ 0.608 (the exact T = 1000 value is 0.6079).
    Over seeds 0-7 the sample ratio had mean 0.6076 and standard deviation 0.006; ±0.03 is five
    of those."""
    rng = np.random.default_rng(2018)
    walk = np.cumsum(rng.standard_normal((1000, 10_000)), axis=0)
    directions, ratios = pca_directions(walk)
    assert ratios[0] == pytest.approx(6 / math.pi**2, abs=0.03)
    assert ratios[1] == pytest.approx(6 / (4 * math.pi**2), abs=0.03)
    assert_allclose(np.linalg.norm(directions, axis=1), 1.0, rtol=1e-12)
    assert abs(directions[0] @ directions[1]) < 1e-8


@pytest.mark.parametrize(("steps", "dims"), [(50, 20), (320, 340), (30, 3000)])
def test_pca_equals_svd_of_the_centred_trajectory(steps, dims) -> None:
    """Both the full eigendecomposition and the subspace iteration (Gram matrices over 300)
    against numpy's SVD; the spectrum decays like a trajectory's (a walk with drift)."""
    rng = np.random.default_rng(steps)
    path = np.cumsum(rng.standard_normal((steps, dims)) + 0.05, axis=0)
    directions, ratios = pca_directions(path)
    centred = path - path.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    assert_allclose(ratios, s[:2] ** 2 / np.sum(s**2), rtol=1e-10)
    for i in range(2):
        assert abs(directions[i] @ vt[i]) == pytest.approx(1.0, abs=1e-10)
        # the sign: θ_0 lies on the negative side of θ_final
        assert directions[i] @ (path[0] - path[-1]) < 0


def test_pca_plane_goes_through_the_chosen_point_and_refuses_a_line() -> None:
    rng = np.random.default_rng(1)
    path = np.cumsum(rng.standard_normal((20, 8)), axis=0)
    assert_allclose(pca_plane(path).center, path[-1])
    assert_allclose(pca_plane(path, center=path[3]).center, path[3])
    assert pca_plane(path).explained_variance is not None
    line = np.outer(np.linspace(0, 1, 10), rng.standard_normal(8))
    with pytest.raises(ValueError, match="fewer than two directions"):
        pca_plane(line)
    with pytest.raises(ValueError, match="does not move"):
        pca_plane(np.tile(path[0], (400, 1)))
    with pytest.raises(ValueError, match="at least 3 iterates"):
        pca_plane(path[:2])
    with pytest.raises(ValueError, match="not a finite number"):
        pca_plane(np.vstack([path, np.full(8, np.nan)]))


# --- filter normalisation ---------------------------------------------------------------------


@pytest.mark.parametrize("hidden", HIDDEN)
def test_filter_normalisation_gives_every_neuron_block_the_norm_of_thetas(hidden) -> None:
    """A neuron's block is its row of the weight matrix with its bias entry."""
    arch = Architecture(3, hidden, 2, "relu")
    theta = init_theta(arch, 4)
    d = filter_normalized(arch, theta, np.random.default_rng(9))
    for (w, b), (dw, db) in zip(layers(arch, theta), layers(arch, d)):
        for i in range(w.shape[0]):
            want = math.sqrt(sum(x * x for x in w[i]) + b[i] ** 2)
            got = math.sqrt(sum(x * x for x in dw[i]) + db[i] ** 2)
            assert got == pytest.approx(want, rel=1e-12)
    # random, not θ rescaled, and reproducible from the seed
    assert abs(d @ theta) < 0.9 * np.linalg.norm(d) * np.linalg.norm(theta)
    plane = random_plane(arch, theta, seed=5)
    assert_allclose(plane.d1, random_plane(arch, theta, seed=5).d1, rtol=0, atol=0)
    assert not np.allclose(plane.d1, random_plane(arch, theta, seed=6).d1)
    assert not np.allclose(plane.d1, plane.d2)


def test_a_dead_neuron_gets_a_zero_block() -> None:
    arch = Architecture(2, (3,), 1, "tanh")
    theta = init_theta(arch, 0)
    (w, b), _ = layers(arch, theta)
    w[1], b[1] = 0.0, 0.0
    d = filter_normalized(arch, theta, np.random.default_rng(0))
    (dw, db), _ = layers(arch, d)
    assert not np.any(dw[1]) and db[1] == 0.0
    with pytest.raises(ValueError, match="all zeros"):
        random_plane(arch, np.zeros(arch.n_params), 0)


# --- the loss on the plane --------------------------------------------------------------------


@pytest.mark.parametrize(("hidden", "act", "loss"), CASES)
def test_fast_grid_equals_point_by_point_evaluation(hidden, act, loss) -> None:
    objective, theta, rng = problem(hidden, act, loss)
    for plane in (
        random_plane(objective.arch, theta, seed=2),
        pca_plane(gd_path(objective, theta, 0.5, 12)),
    ):
        grid = loss_grid(objective, plane, (-1.5, 2.0), (-1.0, 0.5), 7)
        for j, beta in enumerate(grid.beta):
            for i, alpha in enumerate(grid.alpha):
                truth = objective.value(plane.center + alpha * plane.d1 + beta * plane.d2)
                assert grid.loss[j, i] == pytest.approx(truth, rel=1e-12, abs=1e-300)
        # scattered points, more than one block's worth
        a, b = rng.uniform(-3, 3, 300), rng.uniform(-3, 3, 300)
        truth = [objective.value(plane.point(x, y)) for x, y in zip(a, b)]
        assert_allclose(plane_losses(objective, plane, a, b), truth, rtol=1e-12)


def test_grid_saturated_tanh_and_refusals() -> None:
    """Pre-activations beyond ±354, where e^{2z} overflows, give tanh = ±1 as np.tanh does."""
    objective, theta, _ = problem((8,), "tanh", "mse")
    plane = random_plane(objective.arch, theta * 1000, seed=1)
    (w, b), _ = layers(objective.arch, plane.center)
    z = objective.X @ w.T + b
    assert z.max() > 400 and z.min() < -400
    grid = loss_grid(objective, plane, (-3, 3), (-3, 3), 5)
    truth = [objective.value(plane.point(a, b)) for b in grid.beta for a in grid.alpha]
    assert_allclose(grid.loss.ravel(), truth, rtol=1e-12)
    # far off θ the loss overflows: inf, without a warning (warnings from app.* fail the tests)
    assert plane_losses(objective, plane, [1e200], [0.0])[0] == np.inf
    with pytest.raises(ValueError, match="grid size"):
        loss_grid(objective, plane, (-1, 1), (-1, 1), 1)
    with pytest.raises(ValueError, match="alpha range"):
        loss_grid(objective, plane, (1, -1), (-1, 1), 5)
    with pytest.raises(ValueError, match="differ in length"):
        plane_losses(objective, plane, [0.0, 1.0], [0.0])


# --- projection and faithfulness --------------------------------------------------------------


def test_projection_recovers_coordinates_and_distance_on_a_skewed_plane() -> None:
    """Iterates built as c + a·d1 + b·d2 + w with w orthogonal to both directions, which are
    far from orthogonal to each other."""
    rng = np.random.default_rng(3)
    n = 40
    c, d1 = rng.normal(size=n), rng.normal(size=n)
    d2 = 0.8 * d1 + 0.3 * rng.normal(size=n)
    basis = np.linalg.qr(np.column_stack([d1, d2]))[0]
    coords = rng.normal(size=(25, 2)) * 3
    off = rng.normal(size=(25, n))
    off -= (off @ basis) @ basis.T
    iterates = c + coords @ np.vstack([d1, d2]) + off
    proj = project(Plane("random", c, d1, d2), iterates)
    assert_allclose(proj.coords, coords, rtol=1e-9, atol=1e-9)
    assert_allclose(proj.distance, np.linalg.norm(off, axis=1), rtol=1e-9)
    assert_allclose(proj.offset, np.linalg.norm(iterates - c, axis=1), rtol=1e-12)
    with pytest.raises(ValueError, match="parallel"):
        project(Plane("random", c, d1, 2 * d1), iterates)


def test_window_holds_the_centre_and_every_projection() -> None:
    rng = np.random.default_rng(0)
    path = np.cumsum(rng.standard_normal((30, 6)), axis=0)
    plane = pca_plane(path)
    proj = project(plane, path)
    (a0, a1), (b0, b1) = window(plane, proj)
    assert a0 < min(0, proj.coords[:, 0].min()) and a1 > max(0, proj.coords[:, 0].max())
    assert b0 < min(0, proj.coords[:, 1].min()) and b1 > max(0, proj.coords[:, 1].max())
    assert window(Plane("random", path[-1], path[0], path[1])) == ((-1.0, 1.0), (-1.0, 1.0))


def test_iterates_in_the_plane_are_drawn_at_their_true_loss() -> None:
    objective, theta, _ = problem((6,), "tanh", "mse")
    plane = random_plane(objective.arch, theta, seed=0)
    steps = np.arange(0, 40, 2)
    iterates = np.array([plane.point(0.05 * k, -0.02 * k) for k in range(20)])
    report = faithfulness(objective, plane, iterates, steps=steps)
    assert report.misleading == []
    assert_allclose(report.plane_loss, report.true_loss, rtol=1e-12)
    assert_allclose(report.projection.distance, 0.0, atol=1e-12)
    assert report.variance_in_plane == pytest.approx(1.0, abs=1e-12)
    assert "can be trusted" in report.message
    assert_allclose(report.steps, steps)


def test_iterates_off_the_plane_are_named() -> None:
    """A path that comes in from off the plane: θ_t = θ_c + s_t·w, w orthogonal to the plane and
    s_t falling to 0. Every iterate projects onto the centre, so it is drawn at L(θ_c); the early
    ones are not there, and the sentence names exactly the run whose gap exceeds 5% of the
    path's loss range (the gaps computed here with objective.value)."""
    objective, theta, rng = problem((8, 6), "gelu", "cross_entropy")
    plane = random_plane(objective.arch, theta, seed=1)
    basis = np.linalg.qr(np.column_stack([plane.d1, plane.d2]))[0]
    w = rng.normal(size=objective.n)
    w -= basis @ (basis.T @ w)
    w *= 2.0 / np.linalg.norm(w)
    s = np.linspace(1.0, 0.0, 50) ** 2
    iterates = plane.center + s[:, None] * w
    report = faithfulness(objective, plane, iterates)
    truth = np.array([objective.value(x) for x in iterates])
    gap = np.abs(truth - objective.value(plane.center))
    bad = np.flatnonzero(gap > 0.05 * (truth.max() - truth.min()))
    assert bad.size and bad[0] == 0 and np.all(np.diff(bad) == 1)
    assert report.misleading == [(0, int(bad[-1]))]
    assert f"Iterates 0–{bad[-1]} lie off this plane" in report.message
    assert "their drawn heights are not their losses" in report.message
    assert_allclose(report.true_loss, truth, rtol=1e-12)
    assert_allclose(report.projection.coords, 0.0, atol=1e-12)
    assert report.variance_in_plane == pytest.approx(0.0, abs=1e-12)


def test_a_pca_slice_of_a_real_run_reports_its_variance() -> None:
    objective, theta, _ = problem((8,), "tanh", "cross_entropy")
    path = gd_path(objective, theta, 1.0, 60)
    plane = pca_plane(path)
    report = faithfulness(objective, plane, path)
    assert plane.explained_variance is not None
    r1, r2 = plane.explained_variance
    assert report.variance_in_plane == pytest.approx(r1 + r2, rel=1e-9)
    assert f"PC1 {r1:.0%}, PC2 {r2:.0%}" in report.message
    # the final iterate is the centre: drawn at its true loss
    assert report.plane_loss[-1] == pytest.approx(report.true_loss[-1], rel=1e-12)


def test_loss_slice_puts_it_together() -> None:
    objective, theta, _ = problem((8,), "relu", "mse")
    path = gd_path(objective, theta, 0.3, 30)
    for kind in ("pca", "random"):
        result = loss_slice(objective, kind, 9, iterates=path, seed=3)
        assert result.faithfulness is not None
        coords = result.faithfulness.projection.coords
        assert (
            result.grid.alpha[0] < coords[:, 0].min() and result.grid.alpha[-1] > coords[:, 0].max()
        )
        assert (
            result.grid.beta[0] < coords[:, 1].min() and result.grid.beta[-1] > coords[:, 1].max()
        )
        assert_allclose(result.plane.center, path[-1])
        assert result.grid.loss.shape == (9, 9)
        corner = result.plane.point(result.grid.alpha[0], result.grid.beta[-1])
        assert result.grid.loss[-1, 0] == pytest.approx(objective.value(corner), rel=1e-12)
    alone = loss_slice(objective, "random", 5, center=theta)
    assert alone.faithfulness is None and (alone.grid.alpha[0], alone.grid.alpha[-1]) == (-1, 1)
    with pytest.raises(ValueError, match="needs the trajectory"):
        loss_slice(objective, "pca", 5, center=theta)
    with pytest.raises(ValueError, match="Unknown slice kind"):
        loss_slice(objective, "hessian", 5, iterates=path)  # type: ignore[arg-type]
