"""Dataset surfaces against independent truths: finite differences, the per-point formula,
numpy.linalg.lstsq, scikit-learn's LogisticRegression, and hand-made CSV files."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sklearn.linear_model import LogisticRegression

from app.core.data import losses
from app.core.data.datasets import (
    BUILTINS,
    MAX_BYTES,
    MAX_ROWS,
    DataError,
    Kind,
    check_data,
    get_builtin,
    parse_csv,
)
from app.core.data.regression import dataset_surface, minibatch_gradient, separable
from app.core.descent.optimizers import GD
from app.core.descent.runner import StopRules, run_to_end
from app.core.surfaces.surface import Array, Surface


def _surfaces() -> list[Surface]:
    out = []
    for d in BUILTINS.values():
        for kind in d.kinds:
            for standardize in (False, True):
                for l2 in (0.0, 0.1):
                    out.append(
                        dataset_surface(kind, d.x, d.y, l2=l2, standardize=standardize, dataset=d)
                    )
    return out


SURFACES = _surfaces()


def unit() -> st.SearchStrategy[float]:
    return st.floats(0.0, 1.0, allow_nan=False)


def _point_in(surface: Surface, u: float, v: float) -> tuple[float, float]:
    (x0, x1), (y0, y1) = surface.domain.x, surface.domain.y
    return x0 + u * (x1 - x0), y0 + v * (y1 - y0)


def _bce(surface: Surface, w: float, b: float) -> float:
    """The textbook formula, point by point: −mean(y log σ(z) + (1 − y) log(1 − σ(z)))."""
    fit = surface.data
    u = (fit.x - fit.shift) / fit.scale
    total = 0.0
    for xi, yi in zip(u.tolist(), fit.y.tolist()):
        p = 1.0 / (1.0 + math.exp(-(w * xi + b)))
        total -= yi * math.log(p) + (1.0 - yi) * math.log(1.0 - p)
    return total / u.size + 0.5 * fit.l2 * w * w


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.id)
@given(u=unit(), v=unit())
def test_gradient_matches_central_differences(surface: Surface, u: float, v: float) -> None:
    """At any point of the plot domain, the analytic gradient equals the central difference."""
    w, b = _point_in(surface, u, v)
    hw, hb = 1e-6 * max(1.0, abs(w)), 1e-6 * max(1.0, abs(b))
    f = surface.value
    numeric = np.array(
        [(f(w + hw, b) - f(w - hw, b)) / (2 * hw), (f(w, b + hb) - f(w, b - hb)) / (2 * hb)]
    )
    analytic = np.array(surface.grad(w, b), dtype=float)
    scale = max(1.0, abs(float(f(w, b))))
    assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6 * scale / min(hw, hb) * 1e-6)


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.id)
@given(u=unit(), v=unit())
def test_hessian_matches_differences_of_the_gradient(surface: Surface, u: float, v: float) -> None:
    """The analytic Hessian equals the central difference of the analytic gradient."""
    w, b = _point_in(surface, u, v)
    hw, hb = 1e-5 * max(1.0, abs(w)), 1e-5 * max(1.0, abs(b))
    gp, gm = np.array(surface.grad(w + hw, b)), np.array(surface.grad(w - hw, b))
    gq, gr = np.array(surface.grad(w, b + hb)), np.array(surface.grad(w, b - hb))
    numeric = np.c_[(gp - gm) / (2 * hw), (gq - gr) / (2 * hb)]
    analytic = surface.hessian_matrix(w, b)
    scale = float(np.max(np.abs(analytic)))
    assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-6 * scale)


@pytest.mark.parametrize(
    "surface", [s for s in SURFACES if s.data.kind == "logistic"], ids=lambda s: s.id
)
@given(u=unit(), v=unit())
def test_logistic_value_is_the_textbook_cross_entropy(surface: Surface, u: float, v: float) -> None:
    """The stable formula equals −mean(y log σ + (1 − y) log(1 − σ)) where the latter is exact."""
    w, b = _point_in(surface, u, v)
    fit = surface.data
    z = w * (fit.x - fit.shift) / fit.scale + b
    if np.max(np.abs(z)) > 8:  # the textbook's 1 − σ(z) loses ~e^|z| ulps: it is no truth there
        return
    assert_allclose(float(surface.value(w, b)), _bce(surface, w, b), rtol=1e-11)


@pytest.mark.parametrize("kind", ["logistic", "linear"])
def test_functions_broadcast_over_a_grid_and_chunks(kind: Kind, monkeypatch) -> None:
    """A grid evaluated in many small chunks equals the point-by-point values."""
    d = get_builtin("overlap")
    surface = dataset_surface(kind, d.x, d.y, l2=0.05)
    monkeypatch.setattr(losses, "CHUNK_ELEMENTS", 3 * d.x.size)  # 3 cells per chunk
    ws = np.linspace(*surface.domain.x, 7)
    bs = np.linspace(*surface.domain.y, 5)
    ww, bb = np.meshgrid(ws, bs)
    z = np.asarray(surface.value(ww, bb))
    gw, gb = map(np.asarray, surface.grad(ww, bb))
    hww, hwb, hbb = map(np.asarray, surface.hess(ww, bb))
    for j, b in enumerate(bs):
        for i, w in enumerate(ws):
            assert_allclose(z[j, i], surface.value(w, b), rtol=1e-13)
            assert_allclose(
                [gw[j, i], gb[j, i]], np.array(surface.grad(w, b)), rtol=1e-12, atol=1e-15
            )
            assert_allclose(
                [hww[j, i], hwb[j, i], hbb[j, i]],
                np.array(surface.hess(w, b)),
                rtol=1e-12,
                atol=1e-15,
            )


@given(
    x=st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=30),
    w=st.sampled_from([-3.0, -0.5, -0.0, 0.0, 1e-9, 0.5, 2.0, 1e4]),
    b=st.floats(-1e4, 1e4, allow_nan=False),
    sign=st.sampled_from([1.0, -1.0]),
)
def test_hinge_sums_equal_the_direct_sum(x, w, b, sign) -> None:
    """Σ max(s·(w·x_i + b), 0) from sorted prefix sums equals math.fsum of the terms."""
    xs = np.array(x)
    got = losses._Hinge(xs, sign)(np.array([w]), np.array([b]))[0]
    expected = math.fsum(max(sign * (w * xi + b), 0.0) for xi in x)
    assert got >= 0.0
    assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * (abs(w) * 1e3 + abs(b)))


@pytest.mark.parametrize("z", [30.0, 800.0, 1e4, 1e6, 1e12])
def test_logistic_loss_is_finite_and_silent_for_huge_margins(z: float) -> None:
    """For |w·x + b| up to 1e4 and beyond: no warning, no NaN; a point on the wrong side costs
    |z| and one on the right side ~0, as log(1 + e^z) − yz says."""
    x, y = np.array([-1.0, 1.0]), np.array([1.0, 1.0])  # z = ∓w at b = 0
    surface = dataset_surface("logistic", x, np.array([0.0, 1.0]))  # both labels, for checks
    loss = losses.Logistic(x, y)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        value = float(loss.value(z, 0.0))  # the first point is on the wrong side by z
        grad = loss.grad(z, 0.0)
        hess = loss.hess(z, 0.0)
        grid = surface.value(np.array([-z, 0.0, z]), np.array([z, 0.0, -z]))
    assert math.isfinite(value) and all(map(math.isfinite, (*grad, *hess)))
    assert np.all(np.isfinite(grid))
    assert_allclose(value, (z + math.log1p(math.exp(-z))) / 2, rtol=1e-12)
    assert_allclose(
        np.array(grad), (0.5, -0.5), rtol=1e-12
    )  # (σ(−z) − 1)·(−1)/2 and (σ(−z) − 1 + 1)/2


def test_gd_on_linear_converges_to_lstsq() -> None:
    """Plain GD with the surface's η reaches numpy.linalg.lstsq's solution within 1e-6."""
    for dataset, standardize in (("trend", False), ("house_prices", True)):
        d = get_builtin(dataset)
        surface = dataset_surface("linear", d.x, d.y, standardize=standardize)
        fit = surface.data
        u = (d.x - fit.shift) / fit.scale
        solution = np.linalg.lstsq(np.c_[u, np.ones_like(u)], d.y, rcond=None)[0]
        path = run_to_end(
            surface,
            GD(surface.default_eta),
            surface.default_start,
            StopRules(max_steps=10_000, tol=1e-10),
        )
        assert path[-1].status == "converged"
        assert_allclose(path[-1].theta, solution, atol=1e-6)
        assert_allclose((surface.minima[0].x, surface.minima[0].y), solution, atol=1e-10)


def test_ridge_minimum_is_the_penalised_least_squares_fit() -> None:
    """mean r² + (λ/2)w² = (1/n)(‖r‖² + (nλ/2) w²): lstsq on the data plus one penalty row."""
    d = get_builtin("trend")
    lam = 0.7
    surface = dataset_surface("linear", d.x, d.y, l2=lam)
    a = np.r_[np.c_[d.x, np.ones_like(d.x)], [[math.sqrt(d.x.size * lam / 2), 0.0]]]
    solution = np.linalg.lstsq(a, np.r_[d.y, 0.0], rcond=None)[0]
    assert_allclose((surface.minima[0].x, surface.minima[0].y), solution, atol=1e-10)


def _sklearn(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[float, float]:
    # sklearn minimises C·Σ logloss + ½‖w‖² with the intercept unpenalised (lbfgs), i.e.
    # (1/(nC))·(mean logloss + ½‖w‖²/(nC)) scaled: our λ is 1/(nC), so C = 1/(nλ). No penalty is
    # C = ∞ (spelled penalty=None before scikit-learn 1.8 deprecated it).
    c = np.inf if l2 == 0.0 else 1.0 / (x.size * l2)
    model = LogisticRegression(C=c, tol=1e-12, max_iter=10_000).fit(x[:, None], y)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


@pytest.mark.parametrize("l2", [0.0, 0.01, 0.5])
@pytest.mark.parametrize("standardize", [False, True])
def test_logistic_optimum_matches_scikit_learn(l2: float, standardize: bool) -> None:
    """θ* on the overlapping classes equals sklearn's fit to 1e-4, with and without a penalty."""
    d = get_builtin("overlap")
    surface = dataset_surface("logistic", d.x, d.y, l2=l2, standardize=standardize)
    fit = surface.data
    assert len(surface.minima) == 1 and surface.note == ""
    expected = _sklearn((d.x - fit.shift) / fit.scale, d.y, l2)
    theta = (surface.minima[0].x, surface.minima[0].y)
    assert_allclose(theta, expected, atol=1e-4)
    assert np.hypot(*surface.grad(*theta)) < 1e-12


