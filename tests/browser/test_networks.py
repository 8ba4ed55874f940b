"""The network page (/network, issue 18): a run is trained and streamed, its sharpness chart
crosses into 2/η on Cohen et al.'s Chebyshev setup (lesson 8), both slices open (lesson 9) with
their faithfulness, and the player drives the slice, the readout and the data view. The page is
checked against the API answering the same bodies (POST /api/networks/train and /slice) and the
lessons' own `expect`."""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from app.lessons import LESSONS

LAB = "window.networkLab"
SLOW = 240_000  # ms: a 4,000-step run with its sharpness on a machine shared by several engineers
LESSON = {item["id"]: item for item in LESSONS}
# The mean cross-entropy of the run's data at its final θ, through the data view's forward pass.
CROSS_ENTROPY = """() => {
  const r = window.networkLab.run;
  const s = r.start;
  const theta = r.end.final.theta;
  let sum = 0;
  s.data.X.forEach((x, i) => {
    const o = window.networkLab.forward(theta, s.layout, s.architecture.activation, x);
    const m = Math.max(...o);
    const lse = m + Math.log(o.reduce((a, v) => a + Math.exp(v - m), 0));
    sum += lse - o[s.data.y[i]];
  });
  return { ce: sum / s.data.X.length, loss: r.end.final.loss };
}"""


def open_network(page: Page, url: str) -> Page:
    page.goto(url)
    page.wait_for_function("() => document.getElementById('app').dataset.state === 'ready'")
    settle(page)
    return page


def settle(page: Page) -> None:
    page.wait_for_function(f"() => {LAB}.settled()", timeout=SLOW)


def test_training_meets_the_edge_of_stability(page: Page, base_url: str) -> None:
    """Lesson 8's first run, opened by its link on the 2-D page: the page moves to /network, the
    stream fills the charts, the sharpness reaches 2/η and stays within ±10% of it while the loss
    falls; the charts hold the API's numbers for the same body."""
    page.goto(f"{base_url}/?lesson=8")
    page.wait_for_url("**/network?lesson=8*")
    page.wait_for_function("() => document.getElementById('app').dataset.state === 'ready'")
    settle(page)
    expect(page.get_by_test_id("lesson-card")).to_contain_text(LESSON[8]["title"])
    run = page.evaluate(
        f"() => {{ const r = {LAB}.run; return {{ t: r.t, loss: r.loss, sharpT: r.sharpT,"
        " sharp: r.sharp, limit: r.limit, end: r.end, body: JSON.parse(r.body) }; }"
    )
    want = LESSON[8]["expect"][0]
    assert run["end"]["status"] == want["status"]
    assert want["message_contains"] in run["end"]["message"]
    assert run["end"]["sharpness"]["at_edge"] is True
    # The edge, from the streamed numbers themselves: once λ_max first reaches 0.9 · 2/η it
    # stays within ±10% of 2/η, and the loss ends below a tenth of where it began.
    limit = run["limit"]
    assert math.isclose(limit, 2 / run["body"]["optimizer"]["eta"], rel_tol=1e-12)
    first = next(i for i, v in enumerate(run["sharp"]) if v >= 0.9 * limit)
    assert run["sharp"][0] < 0.9 * limit  # it rises into the edge: it did not start there
    assert all(abs(v - limit) <= 0.1 * limit for v in run["sharp"][first:])
    assert run["loss"][-1] < 0.1 * run["loss"][0]
    # The chart draws exactly these numbers, and the 2/η line at 2/η.
    chart = page.evaluate(
        "() => { const d = document.querySelector('[data-testid=net-chart]');"
        " return { loss: d.data[0].y, sharp: d.data[1].y, sharpT: d.data[1].x,"
        " line: d.layout.shapes[0].y0 }; }"
    )
    assert chart["sharp"] == run["sharp"] and chart["sharpT"] == run["sharpT"]
    assert chart["line"] == pytest.approx(limit, rel=1e-12)
    expect(page.get_by_test_id("eos-sentence")).to_contain_text("edge of stability")
    # The same body sent to the API gives the same run.
    whole = httpx.post(f"{base_url}/api/networks/train", json=run["body"], timeout=300).json()
    assert [s["loss"] for s in whole["steps"]] == pytest.approx(run["loss"], rel=1e-12)
    api_sharp = [s["sharpness"] for s in whole["steps"] if s.get("sharpness") is not None]
    assert api_sharp == pytest.approx(run["sharp"], rel=1e-12)
    assert not page.problems.errors  # type: ignore[attr-defined]
    # The card's Previous goes back to lesson 7, on the 2-D page.
    page.click("#lesson-prev")
    page.wait_for_function(
        "() => window.descentLab && window.descentLab.state && window.descentLab.state.lesson === 7"
    )


