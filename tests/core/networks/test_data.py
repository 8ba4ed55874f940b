"""Toy datasets: seeded, the right shapes and labels, and the geometry each name promises."""

import numpy as np
import pytest
from numpy.polynomial import chebyshev
from numpy.testing import assert_allclose

from app.core.data import BUILTINS
from app.core.networks import TOY_DATASETS, Architecture, NetworkLoss, from_points, toy_dataset


@pytest.mark.parametrize("name", sorted(TOY_DATASETS))
def test_seeded_shapes_and_labels(name: str) -> None:
    data = toy_dataset(name, 101, seed=3)
    again = toy_dataset(name, 101, seed=3)
    assert_allclose(data.X, again.X, rtol=0, atol=0)
    assert_allclose(data.y, again.y, rtol=0, atol=0)
    assert data.X.shape == (101, data.inputs) and data.y.shape == (101,)
    if data.task == "classification":
        assert data.inputs == 2 and data.outputs == 2 and data.loss == "cross_entropy"
        assert sorted(np.unique(data.y)) == [0, 1] and abs(data.y.sum() - 50.5) <= 0.5
        assert not np.allclose(data.X, toy_dataset(name, 101, seed=4).X)  # noise follows seed
    else:
        assert data.inputs == 1 and data.outputs == 1 and data.loss == "mse"


def test_chebyshev_is_t4_on_evenly_spaced_points() -> None:
    data = toy_dataset("chebyshev", 20)
    x = data.X[:, 0]
    assert_allclose(np.diff(x), 2.0 / 19.0, rtol=1e-12)
    assert x[0] == -1.0 and x[-1] == 1.0
    assert_allclose(data.y, chebyshev.chebval(x, [0, 0, 0, 0, 1]), rtol=0, atol=1e-13)
    noisy = toy_dataset("chebyshev", 2000, seed=1, noise=0.1)
    assert np.std(noisy.y - chebyshev.chebval(noisy.X[:, 0], [0, 0, 0, 0, 1])) == pytest.approx(
        0.1, rel=0.1
    )


def test_geometry_without_noise() -> None:
    circles = toy_dataset("circles", 200, noise=0.0)
    radius = np.hypot(*circles.X.T)
    assert_allclose(radius[circles.y == 0], 1.0)
    assert_allclose(radius[circles.y == 1], 0.5)
    moons = toy_dataset("moons", 200, noise=0.0)
    upper, lower = moons.X[moons.y == 0], moons.X[moons.y == 1]
    assert_allclose(np.hypot(*upper.T), 1.0)
    assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    xor = toy_dataset("xor", 400, noise=0.0)
    assert np.all((xor.X[:, 0] * xor.X[:, 1] > 0) == (xor.y == 1))
    spirals = toy_dataset("spirals", 200, noise=0.0)
    for label in (0, 1):
        r = np.hypot(*spirals.X[spirals.y == label].T)
        assert np.all(np.diff(r) > 0) and r.max() == pytest.approx(1.0)
    # the two spirals are point reflections of each other
    assert_allclose(spirals.X[spirals.y == 1], -spirals.X[spirals.y == 0], atol=1e-12)


def test_bad_requests_are_refused_in_words() -> None:
    with pytest.raises(ValueError, match="Unknown dataset"):
        toy_dataset("mnist", 10)
    with pytest.raises(ValueError, match="number of points"):
        toy_dataset("moons", 10**7)
    with pytest.raises(ValueError, match="noise"):
        toy_dataset("moons", 10, noise=-1.0)


def test_the_regression_datasets_become_network_data() -> None:
    """A built-in logistic dataset trains a network as a two-class problem; linear data as a
    1-D regression; wrong labels or shapes are refused in words."""
    for kind in ("logistic", "linear"):
        dataset = next(d for d in BUILTINS.values() if d.kind == kind)
        data = from_points(dataset.name, dataset.x, dataset.y, kind)
        assert data.X.shape == (dataset.x.size, 1) and data.inputs == 1
        assert data.task == ("classification" if kind == "logistic" else "regression")
        arch = Architecture(1, (4,), data.outputs, "tanh")
        assert np.isfinite(
            NetworkLoss(arch, data.X, data.y, data.loss).value(np.zeros(arch.n_params))
        )
    with pytest.raises(ValueError, match="labels 0 and 1"):
        from_points("d", [0.0, 1.0, 2.0], [0.0, 2.0, 1.0], "logistic")
    with pytest.raises(ValueError, match="same length"):
        from_points("d", [0.0, 1.0, 2.0], [0.0, 1.0], "linear")
    with pytest.raises(ValueError, match="at least 2 points"):
        from_points("d", [0.0], [0.0], "linear")
    with pytest.raises(ValueError, match="at most 5,000 points; this data has 5,001"):
        from_points("d", np.arange(5001.0), np.arange(5001.0), "linear")
    with pytest.raises(ValueError, match="Unknown kind"):
        from_points("d", [0.0, 1.0], [0.0, 1.0], "poisson")  # type: ignore[arg-type]
