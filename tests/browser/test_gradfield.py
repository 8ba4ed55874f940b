"""The gradient field over the contour (issue 8, lesson 1): a toggle kept in the URL, arrows that
point uphill (checked against the analytic gradient from their SVG coordinates), −∇L at the
current iterate, and a field that follows the surface and the visible window."""

from __future__ import annotations

import math
import re

import pytest
from playwright.sync_api import Page, expect

from app.core.surfaces.presets import get_preset
from tests.browser.conftest import open_page, wait_settled

ARROWS = ".gradfield .gf-arrows line[visibility=visible]"

# Every visible arrow: its data point, its ends in the layer's pixels, and where the contour's
# public mapping puts that data point (in the same pixels).
READ_ARROWS = """() => {
  const view = window.descentLab.contour;
  const box = document.querySelector('.gradfield').getBoundingClientRect();
  const lines = document.querySelectorAll('.gradfield .gf-arrows line[visibility=visible]');
  return [...lines].map((l) => {
    const x = Number(l.dataset.x), y = Number(l.dataset.y);
    const [px, py] = view.toPixels(x, y);
    const a = ['x1', 'y1', 'x2', 'y2'].map((k) => Number(l.getAttribute(k)));
    return { x, y, x1: a[0], y1: a[1], x2: a[2], y2: a[3], px: px - box.left, py: py - box.top };
  });
}"""


def arrows(page: Page) -> list[dict]:
    return page.evaluate(READ_ARROWS)


def wait_arrows(page: Page, surface: str) -> None:
    """Until the layer shows the field of `surface` (the surface on show) with some arrows."""
    page.wait_for_function(
        """(id) => window.descentLab.contour.surface.id === id
             && window.descentLab.gradField.field?.id === id
             && document.querySelectorAll(
                  '.gradfield .gf-arrows line[visibility=visible]').length > 0""",
        arg=surface,
    )


def assert_uphill(page: Page, surface: str) -> int:
    """Each arrow lies along ∇L at its data point (screen y flipped), centred on that point."""
    grad = get_preset(surface).grad
    checked = 0
    for a in arrows(page):
        gx, gy = grad(a["x"], a["y"])
        dx, dy = a["x2"] - a["x1"], a["y2"] - a["y1"]
        length = math.hypot(dx, dy)
        assert length >= 3
        # The plot keeps the domain's aspect ratio, so a data direction is a screen direction.
        cos = (dx * gx - dy * gy) / (length * math.hypot(gx, gy))
        assert cos > 0.995, (a, gx, gy)
        assert (a["x1"] + a["x2"]) / 2 == pytest.approx(a["px"], abs=0.2)
        assert (a["y1"] + a["y2"]) / 2 == pytest.approx(a["py"], abs=0.2)
        checked += 1
    return checked


