"""Pinned runs that can be told apart (issue 16, item 7): a palette that stays distinct on white,
on the colour scale and for colour-blind viewers (measured: WCAG contrast, and CIELAB ΔE under
Machado et al.'s 2009 simulation of protanopia and deuteranopia); labels that say what differs
(θ₀ included); a full key that does not squeeze the views; and Keep saying why it is off."""

from __future__ import annotations

import itertools
import math

from playwright.sync_api import Page, expect

from tests.browser.conftest import open_page
from tests.browser.test_race import start_race

LAB = "window.descentLab"
WHITE, SCALE_LIGHT, SCALE_DARK = (
    "#ffffff",
    "#fbfdf2",
    "#2a1e5c",
)  # the loss chart; plotkit COLORSCALE
MACHADO = {  # severity 1.0, on linear RGB
    "protan": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "deutan": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
}


def linear(color: str) -> list[float]:
    out = []
    for i in (1, 3, 5):
        c = int(color[i : i + 2], 16) / 255
        out.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    return out


def luminance(rgb: list[float]) -> float:
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(linear(a)), luminance(linear(b))))
    return (lb + 0.05) / (la + 0.05)


def lab(rgb: list[float]) -> tuple[float, float, float]:
    r, g, b = (min(1.0, max(0.0, v)) for v in rgb)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return (116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)))


def seen(color: str, vision: str) -> tuple[float, float, float]:
    rgb = linear(color)
    if vision in MACHADO:
        rgb = [sum(m * v for m, v in zip(row, rgb)) for row in MACHADO[vision]]
    return lab(rgb)


def test_the_palette_is_distinct_on_white_on_the_scale_and_for_colour_blind_viewers(
    page: Page, base_url: str
) -> None:
    page.goto(base_url + "/")
    pins, run = page.evaluate(
        "async () => { const k = await import('/static/js/plotkit.js');"
        " return [k.PIN_COLORS, k.RUN_COLOR]; }"
    )
    assert len(pins) >= 8
    for color in pins:
        for ground in (WHITE, SCALE_LIGHT, SCALE_DARK):
            assert contrast(color, ground) >= 2, (color, ground)
    for vision in ("normal", "protan", "deutan"):
        for a, b in itertools.combinations([*pins, run], 2):
            assert math.dist(seen(a, vision), seen(b, vision)) >= 15, (a, b, vision)


def test_pins_that_differ_only_in_theta0_say_so(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/?surface=ravine&x0=-2.8&y0=1")
    page.click("#keep")
    page.wait_for_function(f"() => {LAB}.pins.length === 1")
    page.fill("#x0", "-2")
    page.locator("#x0").dispatch_event("change")
    page.wait_for_function(f"() => {LAB}.settled() && {LAB}.state.theta0[0] === -2")
    page.click("#keep")
    page.wait_for_function(f"() => {LAB}.pins.length === 2 && {LAB}.pins.every((p) => p.run)")
    names = page.locator("#pins li.pin .what").all_text_contents()
    assert len(names) == 2 and names[0] != names[1]
    assert "θ₀ (−2.8, 1)" in names[0] and "θ₀ (−2, 1)" in names[1]


def test_a_full_key_keeps_the_views_and_keep_says_why_it_is_off(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/?surface=ravine&eta=0.01&x0=-2.8&y0=1")
    box = page.locator(".views").bounding_box()
    assert box is not None
    before = box["height"]
    start_race(page, ["gd"], "0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008")
    assert page.evaluate(f"{LAB}.pins.length") == 8
    expect(page.locator("#race-legend li")).to_have_count(9)
    # Two lines of key at most (it scrolls): a 9-run key used to leave the contour ~160 px.
    box = page.locator(".views").bounding_box()
    assert box is not None and box["height"] >= 0.85 * before

    expect(page.locator("#keep")).to_be_disabled()
    expect(page.locator("#keep-note")).to_be_visible()
    expect(page.locator("#keep-note")).to_contain_text("8 runs are pinned, the most the page keeps")
    page.locator("#pins li.pin .remove").first.click()
    expect(page.locator("#keep")).to_be_enabled()
    expect(page.locator("#keep-note")).to_be_hidden()
