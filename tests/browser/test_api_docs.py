"""/docs (Swagger UI) and /redoc (ReDoc) render the API under their Content-Security-Policy, from
local assets (issue 15 item 5): loaded in Chromium without Playwright's CSP bypass, each lists the
endpoints of /openapi.json, with no CSP violation, no console error and no request elsewhere."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response, expect


@pytest.fixture
def strict_page(browser: Browser, base_url: str) -> Iterator[tuple[Page, list[str]]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # the CSP applies
    page = context.new_page()
    problems: list[str] = []

    def console(m: ConsoleMessage) -> None:
        if m.type == "error":
            problems.append(f"console: {m.text}")

    def request(r: Request) -> None:
        if r.url.startswith(("http:", "https:")) and not r.url.startswith(base_url):
            problems.append(f"elsewhere: {r.url}")

    def response(r: Response) -> None:
        if r.status >= 400:
            problems.append(f"{r.status} {r.url}")

    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    page.on("request", request)
    page.on("response", response)
    yield page, problems
    context.close()


def paths(base_url: str) -> dict:
    return httpx.get(base_url + "/openapi.json").json()["paths"]


def test_swagger_ui_lists_the_endpoints(strict_page, base_url: str) -> None:
    page, problems = strict_page
    response = page.goto(base_url + "/docs")
    assert (
        response is not None and "'unsafe-eval'" not in response.headers["content-security-policy"]
    )
    listed = page.locator(".opblock-summary-path")
    expect(listed.first).to_be_visible(timeout=15_000)
    shown = set(listed.all_inner_texts())
    expected = {p.replace("\u200b", "") for p in paths(base_url)}
    assert {p.replace("\u200b", "") for p in shown} == expected
    assert problems == []


def test_redoc_lists_the_endpoints(strict_page, base_url: str) -> None:
    page, problems = strict_page
    page.goto(base_url + "/redoc")
    api = paths(base_url)
    operations = [op for item in api.values() for op in item.values() if "summary" in op]
    first = operations[0]["summary"]
    expect(page.get_by_role("heading", name=first).first).to_be_visible(timeout=20_000)
    # ReDoc prints each operation's method and path in its request panel
    for path in ("/api/descent", "/api/surfaces"):
        expect(page.get_by_text(path, exact=True).first).to_be_attached()
    # ReDoc's footer always tries Redocly's logo from their CDN: the policy blocks it (the logo
    # hides itself), and nothing else.
    logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert [p for p in problems if logo not in p] == []
    assert all(
        "violates the following Content Security Policy" in p for p in problems if "console" in p
    )
