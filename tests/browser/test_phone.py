"""The phone layout (issue 16, item 3): at 360–430 px wide the page is one column and no element
sticks out of the viewport (at 390 × 844 the plots column was 579 px wide, cutting off the status
line, half the contour, the ∇L toggle and the t label)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import PageProblems, wait_settled

# Every laid-out element whose visible box (clipped by its ancestors that hide overflow, as the
# overlay clips a diverging path) leaves [0, innerWidth], but for Plotly's off-screen text tester.
OVERFLOWING = """() => {
  const w = window.innerWidth;
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    if (e.closest('#js-plotly-tester')) continue;
    const r = e.getBoundingClientRect();
    let [left, right] = [r.left, r.right];
    for (let a = e.parentElement; a && right > left; a = a.parentElement) {
      if (getComputedStyle(a).overflowX === 'visible') continue;
      const c = a.getBoundingClientRect();
      [left, right] = [Math.max(left, c.left), Math.min(right, c.right)];
    }
    if (r.width > 0 && right > left && (left < -0.5 || right > w + 0.5)) {
      out.push(`${e.tagName.toLowerCase()}#${e.id} ${Math.round(left)}–${Math.round(right)}`);
    }
  }
  const page = document.documentElement.scrollWidth;
  if (page > w) out.push(`page ${page}`);
  return out;
}"""


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.problems = PageProblems(page)  # type: ignore[attr-defined]  # as conftest's page
    yield page
    context.close()


def settle(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => document.getElementById('app').dataset.state === 'ready'")
    wait_settled(page)


@pytest.mark.parametrize("path", ["/", "/?lesson=3"])
def test_nothing_overflows_a_phone(phone: Page, base_url: str, path: str) -> None:
    settle(phone, base_url + path)
    for width in (390, 360, 430):
        phone.set_viewport_size({"width": width, "height": 844})
        try:
            phone.wait_for_function(f"() => ({OVERFLOWING})().length === 0", timeout=5_000)
        except Exception:
            pytest.fail(f"at {width} px these overflow: {phone.evaluate(OVERFLOWING)[:12]}")
    # One column: the views stack under the settings, each as wide as the screen allows.
    boxes = [phone.locator(s).bounding_box() for s in (".sidebar", "#contour", "#surface3d")]
    assert boxes[0] is not None and boxes[1] is not None and boxes[2] is not None
    assert boxes[0]["y"] + boxes[0]["height"] <= boxes[1]["y"] < boxes[2]["y"]
    assert phone.locator("#gradfield-toggle").is_visible()
    phone.locator("#gradfield-toggle").check()  # reachable and working on a phone
    phone.wait_for_function("() => new URL(location.href).searchParams.get('field') === '1'")
    assert not phone.problems.errors  # type: ignore[attr-defined]


def test_a_finger_drags_theta0_and_the_page_answers_again(browser: Browser, base_url: str) -> None:
    # A finger's release has no mouseup: the cover laid over the page during a drag (drag.js)
    # must go all the same, or the page stops answering touches after the first drag.
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    try:
        page = context.new_page()
        settle(page, base_url + "/?surface=himmelblau&opt=gd&eta=0.01&x0=-1&y0=1")
        page.locator("#contour").scroll_into_view_if_needed()
        pixels = "([x, y]) => window.descentLab.contour.toPixels(x, y)"
        (x, y), (x2, y2) = page.evaluate(pixels, [-1, 1]), page.evaluate(pixels, [-2, 2])
        cdp = context.new_cdp_session(page)

        def touch(kind: str, points: list[tuple[float, float]]) -> None:
            touches = [{"x": px, "y": py} for px, py in points]
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": touches})

        touch("touchStart", [(x, y)])
        for k in range(1, 11):
            touch("touchMove", [(x + (x2 - x) * k / 10, y + (y2 - y) * k / 10)])
            page.wait_for_timeout(20)
        assert page.evaluate("document.querySelector('.drag-cover') !== null")
        touch("touchEnd", [])
        page.wait_for_function("() => document.querySelector('.drag-cover') === null")
        page.wait_for_function(
            "() => { const t = window.descentLab.state.theta0;"
            " return Math.abs(t[0] + 2) < 0.05 && Math.abs(t[1] - 2) < 0.05; }"
        )
        # A tap elsewhere reaches the plot again and moves θ₀ there.
        (tx, ty) = page.evaluate(pixels, [1, -1])
        page.touchscreen.tap(tx, ty)
        page.wait_for_function("() => Math.abs(window.descentLab.state.theta0[0] - 1) < 0.05")
    finally:
        context.close()
