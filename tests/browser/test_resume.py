"""Issue 7 on the page: continue a run from the iterate on show with new settings, the step-size
schedule picker and gd's line search, η_t as the page keeps it.

The continued path is checked against the API itself: the old settings for t steps, then the new
ones resumed from that run's `resume` object."""

from __future__ import annotations

import json
import math
from urllib.parse import parse_qs, urlparse

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import open_page, wait_settled

LAB = "window.descentLab"
START = "?surface=himmelblau&eta=0.002&x0=0&y0=-4"  # 164 steps to the minimum at (-3.78, -3.28)


def pause_at(page: Page, t: int) -> None:
    """Move the scrubber to iterate t (which pauses the player)."""
    page.locator("#scrubber").fill(str(t))
    page.wait_for_function(f"() => !{LAB}.player.playing && {LAB}.player.t === {t}")


def run_of(page: Page) -> dict:
    return page.evaluate(
        f"""() => {{ const r = {LAB}.run; return {{ path: r.path, eta_t: r.eta_t, steps: r.steps,
            segments: r.segments.map((s) => s.t), message: r.message }}; }}"""
    )


def change_eta(page: Page, eta: str) -> None:
    page.fill("#eta", eta)
    page.press("#eta", "Enter")


def continue_here(page: Page, t: int, segments: int) -> None:
    bar = page.locator("#resume-bar")
    expect(bar).to_be_visible()
    expect(page.locator("#resume-continue")).to_have_text(f"Continue from t = {t}")
    page.click("#resume-continue")
    page.wait_for_function(f"() => {LAB}.settled() && {LAB}.run.segments.length === {segments}")
    expect(bar).to_be_hidden()


