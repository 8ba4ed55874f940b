"""The page with regression on data (issue 4): the linked data view follows θ, converges to θ*."""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import FilePayload, Page, expect

from tests.browser.conftest import open_page, wait_settled
from tests.browser.test_page import drag

OVERLAP = "/?surface=data&model=logistic&dataset=overlap"
TRACE = "document.getElementById('dataview').data[window.descentLab.dataView.modelTrace{}].y"
MODEL = TRACE.format("")
GHOST = TRACE.format(" - 1")


def sigmoid_at(page: Page, theta: list[float]) -> list[float]:
    d = page.evaluate(
        "(() => { const v = window.descentLab.dataView; return { xs: v.xs, ...v.data }; })()"
    )
    return [
        1 / (1 + math.exp(-(theta[0] * (x - d["shift"]) / d["scale"] + theta[1]))) for x in d["xs"]
    ]


def test_dragging_theta0_moves_the_sigmoid_in_the_data_view(page: Page, base_url: str) -> None:
    open_page(page, base_url + OVERLAP + "&steps=3")  # a short run: its last iterate follows θ₀
    expect(page.locator("#dataview-figure")).to_be_visible()
    expect(page.locator("#dataview-note")).to_be_hidden()
    page.locator("body").press("End")
    page.wait_for_function(f"() => {MODEL}.every((v) => v !== null)")
    before = page.evaluate(MODEL)
    start = tuple(page.evaluate("window.descentLab.state.theta0"))
    drag(page, start, (4.0, -2.0))
    wait_settled(page)
    last = page.evaluate("window.descentLab.run.path.at(-1)")
    page.wait_for_function(
        "(t) => JSON.stringify(window.descentLab.dataView.theta) === JSON.stringify(t)", arg=last
    )
    after = page.evaluate(MODEL)
    assert max(abs(a - b) for a, b in zip(after, before)) > 0.1  # the curve moved
    assert all(
        abs(a - b) < 1e-9 for a, b in zip(after, sigmoid_at(page, last))
    )  # to σ(w·u + b) at θ_t
    # the class points are drawn, both classes
    assert (
        page.evaluate(
            "document.getElementById('dataview').data.filter((t) => t.mode === 'markers').length"
        )
        == 2
    )
    assert page.problems.errors == []  # type: ignore[attr-defined]


def test_a_logistic_run_converges_near_the_marked_optimum(page: Page, base_url: str) -> None:
    open_page(page, base_url + OVERLAP)
    expect(page.locator("#status")).to_have_attribute("data-status", "converged")
    expect(page.get_by_role("button", name="Regression")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#ds-set")).to_have_value("overlap")
    optimum = page.evaluate("window.descentLab.dataView.data.optimum")
    last = page.evaluate("window.descentLab.run.path.at(-1)")
    assert math.dist(last, optimum) < 1e-3
    page.locator("body").press("End")
    page.wait_for_function(
        "(t) => JSON.stringify(window.descentLab.dataView.theta) === JSON.stringify(t)", arg=last
    )
    ghost = page.evaluate(GHOST)
    assert max(abs(a - b) for a, b in zip(page.evaluate(MODEL), ghost)) < 1e-3  # on the ghost of θ*
    assert max(abs(a - b) for a, b in zip(ghost, sigmoid_at(page, optimum))) < 1e-12


def test_separable_data_say_there_is_no_finite_minimum(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/?surface=data&model=logistic&dataset=separable&steps=50")
    expect(page.locator("#dataview-note")).to_be_visible()
    expect(page.locator("#dataview-note")).to_contain_text("No finite minimum")
    assert page.evaluate(GHOST) == []


def test_dataset_options_are_in_the_link_and_minibatch_reaches_the_request(
    page: Page, base_url: str
) -> None:
    open_page(page, base_url + OVERLAP)
    page.locator("#ds-model").select_option("linear")
    page.wait_for_function("() => new URLSearchParams(location.search).get('model') === 'linear'")
    wait_settled(page)
    expect(page.locator("#dataview-keys")).to_be_hidden()  # no classes to tell apart
    page.locator("#ds-set").select_option("house_prices")
    page.locator("#ds-std").check()
    page.locator("#ds-batch").fill("8")
    page.locator("#ds-seed").fill("3")
    page.locator("#ds-seed").dispatch_event("change")
    page.wait_for_function("() => new URLSearchParams(location.search).get('seed') === '3'")
    wait_settled(page)
    query = parse_qs(urlparse(page.url).query)
    assert (query["dataset"], query["std"], query["batch"]) == (["house_prices"], ["1"], ["8"])
    body = page.evaluate("window.descentLab.run.body")
    assert (body["batch_size"], body["seed"]) == (8, 3)
    assert body["surface"] == {
        "kind": "linear",
        "l2": 0,
        "standardize": True,
        "dataset": "house_prices",
    }


def test_an_uploaded_csv_is_used_and_a_bad_one_shows_its_row(page: Page, base_url: str) -> None:
    open_page(page, base_url + OVERLAP)
    expect(page.locator("#ds-upload-row")).to_be_hidden()
    with page.expect_file_chooser() as chooser:
        page.locator("#ds-set").select_option("upload")
    chooser.value.set_files(
        files=[FilePayload(name="bad.csv", mimeType="text/csv", buffer=b"x,y\n1,0\n2,1\n3,2\n")]
    )
    expect(page.locator("#ds-file-error")).to_contain_text("row")
    expect(page.locator("#ds-upload-row")).to_contain_text("not kept in links")
    rows = "x,y\n" + "".join(f"{i / 10},{int(i > 12 if i % 5 else i > 8)}\n" for i in range(20))
    page.locator("#ds-file").set_input_files(
        files=[FilePayload(name="mine.csv", mimeType="text/csv", buffer=rows.encode())]
    )
    page.wait_for_function("() => window.descentLab.state.surface.includes('upload%3A')")
    wait_settled(page)
    expect(page.locator("#ds-file-error")).to_be_empty()
    assert page.evaluate("window.descentLab.dataView.data.n") == 20
    # the points are not in the link, only which upload it was (a new page says it lacks them)
    assert parse_qs(urlparse(page.url).query)["dataset"][0].startswith("upload:")
    assert page.evaluate("window.descentLab.run.body.surface.data.x.length") == 20


def test_a_failed_dataset_list_is_said_in_words(page: Page, base_url: str) -> None:
    # The list of built-in datasets cannot be fetched: the Regression panel says so (it used to
    # show an empty list and nothing else), and an upload is still offered.
    page.route("**/api/datasets", lambda route: route.abort())
    open_page(page, base_url + "/")
    page.get_by_role("button", name="Regression").click()
    expect(page.locator("#ds-error")).to_be_visible()
    expect(page.locator("#ds-error")).to_contain_text("Could not load the built-in datasets")
    expect(page.locator("#ds-set option")).to_have_text(["upload CSV…"])
