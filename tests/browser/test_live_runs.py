"""Live runs while θ₀ is dragged over a slow link (issue 17): through a proxy that delays every
byte by 50 ms each way, the drag's runs go out on the WebSocket, the path left on show is the one
from the final θ₀ and no older answer is drawn after it; a dropped connection recovers."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from app.web.delayproxy import DelayProxy
from tests.browser.conftest import open_page

STATE = "window.descentLab.state"
STATS = "window.descentLab.stats"

# Every animation frame, the θ₀ of the run on show and the θ₀ asked for.
RECORD = """() => {
    window.__seen = [];
    const tick = () => {
        const lab = window.descentLab;
        window.__seen.push([lab.run?.path[0] ?? null, lab.state.theta0]);
        requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
}"""


@pytest.fixture
def slow(base_url: str) -> Iterator[DelayProxy]:
    p = DelayProxy(base_url, rtt=0.1)
    with p:
        yield p


def open_slow(page: Page, url: str) -> None:
    """open_page, with room for a first load at 100 ms a round trip on a loaded machine."""
    page.set_default_navigation_timeout(60_000)
    page.set_default_timeout(60_000)
    open_page(page, url)


def pixels_of(page: Page, x: float, y: float) -> tuple[float, float]:
    px, py = page.evaluate("([x, y]) => window.descentLab.contour.toPixels(x, y)", [x, y])
    return px, py


def drag_around(page: Page, start: tuple[float, float], points: list[tuple[float, float]]) -> None:
    """Press on θ₀ at `start`, move through `points` (data coordinates) without waiting for
    the page between moves, and release."""
    x0, y0 = pixels_of(page, *start)
    page.mouse.move(x0 - 3, y0)
    page.mouse.move(x0, y0)
    page.mouse.down()
    for p in points:
        page.mouse.move(*pixels_of(page, *p))
    page.mouse.up()


def path_starts_at_theta0(page: Page) -> None:
    page.wait_for_function(
        f"""() => {{
            const r = window.descentLab.run, t = {STATE}.theta0;
            return window.descentLab.settled() && r.path[0][0] === t[0] && r.path[0][1] === t[1];
        }}"""
    )


def test_a_drag_over_a_slow_link_ends_with_the_final_theta0(page: Page, slow: DelayProxy) -> None:
    open_slow(page, slow.url + "/?surface=himmelblau&opt=gd&eta=0.01&x0=-1&y0=1")
    page.evaluate(RECORD)
    points = [(-1 + 3.5 * k / 40, 1 - 3 * k / 40) for k in range(1, 41)]
    drag_around(page, (-1, 1), points)
    path_starts_at_theta0(page)
    final = page.evaluate(f"{STATE}.theta0")
    assert final == pytest.approx([2.5, -2], abs=0.1)
    stats = page.evaluate(STATS)
    assert stats["socketSent"] >= 10 and stats["socketAnswers"] >= 1  # the drag used the socket
    # A few more frames after the answer for the final θ₀ is on show: nothing older replaces it.
    n = page.evaluate("window.__seen.length")
    page.wait_for_function(f"() => window.__seen.length > {n + 20}")
    seen = page.evaluate("window.__seen")
    first_final = next(i for i, (start, _) in enumerate(seen) if start == final)
    assert all(start == final for start, _ in seen[first_final:])
    assert len({tuple(s) for s, _ in seen if s}) > 3  # the path followed the drag on its way
    expect(page.locator("#status")).to_have_attribute("data-status", "converged")
    assert page.problems.errors == []  # type: ignore[attr-defined]


def test_a_dropped_live_connection_recovers(page: Page, slow: DelayProxy) -> None:
    open_slow(page, slow.url + "/?surface=himmelblau&opt=gd&eta=0.01&x0=-1&y0=1")
    drag_around(page, (-1, 1), [(-1.5, 1.5), (-2, 2)])
    path_starts_at_theta0(page)
    assert page.evaluate(f"{STATS}.opened") == 1

    slow.drop()  # the network drops every open connection, the live socket among them
    page.wait_for_function(f"() => {STATS}.dropped === 1")
    start = page.evaluate(f"{STATE}.theta0")
    drag_around(page, (start[0], start[1]), [(-2.5, 0), (-3, -2)])
    path_starts_at_theta0(page)
    assert page.evaluate(f"{STATE}.theta0") == pytest.approx([-3, -2], abs=0.1)
    expect(page.locator("#status")).not_to_have_attribute("data-status", "error")

    # The socket opens again by itself and the next drag uses it.
    page.wait_for_function(f"() => {STATS}.opened === 2")
    sent, answers = page.evaluate(f"[{STATS}.socketSent, {STATS}.socketAnswers]")
    drag_around(page, (-3, -2), [(-3.2, -2.5), (-3.5, -3)])
    path_starts_at_theta0(page)
    assert page.evaluate(f"{STATS}.socketSent") > sent
    assert page.evaluate(f"{STATS}.socketAnswers") > answers
    assert page.evaluate(f"{STATE}.theta0") == pytest.approx([-3.5, -3], abs=0.1)


def test_the_3d_path_follows_a_drag_without_redrawing_the_surface(
    page: Page, base_url: str
) -> None:
    open_slow(page, base_url + "/?surface=himmelblau&opt=gd&eta=0.01&x0=-1&y0=1")
    page.wait_for_function("() => !window.descentLab.player.playing")
    # Count the restyles of the full scene (surface included) that drew a path while the pointer
    # was down and the path was on the canvas: there must be none.
    page.evaluate("""() => {
        const main = document.getElementById('surface3d');
        window.__down = false;
        window.__fullWithPath = 0;
        addEventListener('pointerdown', () => { window.__down = true; }, true);
        addEventListener('pointerup', () => { window.__down = false; }, true);
        main.on('plotly_restyle', () => {
            const drawn = main.data.some((d) => d.mode === 'lines' && d.x.length > 0);
            const live = document.querySelector('[data-testid=surface3d-live]');
            const flat = live !== null && live.style.visibility === 'visible';
            if (window.__down && flat && drawn) window.__fullWithPath += 1;
        });
    }""")
    before = page.evaluate(f"{STATS}.redraws3d")
    x0, y0 = pixels_of(page, -1, 1)
    page.mouse.move(x0 - 3, y0)
    page.mouse.move(x0, y0)
    page.mouse.down()
    for k in range(1, 61):  # one drag, held down throughout
        page.mouse.move(x0 + 3 * k, y0 + 2 * k)
    page.wait_for_function(f"() => {STATS}.redraws3d >= {before + 3}")
    expect(page.locator("[data-testid=surface3d-live]")).to_be_visible()
    path_starts_at_theta0(page)
    page.mouse.up()
    # Once the drag stops, the path is back on the full scene and the canvas is hidden.
    expect(page.locator("[data-testid=surface3d-live]")).to_be_hidden()
    page.wait_for_function(
        """() => {
            const gd = document.getElementById('surface3d'), r = window.descentLab.run;
            return gd.data.some((d) => d.mode === 'lines' && d.x.length > 1 &&
                d.x[0] === r.path[0][0] && d.y[0] === r.path[0][1]);
        }"""
    )
    assert page.evaluate("window.__fullWithPath") == 0
    assert page.evaluate("document.getElementById('surface3d').data[0].type") == "surface"
    assert page.problems.errors == []  # type: ignore[attr-defined]


def test_the_dragged_run_on_show_is_post_descents_run_number_for_number(
    page: Page, base_url: str
) -> None:
    # The live answers come as binary frames (app/api/routes/live.py): what the page shows after
    # the drag must be the same numbers as the JSON of POST /api/descent for the final θ₀.
    open_page(page, base_url + "/?surface=himmelblau&opt=gd&eta=0.0002&steps=1000&x0=-1&y0=1")
    drag_around(page, (-1, 1), [(-1 - 0.1 * k, 1 + 0.1 * k) for k in range(1, 15)])
    path_starts_at_theta0(page)
    assert page.evaluate(f"{STATS}.binary") >= 1
    shown = page.evaluate(
        """() => { const r = window.descentLab.run;
            return { body: r.body, path: r.path, loss: r.loss, grad: r.grad, eta: r.eta_t,
                     status: r.status, message: r.message }; }"""
    )
    expected = page.request.post(base_url + "/api/descent", data=shown["body"]).json()
    assert shown["path"] == expected["path"] and len(shown["path"]) == 1001
    assert shown["loss"] == expected["loss"] and shown["grad"] == expected["grad"]
    assert shown["eta"] == [*expected["eta"], None]  # the last iterate takes no step
    assert (shown["status"], shown["message"]) == (expected["status"], expected["message"])
    assert page.problems.errors == []  # type: ignore[attr-defined]


def test_a_cover_keeps_hover_quiet_during_a_drag_and_goes_after_it(
    page: Page, base_url: str
) -> None:
    open_page(page, base_url + "/?surface=himmelblau&opt=gd&eta=0.01&x0=-1&y0=1")
    x0, y0 = pixels_of(page, -1, 1)
    page.mouse.move(x0 - 3, y0)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(*pixels_of(page, -1.5, 1.5))
    page.mouse.move(*pixels_of(page, -2, 2))
    # While the button is down the pointer is over the cover, not over the ring or the plot.
    over = page.evaluate("([x, y]) => document.elementFromPoint(x, y).className", [x0, y0])
    assert over == "drag-cover"
    page.mouse.up()
    path_starts_at_theta0(page)
    page.wait_for_function("() => document.querySelector('.drag-cover') === null")
    assert page.evaluate(f"{STATE}.theta0") == pytest.approx([-2, 2], abs=0.05)
    # The page answers the pointer again: a click moves θ₀.
    page.mouse.click(*pixels_of(page, 1, -1))
    page.wait_for_function(f"() => Math.abs({STATE}.theta0[0] - 1) < 0.05")
    path_starts_at_theta0(page)
    assert page.problems.errors == []  # type: ignore[attr-defined]
