"""Issue 16 items 8 and 9: the page says what went wrong in its own words, next to the control,
and a stream the server stopped says why in the status line."""

from __future__ import annotations

import json

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import open_page


def test_an_api_validation_error_reads_in_the_pages_words(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/")
    page.fill("#eta", "-1")
    page.press("#eta", "Enter")
    expect(page.locator('[data-error-for="eta"]')).to_have_text("η must be greater than 0")
    expect(page.locator("#status")).to_have_attribute("data-status", "error")
    expect(page.locator("#status-message")).to_have_text("η must be greater than 0.")
    # a hyperparameter is named by its label, a bound by its value
    page.select_option("#optimizer", "momentum")
    page.fill("#eta", "0.01")
    page.fill("#h-momentum", "-0.5")
    page.press("#h-momentum", "Enter")
    slot = page.locator('[data-error-for="momentum"]')
    expect(slot).to_contain_text("must be at least 0")
    assert "Input should" not in slot.inner_text()
    assert "optimizer." not in page.inner_text("#status-message")


def test_a_stream_stopped_by_the_server_says_why(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/")
    message = "The run was stopped: it used its 10 s of server time after 2 steps."
    lines = [
        {"type": "step", "t": 0, "theta": [-1, 1], "loss": 130.0, "grad": [-46, 18], "eta": 0.01},
        {"type": "step", "t": 1, "theta": [-0.54, 0.82], "loss": 120.0, "grad": [-40, 10]},
        {"type": "error", "message": message},
    ]

    def stopped(route: Route) -> None:
        body = "".join(json.dumps(line) + "\n" for line in lines)
        route.fulfill(status=200, content_type="application/x-ndjson", body=body)

    page.route("**/api/descent/stream", stopped)
    page.fill("#steps", "999")
    page.press("#steps", "Enter")
    expect(page.locator("#status")).to_have_attribute("data-status", "error")
    expect(page.locator("#status-message")).to_have_text(message)
