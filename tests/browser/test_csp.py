"""The page runs under its own Content-Security-Policy (no inline script, no eval): loaded without
Playwright's CSP bypass, it finishes its first run with no CSP violation and no console error."""

from playwright.sync_api import Browser, ConsoleMessage, expect

BENIGN_CONSOLE = ("GL Driver Message", "GPU stall", "willReadFrequently")  # software WebGL chatter


def test_page_works_under_its_content_security_policy(browser: Browser, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        problems: list[str] = []

        def console(m: ConsoleMessage) -> None:
            if m.type == "error" and not any(b in m.text for b in BENIGN_CONSOLE):
                problems.append(m.text)

        page.on("console", console)
        page.on("pageerror", lambda e: problems.append(str(e)))
        response = page.goto(base_url + "/")
        assert response is not None
        assert "script-src 'self'" in response.headers["content-security-policy"]
        expect(page.locator("#app")).to_have_attribute("data-state", "ready", timeout=15_000)
        expect(page.locator("#status")).to_contain_text("Converged", timeout=15_000)
        assert problems == []
    finally:
        context.close()