def test_separable_classes_have_no_finite_minimum() -> None:
    """λ = 0 on separable data: nothing marked, and the note says why; λ > 0 restores θ*."""
    d = get_builtin("separable")
    surface = dataset_surface("logistic", d.x, d.y)
    assert surface.minima == () and surface.data.optimum is None
    assert "separable" in surface.note and "no finite minimum" in surface.note
    # Along w → ∞ with the boundary between the classes, the loss keeps falling towards 0.
    cut = (d.x[d.y == 0].max() + d.x[d.y == 1].min()) / 2
    values = [float(surface.value(w, -w * cut)) for w in (1, 10, 100)]
    assert values[0] > values[1] > values[2] > 0
    penalised = dataset_surface("logistic", d.x, d.y, l2=0.1)
    assert len(penalised.minima) == 1 and penalised.note == ""
    assert_allclose(
        (penalised.minima[0].x, penalised.minima[0].y), _sklearn(d.x, d.y, 0.1), atol=1e-4
    )


def test_separability_rule_in_one_dimension() -> None:
    y = np.array([0.0, 0.0, 1.0, 1.0])
    assert separable(np.array([0.0, 1.0, 2.0, 3.0]), y)
    assert separable(np.array([2.0, 3.0, 0.0, 1.0]), y)  # class 1 on the left
    assert separable(np.array([0.0, 1.0, 1.0, 3.0]), y)  # touching at x = 1: still no minimum
    assert not separable(np.array([0.0, 2.0, 1.0, 3.0]), y)  # interleaved


