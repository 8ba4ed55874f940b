"""The gradient field (GET /api/surfaces/{id}/field, POST /api/field): its arrows are the analytic
gradient at the grid's points, which agrees with central differences of the value; every kind
of surface is accepted; caps and empty ranges are a 4xx that says why."""

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient
from numpy.testing import assert_allclose

from app.api.field_schemas import MAX_FIELD_N, MIN_FIELD_N
from app.core.formulas import sandbox
from app.core.surfaces.presets import PRESETS, get_preset

HIMMELBLAU = "(x**2 + y - 11)**2 + (x + y**2 - 7)**2"


def strict_json(text: str):
    """Parse JSON, failing on NaN or Infinity (which are not JSON)."""

    def refuse(constant: str):
        raise AssertionError(f"non-JSON constant {constant} in response")

    return json.loads(text, parse_constant=refuse)


def get_field(client: TestClient, surface_id: str, **params) -> dict:
    response = client.get(f"/api/surfaces/{surface_id}/field", params=params)
    assert response.status_code == 200, response.text
    return strict_json(response.text)


def post_field(client: TestClient, body: dict) -> dict:
    response = client.post("/api/field", json=body)
    assert response.status_code == 200, response.text
    return strict_json(response.text)


def arrays(field: dict) -> tuple[np.ndarray, ...]:
    xx, yy = np.meshgrid(np.array(field["x"]), np.array(field["y"]))
    nan = lambda rows: np.array([[np.nan if v is None else v for v in row] for row in rows])  # noqa: E731
    return xx, yy, nan(field["gx"]), nan(field["gy"])


@pytest.mark.parametrize("surface_id", list(PRESETS))
def test_field_is_the_analytic_gradient_and_matches_finite_differences(
    client: TestClient, surface_id: str
) -> None:
    surface = get_preset(surface_id)
    field = get_field(client, surface_id, n=13)
    assert len(field["x"]) == len(field["y"]) == 13
    assert len(field["gx"]) == len(field["gy"]) == 13 and all(len(r) == 13 for r in field["gx"])
    assert field["x"][0] == surface.domain.x[0] and field["x"][-1] == surface.domain.x[1]
    assert field["y"][0] == surface.domain.y[0] and field["y"][-1] == surface.domain.y[1]
    xx, yy, gx, gy = arrays(field)
    # gx[j][i] is ∂L/∂x at (x[i], y[j]): rows follow y.
    ex, ey = surface.grad(xx, yy)
    assert_allclose(gx, ex, rtol=1e-14, atol=0)
    assert_allclose(gy, ey, rtol=1e-14, atol=0)
    # The gradient is that of the value: central differences, step h, error O(h²).
    h = 1e-5
    fx = (surface.value(xx + h, yy) - surface.value(xx - h, yy)) / (2 * h)
    fy = (surface.value(xx, yy + h) - surface.value(xx, yy - h)) / (2 * h)
    scale = np.abs(surface.value(xx, yy)) + 1
    assert_allclose(gx, fx, rtol=1e-5, atol=1e-5 * scale.max())
    assert_allclose(gy, fy, rtol=1e-5, atol=1e-5 * scale.max())


def test_quadratic_field_points_away_from_the_minimum(client: TestClient) -> None:
    """On the quadratic L = x² + y², ∇L = 2(x, y): every arrow points straight away from 0."""
    xx, yy, gx, gy = arrays(get_field(client, "quadratic", n=7))
    assert_allclose(gx, 2 * xx, rtol=1e-15)
    assert_allclose(gy, 2 * yy, rtol=1e-15)


