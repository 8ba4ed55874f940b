"""Stationary points against independent truths: the presets' listed landmarks (polished by their
own Newton at import), closed forms for quadratics, and hand-classified degenerate points."""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.core.formulas import formula as formulas
from app.core.surfaces.presets import PRESETS, get_preset
from app.core.surfaces.stationary import (
    find_stationary_points,
    minima_saddles_maxima,
    stationary_points,
)
from app.core.surfaces.surface import Domain, Surface

SURFACES = list(PRESETS.values())
HIMMELBLAU = "(x**2 + y - 11)**2 + (x + y**2 - 7)**2"


def _near(points, x: float, y: float, kind: str, tol: float = 1e-6) -> bool:
    return any(math.hypot(p.x - x, p.y - y) < tol and p.kind == kind for p in points)


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.id)
def test_every_listed_landmark_of_every_preset_is_found(surface: Surface) -> None:
    points = stationary_points(surface)
    assert all(_near(points, m.x, m.y, "minimum") for m in surface.minima)
    assert all(_near(points, p.x, p.y, "saddle") for p in surface.saddles)
    assert all(_near(points, p.x, p.y, "maximum") for p in surface.maxima)
    for p in points:
        assert surface.domain.contains(p.x, p.y)
        assert math.hypot(*surface.grad(p.x, p.y)) < 1e-6 * max(1.0, abs(p.value))


def test_rastrigin_all_121_minima() -> None:
    points = stationary_points(get_preset("rastrigin"))
    assert sum(p.kind == "minimum" for p in points) == 121
    assert sum(p.kind == "saddle" for p in points) == 220
    assert sum(p.kind == "maximum" for p in points) == 100


def _counts(points) -> dict[str, int]:
    return {k: sum(p.kind == k for p in points) for k in ("minimum", "maximum", "saddle")}


def test_himmelblau_preset_four_minima_one_maximum_four_saddles() -> None:
    points = find_stationary_points(get_preset("himmelblau"))
    assert _counts(points) == {"minimum": 4, "maximum": 1, "saddle": 4}
    assert not any(p.degenerate for p in points)
    assert _near(points, 3.0, 2.0, "minimum", 1e-9)


def test_himmelblau_typed_as_a_formula_matches_the_preset() -> None:
    surface = formulas.formula_surface(HIMMELBLAU, Domain((-5.0, 5.0), (-5.0, 5.0))).surface
    points = stationary_points(surface)
    assert _counts(points) == {"minimum": 4, "maximum": 1, "saddle": 4}
    preset = get_preset("himmelblau")
    pairs = ((preset.minima, "minimum"), (preset.saddles, "saddle"), (preset.maxima, "maximum"))
    for listed, kind in pairs:
        assert all(_near(points, p.x, p.y, kind, 1e-8) for p in listed)
    assert len(surface.minima) == 4 and all(m.kind == "global" for m in surface.minima)
    assert len(surface.saddles) == 4 and len(surface.maxima) == 1


@given(
    a=st.floats(-3, 3),
    b=st.floats(-3, 3),
    c=st.floats(-3, 3),
    d=st.floats(-2, 2),
    e=st.floats(-2, 2),
)
def test_a_quadratic_has_its_one_closed_form_stationary_point(a, b, c, d, e) -> None:
    """f = a x² + b xy + c y² + d x + e y: ∇f = 0 solves [[2a, b], [b, 2c]] p = −(d, e), and
    the kind is the sign pattern of that matrix's eigenvalues."""
    h = np.array([[2 * a, b], [b, 2 * c]])
    w = np.linalg.eigvalsh(h)
    assume(np.min(np.abs(w)) > 0.05)
    p = np.linalg.solve(h, [-d, -e])
    assume(np.all(np.abs(p) < 3.5))
    surface = Surface(
        id="q",
        name="q",
        formula="",
        description="",
        value=lambda x, y: a * x * x + b * x * y + c * y * y + d * x + e * y,
        grad=lambda x, y: (2 * a * x + b * y + d, b * x + 2 * c * y + e),
        hess=lambda x, y: (2 * a + 0 * x, b + 0 * x, 2 * c + 0 * y),
        domain=Domain((-4.0, 4.0), (-4.0, 4.0)),
        default_start=(0.0, 0.0),
    )
    (found,) = find_stationary_points(surface, starts=8)
    assert (found.x, found.y) == pytest.approx(tuple(p), abs=1e-9)
    expected = "minimum" if w[0] > 0 else ("maximum" if w[1] < 0 else "saddle")
    assert found.kind == expected and not found.degenerate


@pytest.mark.parametrize(
    "text, kind",
    [("x**4 + y**4", "minimum"), ("-(x**4) - y**2", "maximum"), ("x**3 - 3*x*y**2", "saddle")],
)
def test_degenerate_points_are_flagged_and_classified_by_nearby_values(text, kind) -> None:
    surface = formulas.formula_surface(text, Domain((-2.0, 2.0), (-1.5, 2.5))).surface
    points = stationary_points(surface)
    (origin,) = [p for p in points if math.hypot(p.x, p.y) < 1e-3]
    assert origin.degenerate and origin.kind == kind


def test_two_minima_of_different_depth_are_global_and_local() -> None:
    well = Domain((-2.0, 2.0), (-1.5, 1.5))
    surface = formulas.formula_surface("(x**2 - 1)**2 + y**2 + 0.3*x", well).surface
    preset = get_preset("double_well")
    assert [m.kind for m in sorted(surface.minima, key=lambda m: m.x)] == ["global", "local"]
    for mine, theirs in zip(sorted(surface.minima, key=lambda m: m.x), preset.minima):
        assert (mine.x, mine.y) == pytest.approx((theirs.x, theirs.y), abs=1e-9)


def test_no_stationary_points_and_non_finite_regions() -> None:
    plane = formulas.formula_surface("2*x + y", Domain((-1.0, 1.0), (-1.0, 1.0))).surface
    assert stationary_points(plane) == () and minima_saddles_maxima(()) == ((), (), ())
    logs = formulas.formula_surface("log(x) + (y - 0.5)**2 - x", Domain((-1.0, 2.0), (-1.0, 1.0)))
    (p,) = stationary_points(logs.surface)  # x = 1: 1/x - 1 = 0; x ≤ 0 is NaN, ignored
    assert p.x == pytest.approx(1.0) and p.y == pytest.approx(0.5) and p.kind == "saddle"


def test_results_are_cached_per_surface() -> None:
    surface = get_preset("booth")
    assert stationary_points(surface) is stationary_points(surface)
