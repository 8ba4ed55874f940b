"""The page in a real browser: the acceptance checks of the page's issue."""

from __future__ import annotations

import base64
import csv
import io
import json
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import open_page, wait_settled

STATE = "window.descentLab.state"


def theta0(page: Page) -> list[float]:
    return page.evaluate(f"{STATE}.theta0")


def pixels_of(page: Page, x: float, y: float) -> tuple[float, float]:
    px, py = page.evaluate("([x, y]) => window.descentLab.contour.toPixels(x, y)", [x, y])
    return px, py


def drag(page: Page, start: tuple[float, float], end: tuple[float, float], steps: int = 12) -> None:
    """Drag θ₀ with the mouse from `start` to `end` (data coordinates), asserting that the path was
    recomputed and redrawn before the button is released."""
    x0, y0 = pixels_of(page, *start)
    x1, y1 = pixels_of(page, *end)
    before = page.evaluate("window.descentLab.stats.redraws")
    page.mouse.move(x0 - 3, y0)
    page.mouse.move(x0, y0)
    page.mouse.down()
    for k in range(1, steps + 1):
        page.mouse.move(x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps)
    page.wait_for_function(
        f"() => window.descentLab.stats.redraws > {before}"
    )  # redrawn while dragging
    page.mouse.up()


