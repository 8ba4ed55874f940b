"""Issue 7 on the page: Newton's method is offered and behaves as second-order."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import open_page, wait_settled


def test_newton_reaches_quadratic_minimum_in_one_step(page: Page, base_url: str) -> None:
    open_page(page, f"{base_url}/?surface=quadratic&opt=gd&eta=0.1&x0=1&y0=1")
    page.select_option("#optimizer", "newton")
    page.fill("#eta", "1")
    page.press("#eta", "Enter")
    page.wait_for_function(
        "() => window.descentLab.state.optimizer === 'newton' && window.descentLab.state.eta === 1"
    )
    wait_settled(page)
    run = page.evaluate(
        "() => ({ status: window.descentLab.run.status, steps: window.descentLab.run.steps })"
    )
    assert run == {"status": "converged", "steps": 1}
    expect(page.locator("#status-message")).to_contain_text("1 step")
    assert "opt=newton" in page.url
    assert not page.problems.errors  # type: ignore[attr-defined]
