"""The optimizer race: several optimizers (or step sizes) from the same θ₀, animated together.

Each racer's run is checked against POST /api/descent (the independent truth the page draws),
and each racer's head on the contour is checked to sit on its own iterate t while the player is
at t."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import open_page, wait_settled

LAB = "window.descentLab"


def api_run(base_url: str, optimizer: dict, theta0: list[float]) -> dict:
    body = {
        "surface": "ravine",
        "theta0": theta0,
        "optimizer": optimizer,
        "max_steps": 1000,
        "tol": 1e-6,
    }
    return httpx.post(base_url + "/api/descent", json=body, timeout=30).json()


def start_race(page: Page, picked: list[str], etas: str = "") -> None:
    for box in page.locator("#race-pick input").all():
        box.set_checked(box.get_attribute("value") in picked)
    page.fill("#race-etas", etas)
    page.click("#race")
    page.wait_for_function(
        f"() => {LAB}.settled() && {LAB}.pins.length > 0 && {LAB}.pins.every((p) => p.run)"
    )


def heads(page: Page) -> list[tuple[float, float]]:
    return page.evaluate(
        """() => [...document.querySelectorAll('.overlay g.pins circle')].map((c) => {
            const b = c.getBoundingClientRect();
            return [b.x + b.width / 2, b.y + b.height / 2]; })"""
    )


def test_a_race_of_optimizers_matches_the_api_and_moves_together(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/?surface=ravine&eta=0.035&x0=-2.8&y0=1")
    start_race(page, ["gd", "momentum", "adam"])

    pins = page.evaluate(
        f"{LAB}.pins.map((p) => ({{ optimizer: p.optimizer, eta: p.eta, theta0: p.theta0,"
        " path: p.run.path, steps: p.run.steps }))"
    )
    assert [p["optimizer"] for p in pins] == ["momentum", "adam"]  # GD is the run on show
    assert all(p["theta0"] == [-2.8, 1] and p["eta"] == 0.035 for p in pins)
    for p in pins:
        truth = api_run(base_url, {"name": p["optimizer"], "eta": 0.035}, [-2.8, 1])
        assert p["path"] == truth["path"] and p["steps"] == truth["steps"]
    assert "race=1" in page.url and len(parse_qs(urlparse(page.url).query)["pin"]) == 2

    # The legend: this run first, then each racer with its outcome, steps and final loss.
    rows = page.locator("#pins li")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("this run")
    for i, p in enumerate(pins, start=1):
        expect(rows.nth(i)).to_contain_text(f"converged · {p['steps']} steps · L = ")

    # The player runs until the longest racer ends; at every t each head sits on its iterate t.
    longest = max(p["steps"] for p in pins)
    expect(page.locator("#t-label")).to_contain_text(f"/ {longest}")
    page.locator("#scrubber").fill("40")
    for t in (40, longest):
        if t == longest:
            page.keyboard.press("End")
        page.wait_for_function(f"() => {LAB}.player.t === {t}")
        for (hx, hy), p in zip(heads(page), pins):
            x, y = p["path"][min(t, p["steps"])]
            px, py = page.evaluate("([x, y]) => window.descentLab.contour.toPixels(x, y)", [x, y])
            assert (hx, hy) == pytest.approx((px, py), abs=1.0)
        # The loss chart marks each racer's loss at its iterate t too (it follows at its own pace).
        page.wait_for_function(
            """(want) => { const m = document.getElementById('losschart').data
                .find((d) => d.mode === 'markers' && Array.isArray(d.marker.color));
                return m && JSON.stringify(m.x) === JSON.stringify(want); }""",
            arg=[min(t, p["steps"]) for p in pins],
        )
    # The run on show has ended before the longest racer: it rests on its last iterate.
    gd_steps = page.evaluate(f"{LAB}.run.steps")
    assert gd_steps < longest
    expect(page.locator("#r-t")).to_have_text(str(gd_steps))


def test_racers_follow_theta0_and_a_step_size_race(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/?surface=ravine&eta=0.035&x0=-2.8&y0=1")
    start_race(page, ["gd"], "0.01, 0.035, 0.079")
    assert page.evaluate(f"{LAB}.pins.map((p) => p.eta)") == [0.01, 0.079]  # 0.035 is this run
    assert page.evaluate(f"{LAB}.pins[1].run.status") == "diverged"  # above 2/λ_max = 2/50
    page.fill("#x0", "2")
    page.press("#x0", "Enter")
    page.wait_for_function(
        f"() => {LAB}.pins.every((p) => p.theta0[0] === 2 && p.run && p.run.path[0][0] === 2)"
    )
    wait_settled(page)
    expect(page.locator("#pins li.pin").first).to_contain_text("θ₀ (2, 1)")


def test_a_bad_eta_list_is_explained(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/?surface=ravine")
    page.fill("#race-etas", "0.01, fast")
    page.click("#race")
    expect(page.locator('[data-error-for="race"]')).to_contain_text("η = fast is not a step size")
    assert page.evaluate(f"{LAB}.pins.length") == 0


def test_a_pinned_runs_label_names_its_schedule_and_line_search(page: Page, base_url: str) -> None:
    """Two pins that differ only in η's schedule or the line search must not read the same."""
    pins = (
        "&pin=opt:gd,eta:0.1,x0:1,y0:1,sched:cosine,sched_t_max:50"
        "&pin=opt:gd,eta:0.1,x0:1,y0:1,ls:1"
    )
    open_page(page, f"{base_url}/?surface=quadratic&opt=gd&eta=0.1&x0=1&y0=1{pins}")
    rows = page.locator("#pins li.pin")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator(".what")).to_have_text(
        "Gradient descent, η = 0.1 · cosine to 0 over 50"
    )
    expect(rows.nth(1).locator(".what")).to_have_text("Gradient descent, η = 0.1 · Armijo")
    expect(page.locator("#pins li.current .what")).to_have_text("Gradient descent, η = 0.1")
