"""Every lesson opened by its URL: its state is applied (surface, optimizer, η, θ₀, views) and its
outcome happens on the page, checked against the lesson's own `expect` (the statement the API
tests also hold each lesson to) and against POST /api/descent."""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
from playwright.sync_api import Page, expect

from app.lessons import LESSONS
from tests.browser.conftest import open_page, wait_settled

LAB = "window.descentLab"


def page_surface(spec: str | dict, run: dict) -> str:
    """The page's id of a run's surface (custom.js dataId: a dataset's carries the minibatch)."""
    if isinstance(spec, str):
        return spec
    q = {"model": spec["kind"], "set": spec["dataset"]}
    q |= {"l2": str(spec["l2"])} if spec.get("l2") else {}
    q |= {"std": "1"} if spec.get("standardize") else {}
    if run.get("batch_size"):
        q |= {"batch": str(run["batch_size"]), "seed": str(run.get("seed", 0))}
        q |= {"sampling": run["sampling"]} if run.get("sampling", "epoch") != "epoch" else {}
    return f"data?{urlencode(q)}"


def check_outcome(run: dict, want: dict) -> None:
    assert run["status"] == want["status"], run["message"]
    if "minimum" in want:
        assert math.dist(run["path"][-1], want["minimum"]) < 1e-3
        assert run["nearest"]["kind"] == want.get("kind", run["nearest"]["kind"])
    if "message_contains" in want:
        assert want["message_contains"] in run["message"]
    if want.get("at_minimum"):
        assert run["nearest"]["distance"] < 1e-4


RUN = (
    "(r) => ({ status: r.status, message: r.message, path: r.path, nearest: r.nearest,"
    " body: r.body })"
)


# Network lessons (views.network: runs sent to /api/networks/…) wait for the page's network view.
SURFACE_LESSONS = [item for item in LESSONS if not item["views"].get("network")]


@pytest.mark.parametrize("lesson", SURFACE_LESSONS, ids=lambda item: f"{item['id']}-{item['slug']}")
def test_every_lesson_url_sets_its_state_and_shows_its_outcome(
    page: Page, base_url: str, lesson: dict
) -> None:
    open_page(page, f"{base_url}/?lesson={lesson['id']}")
    first = lesson["runs"][0]
    state = page.evaluate(f"{LAB}.state")
    assert state["surface"] == page_surface(first["surface"], first)
    assert state["optimizer"] == first["optimizer"]["name"]
    assert state["eta"] == first["optimizer"]["eta"]
    assert state["theta0"] == first["theta0"]
    assert parse_qs(urlparse(page.url).query)["lesson"] == [str(lesson["id"])]

    card = page.get_by_test_id("lesson-card")
    expect(card).to_be_visible()
    expect(card).to_contain_text(lesson["title"])
    expect(card).to_contain_text(lesson["question"])

    # The run on show, and the lesson's other runs on its surface pinned beside it.
    if lesson["views"].get("paused"):
        page.keyboard.press("End")
    check_outcome(page.evaluate(f"({RUN})({LAB}.run)"), lesson["expect"][0])
    same_surface = [
        (r, w)
        for r, w in zip(lesson["runs"][1:], lesson["expect"][1:])
        if page_surface(r["surface"], r) == page_surface(first["surface"], first)
    ]
    pins = page.evaluate(f"{LAB}.pins.map((p) => ({RUN})(p.run))")
    assert len(pins) == len(same_surface)
    for pin, (run, want) in zip(pins, same_surface):
        truth = httpx.post(
            f"{base_url}/api/descent",
            json={k: v for k, v in run.items() if k != "label"},
            timeout=30,
        ).json()
        assert pin["path"] == truth["path"]
        check_outcome(pin, want)
    if lesson["views"].get("race"):
        assert state["race"] is True and "race=1" in page.url
    if lesson["views"].get("gradient_field"):
        expect(page.locator("#gradfield-toggle")).to_be_checked()
        page.wait_for_function(
            "() => document.querySelectorAll('[data-testid=gradfield] .gf-arrows line').length > 20"
        )
    if lesson["views"].get("basins"):
        expect(page.get_by_test_id("basins-legend").locator("li")).not_to_have_count(
            0, timeout=30_000
        )
    if lesson["views"].get("data_view"):
        expect(page.get_by_test_id("dataview")).to_be_visible()
    if lesson["views"].get("noise_cloud"):
        expect(page.get_by_test_id("noise-toggle")).to_be_checked()
        expect(page.get_by_test_id("noise-readout")).to_have_attribute("data-state", "ready")
    assert page.problems.errors == []  # type: ignore[attr-defined]