def test_both_slices_and_the_player(page: Page, base_url: str) -> None:
    """Lesson 9 by its link: the PCA slice holds nearly all the path's variance, the random one
    almost none and says its heights are not the losses; each is drawn in the contour and 3-D
    views; scrubbing moves the readout, the slice's iterate and the data view to that step."""
    open_network(page, f"{base_url}/network?lesson=9")
    expect(page.get_by_test_id("lesson-card")).to_contain_text(LESSON[9]["title"])
    pca = page.evaluate(f"() => {LAB}.slice")
    assert pca["plane"] == "pca"
    want = LESSON[9]["expect"]
    assert sum(pca["explained_variance"]) >= want[0]["explained_at_least"]
    assert all(
        last <= want[0]["misleading_within"] for _, last in pca["faithfulness"]["misleading"]
    )
    expect(page.get_by_test_id("variance")).to_contain_text("%")
    # The grid is the contour's surface, the projected path is drawn over it, and the 3-D view
    # holds the same grid (WebGL context present).
    drawn = page.evaluate(
        "() => { const c = document.querySelector('[data-testid=slice-contour]');"
        " const s = document.querySelector('[data-testid=slice-3d]');"
        " const path = document.querySelector('#slice-frame .overlay .path');"
        " return { x: c.data[0].x, y: c.data[0].y, z3: s.data[0].z.length,"
        " points: path.getAttribute('points').split(' ').length,"
        " gl: Boolean(s.querySelector('canvas').getContext('webgl')) }; }"
    )
    assert drawn["x"] == pca["alpha"] and drawn["y"] == pca["beta"]
    assert drawn["z3"] == pca["m"] and drawn["points"] > 10 and drawn["gl"]

    # The player: scrub to step 40; the readout, the slice's distance and the data view follow.
    scrubber = page.get_by_test_id("scrubber")
    scrubber.evaluate("(el) => { el.value = '40'; el.dispatchEvent(new Event('input')); }")
    expect(page.locator("#n-t")).to_have_text("40")
    tr = pca["trajectory"]
    k = max(i for i, t in enumerate(tr["t"]) if t <= 40)
    expect(page.get_by_test_id("distance")).to_contain_text(f"at t = {tr['t'][k]}")
    state = page.evaluate(
        f"() => {{ const r = {LAB}.run; const i = r.thetaT.filter((t) => t <= 40).length - 1;"
        f" return {{ drawn: {LAB}.drawnTheta, sent: r.theta[i], loss: r.loss[40] }}; }}"
    )
    assert state["drawn"] == state["sent"]

    # The data view's network is the API's: its cross-entropy on the data at the final θ is the
    # final loss the run reports.
    ce = page.evaluate(CROSS_ENTROPY)
    assert ce["ce"] == pytest.approx(ce["loss"], rel=1e-9)

    # The random plane, from its button: in the URL, nearly none of the variance, and the words.
    page.locator("#slice-random").click()
    page.wait_for_function(f"() => {LAB}.slice && {LAB}.slice.plane === 'random'", timeout=SLOW)
    settle(page)
    assert parse_qs(urlparse(page.url).query)["plane"] == ["random"]
    rnd = page.evaluate(f"() => {LAB}.slice")
    assert rnd["faithfulness"]["variance_in_plane"] < want[1]["variance_in_plane_below"]
    assert want[1]["message_contains"] in rnd["faithfulness"]["message"]
    expect(page.get_by_test_id("faithfulness")).to_contain_text(want[1]["message_contains"])
    # Back returns to the PCA plane.
    page.go_back()
    page.wait_for_function(f"() => {LAB}.slice && {LAB}.slice.plane === 'pca'", timeout=SLOW)
    settle(page)
    # The plane through θ at the player's step: θ_40 is its centre (α = β = 0, on the plane).
    scrubber.evaluate("(el) => { el.value = '40'; el.dispatchEvent(new Event('input')); }")
    expect(page.locator("#n-t")).to_have_text("40")
    page.locator("#slice-through").click()
    page.wait_for_function(f"() => {LAB}.slice && {LAB}.slice.through === 40", timeout=SLOW)
    settle(page)
    assert parse_qs(urlparse(page.url).query)["through"] == ["40"]
    centred = page.evaluate(f"() => {LAB}.slice.trajectory")
    i = centred["t"].index(40)
    assert abs(centred["alpha"][i]) < 1e-9 and abs(centred["beta"][i]) < 1e-9
    assert centred["distance"][i] < 1e-9
    expect(page.locator("#slice-centre")).to_have_text("θ at t = 40")
    assert not page.problems.errors  # type: ignore[attr-defined]