def test_toggle_draws_arrows_is_kept_in_the_url_and_on_reload(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/?surface=himmelblau")
    toggle = page.get_by_test_id("gradfield-toggle")
    expect(toggle).not_to_be_checked()
    expect(page.locator(".gradfield")).to_be_hidden()
    toggle.check()
    wait_arrows(page, "himmelblau")
    assert page.locator(ARROWS).count() > 20
    expect(page).to_have_url(re.compile(r"[?&]field=1(&|$)"))
    assert page.evaluate("window.descentLab.state.field") is True
    page.reload()
    page.wait_for_function("() => document.getElementById('app').dataset.state === 'ready'")
    expect(toggle).to_be_checked()
    wait_arrows(page, "himmelblau")
    assert assert_uphill(page, "himmelblau") > 20
    toggle.uncheck()
    expect(page.locator(".gradfield")).to_be_hidden()
    expect(page).not_to_have_url(re.compile("field="))
    assert page.problems.errors == []  # type: ignore[attr-defined]


def test_quadratic_arrows_point_away_from_the_minimum(page: Page, base_url: str) -> None:
    """On L = x² + y², ∇L = 2(x, y): every arrow points straight away from (0, 0), and −∇L at
    θ₀ = (−2.5, 2) points back towards it."""
    open_page(page, base_url + "/?surface=quadratic&x0=-2.5&y0=2&field=1")
    wait_arrows(page, "quadratic")
    assert assert_uphill(page, "quadratic") > 20
    # A known point: the arrow nearest (2, 1) points right and up on screen (y flipped).
    a = min(arrows(page), key=lambda a: math.hypot(a["x"] - 2, a["y"] - 1))
    assert a["x2"] > a["x1"] and a["y2"] < a["y1"]
    angle = math.atan2(-(a["y2"] - a["y1"]), a["x2"] - a["x1"])
    assert angle == pytest.approx(math.atan2(2 * a["y"], 2 * a["x"]), abs=0.05)
    # Farther from the minimum the slope is steeper, so the arrow is longer.
    by_radius = sorted(arrows(page), key=lambda a: math.hypot(a["x"], a["y"]))
    length = lambda a: math.hypot(a["x2"] - a["x1"], a["y2"] - a["y1"])  # noqa: E731
    assert length(by_radius[-1]) > length(by_radius[0])
    # −∇L at the current iterate: back to the first one, θ₀.
    page.locator("body").press("Home")
    expect(page.locator("#r-t")).to_have_text("0")
    neg = page.locator(".gradfield .gf-neg")
    expect(neg).to_have_attribute("visibility", "visible")
    x1, y1, x2, y2 = (float(neg.get_attribute(k) or "nan") for k in ("x1", "y1", "x2", "y2"))
    start = page.evaluate(
        """() => { const b = document.querySelector('.gradfield').getBoundingClientRect();
                   const [x, y] = window.descentLab.contour.toPixels(-2.5, 2);
                   return [x - b.left, y - b.top]; }"""
    )
    assert (x1, y1) == pytest.approx(start, abs=0.2)
    cos = ((x2 - x1) * 2.5 + (y2 - y1) * 2) / (math.hypot(x2 - x1, y2 - y1) * math.hypot(2.5, 2))
    assert cos > 0.999  # −∇L = −2(−2.5, 2) = (5, −4): right and down on screen
    assert page.problems.errors == []  # type: ignore[attr-defined]


def test_switching_surface_keeps_the_toggle_and_redraws(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/?surface=quadratic&field=1")
    wait_arrows(page, "quadratic")
    page.select_option("#surface", "rosenbrock")
    wait_arrows(page, "rosenbrock")
    wait_settled(page)
    expect(page.get_by_test_id("gradfield-toggle")).to_be_checked()
    expect(page).to_have_url(re.compile(r"surface=rosenbrock.*field=1"))
    assert assert_uphill(page, "rosenbrock") > 20
    xs = [a["x"] for a in arrows(page)]
    assert -2 < min(xs) and max(xs) < 2  # Rosenbrock's window, not the quadratic's [-3, 3]
    assert page.problems.errors == []  # type: ignore[attr-defined]


def test_field_follows_a_zoom_within_the_domain(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/?surface=himmelblau&field=1")
    wait_arrows(page, "himmelblau")
    page.evaluate("Plotly.relayout('contour', {'xaxis.range': [1, 2.5], 'yaxis.range': [0.5, 2]})")
    page.wait_for_function(
        """() => {
             const ls = [...document.querySelectorAll(
               '.gradfield .gf-arrows line[visibility=visible]')];
             return ls.length > 20 && ls.every((l) => l.dataset.x >= 1 && l.dataset.x <= 2.5
                                                && l.dataset.y >= 0.5 && l.dataset.y <= 2); }"""
    )
    assert assert_uphill(page, "himmelblau") > 20
    # Zoomed out past the domain, the arrows stay where the contour is drawn: [-5, 5]².
    page.evaluate("Plotly.relayout('contour', {'xaxis.range': [-8, 12], 'yaxis.range': [-12, 8]})")
    page.wait_for_function(
        """() => {
             const ls = [...document.querySelectorAll(
               '.gradfield .gf-arrows line[visibility=visible]')];
             return ls.length > 20 && ls.some((l) => l.dataset.x > 4)
               && ls.some((l) => l.dataset.y < -4)
               && ls.every((l) => Math.abs(l.dataset.x) < 5 && Math.abs(l.dataset.y) < 5); }"""
    )
    assert assert_uphill(page, "himmelblau") > 20
    assert page.problems.errors == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "query",
    [
        "surface=formula&f=x**2%2B3*y**2&fx=-3,3&fy=-3,3",
        "surface=data&model=logistic&dataset=overlap",
    ],
)
def test_field_on_formula_and_dataset_surfaces(page: Page, base_url: str, query: str) -> None:
    open_page(page, f"{base_url}/?{query}&field=1")
    page.wait_for_function(
        """() => window.descentLab.gradField.field?.id === window.descentLab.contour.surface.id
             && document.querySelectorAll(
                  '.gradfield .gf-arrows line[visibility=visible]').length > 20"""
    )
    if query.startswith("surface=formula"):  # ∇L = (2x, 6y)
        for a in arrows(page):
            dx, dy = a["x2"] - a["x1"], a["y2"] - a["y1"]
            gx, gy = 2 * a["x"], 6 * a["y"]
            assert (dx * gx - dy * gy) / (math.hypot(dx, dy) * math.hypot(gx, gy)) > 0.995
    assert page.problems.errors == []  # type: ignore[attr-defined]
