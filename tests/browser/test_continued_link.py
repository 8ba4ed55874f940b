"""Issue 16 item 5: a continued run is in the share link. Continue from t = 5 (GD → Adam), then
t = 30 (Adam's η), open the URL in a new page: the same chained run is restored exactly."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import PageProblems, open_page
from tests.browser.test_resume import START, change_eta, continue_here, pause_at, run_of

LAB = "window.descentLab"


def test_a_chained_run_is_restored_from_its_link(
    page: Page, context: BrowserContext, base_url: str
) -> None:
    open_page(page, base_url + "/" + START)
    pause_at(page, 5)
    page.select_option("#optimizer", "adam")
    continue_here(page, 5, 2)
    page.wait_for_function(f"() => {LAB}.run.done && {LAB}.run.path.length > 31")
    pause_at(page, 30)
    change_eta(page, "0.05")
    continue_here(page, 30, 3)
    chained = run_of(page)
    assert chained["segments"] == [0, 5, 30]
    query = parse_qs(urlparse(page.url).query)
    assert query["opt"] == ["adam"] and len(query["cont"]) == 2

    fresh = context.new_page()
    fresh.problems = PageProblems(fresh)  # type: ignore[attr-defined]
    open_page(fresh, page.url)
    restored = run_of(fresh)
    assert restored["segments"] == [0, 5, 30]
    assert restored["path"] == chained["path"]
    assert restored["eta_t"] == chained["eta_t"]
    assert restored["steps"] == chained["steps"]
    expect(fresh.locator("#status-message")).to_have_text(page.inner_text("#status-message"))
    assert fresh.url == page.url  # the link stays as it was
    # a plain restart drops the chain from the link
    change_eta(fresh, "0.02")
    fresh.wait_for_function(f"() => {LAB}.settled() && {LAB}.run.segments.length === 1")
    fresh.wait_for_function("() => !new URLSearchParams(location.search).has('cont')")
    assert not page.problems.errors  # type: ignore[attr-defined]
    assert not fresh.problems.errors  # type: ignore[attr-defined]