def api(base_url: str, body: dict) -> dict:
    response = httpx.post(base_url + "/api/descent", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def marker_center(page: Page, t: int) -> tuple[float, float]:
    box = page.locator(f'.overlay .change-marker[data-t="{t}"] rect').bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_continue_from_here_keeps_the_path_and_marks_the_change(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/" + START)
    before = run_of(page)
    assert before["steps"] == 164 and before["segments"] == [0]
    t = before["steps"] // 2  # 82: halfway
    pause_at(page, t)
    change_eta(page, "0.01")
    # The change restarts the run from θ₀ (as it always did) and offers to continue instead.
    expect(page.locator("#resume-text")).to_contain_text("η 0.002 → 0.01")
    continue_here(page, t, 2)
    after = run_of(page)

    # One path: the old iterates 0 … t exactly, then the new segment from θ_t.
    assert after["segments"] == [0, t]
    assert after["path"][: t + 1] == before["path"][: t + 1]
    assert len(after["path"]) == after["steps"] + 1 > t + 1
    # The new segment steps with the new η; the old one kept the old η.
    assert all(e == 0.002 for e in after["eta_t"][:t])
    assert all(e == 0.01 for e in after["eta_t"][t : after["steps"]])
    assert after["eta_t"][after["steps"]] is None  # the last iterate takes no step
    # … and is exactly what the API gives: t steps with the old settings, resumed with the new.
    body = {"surface": "himmelblau", "theta0": [0, -4], "max_steps": 1000, "tol": 1e-6}
    first = api(base_url, {**body, "optimizer": {"name": "gd", "eta": 0.002}, "max_steps": t})
    rest = api(
        base_url,
        {
            **body,
            "optimizer": {"name": "gd", "eta": 0.01},
            "max_steps": 1000 - t,
            "resume": first["resume"],
        },
    )
    assert after["path"] == first["path"] + rest["path"][1:]
    assert after["eta_t"][:-1] == first["eta"] + rest["eta"]
    assert parse_qs(urlparse(page.url).query)["eta"] == ["0.01"]
    expect(page.locator("#status-message")).to_contain_text(
        f"Continued at t = {t} (η 0.002 → 0.01)"
    )

    # The change is marked where it happened, once the player has passed it.
    page.wait_for_function(f"() => !{LAB}.player.playing && {LAB}.player.t === {after['steps']}")
    marker = page.locator(f'.overlay .change-marker[data-t="{t}"]')
    expect(marker).to_be_visible()
    expect(marker).to_contain_text(f"t = {t}")
    x, y = after["path"][t]
    px, py = page.evaluate(f"() => {LAB}.contour.toPixels({x}, {y})")
    mx, my = marker_center(page, t)
    assert math.hypot(mx - px, my - py) < 2.5
    # Before the change the marker is not drawn yet; the 3-D view and the loss chart mark it too.
    pause_at(page, t - 10)
    expect(marker).to_have_count(0)
    marks3d = (
        "document.getElementById('surface3d').data.filter((d) => d.marker"
        " && d.marker.symbol === 'diamond' && d.marker.color === '#1d2433')"
    )
    page.wait_for_function(f"() => {marks3d}.length === 1 && {marks3d}[0].x.length === 0")
    pause_at(page, t + 1)
    expect(marker).to_be_visible()
    page.wait_for_function(f"() => {marks3d}[0].x.length === 1 && {marks3d}[0].x[0] === {x}")
    shapes = "(document.getElementById('losschart').layout.shapes || [])"
    page.wait_for_function(f"() => {shapes}.length === 1 && {shapes}[0].x0 === {t}")
    assert not page.problems.errors  # type: ignore[attr-defined]


def test_continue_chains_and_can_change_the_optimizer(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/" + START)
    pause_at(page, 40)
    change_eta(page, "0.004")
    continue_here(page, 40, 2)
    first = run_of(page)
    # Pause in the new segment and change again: the second continue replays from t = 40.
    pause_at(page, 50)
    page.select_option("#optimizer", "momentum")
    page.fill("#eta", "0.001")
    page.press("#eta", "Enter")
    labels = {
        o["name"]: o["label"]
        for o in page.request.get(base_url + "/api/optimizers").json()["optimizers"]
    }
    expect(page.locator("#resume-text")).to_contain_text(f"{labels['gd']} → {labels['momentum']}")
    expect(page.locator("#resume-text")).to_contain_text("starts afresh")
    continue_here(page, 50, 3)
    second = run_of(page)
    assert second["segments"] == [0, 40, 50]
    assert second["path"][:51] == first["path"][:51]
    assert all(e == 0.004 for e in second["eta_t"][40:50])
    assert all(e == 0.001 for e in second["eta_t"][50 : second["steps"]])
    page.locator("#scrubber").fill(str(second["steps"]))
    expect(page.locator(".overlay .change-marker")).to_have_count(2)
    # Restart instead: a change offers continuing; "Restart" keeps the run from θ₀.
    pause_at(page, 60)
    change_eta(page, "0.002")
    expect(page.locator("#resume-bar")).to_be_visible()
    page.click("#resume-restart")
    expect(page.locator("#resume-bar")).to_be_hidden()
    wait_settled(page)
    assert run_of(page)["segments"] == [0]
    assert not page.problems.errors  # type: ignore[attr-defined]


def test_a_change_of_theta0_or_a_finished_run_offers_no_continue(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/" + START)
    pause_at(page, 30)
    change_eta(page, "0.003")
    expect(page.locator("#resume-bar")).to_be_visible()
    # θ₀ is not a setting a run can continue with: the offer goes, the run restarts.
    page.fill("#x0", "0.5")
    page.press("#x0", "Enter")
    expect(page.locator("#resume-bar")).to_be_hidden()
    wait_settled(page)
    # At the end of a run there is nothing to continue: a change just restarts.
    page.locator("#scrubber").fill(str(page.evaluate(f"() => {LAB}.run.steps")))
    change_eta(page, "0.002")
    wait_settled(page)
    expect(page.locator("#resume-bar")).to_be_hidden()
    assert not page.problems.errors  # type: ignore[attr-defined]


def test_step_schedule_gives_a_staircase(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/?surface=himmelblau&eta=0.01&x0=0&y0=-4")
    expect(page.locator("#schedule-summary")).to_have_text("constant")
    page.click("#schedule-panel summary")
    page.select_option("#schedule", "step")
    wait_settled(page)
    page.fill("#sched-step_size", "5")
    page.press("#sched-step_size", "Enter")
    page.fill("#sched-gamma", "0.5")
    page.press("#sched-gamma", "Enter")
    page.wait_for_function(
        f"() => {LAB}.settled() && {LAB}.state.schedule.gamma === 0.5"
        f" && {LAB}.state.schedule.step_size === 5"
    )
    query = parse_qs(urlparse(page.url).query)
    assert (query["sched"], query["sched_step_size"], query["sched_gamma"]) == (
        ["step"],
        ["5"],
        ["0.5"],
    )
    expect(page.locator("#schedule-summary")).to_have_text("×0.5 every 5")
    run = run_of(page)
    assert run["steps"] > 10
    for t, eta in enumerate(run["eta_t"][: run["steps"]]):
        assert eta == 0.01 * 0.5 ** (t // 5)
    body = page.evaluate(f"() => {LAB}.run.body.optimizer")
    assert body == {
        "name": "gd",
        "eta": 0.01,
        "schedule": {"name": "step", "step_size": 5, "gamma": 0.5},
    }
    # η_t is plotted under the loss, as a staircase.
    trace = page.evaluate(
        "() => document.getElementById('losschart').data.find((d) => d.name === 'ηₜ')"
    )
    assert trace["y"][:11] == [0.01] * 5 + [0.005] * 5 + [0.0025]
    # The link restores it; a bad value is shown next to its field.
    page.reload()
    page.wait_for_function("() => document.getElementById('app').dataset.state === 'ready'")
    wait_settled(page)
    expect(page.locator("#schedule")).to_have_value("step")
    expect(page.locator("#schedule-panel")).to_have_attribute("open", "")
    expect(page.locator("#sched-gamma")).to_have_value("0.5")
    page.problems.errors.clear()  # type: ignore[attr-defined]
    page.fill("#sched-gamma", "2")
    page.press("#sched-gamma", "Enter")
    # In the page's words (issue 16 item 9), not pydantic's "less than or equal to 1".
    expect(page.locator('[data-error-for="schedule.gamma"]')).to_contain_text(
        "multiply by γ must be at most 1"
    )
    expect(page.locator("#sched-gamma")).to_have_attribute("aria-invalid", "true")
    assert [e for e in page.problems.errors if "422" not in e] == []  # type: ignore[attr-defined]


def test_each_schedule_sends_its_parameters(page: Page, base_url: str) -> None:
    open_page(
        page,
        base_url + "/?surface=quadratic&eta=0.1&sched=cosine&sched_t_max=20&sched_eta_min=0.01",
    )
    body = page.evaluate(f"() => {LAB}.run.body.optimizer.schedule")
    assert body == {"name": "cosine", "t_max": 20, "eta_min": 0.01}
    eta = run_of(page)["eta_t"]
    assert eta[0] == 0.1 and abs(eta[10] - (0.01 + 0.09 * (1 + math.cos(math.pi / 2)) / 2)) < 1e-12
    expect(page.locator("#schedule-panel")).to_have_attribute("open", "")
    page.select_option("#schedule", "inverse_sqrt")
    page.fill("#sched-warmup", "3")
    page.press("#sched-warmup", "Enter")
    page.wait_for_function(f"() => {LAB}.settled() && {LAB}.state.schedule.warmup === 3")
    assert (
        "sched=inverse_sqrt" in page.url
        and "sched_warmup=3" in page.url
        and "sched_t_max" not in page.url
    )
    page.select_option("#schedule", "constant")
    page.wait_for_function(f"() => {LAB}.settled() && {LAB}.state.schedule.name === 'constant'")
    assert "sched" not in page.url
    assert "schedule" not in page.evaluate(f"() => {LAB}.run.body.optimizer")


def test_line_search_toggle_is_gd_only(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/?surface=rosenbrock&eta=0.5&steps=200")
    expect(page.locator("#status")).to_have_attribute("data-status", "diverged")
    page.click("#schedule-panel summary")
    expect(page.locator("#line-search")).to_be_visible()
    page.check("#line-search")
    page.wait_for_function(f"() => {LAB}.settled() && {LAB}.state.lineSearch !== null")
    assert parse_qs(urlparse(page.url).query)["ls"] == ["1"]
    expect(page.locator("#status")).not_to_have_attribute("data-status", "diverged")
    body = page.evaluate(f"() => {LAB}.run.body.optimizer")
    assert body == {"name": "gd", "eta": 0.5, "line_search": {"c": 1e-4, "shrink": 0.5}}
    etas = run_of(page)["eta_t"][:-1]
    # Every step size is η·shrinkᵏ, and backtracking did shrink some.
    assert all(math.log2(0.5 / e) == round(math.log2(0.5 / e)) for e in etas)
    assert min(etas) < 0.5
    page.fill("#ls-shrink", "0.8")
    page.press("#ls-shrink", "Enter")
    page.wait_for_function(f"() => {LAB}.settled() && {LAB}.state.lineSearch.shrink === 0.8")
    assert parse_qs(urlparse(page.url).query)["ls_shrink"] == ["0.8"]
    # Other optimizers have no line search: the toggle hides and nothing is sent.
    page.select_option("#optimizer", "momentum")
    expect(page.locator("#line-search-box")).to_be_hidden()
    page.wait_for_function(f"() => {LAB}.settled() && {LAB}.state.optimizer === 'momentum'")
    assert "line_search" not in page.evaluate(f"() => {LAB}.run.body.optimizer")
    assert "ls=" not in page.url
    # Newton starts from its natural step η = 1; back on gd, the surface's η.
    page.select_option("#optimizer", "newton")
    expect(page.locator("#eta")).to_have_value("1")
    page.wait_for_function(
        f"() => {LAB}.settled() && {LAB}.state.optimizer === 'newton' && {LAB}.state.eta === 1"
    )
    page.select_option("#optimizer", "gd")
    expect(page.locator("#eta")).to_have_value("0.001")


def test_schedule_defaults_and_bounds_match_the_api(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/")
    spec = page.evaluate(
        """async () => { const src = document.querySelector('script[type=module]').src;
            const m = await import(src.replace('main.js', 'schedule.js'));
            return { schedules: m.schedules(), lineSearch: m.lineSearch() }; }"""
    )
    schemas = httpx.get(base_url + "/openapi.json", timeout=30).json()["components"]["schemas"]
    names = {
        "step": "StepSchedule",
        "exponential": "ExponentialSchedule",
        "cosine": "CosineSchedule",
        "inverse_sqrt": "InverseSqrtSchedule",
    }
    pairs = [(spec["schedules"][k]["params"], schemas[v]["properties"]) for k, v in names.items()]
    pairs.append((spec["lineSearch"], schemas["LineSearchParams"]["properties"]))
    for params, props in pairs:
        assert set(params) == set(props) - {"name"}, json.dumps(props)
        for key, p in params.items():
            prop = props[key]
            assert p["value"] == prop["default"], key
            assert p["min"] == prop.get("minimum", prop.get("exclusiveMinimum")), key
            assert p["max"] == prop.get("maximum", prop.get("exclusiveMaximum")), key
            assert p.get("int", False) == (prop["type"] == "integer"), key