@given(
    data=st.lists(
        st.tuples(
            st.floats(-1e6, 1e6, allow_nan=False),
            st.floats(-1e6, 1e6, allow_nan=False),
            st.booleans(),
        ),
        min_size=2,
        max_size=40,
    ),
    scale=st.sampled_from([1e-5, 1.0, 1e5]),
    l2=st.sampled_from([0.0, 1e-3, 10.0]),
    standardize=st.booleans(),
)
def test_any_valid_data_give_a_finite_surface(data, scale, l2, standardize) -> None:
    """Whatever data pass validation, both models build a surface whose landmarks, domain, start
    and step size are finite numbers (so no response can hold NaN), and θ* is stationary."""
    x = np.clip(np.array([p[0] for p in data]) * scale, -1e6, 1e6)
    kinds: tuple[tuple[Kind, Array], ...] = (
        ("linear", np.array([p[1] for p in data])),
        ("logistic", np.array([float(p[2]) for p in data])),
    )
    for kind, y in kinds:
        try:
            check_data(x, y, kind)
        except DataError:
            continue
        surface = dataset_surface(kind, x, y, l2=l2, standardize=standardize)
        numbers = [
            *surface.domain.x,
            *surface.domain.y,
            *surface.default_start,
            surface.default_eta,
        ]
        for m in surface.minima:
            numbers += [m.x, m.y, m.value]
        assert all(math.isfinite(v) for v in numbers)
        assert 0 < surface.default_eta <= 1e4
        assert surface.domain.contains(*surface.default_start)
        if surface.minima:
            m = surface.minima[0]
            h = surface.hessian_matrix(m.x, m.y)
            g = np.array(surface.grad(m.x, m.y), dtype=float)
            # Stationary up to rounding: the Newton step left from θ* is negligible.
            step = np.linalg.solve(h, g)
            assert np.all(np.abs(step) <= 1e-6 * (1.0 + np.abs([m.x, m.y])))
        else:
            assert kind == "logistic" and l2 == 0.0 and surface.note


