"""Issue 16 item 4: on separable classes a logistic fit has no finite minimum and descent runs
off along w; the plot frame must still hold the run (lesson 7 ended at w ≈ 7.2 off a ±2.1 frame)."""

from __future__ import annotations

import numpy as np

from app.core.data import dataset_surface, get_builtin


def test_gd_on_separable_data_stays_in_the_frame_for_ten_thousand_steps() -> None:
    data = get_builtin("separable")
    surface = dataset_surface("logistic", data.x, data.y, dataset=data)
    assert not surface.minima  # no finite minimum
    for start, eta in ((np.array([0.0, 0.0]), 0.5), (np.array(surface.default_start), 1.1)):
        theta = start.copy()
        for _ in range(10_000):  # plain GD, written out here: θ ← θ − η∇L(θ)
            theta = theta - eta * np.asarray(surface.grad(*theta), dtype=float)
        assert theta[0] > 7.0  # it did run off (the lesson's case)
        assert surface.domain.contains(*theta), (theta, surface.domain)


def test_the_frame_of_data_with_a_minimum_is_unchanged_around_it() -> None:
    data = get_builtin("overlap")
    surface = dataset_surface("logistic", data.x, data.y, dataset=data)
    (m,) = surface.minima
    (x0, x1), (y0, y1) = surface.domain.x, surface.domain.y
    assert np.isclose((x0 + x1) / 2, m.x) and np.isclose((y0 + y1) / 2, m.y)