def test_page_loads_without_errors_and_draws_the_contour(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/")
    expect(page).to_have_title("Descent Lab")
    expect(page.locator("#status")).to_have_attribute("data-status", "converged")
    expect(page.locator("#status-message")).to_contain_text("global minimum")
    assert page.locator("#contour .contourlayer path").count() > 10
    assert page.locator(".overlay polyline.path").get_attribute("visibility") == "visible"
    page.locator("body").press("End")
    expect(page.locator("#r-t")).to_have_text("22")
    assert page.problems.errors == []  # type: ignore[attr-defined]


def test_surface_has_a_webgl_context_and_pixels(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/")
    has_gl = page.evaluate(
        """() => [...document.querySelectorAll('#surface3d canvas')].some((c) => {
             const gl = c.getContext('webgl') || c.getContext('webgl2')
               || c.getContext('experimental-webgl');
             return gl !== null && !gl.isContextLost() && c.width > 0 && c.height > 0;
           })"""
    )
    assert has_gl, "no live WebGL context in the 3-D view"
    png = page.locator("#surface3d").screenshot()
    colours = page.evaluate(
        """async (b64) => {
             const img = new Image();
             img.src = 'data:image/png;base64,' + b64;
             await img.decode();
             const c = document.createElement('canvas');
             c.width = img.width; c.height = img.height;
             const ctx = c.getContext('2d');
             ctx.drawImage(img, 0, 0);
             const d = ctx.getImageData(0, 0, c.width, c.height).data;
             const seen = new Set();
             for (let i = 0; i < d.length; i += 4 * 7) {
               seen.add((d[i] >> 3) << 10 | (d[i + 1] >> 3) << 5 | (d[i + 2] >> 3));
             }
             return seen.size;
           }""",
        base64.b64encode(png).decode(),
    )
    assert colours > 50, f"the 3-D view looks blank ({colours} colours)"


def test_dragging_theta0_to_another_basin_changes_the_minimum(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/?surface=himmelblau&opt=gd&eta=0.01&x0=-1&y0=1")
    expect(page.locator("#status-message")).to_contain_text("(-2.805, 3.131)")
    drag(page, (-1, 1), (2, 1))
    page.wait_for_function(
        f"() => Math.abs({STATE}.theta0[0] - 2) < 0.3 && Math.abs({STATE}.theta0[1] - 1) < 0.3"
    )
    expect(page.locator("#status")).to_have_attribute("data-status", "converged")
    expect(page.locator("#status-message")).to_contain_text("global minimum (3, 2)")
    x, y = theta0(page)
    assert float(page.input_value("#x0")) == pytest.approx(x, abs=1e-4)
    assert parse_qs(urlparse(page.url).query)["x0"] == [page.input_value("#x0")]
    assert page.problems.errors == []  # type: ignore[attr-defined]

    page.go_back()  # the whole drag is one step of history
    page.wait_for_function(f"() => {STATE}.theta0[0] === -1 && {STATE}.theta0[1] === 1")
    wait_settled(page)
    expect(page.locator("#status-message")).to_contain_text("(-2.805, 3.131)")


def test_click_moves_theta0(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/")
    px, py = pixels_of(page, -3, -3)
    page.mouse.move(px + 4, py)
    page.mouse.click(px, py)
    page.wait_for_function(f"() => Math.hypot({STATE}.theta0[0] + 3, {STATE}.theta0[1] + 3) < 0.05")
    wait_settled(page)
    expect(page.locator("#status-message")).to_contain_text("(-3.779, -3.283)")


def test_eta_past_two_over_lambda_diverges_on_the_quadratic(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/?surface=quadratic")
    expect(page.locator("#status")).to_have_attribute("data-status", "converged")
    page.fill("#eta", "0.95")
    page.press("#eta", "Enter")
    wait_settled(page)
    expect(page.locator("#status")).to_have_attribute("data-status", "converged")
    page.fill("#eta", "1.05")
    page.press("#eta", "Enter")
    expect(page.locator("#status")).to_have_attribute("data-status", "diverged")
    expect(page.locator("#status-message")).to_contain_text("Diverged")
    assert parse_qs(urlparse(page.url).query)["eta"] == ["1.05"]
    page.evaluate("() => document.activeElement.blur()")  # keys typed in η's box stay there
    page.keyboard.press("End")  # the last, far-away iterate draws without complaint
    expect(page.locator("#r-t")).to_have_text(str(page.evaluate("window.descentLab.run.steps")))
    assert page.problems.errors == []  # type: ignore[attr-defined]


def current_marker(page: Page) -> tuple[float, float]:
    box = page.locator(".overlay circle.current").bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def assert_marker_at_iterate(page: Page, t: int) -> None:
    expect(page.locator("#r-t")).to_have_text(str(t))
    x, y = page.evaluate(f"window.descentLab.run.path[{t}]")
    assert current_marker(page) == pytest.approx(pixels_of(page, x, y), abs=1.0)


def test_play_pause_and_step_move_the_current_iterate(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/")
    page.select_option("#speed", "2")
    page.click("#restart")
    page.wait_for_function(
        "() => window.descentLab.player.playing && window.descentLab.player.t >= 1"
    )
    page.click("#play")  # pause
    expect(page.locator("#play")).to_have_attribute("data-playing", "false")
    t = page.evaluate("window.descentLab.player.t")
    # Still in place a few frames later.
    page.evaluate(
        "() => new Promise((r) => {"
        " let n = 0; const f = () => (++n > 10 ? r() : requestAnimationFrame(f)); f(); })"
    )
    assert page.evaluate("window.descentLab.player.t") == t
    assert_marker_at_iterate(page, t)

    page.keyboard.press("ArrowRight")
    assert_marker_at_iterate(page, t + 1)
    page.click("#forward")
    assert_marker_at_iterate(page, t + 2)
    page.keyboard.press("ArrowLeft")
    page.click("#back")
    assert_marker_at_iterate(page, t)
    x, y = page.evaluate(f"window.descentLab.run.path[{t}]")
    assert page.inner_text("#r-theta").startswith(f"({x:.3g}".replace("-", "−"))

    page.select_option("#speed", "50")
    page.keyboard.press(" ")  # play again, to the end
    expect(page.locator("#play")).to_have_attribute("data-playing", "true")
    page.wait_for_function("() => !window.descentLab.player.playing")
    assert_marker_at_iterate(page, 22)
    expect(page.locator("#t-label")).to_have_text("t = 22 / 22")

    page.locator("#scrubber").fill("5")
    assert_marker_at_iterate(page, 5)


def test_a_copied_url_reproduces_the_run_in_a_fresh_page(
    page: Page, base_url: str, context
) -> None:
    open_page(page, base_url + "/")
    page.fill("#eta", "0.02")
    page.press("#eta", "Enter")
    wait_settled(page)
    page.fill("#x0", "3.5")
    page.press("#x0", "Enter")
    page.fill("#y0", "-3")
    page.press("#y0", "Enter")
    wait_settled(page)
    page.click("#keep")
    expect(page.locator("#pins li.pin")).to_have_count(1)
    message = page.inner_text("#status-message")
    url = page.url

    fresh = context.browser.new_context(
        viewport={"width": 1280, "height": 720}, bypass_csp=True
    ).new_page()
    try:
        open_page(fresh, url)
        assert fresh.evaluate(f"{STATE}.theta0") == [3.5, -3]
        assert fresh.evaluate(f"{STATE}.eta") == 0.02
        expect(fresh.locator("#status-message")).to_have_text(message)
        expect(fresh.locator("#pins li.pin")).to_have_count(1)
        expect(fresh.locator("#pins li.pin")).to_contain_text("η = 0.02")
    finally:
        fresh.context.close()

    page.go_back()  # before "keep": no pins
    expect(page.locator("#pins li.pin")).to_have_count(0)
    page.go_back()  # before y0 = -3
    page.wait_for_function(f"() => {STATE}.theta0[1] === 1")
    expect(page.locator("#y0")).to_have_value("1")


def test_downloads_hold_the_path(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/")
    path = page.evaluate("window.descentLab.run.path")
    with page.expect_download() as info:
        page.click("#export-csv")
    rows = list(csv.reader(io.StringIO(open(info.value.path(), encoding="utf-8").read())))
    assert rows[0] == ["t", "x", "y", "loss", "grad_x", "grad_y", "eta_t"]
    assert len(rows) - 1 == len(path) == 23
    assert (
        rows[1][6] == "0.01" and rows[-1][6] == ""
    )  # the step size used; the last iterate takes none
    assert [float(v) for v in rows[1][1:3]] == path[0] == [-1, 1]
    assert [float(v) for v in rows[-1][1:3]] == pytest.approx(path[-1])

    with page.expect_download() as info:
        page.click("#export-json")
    data = json.loads(open(info.value.path(), encoding="utf-8").read())
    assert data["path"] == path
    assert data["status"] == "converged"
    assert data["request"]["theta0"] == [-1, 1]
    assert info.value.suggested_filename.endswith(".json")


def test_an_api_error_is_shown_next_to_its_field(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/")
    page.fill("#eta", "-1")
    page.press("#eta", "Enter")
    expect(page.locator('[data-error-for="eta"]')).to_contain_text("greater than 0")
    expect(page.locator("#eta")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#status")).to_have_attribute("data-status", "error")
    page.fill("#steps", "20000")
    page.press("#steps", "Enter")
    expect(page.locator('[data-error-for="steps"]')).to_contain_text("10000")


def test_picking_a_surface_loads_it_and_back_returns(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/")
    page.select_option("#surface", "rosenbrock")
    page.wait_for_function(f"() => {STATE}.surface === 'rosenbrock'")
    wait_settled(page)
    expect(page.locator("#lesson")).to_contain_text("curved valley")
    assert page.evaluate(f"{STATE}.theta0") == [-1.5, 2]  # the surface's own start and η
    assert page.input_value("#eta") == "0.001"
    assert parse_qs(urlparse(page.url).query)["surface"] == ["rosenbrock"]
    page.go_back()
    page.wait_for_function(f"() => {STATE}.surface === 'himmelblau'")
    wait_settled(page)
    expect(page.locator("#surface")).to_have_value("himmelblau")
    expect(page.locator("#status-message")).to_contain_text("(-2.805, 3.131)")
    assert page.problems.errors == []  # type: ignore[attr-defined]


def test_no_gradient_arrow_where_the_run_converged(page: Page, base_url: str) -> None:
    """The ∇L arrow has a fixed length (its direction is what it shows); at the iterate where
    the run converged ‖∇L‖ ≤ tol, so it is not drawn there, while the step arrows before are."""
    open_page(page, base_url + "/?surface=himmelblau&opt=gd&eta=0.01&x0=0&y0=0")
    wait_settled(page)
    run = page.evaluate("() => window.descentLab.run")
    assert run["status"] == "converged"
    last = len(run["path"]) - 1
    grad = page.locator("#app svg line.grad")
    page.locator("#scrubber").fill(str(last - 1))
    expect(grad).to_have_attribute("visibility", "visible")
    page.locator("#scrubber").fill(str(last))
    expect(grad).to_have_attribute("visibility", "hidden")


def test_the_drawn_path_leaves_out_only_what_is_under_half_a_pixel(
    page: Page, base_url: str
) -> None:
    # 1,001 iterates of a slow run: the polyline keeps fewer points, and every iterate lies within
    # half a pixel (plus the 0.05 px of rounding) of the line as drawn.
    open_page(page, base_url + "/?surface=himmelblau&opt=gd&eta=0.0002&steps=1000&x0=-1&y0=1")
    page.wait_for_function("() => !window.descentLab.player.playing")
    far, kept, n = page.evaluate(
        """() => {
        const c = window.descentLab.contour, r = window.descentLab.run, map = c.mapper();
        const line = c.path.getAttribute('points').split(' ').map((p) => p.split(',').map(Number));
        const seg = ([ax, ay], [bx, by], [px, py]) => {
            const dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
            const t = l2 ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / l2)) : 0;
            return Math.hypot(ax + t * dx - px, ay + t * dy - py);
        };
        let far = 0;
        for (const [x, y] of r.path) {
            const p = map(x, y);
            let d = Infinity;
            for (let i = 0; i + 1 < line.length; i++) d = Math.min(d, seg(line[i], line[i + 1], p));
            far = Math.max(far, d);
        }
        return [far, line.length, r.path.length];
    }"""
    )
    assert n == 1001 and kept < n / 2
    assert far <= 0.55
