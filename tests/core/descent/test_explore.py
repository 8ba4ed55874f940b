"""Basins of attraction and η sweeps against single runs and the 2/λ stability limit."""

import math

import numpy as np
import pytest

from app.core.descent.explore import (
    DIVERGED_CELL,
    UNCONVERGED_CELL,
    BasinMap,
    basins,
    indexed_landmarks,
    sweep,
)
from app.core.descent.optimizers import make_optimizer
from app.core.descent.runner import StopRules, run_to_end
from app.core.surfaces.presets import get_preset


def _basin_map(surface_id: str, n: int, **kwargs) -> BasinMap:
    surface = get_preset(surface_id)
    items = list(
        basins(
            surface,
            make_optimizer("gd", eta=kwargs.pop("eta", 0.01)),
            n,
            StopRules(max_steps=kwargs.pop("max_steps", 500), tol=1e-6),
            **kwargs,
        )
    )
    progress, result = items[:-1], items[-1]
    assert all(isinstance(p, float) for p in progress) and isinstance(result, BasinMap)
    fractions = [float(p) for p in progress if isinstance(p, float)]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    return result


def test_himmelblau_has_four_basins_each_around_its_minimum() -> None:
    surface = get_preset("himmelblau")
    result = _basin_map("himmelblau", 48)
    found = set(np.unique(result.destination)) - {DIVERGED_CELL, UNCONVERGED_CELL}
    assert found == {0, 1, 2, 3}  # the four minima come first among the landmarks
    for index, m in enumerate(surface.minima):
        i = int(np.abs(result.x - m.x).argmin())
        j = int(np.abs(result.y - m.y).argmin())
        neighbourhood = result.destination[max(j - 1, 0) : j + 2, max(i - 1, 0) : i + 2]
        assert (neighbourhood == index).all()


def test_basin_cells_equal_single_runs() -> None:
    surface = get_preset("six_hump_camel")
    optimizer = make_optimizer("gd", eta=0.02)
    rules = StopRules(max_steps=400, tol=1e-6)
    result = [r for r in basins(surface, optimizer, 24, rules, rows_per_chunk=5)][-1]
    assert isinstance(result, BasinMap)
    points = indexed_landmarks(surface)
    rng = np.random.default_rng(0)
    for j, i in rng.integers(0, 24, size=(40, 2)):
        last = run_to_end(surface, optimizer, (result.x[i], result.y[j]), rules)[-1]
        assert result.steps[j, i] == last.t
        cell = result.destination[j, i]
        if last.status == "diverged":
            assert cell == DIVERGED_CELL
        elif last.status == "max_steps":
            assert cell == UNCONVERGED_CELL
        else:
            p = points[cell]
            assert math.hypot(p.x - last.theta[0], p.y - last.theta[1]) < 1e-3


def test_quadratic_sweep_diverges_first_just_above_two_over_lambda() -> None:
    surface = get_preset("quadratic")
    lam = surface.max_curvature(0.0, 0.0)
    etas = np.geomspace(0.1, 3.0, 200)
    found = sweep(surface, make_optimizer("gd"), (-2.5, 2.0), etas, StopRules(max_steps=5000))
    statuses = found.result.status
    first = etas[int(np.flatnonzero(statuses == 1)[0])]
    assert abs(first - 2 / lam) / (2 / lam) <= 0.02
    assert found.stability_limit == pytest.approx(2 / lam)
    assert (statuses[etas < 0.99 * 2 / lam] == 0).all()
