"""The Noise cloud (issue 19 part 1): the run's second half drawn as dots, the 1σ/2σ ellipses of
POST /api/noise's predicted Σ, the readout's numbers equal to the API's, the ellipses following
the batch-size slider by the predicted ratio, and the toggle kept in the URL."""

from __future__ import annotations

import math

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import open_page, wait_settled

LAB = "window.descentLab"
DATA = "surface=data&model=linear&dataset=trend&std=1&seed=1&sampling=with_replacement"
URL = f"/?{DATA}&batch=4&opt=gd&eta=0.05&x0=0&y0=0&steps=2000&tol=0&noise=1"

# The drawn 1σ and 2σ ellipses' areas (shoelace over their polylines' points, in units of w·b),
# the dots drawn and the cloud's size.
READ = """() => {
  const area = (line) => {
    const p = line.getAttribute('points').split(' ').map((xy) => xy.split(',').map(Number));
    let a = 0;
    for (let i = 0; i + 1 < p.length; i++) a += p[i][0] * p[i + 1][1] - p[i + 1][0] * p[i][1];
    return Math.abs(a) / 2;
  };
  // plot pixels per unit of w and of b: the drawn areas in the data's units
  const map = window.descentLab.contour.mapper();
  const [x0, y0] = map(0, 0), [x1, y1] = map(1, 1);
  const unit = Math.abs((x1 - x0) * (y1 - y0));
  const layer = document.querySelector('[data-testid=noise]');
  const rings = [1, 2].map((k) => layer.querySelectorAll(`polyline[data-k="${k}"]`)[1]);
  const box = document.querySelector('[data-testid=noise-readout]').dataset;
  return {
    areas: rings.map((r) => area(r) / unit),
    dots: layer.querySelectorAll('.noise-cloud circle').length,
    count: Number(layer.querySelector('.noise-cloud').dataset.count),
    predicted: Number(box.predicted), exact: Number(box.exact),
    measured: Number(box.measured), scale: Number(box.scale),
    visible: layer.checkVisibility(),
  };
}"""


def wait_cloud(page: Page, batch: int) -> None:
    page.wait_for_function(
        f"""() => {LAB}.state.surface.includes('batch={batch}&') && {LAB}.settled()
             && document.querySelector('[data-testid=noise-readout]').dataset.state === 'ready'
             && {LAB}.noiseView.current?.run === {LAB}.run && {LAB}.noiseView.shown() !== null"""
    )


def api(base_url: str, page: Page) -> dict:
    """POST /api/noise for the run on show, built here from the page's descent body."""
    body = page.evaluate(f"{LAB}.run.body")
    request = {
        "surface": body["surface"],
        "eta": body["optimizer"]["eta"],
        "batch_size": body["batch_size"],
        "sampling": body["sampling"],
        "run": {k: body[k] for k in ("theta0", "max_steps", "seed", "tol")},
    }
    out: dict = httpx.post(f"{base_url}/api/noise", json=request, timeout=30).json()
    return out


def test_cloud_ellipses_and_readout_follow_the_batch_slider(page: Page, base_url: str) -> None:
    open_page(page, base_url + URL)
    expect(page.get_by_test_id("noise-toggle")).to_be_checked()
    wait_cloud(page, 4)
    four = page.evaluate(READ)
    truth = api(base_url, page)
    # the dots are the run's second half, as the API measured it
    assert four["visible"] and four["count"] == len(truth["measured"]["path"]) == 1001
    assert four["dots"] > 500
    assert four["predicted"] == pytest.approx(truth["predicted"]["trace"], rel=1e-12)
    assert four["exact"] == pytest.approx(truth["exact"]["trace"], rel=1e-12)
    assert four["measured"] == pytest.approx(truth["measured"]["trace"], rel=1e-12)
    assert four["scale"] == pytest.approx(truth["noise_scale"]["at_theta0"], rel=1e-12)
    assert four["areas"][1] == pytest.approx(4 * four["areas"][0], rel=1e-6)  # 2σ against 1σ
    readout = page.get_by_test_id("noise-readout")
    expect(readout).to_contain_text("4 of 60")
    expect(readout).to_contain_text("unbounded at θ*")

    # B = 16 on the log slider: a new run, and ellipses whose area shrinks as √det Σ does
    page.locator("#noise-batch").fill("677")  # 60^0.677 ≈ 16
    wait_cloud(page, 16)
    sixteen = page.evaluate(READ)
    truth16 = api(base_url, page)
    assert sixteen["predicted"] == pytest.approx(truth16["predicted"]["trace"], rel=1e-12)
    det = [
        t["predicted"]["sigma"][0][0] * t["predicted"]["sigma"][1][1]
        - t["predicted"]["sigma"][0][1] ** 2
        for t in (truth, truth16)
    ]
    ratio = (det[0] / det[1]) ** 0.5
    assert ratio == pytest.approx(4.0, rel=1e-9)  # c_B: 1/4 against 1/16
    assert four["areas"][0] / sixteen["areas"][0] == pytest.approx(ratio, rel=1e-3)
    # and each is the 1σ ellipse of its Σ: π·√det Σ (a 72-gon's share of it, 0.9987)
    polygon = 36 / math.pi * math.sin(math.pi / 36)
    for drawn, d in zip((four, sixteen), det):
        assert drawn["areas"][0] == pytest.approx(math.pi * math.sqrt(d) * polygon, rel=1e-3)
    expect(readout).to_contain_text("16 of 60")
    assert "batch=16" in page.url and "noise=1" in page.url
    assert page.locator("#ds-batch").input_value() == "16"

    # off hides the cloud and drops noise=1; a link with noise=1 brings it back
    page.get_by_test_id("noise-toggle").uncheck()
    expect(page.get_by_test_id("noise")).to_be_hidden()
    page.wait_for_function("() => !location.search.includes('noise=1')")
    page.goto(base_url + URL)
    wait_settled(page)
    wait_cloud(page, 4)
    assert page.evaluate(READ)["predicted"] == pytest.approx(four["predicted"], rel=1e-12)
    assert page.problems.errors == []  # type: ignore[attr-defined]


def test_the_toggle_is_offered_only_for_minibatch_sgd_on_data(page: Page, base_url: str) -> None:
    open_page(page, f"{base_url}/?surface=himmelblau")
    expect(page.get_by_test_id("noise-toggle")).to_be_hidden()
    open_page(page, base_url + URL.replace("&noise=1", "").replace("opt=gd", "opt=adam"))
    expect(page.get_by_test_id("noise-toggle")).to_be_hidden()
    open_page(page, base_url + URL.replace("&noise=1", ""))
    expect(page.get_by_test_id("noise-toggle")).to_be_visible()
    expect(page.get_by_test_id("noise-readout")).to_be_hidden()
    page.get_by_test_id("noise-toggle").check()
    wait_cloud(page, 4)
    assert "noise=1" in page.url
    assert page.problems.errors == []  # type: ignore[attr-defined]