def test_lesson_two_waits_at_theta0_and_one_step_is_written_out(page: Page, base_url: str) -> None:
    open_page(page, f"{base_url}/?lesson=2")
    assert page.evaluate(f"{LAB}.player.playing") is False
    expect(page.locator("#r-t")).to_have_text("0")
    expect(page.locator("#r-grad")).to_have_text("(−5, 4)")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#r-t")).to_have_text("1")
    assert page.evaluate(f"{LAB}.run.path[1]") == pytest.approx([-2.0, 1.6], abs=1e-15)


def test_lesson_four_reaches_two_different_minima(page: Page, base_url: str) -> None:
    open_page(page, f"{base_url}/?lesson=4")
    ends = page.evaluate(f"[{LAB}.run, ...{LAB}.pins.map((p) => p.run)].map((r) => r.nearest)")
    assert {e["kind"] for e in ends} == {"local", "global"}
    assert math.dist((ends[0]["x"], ends[0]["y"]), (ends[1]["x"], ends[1]["y"])) > 1


def test_lesson_seven_switches_to_separable_data(page: Page, base_url: str) -> None:
    open_page(page, f"{base_url}/?lesson=7")
    page.get_by_role("button", name="separable").click()
    page.wait_for_function(f"() => {LAB}.state.surface.includes('set=separable')")
    wait_settled(page)
    assert page.evaluate(f"{LAB}.run.status") == "max_steps"
    expect(page.get_by_role("button", name="separable")).to_have_attribute("aria-pressed", "true")


def test_next_and_previous_walk_through_the_lessons(page: Page, base_url: str) -> None:
    open_page(page, f"{base_url}/?lesson=1")
    page.click("#lesson-next")
    page.wait_for_function(f"() => {LAB}.state.lesson === 2")
    wait_settled(page)
    assert "lesson=2" in page.url
    assert page.evaluate(f"{LAB}.state.surface") == "quadratic"
    page.click("#lesson-prev")
    page.wait_for_function(f"() => {LAB}.state.lesson === 1")
    wait_settled(page)
    assert page.evaluate(f"{LAB}.state.surface") == "booth"
    expect(page.locator("#lesson-prev")).to_be_disabled()
    page.go_back()  # the history holds each lesson
    page.wait_for_function(f"() => {LAB}.state.lesson === 2")
    # The list opens any lesson in one click.
    page.click("#lessons summary")
    page.click("a[data-lesson='5']")
    page.wait_for_function(f"() => {LAB}.state.lesson === 5 && {LAB}.state.surface === 'ravine'")
    page.click("#lesson-close")
    expect(page.get_by_test_id("lesson-card")).to_be_hidden()
    assert "lesson=" not in page.url


def test_presenter_mode_keeps_the_essentials_and_its_url(page: Page, base_url: str) -> None:
    open_page(page, f"{base_url}/?lesson=3&present=1")
    expect(page.locator("#app")).to_have_attribute("data-present", "true")
    for essential in ("#surface", "#optimizer", "#eta", "#x0", "#lesson-question", "#play"):
        expect(page.locator(essential)).to_be_visible()
    for extra in ("#hyper", "#tol", "#sweep", "#export-csv", "#race-etas"):
        expect(page.locator(extra)).to_be_hidden()
    page.click("#present")
    expect(page.locator("#app")).to_have_attribute("data-present", "false")
    assert "present=1" not in page.url
    expect(page.locator("#tol")).to_be_visible()


def test_a_changed_lesson_keeps_its_card_on_reload_and_a_bad_number_is_ignored(
    page: Page, base_url: str
) -> None:
    open_page(page, f"{base_url}/?lesson=3")
    page.fill("#eta", "0.5")
    page.press("#eta", "Enter")
    wait_settled(page)
    assert "lesson=3" in page.url and "eta=0.5" in page.url
    page.reload()
    page.wait_for_function("() => document.getElementById('app').dataset.state === 'ready'")
    wait_settled(page)
    assert page.evaluate(f"{LAB}.state.eta") == 0.5  # the learner's change wins over the lesson's η
    expect(page.get_by_test_id("lesson-card")).to_contain_text("η too small, η too large")

    open_page(page, f"{base_url}/?lesson=99")
    expect(page.get_by_test_id("lesson-card")).to_be_hidden()
    assert page.evaluate(f"{LAB}.state.surface") == "himmelblau"  # the default page
    assert "lesson=" not in page.url
    assert page.problems.errors == []  # type: ignore[attr-defined]