def test_surfaces_are_cached_by_content() -> None:
    d = get_builtin("overlap")
    first = dataset_surface("logistic", d.x, d.y)
    assert dataset_surface("logistic", d.x.copy(), d.y.copy()) is first
    assert dataset_surface("logistic", d.x, d.y, l2=0.1) is not first


def test_builtins_suit_their_models_and_are_deterministic() -> None:
    assert {"overlap", "separable", "trend", "house_prices"} <= set(BUILTINS)
    for d in BUILTINS.values():
        assert d.kind in d.kinds
        check_data(d.x, d.y, d.kind)
    assert not separable(BUILTINS["overlap"].x, BUILTINS["overlap"].y)
    assert separable(BUILTINS["separable"].x, BUILTINS["separable"].y)
    house = BUILTINS["house_prices"]
    raw = dataset_surface("linear", house.x, house.y)
    std = dataset_surface("linear", house.x, house.y, standardize=True)
    cond = [np.linalg.cond(s.hessian_matrix(0.0, 0.0)) for s in (raw, std)]
    assert cond[0] > 1e5 and cond[1] < 10  # the lesson: rescaling x rounds the surface


# --- minibatch SGD -----------------------------------------------------------------------------


def test_minibatch_gradients_average_to_the_full_gradient() -> None:
    """Over one epoch of equal batches every point is used once: the mean of the batch gradients
    is the full gradient; a batch as large as the data is the full gradient."""
    d = get_builtin("overlap")  # 120 points: 12 batches of 10
    surface = dataset_surface("logistic", d.x, d.y, l2=0.1)
    step = minibatch_gradient(surface.data, 10, seed=3)
    grads = np.array([step(t, 0.7, -0.2) for t in range(12, 24)])  # epoch 1
    assert_allclose(grads.mean(axis=0), np.array(surface.grad(0.7, -0.2)), rtol=1e-12)
    assert not np.allclose(grads[0], grads[1])
    full = minibatch_gradient(surface.data, 10_000, seed=3)
    assert_allclose(np.array(full(5, 0.7, -0.2)), np.array(surface.grad(0.7, -0.2)), rtol=1e-12)


