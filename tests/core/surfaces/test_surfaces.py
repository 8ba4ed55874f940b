"""Presets against independent truths: finite differences, known optima, a fresh Newton search."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from app.core.surfaces.grid import sample
from app.core.surfaces.presets import PRESETS, get_preset
from app.core.surfaces.surface import Domain, Surface

SURFACES = list(PRESETS.values())
REQUIRED = {
    "quadratic",
    "ravine",
    "rosenbrock",
    "himmelblau",
    "rastrigin",
    "beale",
    "six_hump_camel",
    "double_well",
    "saddle",
    "booth",
}


def test_required_presets_exist() -> None:
    assert REQUIRED <= set(PRESETS)


def unit() -> st.SearchStrategy[float]:
    return st.floats(0.0, 1.0, allow_nan=False)


def _point_in(surface: Surface, u: float, v: float) -> tuple[float, float]:
    (x0, x1), (y0, y1) = surface.domain.x, surface.domain.y
    return x0 + u * (x1 - x0), y0 + v * (y1 - y0)


def _central_grad(surface: Surface, x: float, y: float) -> tuple[float, float]:
    h = 1e-6 * max(1.0, abs(x), abs(y))
    f = surface.value
    return (
        float(f(x + h, y) - f(x - h, y)) / (2 * h),
        float(f(x, y + h) - f(x, y - h)) / (2 * h),
    )


def _central_hess(surface: Surface, x: float, y: float) -> np.ndarray:
    h = 1e-5 * max(1.0, abs(x), abs(y))
    gxp, gyp = surface.grad(x + h, y)
    gxm, gym = surface.grad(x - h, y)
    gxq, gyq = surface.grad(x, y + h)
    gxr, gyr = surface.grad(x, y - h)
    return np.array(
        [
            [(gxp - gxm) / (2 * h), (gxq - gxr) / (2 * h)],
            [(gyp - gym) / (2 * h), (gyq - gyr) / (2 * h)],
        ]
    )


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.id)
@given(u=unit(), v=unit())
def test_gradient_matches_central_differences(surface: Surface, u: float, v: float) -> None:
    """At any point of the domain, the analytic gradient equals the central difference."""
    x, y = _point_in(surface, u, v)
    analytic = np.array(surface.grad(x, y), dtype=float)
    numeric = np.array(_central_grad(surface, x, y))
    scale = max(1.0, abs(float(surface.value(x, y))), float(np.max(np.abs(analytic))))
    assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-6 * scale)


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.id)
@given(u=unit(), v=unit())
def test_hessian_matches_differences_of_the_gradient(surface: Surface, u: float, v: float) -> None:
    """The analytic Hessian equals the central difference of the analytic gradient."""
    x, y = _point_in(surface, u, v)
    analytic = surface.hessian_matrix(x, y)
    numeric = _central_hess(surface, x, y)
    scale = max(1.0, float(np.max(np.abs(analytic))))
    assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-5 * scale)


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.id)
def test_functions_broadcast_over_a_grid(surface: Surface) -> None:
    xs = np.linspace(*surface.domain.x, 7)
    ys = np.linspace(*surface.domain.y, 5)
    xx, yy = np.meshgrid(xs, ys)
    z = np.asarray(surface.value(xx, yy))
    gx, gy = map(np.asarray, surface.grad(xx, yy))
    hxx, hxy, hyy = surface.hess(xx, yy)
    for j, y in enumerate(ys):
        for i, x in enumerate(xs):
            assert z[j, i] == pytest.approx(surface.value(float(x), float(y)), rel=1e-14, abs=1e-14)
            assert (gx[j, i], gy[j, i]) == pytest.approx(
                surface.grad(float(x), float(y)), rel=1e-13, abs=1e-12
            )
            assert np.shape(hxx) == np.shape(hxy) == np.shape(hyy) == xx.shape


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.id)
def test_listed_minima_are_minima(surface: Surface) -> None:
    """∇L ≈ 0, a positive-definite Hessian, inside the domain, and global = lowest value."""
    for m in surface.minima:
        assert surface.domain.contains(m.x, m.y)
        assert math.hypot(*surface.grad(m.x, m.y)) < 1e-9
        assert np.linalg.eigvalsh(surface.hessian_matrix(m.x, m.y))[0] > 0
        assert m.value == pytest.approx(surface.value(m.x, m.y), abs=1e-15)
    if surface.minima:
        lowest = min(m.value for m in surface.minima)
        for m in surface.minima:
            assert (m.kind == "global") == (m.value <= lowest + 1e-9)


def _stationary_points(surface: Surface, n: int = 90) -> list[tuple[str, float, float]]:
    """An independent multi-start Newton search on ∇f = 0 over the domain."""
    xs = np.linspace(*surface.domain.x, n)
    ys = np.linspace(*surface.domain.y, n)
    xx, yy = np.meshgrid(xs, ys)
    x, y = xx.ravel(), yy.ravel()
    with np.errstate(all="ignore"):
        for _ in range(60):
            gx, gy = surface.grad(x, y)
            hxx, hxy, hyy = surface.hess(x, y)
            det = hxx * hyy - hxy * hxy
            x, y = x - (hyy * gx - hxy * gy) / det, y - (hxx * gy - hxy * gx) / det
        gx, gy = surface.grad(x, y)
        ok = np.isfinite(x) & np.isfinite(y) & (np.hypot(gx, gy) < 1e-8)
    found = []
    for px, py in np.unique(np.round(np.c_[x[ok], y[ok]], 6), axis=0):
        if not surface.domain.contains(px, py):
            continue
        low, high = np.linalg.eigvalsh(surface.hessian_matrix(px, py))
        kind = "min" if low > 0 else ("max" if high < 0 else "saddle")
        found.append((kind, float(px), float(py)))
    return found


@pytest.mark.parametrize(
    "surface", [s for s in SURFACES if s.id != "rastrigin"], ids=lambda s: s.id
)
def test_every_stationary_point_in_the_domain_is_listed(surface: Surface) -> None:
    listed = {
        "min": [(m.x, m.y) for m in surface.minima],
        "saddle": [(p.x, p.y) for p in surface.saddles],
        "max": [(p.x, p.y) for p in surface.maxima],
    }
    for kind, x, y in _stationary_points(surface):
        assert any(math.hypot(x - a, y - b) < 1e-5 for a, b in listed[kind]), (kind, x, y)
    assert sum(map(len, listed.values())) == len(_stationary_points(surface))


def test_known_optima() -> None:
    himmelblau = get_preset("himmelblau")
    assert len(himmelblau.minima) == 4 and all(m.kind == "global" for m in himmelblau.minima)
    assert_allclose([m.value for m in himmelblau.minima], 0.0, atol=1e-25)
    assert (himmelblau.maxima[0].value) == pytest.approx(181.616522, abs=1e-6)

    camel = get_preset("six_hump_camel")
    kinds = sorted(m.kind for m in camel.minima)
    assert kinds == ["global"] * 2 + ["local"] * 4
    assert min(m.value for m in camel.minima) == pytest.approx(-1.0316284534898774, abs=1e-13)

    for sid, x, y in [
        ("rosenbrock", 1, 1),
        ("beale", 3, 0.5),
        ("booth", 1, 3),
        ("quadratic", 0, 0),
    ]:
        (m,) = get_preset(sid).minima
        assert (m.x, m.y, m.value) == pytest.approx((x, y, 0.0), abs=1e-12)

    # (x² − 1)² + y² + 0.3x: minima where 4x³ − 4x + 0.3 = 0 and f'' > 0
    well = get_preset("double_well")
    roots = sorted(r.real for r in np.roots([4.0, 0.0, -4.0, 0.3]) if abs(r.imag) < 1e-12)
    assert [m.x for m in well.minima] == pytest.approx([roots[0], roots[2]], abs=1e-14)
    assert [m.kind for m in well.minima] == ["global", "local"]


def test_rastrigin_has_one_global_and_many_local_minima() -> None:
    r = get_preset("rastrigin")
    assert len(r.minima) == 121
    (best,) = [m for m in r.minima if m.kind == "global"]
    assert (best.x, best.y, best.value) == pytest.approx((0, 0, 0), abs=1e-12)


def test_ravine_is_ill_conditioned() -> None:
    eig = np.linalg.eigvalsh(get_preset("ravine").hessian_matrix(0.3, -0.2))
    assert eig[1] / eig[0] >= 20


def test_saddle_has_no_minimum_and_is_unbounded_below() -> None:
    s = get_preset("saddle")
    assert s.minima == () and [(p.x, p.y) for p in s.saddles] == [(0.0, 0.0)]
    assert s.value(0.0, 1e3) < -1e5


def test_unknown_preset_lists_the_valid_ids() -> None:
    with pytest.raises(KeyError, match="himmelblau"):
        get_preset("nope")


def test_grid_orientation_and_gaps() -> None:
    surface = get_preset("booth")
    grid = sample(surface, 11)
    j, i = 3, 7
    assert grid.z[j, i] == surface.value(grid.x[i], grid.y[j])
    logged = Surface(
        id="log",
        name="log",
        formula="",
        description="",
        value=lambda x, y: np.log(x) + 0 * y,
        grad=lambda x, y: (1 / x, 0 * y),
        hess=lambda x, y: (-1 / x**2, 0 * x, 0 * y),
        domain=Domain((-1.0, 1.0), (0.0, 1.0)),
        default_start=(0.5, 0.5),
    )
    z = sample(logged, 10).z
    assert np.isnan(z[:, :5]).all() and np.isfinite(z[:, 5:]).all()