def test_the_form_trains_under_the_csp_and_refuses_in_words(
    browser: Browser, base_url: str
) -> None:
    """Without Playwright's CSP bypass: the form trains the network it describes (its settings in
    the URL, the API's start line echoing them, decision regions drawn under the points); a width
    that is not a number is refused under the form, and an η the API refuses (a 422) is shown in
    the API's words; no uncaught error, no 500."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.set_default_timeout(SLOW)
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on(
            "response",
            lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 else None,
        )
        page.goto(f"{base_url}/network?steps=50&every=10")
        expect(page.locator("#app")).to_have_attribute("data-state", "ready")
        page.select_option("#net-dataset", "circles")
        page.fill("#net-hidden", "8, 8")
        page.select_option("#net-activation", "relu")
        page.select_option("#net-optimizer", "adam")
        page.fill("#net-eta", "0.02")
        page.fill("#net-steps", "120")
        page.fill("#net-every", "20")
        page.click("#net-train")
        expect(page.locator("#status")).to_have_attribute("data-status", "max_steps")
        query = parse_qs(urlparse(page.url).query)
        assert query["data"] == ["circles"] and query["hidden"] == ["8-8"]
        assert query["act"] == ["relu"] and query["opt"] == ["adam"] and query["eta"] == ["0.02"]
        start = page.evaluate("() => window.networkLab.run.start")
        assert start["architecture"]["hidden"] == [8, 8]
        assert start["architecture"]["activation"] == "relu"
        assert start["optimizer"]["name"] == "adam" and start["optimizer"]["eta"] == 0.02
        # The data view follows the player, which plays the run from t = 0: the regions asked for
        # are those of the final θ (on a quick machine the run ended while the player was early).
        page.wait_for_function(
            f"() => {{ const r = {LAB}.run; return JSON.stringify({LAB}.drawnTheta) === "
            "JSON.stringify(r.end.final.theta); }"
        )
        regions = page.evaluate("() => document.querySelector('[data-testid=net-data]').data[0].z")
        assert len(regions) > 10 and all(0 <= p <= 1 for row in regions for p in row)
        assert any(p < 0.5 for row in regions for p in row) and any(
            p > 0.5 for row in regions for p in row
        )

        page.fill("#net-hidden", "eight")
        page.click("#net-train")
        expect(page.get_by_test_id("net-error")).to_contain_text("Hidden widths")

        page.fill("#net-hidden", "8")
        page.fill("#net-eta", "-1")
        page.click("#net-train")
        expect(page.locator("#status")).to_have_attribute("data-status", "error")
        expect(page.get_by_test_id("net-error")).to_contain_text("greater than 0")
        assert problems == []
    finally:
        context.close()


# The slice's plot area against its data ranges and its frame's box (contour.js MARGIN).
PLOT_AREA = """() => {
  const l = document.getElementById('slice-contour').layout;
  const pw = l.width - 46 - 76, ph = l.height - 12 - 38;
  const box = document.getElementById('slice-frame').parentElement;
  return {
    stretch: (ph / (l.yaxis.range[1] - l.yaxis.range[0]))
      / (pw / (l.xaxis.range[1] - l.xaxis.range[0])),
    pw, ph, maxW: box.clientWidth - 46 - 76, maxH: box.clientHeight - 12 - 38,
    caption: document.getElementById('slice-caption').textContent,
  };
}"""


def test_a_long_pca_slice_fills_its_box_and_says_how_its_scales_differ(
    page: Page, base_url: str
) -> None:
    """A PCA plane far longer along PC1 than PC2, drawn to one scale, was a thin strip (474 × 153
    px in a 474 × 450 box): its β axis now stretches to fill the box (at most 4×), and the caption
    says by how much."""
    url = "/network?data=chebyshev&points=20&hidden=32&opt=gd&eta=0.15&steps=4000&plane=pca"
    open_network(page, base_url + url)
    page.wait_for_function("() => document.getElementById('slice-contour').layout")
    area = page.evaluate(PLOT_AREA)
    assert 1.5 < area["stretch"] <= 4.0 + 1e-9
    assert area["pw"] == pytest.approx(area["maxW"], abs=2)
    assert area["ph"] == pytest.approx(area["maxH"], abs=2)  # fills the box, both ways
    words = area["caption"].split("β's unit drawn ")[1]
    assert float(words.split("×")[0]) == pytest.approx(area["stretch"], rel=0.01)
    assert page.problems.errors == []  # type: ignore[attr-defined]
