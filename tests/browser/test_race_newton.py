"""A race with a list of step sizes runs Newton's method at its own η = 1, once, as the README
says (issue 16, item 10): the list is for the first-order optimizers. Each racer is checked
against POST /api/descent."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page

from tests.browser.conftest import open_page
from tests.browser.test_race import start_race

LAB = "window.descentLab"


def test_an_eta_list_races_newton_at_one(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/?surface=ravine&eta=0.035&x0=-2.8&y0=1")
    start_race(page, ["gd", "newton"], "0.005, 0.02")

    pins = page.evaluate(
        f"{LAB}.pins.map((p) => ({{ o: p.optimizer, eta: p.eta, path: p.run.path }}))"
    )
    assert sorted((p["o"], p["eta"]) for p in pins) == [("gd", 0.005), ("gd", 0.02), ("newton", 1)]
    newton = next(p for p in pins if p["o"] == "newton")
    body = {
        "surface": "ravine",
        "theta0": [-2.8, 1],
        "optimizer": {"name": "newton", "eta": 1},
        "max_steps": 1000,
        "tol": 1e-6,
    }
    assert (
        newton["path"]
        == httpx.post(base_url + "/api/descent", json=body, timeout=30).json()["path"]
    )
