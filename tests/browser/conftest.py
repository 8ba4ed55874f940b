"""Fixtures for the browser tests: the app served by uvicorn on a free port, and Debian's chromium
driven by Playwright. A missing browser fails the tests: it never skips them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    Response,
    sync_playwright,
)

from app.web.serve import CHROMIUM, CHROMIUM_ARGS, running_app

# Chromium's software WebGL reports GPU stalls on readPixels; they are not errors of the page.
BENIGN_CONSOLE = ("GL Driver Message", "GPU stall", "willReadFrequently")


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    with running_app() as url:
        yield url


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium is not installed at {CHROMIUM}: apt-get install chromium")
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


class PageProblems:
    """Console errors, uncaught exceptions and failed requests seen by a page."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error" and not any(b in msg.text for b in BENIGN_CONSOLE):
            self.errors.append(f"console: {msg.text}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.errors.append(f"{response.status} {response.url}")

    def _failed(self, request: Request) -> None:
        failure = request.failure or ""
        if "ERR_ABORTED" not in failure:  # requests the page cancels on purpose (AbortController)
            self.errors.append(f"failed: {request.url} {failure}")


@pytest.fixture
def context(browser: Browser):
    # The page's Content-Security-Policy forbids eval, which Playwright's string predicates use;
    # test_csp.py checks the page itself under the policy.
    context = browser.new_context(
        viewport={"width": 1280, "height": 720}, accept_downloads=True, bypass_csp=True
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def page(context) -> Page:
    page = context.new_page()
    page.problems = PageProblems(page)
    return page


def open_page(page: Page, url: str) -> Page:
    """Load the page and wait until its first run has finished streaming."""
    page.goto(url)
    page.wait_for_function("() => document.getElementById('app').dataset.state === 'ready'")
    wait_settled(page)
    return page


def wait_settled(page: Page) -> None:
    """Wait until the run on show is complete and matches the current settings."""
    page.wait_for_function("() => window.descentLab.settled()")