def test_same_seed_same_path_different_seed_different_path() -> None:
    d = get_builtin("overlap")
    surface = dataset_surface("logistic", d.x, d.y)
    rules = StopRules(max_steps=200, tol=1e-9)

    def path(seed: int) -> list:
        step = minibatch_gradient(surface.data, 8, seed)
        return run_to_end(surface, GD(0.5), (-1.0, 2.0), rules, step_gradient=step)

    a, b, c = path(1), path(1), path(2)
    assert [it.theta for it in a] == [it.theta for it in b]
    assert [it.theta for it in a] != [it.theta for it in c]
    # The reported loss and gradient are the full batch's, and the path ends near θ*.
    for it in a[::50]:
        assert it.loss == float(surface.value(*it.theta))
        assert_allclose(np.array(it.grad), np.array(surface.grad(*it.theta)), rtol=1e-12)
    m = surface.minima[0]
    assert math.hypot(a[-1].theta[0] - m.x, a[-1].theta[1] - m.y) < 0.5


# --- CSV ---------------------------------------------------------------------------------------


def test_csv_with_and_without_header() -> None:
    x, y, header = parse_csv(b"\xef\xbb\xbfhours,passed\r\n0.5,0\r\n\r\n1.5,1\r\n2,0\r\n")
    assert header == ["hours", "passed"]
    assert_allclose(x, [0.5, 1.5, 2.0])
    assert_allclose(y, [0, 1, 0])
    x, y, header = parse_csv(" 1, 2.5\n3,4e1\n", kind="linear")
    assert header is None and x.tolist() == [1.0, 3.0] and y.tolist() == [2.5, 40.0]


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("x,y\n1,2\n2,abc\n", None, "row 3: y = 'abc' is not a number"),
        ("x,y\n1,0\nnan,1\n", None, "row 3: x = nan is not a finite number"),
        ("x,y\n1,0\n2,1,5\n", None, "row 3: expected 2 columns (x, y), found 3"),
        ("1\n2\n", None, "row 1: expected 2 columns (x, y), found 1"),
        ("x,y\n1,0\n2,1\n3,2\n", "logistic", "row 4: y = 2 is not a label"),
        ("x,y\n1,0\n2,inf\n", None, "row 3: y = inf is not a finite number"),
        ("x,y\n1,0\n2,1e7\n", None, "row 3: y = 1e+07 is outside ±1e+06"),
        ("x,y\n", None, "no data rows"),
        ("x,y\n1,0\n1,1\n", None, "Every x is 1"),
        ("x,y\n1,0\n2,0\n", "logistic", "both classes"),
        ("1,abc\n2,3\n", None, "row 1: y = 'abc' is not a number"),
    ],
)
def test_bad_csv_names_the_row_and_the_problem(text: str, kind: str | None, expected: str) -> None:
    with pytest.raises(DataError) as info:
        parse_csv(text.encode(), kind=kind)  # type: ignore[arg-type]
    assert expected in info.value.message


def test_csv_size_limits() -> None:
    rows = "".join(f"{i},{i % 2}\n" for i in range(MAX_ROWS))
    x, _, _ = parse_csv(rows.encode())
    assert x.size == MAX_ROWS
    with pytest.raises(DataError, match=f"row {MAX_ROWS + 2}: .*at most 10,000"):
        parse_csv(("x,y\n" + rows + "1,1\n").encode())
    with pytest.raises(DataError, match="at most 1,000,000 bytes"):
        parse_csv(b"1,1\n" * (MAX_BYTES // 4 + 1))
    with pytest.raises(DataError, match="not UTF-8"):
        parse_csv(b"x,y\n1,\xff\n")
