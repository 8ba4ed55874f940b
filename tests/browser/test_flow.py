"""The Gradient flow toggle (issue 19 part 2): both curves drawn from θ₀ over the run's time, the
readout's distances at the player's t equal to POST /api/flow's, off removes them, and the URL
keeps the toggle."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import open_page

LAB = "window.descentLab"
URL = "/?surface=double_well&opt=gd&eta=0.2&x0=0.5&y0=1"

# Each curve's polyline: its first drawn point, how many iterates it covers, its visibility; and
# where the contour's public mapping puts θ₀, in the same (plot-area) pixels.
READ_CURVES = """() => {
  const out = {};
  for (const name of ['curve', 'modified']) {
    const g = document.querySelector(`[data-testid=flow-${name}]`);
    const line = g.querySelectorAll('polyline')[1];
    const first = (line.getAttribute('points') || '').split(' ')[0].split(',').map(Number);
    const visible = g.checkVisibility({ visibilityProperty: true });
    out[name] = { first, count: Number(g.dataset.count), visible };
  }
  const t0 = window.descentLab.state.theta0;
  out.theta0 = window.descentLab.contour.mapper()(t0[0], t0[1]);
  return out;
}"""


def wait_flow(page: Page) -> None:
    page.wait_for_function(
        """() => document.querySelector('.flow-box')?.dataset.state === 'ready'
             && window.descentLab.flowView.shown() !== null"""
    )


def test_the_toggle_draws_both_curves_from_theta0_and_the_readout_matches_the_api(
    page: Page, base_url: str
) -> None:
    open_page(page, f"{base_url}{URL}")
    toggle = page.get_by_test_id("flow-toggle")
    expect(toggle).not_to_be_checked()
    expect(page.get_by_test_id("flow")).to_be_hidden()
    toggle.check()
    assert "flow=1" in page.url
    wait_flow(page)
    run = page.evaluate(f"({{ body: {LAB}.run.body, n: {LAB}.run.path.length }})")
    truth = httpx.post(f"{base_url}/api/flow", json=run["body"], timeout=60).json()
    curves = page.evaluate(READ_CURVES)
    for name in ("curve", "modified"):
        assert curves[name]["visible"] and curves[name]["count"] == run["n"]
        assert curves[name]["first"] == pytest.approx(curves["theta0"], abs=0.06)
    assert truth["flow"]["points"][0] == truth["modified"]["points"][0] == [0.5, 1.0]

    page.evaluate(f"{LAB}.player.pause()")
    readout = page.get_by_test_id("flow-readout")
    for t in (5, 0, 12):
        page.evaluate(f"{LAB}.player.seek({t})")
        expect(readout).to_contain_text(f"t = {t},")
        shown = page.evaluate(
            "() => ({ ...document.querySelector('.flow-box').dataset })",
        )
        assert float(shown["flowDistance"]) == truth["flow"]["distance"][t]
        assert float(shown["modifiedDistance"]) == truth["modified"]["distance"][t]
    # at s = 1 (t = 5) the modified flow is the closer curve, and the box says both
    page.evaluate(f"{LAB}.player.seek(5)")
    expect(readout).to_contain_text("flow")
    expect(readout).to_contain_text("modified")
    assert truth["modified"]["distance"][5] < truth["flow"]["distance"][5] / 3

    toggle.uncheck()
    expect(page.get_by_test_id("flow")).to_be_hidden()
    expect(readout).to_be_hidden()
    assert "flow=1" not in page.url
    assert page.problems.errors == []  # type: ignore[attr-defined]


def test_a_link_with_flow_1_restores_the_curves(page: Page, base_url: str) -> None:
    open_page(page, f"{base_url}{URL}&flow=1")
    expect(page.get_by_test_id("flow-toggle")).to_be_checked()
    wait_flow(page)
    curves = page.evaluate(READ_CURVES)
    assert curves["curve"]["visible"] and curves["modified"]["visible"]
    page.reload()
    expect(page.get_by_test_id("flow-toggle")).to_be_checked()
    wait_flow(page)
    assert page.evaluate(READ_CURVES)["modified"]["count"] > 1
    assert page.problems.errors == []  # type: ignore[attr-defined]


def test_adam_gets_the_plain_flow_and_a_note(page: Page, base_url: str) -> None:
    open_page(page, f"{base_url}/?surface=himmelblau&opt=adam&eta=0.3&x0=-1&y0=1&flow=1")
    wait_flow(page)
    curves = page.evaluate(READ_CURVES)
    assert curves["curve"]["visible"] and not curves["modified"]["visible"]
    expect(page.get_by_test_id("flow-readout")).to_contain_text("Adam is not plain gradient")
    assert page.problems.errors == []  # type: ignore[attr-defined]


def test_the_flow_lesson_opens_with_the_curves_and_the_gaps_at_s_1(
    page: Page, base_url: str
) -> None:
    open_page(page, f"{base_url}/?lesson=11")
    expect(page.get_by_test_id("flow-toggle")).to_be_checked()
    wait_flow(page)
    run = page.evaluate(f"{LAB}.run.body")
    truth = httpx.post(f"{base_url}/api/flow", json=run, timeout=60).json()
    page.evaluate(f"{LAB}.player.pause(); {LAB}.player.seek(5)")  # s = 1 at η = 0.2
    readout = page.get_by_test_id("flow-readout")
    expect(readout).to_contain_text("t = 5, s = 1:")
    shown = page.evaluate("() => ({ ...document.querySelector('.flow-box').dataset })")
    assert float(shown["flowDistance"]) == truth["flow"]["distance"][5]
    assert float(shown["modifiedDistance"]) == truth["modified"]["distance"][5]
    assert page.problems.errors == []  # type: ignore[attr-defined]
