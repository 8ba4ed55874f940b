"""The page with your own formula (issue 5): typed, typeset, drawn, dragged, run; errors shown."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect

from tests.browser.conftest import open_page, wait_settled
from tests.browser.test_page import drag

FORMULA = "(x - 1)**2 + 2*(y + 0.5)**2 + 0.5*sin(2*x)"


def test_a_typed_formula_is_typeset_drawn_dragged_and_run_to_a_minimum(
    page: Page, base_url: str
) -> None:
    open_page(page, base_url + "/")
    page.get_by_role("button", name="Your formula").click()
    page.locator("#fx-text").fill(FORMULA)
    page.wait_for_function(
        "(f) => window.descentLab.state.surface.startsWith('formula?')"
        " && new URLSearchParams(location.search).get('f') === f",
        arg=FORMULA,
    )
    wait_settled(page)
    # f and ∇f typeset as MathML, rendered by the browser
    expect(page.locator("#fx-math math")).to_have_count(3)
    box = page.locator("#fx-math math").first.bounding_box()
    assert box is not None and box["width"] > 40
    assert page.locator("#formula-panel").is_visible() and not page.locator("#surface").is_visible()
    # both plots drawn from the formula's grid; its stationary points marked
    assert page.locator("#contour .contourlayer path").count() > 10
    assert page.locator("#surface3d canvas").count() > 0
    query = parse_qs(urlparse(page.url).query)
    assert query["surface"] == ["formula"] and query["fx"] == ["-3,3"]
    # drag θ₀ and run to a minimum
    drag(page, tuple(page.evaluate("window.descentLab.state.theta0")), (-2.0, 2.0))
    wait_settled(page)
    expect(page.locator("#status")).to_have_attribute("data-status", "converged")
    expect(page.locator("#status-message")).to_contain_text("minimum")
    x, y = page.evaluate("window.descentLab.run.path.at(-1)")
    assert abs(y + 0.5) < 1e-3  # ∂f/∂y = 4(y + 0.5) vanishes only there
    assert page.evaluate("window.descentLab.state.theta0")[0] < -1.5
    assert page.problems.errors == []  # type: ignore[attr-defined]


def test_a_bad_formula_shows_its_error_with_a_caret_under_the_column(
    page: Page, base_url: str
) -> None:
    open_page(page, base_url + "/?surface=formula&f=x**2%2By**2&fx=-2,2&fy=-2,2")
    expect(page.locator("#fx-text")).to_have_value("x**2+y**2")
    expect(page.locator("#fx-math math")).to_have_count(3)
    before = page.url
    page.locator("#fx-text").fill("sin(x) +* y")
    error = page.locator("#fx-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("column 9")
    lines = (error.text_content() or "").splitlines()
    assert lines[-2] == "sin(x) +* y" and lines[-1].index("^") == 8
    expect(page.locator("#fx-text")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#fx-math math")).to_have_count(0)
    assert page.url == before  # the run on show and its link stay those of the last good formula
    page.locator("#fx-text").fill("sin(x) + y**2")
    expect(error).to_be_hidden()
    page.wait_for_function(
        "() => new URLSearchParams(location.search).get('f') === 'sin(x) + y**2'"
    )
    wait_settled(page)
    errors = [e for e in page.problems.errors if "422" not in e]  # type: ignore[attr-defined]
    assert errors == []  # the 422 of the bad formula is the only failed request


def test_a_formula_link_reopens_the_typed_text_and_domain(page: Page, base_url: str) -> None:
    open_page(
        page, base_url + "/?surface=formula&f=x**2%20%2B%203*y**2&fx=-1,2&fy=-4,4&x0=1.5&y0=3"
    )
    expect(page.locator("#fx-text")).to_have_value("x**2 + 3*y**2")
    assert [page.locator(f"#fx-{k}").input_value() for k in ("xmin", "xmax", "ymin", "ymax")] == [
        "-1",
        "2",
        "-4",
        "4",
    ]
    assert page.evaluate("window.descentLab.state.theta0") == [1.5, 3]
    expect(page.get_by_role("button", name="Your formula")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.get_by_role("button", name="Preset").click()
    page.wait_for_function(
        "() => new URLSearchParams(location.search).get('surface') === 'himmelblau'"
    )
    page.go_back()
    expect(page.locator("#fx-text")).to_have_value("x**2 + 3*y**2")
    wait_settled(page)