def test_bounds_and_the_post_form_agree_with_the_get_form(client: TestClient) -> None:
    params = {"n": 9, "xmin": -1, "xmax": 2, "ymin": 0.5}
    got = get_field(client, "rosenbrock", **params)
    assert got["x"][0] == -1 and got["x"][-1] == 2 and got["y"][0] == 0.5 and got["y"][-1] == 3
    assert post_field(client, {"surface": "rosenbrock", **params}) == got
    assert post_field(client, {"surface": "himmelblau"}) == get_field(client, "himmelblau")
    assert len(get_field(client, "himmelblau")["x"]) == 20  # the default n


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"n": MAX_FIELD_N + 1}, f"n: Input should be less than or equal to {MAX_FIELD_N}"),
        ({"n": MIN_FIELD_N - 1}, f"n: Input should be greater than or equal to {MIN_FIELD_N}"),
        ({"n": 10_000_000}, f"less than or equal to {MAX_FIELD_N}"),
        ({"xmin": 2, "xmax": 1}, "Invalid x range [2.0, 1.0]: need finite bounds with min < max"),
        ({"ymin": "nan"}, "ymin: Input should be a finite number"),
        ({"xmax": 1e7}, "xmax: Input should be less than or equal to 1000000"),
    ],
)
def test_bad_parameters_are_a_422_that_says_why(
    client: TestClient, params: dict, says: str
) -> None:
    response = client.get("/api/surfaces/booth/field", params=params)
    assert response.status_code == 422
    assert says in response.json()["message"]
    if "nan" not in params.values():  # JSON has no NaN
        response = client.post("/api/field", json={"surface": "booth", **params})
        assert response.status_code == 422
        assert says in response.json()["message"]


def test_unknown_surface_is_404(client: TestClient) -> None:
    assert client.get("/api/surfaces/nope/field").status_code == 404
    assert client.post("/api/field", json={"surface": "nope"}).status_code == 422  # not an id


def test_formula_field_is_its_gradient(client: TestClient) -> None:
    sandbox.warm_up()
    spec = {"expression": HIMMELBLAU, "domain": {"x": [-5, 5], "y": [-5, 5]}}
    field = post_field(client, {"surface": spec, "n": 11})
    xx, yy, gx, gy = arrays(field)
    ex, ey = get_preset("himmelblau").grad(xx, yy)
    assert_allclose(gx, ex, rtol=1e-12, atol=1e-9)
    assert_allclose(gy, ey, rtol=1e-12, atol=1e-9)


def test_formula_with_a_constant_gradient_fills_the_grid(client: TestClient) -> None:
    sandbox.warm_up()
    field = post_field(client, {"surface": {"expression": "2*x - y"}, "n": 5})
    assert field["gx"] == [[2.0] * 5] * 5 and field["gy"] == [[-1.0] * 5] * 5


def test_a_gradient_that_is_not_finite_is_null(client: TestClient) -> None:
    """√x has no real gradient for x < 0 and an infinite one at 0: those arrows are null (both
    components), the others are 1/(2√x)."""
    sandbox.warm_up()
    spec = {"expression": "sqrt(x) + y", "domain": {"x": [-2, 2], "y": [-1, 1]}}
    field = post_field(client, {"surface": spec, "n": 5})  # x = -2, -1, 0, 1, 2
    for row_x, row_y in zip(field["gx"], field["gy"], strict=True):
        assert row_x[:3] == [None] * 3 and row_y[:3] == [None] * 3
        assert row_x[3:] == pytest.approx([0.5, 0.5 / np.sqrt(2)]) and row_y[3:] == [1.0, 1.0]


def test_a_bad_formula_is_a_422_with_its_position(client: TestClient) -> None:
    response = client.post("/api/field", json={"surface": {"expression": "x + foo"}})
    assert response.status_code == 422
    assert "foo" in response.json()["message"]


def test_dataset_field_is_its_gradient(client: TestClient) -> None:
    from app.api.dataset_schemas import DatasetSurface
    from app.api.resolve import resolve_surface

    spec = {"kind": "logistic", "dataset": "overlap", "l2": 0.1}
    field = post_field(client, {"surface": spec, "n": 9})
    xx, yy, gx, gy = arrays(field)
    ex, ey = resolve_surface(DatasetSurface.model_validate(spec)).grad(xx, yy)
    assert_allclose(gx, ex, rtol=1e-14)
    assert_allclose(gy, ey, rtol=1e-14)
