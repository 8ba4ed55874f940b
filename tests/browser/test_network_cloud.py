"""SGD's noise cloud on the network page's slice (issue 19.1 on networks): the ellipses and dots
are POST /api/networks/noise's answer for the slice's run and plane, drawn where the slice's
axes put them; the batch size control redraws them (Σ ∝ 1/B with replacement); off hides them
and leaves the URL."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page

from .test_networks import LAB, SLOW, open_network

URL = (
    "/network?data=chebyshev&points=60&noise=0.5&act=tanh&seed=0&opt=adam&eta=0.01&steps=5000"
    "&every=0&tol=1e-7&hidden=3&plane=pca&cloud=1&cb=1&ceta=0.05"
)
RINGS = """() => [...document.querySelectorAll('[data-testid=cloud] polyline[stroke-width="2.2"]')]
  .map((p) => p.getAttribute('points').split(' ').map((xy) => xy.split(',').map(Number)))"""
AXES = """() => { const l = document.querySelector('[data-testid=slice-contour]').layout;
  return { x: l.xaxis.range, y: l.yaxis.range, w: l.width, h: l.height }; }"""


def wait_cloud(page: Page) -> dict:
    page.wait_for_selector(
        "#cloud-readout[data-state=ready], #cloud-readout[data-state=error]",
        state="attached",
        timeout=SLOW,
    )
    return page.evaluate(f"() => {LAB}.cloud")


def api_answer(base_url: str, page: Page, batch: int) -> dict:
    state = page.evaluate(f"() => {LAB}.state")
    body = page.evaluate(f"() => JSON.parse({LAB}.run.body)")
    body.pop("theta_every")
    cloud = {"run": body, "batch_size": batch, "sampling": state["cloudSampling"]}
    cloud.update(plane="pca", eta=state["cloudEta"], measure_steps=4000)
    response = httpx.post(f"{base_url}/api/networks/noise", json=cloud, timeout=300)
    assert response.status_code == 200, response.text
    return response.json()


def to_data(page: Page, rings: list) -> list:
    """The rings' pixels back to (α, β) through the contour's axes."""
    axes = page.evaluate(AXES)
    margins = page.evaluate(
        "() => { const o = document.querySelector('#slice-frame .overlay').style;"
        " return { w: parseFloat(o.width), h: parseFloat(o.height) }; }"
    )
    sx = (axes["x"][1] - axes["x"][0]) / margins["w"]
    sy = (axes["y"][1] - axes["y"][0]) / margins["h"]
    return [[(axes["x"][0] + px * sx, axes["y"][1] - py * sy) for px, py in r] for r in rings]


def test_the_cloud_is_the_apis_and_follows_the_batch_size(page: Page, base_url: str) -> None:
    open_network(page, base_url + URL)
    shown = wait_cloud(page)
    assert "error" not in shown, shown
    want = api_answer(base_url, page, 1)
    assert shown["trace_predicted"] == pytest.approx(want["trace_predicted"], rel=1e-12)
    assert sum(shown["covariance"], []) == pytest.approx(sum(want["covariance"], []), rel=1e-12)
    assert shown["measured"]["alpha"] == pytest.approx(want["measured"]["alpha"], rel=1e-12)
    dots = page.locator("[data-testid=cloud] g circle")
    assert dots.count() == len(want["measured"]["alpha"])
    rings = to_data(page, page.evaluate(RINGS))
    for ring, k in zip(rings, ("1", "2")):
        expected = want["ellipses"][k]
        assert len(ring) == len(expected)
        # within a pixel's worth of the axes' span
        span = max(abs(x) for x, _ in expected), max(abs(y) for _, y in expected)
        for (x, y), (ex, ey) in zip(ring, expected):
            assert abs(x - ex) <= 0.02 * span[0] and abs(y - ey) <= 0.02 * span[1]
    readout = page.get_by_test_id("cloud-readout").inner_text()
    assert "tr Σ predicted" in readout and "measured" in readout
    # B = 4: the API's cloud for B = 4, and the ellipse's extent halves (Σ ∝ 1/B).
    before = max(x for x, _ in rings[0])
    page.fill("#cloud-b", "4")
    page.press("#cloud-b", "Enter")
    page.wait_for_function(f"() => {LAB}.cloud && {LAB}.cloud.batch_size === 4", timeout=SLOW)
    four = api_answer(base_url, page, 4)
    assert page.evaluate(f"() => {LAB}.cloud.trace_predicted") == pytest.approx(
        four["trace_predicted"], rel=1e-12
    )
    assert four["trace_predicted"] == pytest.approx(want["trace_predicted"] / 4, rel=1e-9)
    page.wait_for_timeout(300)
    after = max(x for x, _ in to_data(page, page.evaluate(RINGS))[0])
    assert after / before == pytest.approx(0.5, rel=0.05)
    assert "cb=4" in page.url
    # Off: the layer is hidden and the link no longer asks for it.
    page.uncheck("#cloud-on")
    page.wait_for_function("() => !location.search.includes('cloud=1')")
    assert page.locator("[data-testid=cloud]").evaluate("e => e.style.display") == "none"
    assert not page.problems.errors  # type: ignore[attr-defined]
