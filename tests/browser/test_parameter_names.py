"""Issue 16 item 4: a dataset surface's θ is (w, b), and the page says so on every axis, input,
readout and export (x and y for the other surfaces); the separable lesson's run stays in view,
and its "no finite minimum" note leaves the sigmoid visible."""

from __future__ import annotations

import csv
import io
import json
import os

from playwright.sync_api import Page, expect

from tests.browser.conftest import open_page, wait_settled

OVERLAP = "/?surface=data&model=logistic&dataset=overlap"
SHOTS = os.environ.get("P2_SHOTS")  # a folder: save screenshots there to look at them

AXES = """() => {
  const c = document.getElementById('contour').layout;
  const s = document.getElementById('surface3d').layout.scene;
  return [c.xaxis.title.text, c.yaxis.title.text, s.xaxis.title.text, s.yaxis.title.text];
}"""


def names_on_page(page: Page) -> dict[str, object]:
    return {
        "axes": page.evaluate(AXES),
        "inputs": [page.inner_text('label[for="x0"]'), page.inner_text('label[for="y0"]')],
        "readout": page.inner_text("#r-names"),
        "caption": page.inner_text("#surface-names"),
    }


def test_a_regression_names_theta_w_and_b_everywhere(page: Page, base_url: str) -> None:
    open_page(page, base_url + OVERLAP)
    assert names_on_page(page) == {
        "axes": ["w", "b", "w", "b"],
        "inputs": ["θ₀ w", "θ₀ b"],
        "readout": "(w, b)",
        "caption": "(w, b)",
    }
    with page.expect_download() as info:
        page.click("#export-csv")
    with open(info.value.path(), encoding="utf-8") as f:
        rows = list(csv.reader(io.StringIO(f.read())))
    assert rows[0] == ["t", "w", "b", "loss", "grad_w", "grad_b", "eta_t"]
    with page.expect_download() as info:
        page.click("#export-json")
    with open(info.value.path(), encoding="utf-8") as f:
        assert json.load(f)["parameters"] == ["w", "b"]
    if SHOTS:
        page.locator("body").press("End")
        page.screenshot(path=f"{SHOTS}/regression-w-b.png")
    # back to a preset: x and y again
    open_page(page, base_url + "/?surface=himmelblau")
    expect(page.locator('label[for="x0"]')).to_have_text("θ₀ x")
    assert names_on_page(page)["axes"] == ["x", "y", "x", "y"]
    assert page.problems.errors == []  # type: ignore[attr-defined]


def test_the_separable_lesson_run_ends_in_view_and_the_sigmoid_is_not_covered(
    page: Page, base_url: str
) -> None:
    open_page(page, base_url + "/?lesson=7")
    page.get_by_role("button", name="separable").click()
    page.wait_for_function("() => window.descentLab.state.surface.includes('separable')")
    wait_settled(page)
    page.locator("body").press("End")
    end = page.evaluate("window.descentLab.run.path.at(-1)")
    assert end[0] > 7  # w ran off, as the lesson says
    xr, yr = page.evaluate(
        "(() => { const l = document.getElementById('contour').layout;"
        " return [l.xaxis.range, l.yaxis.range]; })()"
    )
    assert xr[0] <= end[0] <= xr[1] and yr[0] <= end[1] <= yr[1]
    note = page.locator("#dataview-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("No finite minimum")
    plot = page.locator("#dataview .nsewdrag").first.bounding_box()
    box = note.bounding_box()
    assert plot and box
    assert box["y"] >= plot["y"] + plot["height"]  # the note lies under the plot area, not on it
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/separable-end.png")
    assert page.problems.errors == []  # type: ignore[attr-defined]
