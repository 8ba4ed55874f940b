"""Basins of attraction on the page (issue 6): progress bar, overlay with a legend, click to run."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import open_page, wait_settled

HIMMELBLAU_MINIMA = [
    (3.0, 2.0),
    (-2.805118, 3.131312),
    (-3.779310, -3.283186),
    (3.584428, -1.848126),
]


def test_basins_overlay_legend_and_click_runs_to_that_minimum(page: Page, base_url: str) -> None:
    open_page(page, f"{base_url}/?surface=himmelblau&opt=gd&eta=0.01&x0=0&y0=0&n=64")
    page.select_option("#basins-n", "64")
    page.click("#basins")
    legend = page.get_by_test_id("basins-legend")
    expect(legend.locator("li")).to_have_count(4, timeout=20_000)  # four minima of Himmelblau
    expect(page.locator("#basins-progress")).to_be_hidden()
    expect(page.locator(".basins-canvas")).to_be_visible()
    expect(legend).to_contain_text("(3, 2)")
    expect(page.locator("#basins")).to_have_attribute("aria-pressed", "true")

    # The cell near (-3.5, -3) lies in the basin of (-3.78, -3.28): its colour and its run agree.
    dest = page.evaluate("""() => {
        const r = window.descentLab.basins.result;
        const i = r.x.reduce((b, v, k) => Math.abs(v + 3.5) < Math.abs(r.x[b] + 3.5) ? k : b, 0);
        const j = r.y.reduce((b, v, k) => Math.abs(v + 3) < Math.abs(r.y[b] + 3) ? k : b, 0);
        const m = r.landmarks[r.destination[j][i]];
        return [m.x, m.y];
    }""")
    assert dest == pytest.approx(HIMMELBLAU_MINIMA[2], abs=1e-3)
    px, py = page.evaluate("() => window.descentLab.contour.toPixels(-3.5, -3)")
    page.mouse.click(px, py)
    page.wait_for_function("() => Math.abs(window.descentLab.state.theta0[0] + 3.5) < 0.1")
    wait_settled(page)
    run = page.evaluate("() => window.descentLab.run")
    assert run["status"] == "converged"
    assert run["path"][-1] == pytest.approx(list(dest), abs=1e-2)

    # Other settings mark the overlay stale; it stays until recomputed.
    page.fill("#eta", "0.02")
    page.press("#eta", "Enter")
    expect(legend).to_have_attribute("data-stale", "true")
    assert not page.problems.errors  # type: ignore[attr-defined]


def test_the_basin_overlay_is_kept_in_the_url(page: Page, base_url: str, context) -> None:
    open_page(page, f"{base_url}/?surface=double_well&x0=0.5&y0=1")
    page.select_option("#basins-n", "64")
    page.click("#basins")
    page.wait_for_function("() => new URL(location.href).searchParams.get('basins') === '1'")
    shared = page.url
    fresh = context.new_page()
    open_page(fresh, shared)  # a shared link opens with the overlay computed
    expect(fresh.get_by_test_id("basins-legend").locator("li")).to_have_count(2, timeout=20_000)
    expect(fresh.locator("#basins")).to_have_attribute("aria-pressed", "true")
    fresh.click("#basins")  # off again: gone from the page and from the link
    expect(fresh.locator(".basins-canvas")).to_be_hidden()
    fresh.wait_for_function("() => !new URL(location.href).searchParams.has('basins')")


def test_sweep_chart_and_click_loads_eta(page: Page, base_url: str) -> None:
    open_page(page, f"{base_url}/?surface=quadratic&opt=gd&eta=0.1&x0=1&y0=1")
    page.click("#sweep")
    chart = page.get_by_test_id("sweep-chart")
    expect(chart.locator(".point").first).to_be_visible()
    expect(page.locator("#sweep-note")).to_contain_text("2/λ_max")
    limit = page.evaluate("() => window.descentLab.sweep.result.stability_limit")
    assert limit > 0
    # Click the first point (the smallest η) and the page loads it.
    eta0 = page.evaluate("() => window.descentLab.sweep.result.eta[0]")
    point = chart.locator(".point").first
    point.scroll_into_view_if_needed()
    box = point.bounding_box()
    assert box is not None
    page.mouse.move(
        box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    )  # Plotly clicks what it hovers
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function(f"() => Math.abs(window.descentLab.state.eta / {eta0} - 1) < 1e-3")
    wait_settled(page)
    assert not page.problems.errors  # type: ignore[attr-defined]


def test_the_basin_overlay_follows_a_zoom_of_the_contour(page: Page, base_url: str) -> None:
    """After a zoom (as the scroll wheel or a pan makes), the canvas still covers the grid's
    cells where the contour now draws them, and is clipped to the plot area."""
    open_page(page, f"{base_url}/?surface=himmelblau&opt=gd&eta=0.01&x0=0&y0=0")
    page.select_option("#basins-n", "64")
    page.click("#basins")
    expect(page.get_by_test_id("basins-legend").locator("li")).to_have_count(4, timeout=20_000)

    def placement() -> dict:
        return page.evaluate("""() => {
            const { contour, basins } = window.descentLab;
            const { x, y } = basins.result;
            const hx = (x.at(-1) - x[0]) / (2 * (x.length - 1));
            const hy = (y.at(-1) - y[0]) / (2 * (y.length - 1));
            const [l, t] = contour.toPixels(x[0] - hx, y.at(-1) + hy);
            const [r, b] = contour.toPixels(x.at(-1) + hx, y[0] - hy);
            const box = basins.canvas.getBoundingClientRect();
            return { want: [l, t, r, b], got: [box.left, box.top, box.right, box.bottom],
                     clip: basins.canvas.style.clipPath };
        }""")

    before = placement()
    assert before["got"] == pytest.approx(before["want"], abs=1.0)
    page.evaluate("""() => Plotly.relayout(window.descentLab.contour.div,
                                            {"xaxis.range": [-1, 4], "yaxis.range": [0, 4]})""")
    page.wait_for_function("() => window.descentLab.contour.div.layout.xaxis.range[0] === -1")
    after = placement()
    assert after["got"] == pytest.approx(after["want"], abs=1.0)
    assert after["want"][2] - after["want"][0] > 1.5 * (before["want"][2] - before["want"][0])
    assert after["clip"] != "inset(0px 0px 0px 0px)"  # zoomed in: cells outside the plot are cut
    assert not page.problems.errors  # type: ignore[attr-defined]
