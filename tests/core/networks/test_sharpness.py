"""λ_max by Lanczos against numpy.linalg.eigvalsh of the dense Hessian (built column by column
from Hessian-vector products on the identity)."""

import numpy as np
import pytest

from app.core.networks import (
    Architecture,
    NetworkLoss,
    init_theta,
    lanczos,
    sharpness,
    summarize_sharpness,
    toy_dataset,
)


def dense_hessian(objective: NetworkLoss, theta: np.ndarray) -> np.ndarray:
    eye = np.eye(objective.n)
    h = np.array([objective.hvp(theta, e) for e in eye])
    assert np.allclose(h, h.T, rtol=0, atol=1e-10 * np.abs(h).max())
    return (h + h.T) / 2.0


CASES = [
    ("chebyshev", Architecture(1, (30,), 1, "tanh"), 20),
    ("moons", Architecture(2, (12, 10), 2, "gelu"), 80),
    ("spirals", Architecture(2, (8, 8, 8), 2, "relu"), 60),
]


@pytest.mark.parametrize(("name", "arch", "points"), CASES)
def test_lambda_max_equals_dense_eigvalsh(name, arch, points) -> None:
    assert arch.n_params <= 300
    data = toy_dataset(name, points, seed=2)
    objective = NetworkLoss(arch, data.X, data.y, data.loss)
    theta = init_theta(arch, seed=5)
    # move off the initialisation a little, so the spectrum is not that of a fresh network
    theta = theta - 0.5 * objective.grad(theta)
    exact = np.linalg.eigvalsh(dense_hessian(objective, theta))[-1]
    assert sharpness(objective, theta, iterations=60, seed=1) == pytest.approx(exact, rel=1e-6)
    # from another start vector, too
    assert sharpness(objective, theta, iterations=60, seed=9) == pytest.approx(exact, rel=1e-6)


def test_lanczos_is_exact_on_a_known_spectrum_and_below_it_early() -> None:
    """On diag(1, …, 100) Lanczos's largest Ritz value never exceeds 100, rises with the
    iterations, and is exact once the Krylov space is the whole space."""
    d = np.arange(1.0, 101.0)
    ritz = [lanczos(lambda v: d * v, 100, k, seed=0)[-1] for k in (5, 20, 100)]
    assert ritz[0] < ritz[1] <= 100.0 + 1e-9
    assert ritz[2] == pytest.approx(100.0, rel=1e-12)
    assert lanczos(lambda v: d * v, 100, 100, seed=0) == pytest.approx(d, rel=1e-9)


def test_iterations_are_capped() -> None:
    with pytest.raises(ValueError, match="iterations"):
        lanczos(lambda v: v, 10, 0)


def test_the_sharpness_against_two_over_eta_in_words() -> None:
    steps = [0, 100, 200, 300, 400]
    below = summarize_sharpness(steps, [3.0, 5.0, 6.0, 7.0, 6.5], eta=0.25)
    assert below.limit == 8.0 and below.reached_at is None and not below.at_edge
    assert below.sentence.startswith("The sharpness stayed below 2/η = 8 (at most 7, at step 300)")
    edge = summarize_sharpness(steps, [3.0, 5.0, 8.1, 7.5, 8.6], eta=0.25)
    assert edge.reached_at == 200 and edge.at_edge
    assert (edge.low, edge.high) == pytest.approx((7.5 / 8, 8.6 / 8))
    assert "at step 200 and stays within ±10% of it" in edge.sentence
    wild = summarize_sharpness(steps, [3.0, 5.0, 8.1, 5.0, 12.0], eta=0.25)
    assert wild.reached_at == 200 and not wild.at_edge
    assert wild.sentence.endswith("ranged from 5 to 12 (62%–150% of 2/η).")
    assert "started above" in summarize_sharpness([0, 1], [9.0, 8.0], eta=0.25).sentence
    with pytest.raises(ValueError, match="one value per measured step"):
        summarize_sharpness([0, 1], [1.0], eta=0.25)


def test_another_optimizer_is_compared_with_plain_gds_limit_not_told_it_is_its_own() -> None:
    steps = [0, 100, 200, 300, 400]
    adam = summarize_sharpness(steps, [3.0, 5.0, 8.1, 7.5, 8.6], eta=0.25, optimizer="Adam")
    assert adam.at_edge and "gradient descent is at the edge" not in adam.sentence
    assert "where plain gradient descent would be at the edge" in adam.sentence
    assert "Adam" in adam.sentence
    below = summarize_sharpness(steps[:3], [3.0, 5.0, 6.0], eta=0.25, optimizer="Momentum")
    assert "stable here" not in below.sentence and "Momentum has a limit" in below.sentence
