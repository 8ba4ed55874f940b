"""The plots' toolbars (issue 16, item 6): only a PNG download and a reset of the view on each
plot, nothing that leaves the site (Plotly's "Share chart…" uploads to its cloud), and no toolbar
button in the Tab order, so that Tab walks from the settings to the player without stopping on
the plots."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.conftest import open_page

ALLOWED = {"Download plot as a PNG", "Reset axes", "Reset camera to default"}


def test_each_toolbar_has_png_and_reset_only(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/")
    for plot in ("contour", "surface3d", "losschart"):
        titles = page.eval_on_selector_all(
            f"#{plot} .modebar-btn", "bs => bs.map((b) => b.getAttribute('data-title'))"
        )
        assert "Download plot as a PNG" in titles, plot
        assert len(titles) == 2 and set(titles) <= ALLOWED, (plot, titles)
    assert page.locator(".modebar-btn[data-title*='Share']").count() == 0


def test_tab_passes_the_plots_without_stopping_on_their_toolbars(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/")
    page.locator("#present").focus()  # the first control of the page
    visited: list[dict] = []
    for _ in range(150):
        page.keyboard.press("Tab")
        where = page.evaluate(
            """() => { const e = document.activeElement;
                return { id: e.id, toolbar: Boolean(e.closest('.modebar')) }; }"""
        )
        visited.append(where)
        if where["id"] == "speed":  # the player's last control, after both views in the page
            break
    assert visited[-1]["id"] == "speed", "Tab never reached the player"
    assert not any(v["toolbar"] for v in visited)
