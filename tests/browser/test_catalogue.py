"""The page builds its optimizer controls from GET /api/optimizers (issue 14): the picker, every
hyperparameter's input with the catalogue's default and bounds, the race chips and Newton's η."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import open_page, wait_settled

LAB = "window.descentLab"


def catalogue(page: Page, base_url: str) -> dict:
    answer = page.request.get(base_url + "/api/optimizers")
    assert answer.ok
    return answer.json()


def test_every_optimizer_and_hyperparameter_of_the_catalogue_has_its_control(
    page: Page, base_url: str
) -> None:
    open_page(page, base_url + "/?surface=quadratic&steps=5")
    cat = catalogue(page, base_url)
    names = [o["name"] for o in cat["optimizers"]]
    options = page.locator("#optimizer option")
    assert options.evaluate_all("(os) => os.map((o) => o.value)") == names
    assert options.evaluate_all("(os) => os.map((o) => o.textContent)") == [
        o["label"] for o in cat["optimizers"]
    ]
    race = page.locator("#race-pick input[type=checkbox]")
    assert race.evaluate_all("(bs) => bs.map((b) => b.value)") == names
    for o in cat["optimizers"]:
        page.select_option("#optimizer", o["name"])
        page.wait_for_function(f"(n) => {LAB}.state.optimizer === n", arg=o["name"])
        inputs = page.locator("#hyper input[data-param]")
        expect(inputs).to_have_count(len(o["hyperparameters"]))
        for k, h in enumerate(o["hyperparameters"]):
            box = inputs.nth(k)
            assert box.get_attribute("data-param") == h["name"]
            expect(page.locator(f"label[for='h-{h['name']}']")).to_contain_text(h["label"])
            if h["type"] == "bool":
                assert box.get_attribute("type") == "checkbox"
                assert box.is_checked() is h["default"]
                continue
            assert box.get_attribute("type") == "number"
            assert float(box.input_value()) == h["default"]
            for bound in ("min", "max"):
                attr = box.get_attribute(bound)
                assert (None if attr is None else float(attr)) == h[bound], (o["name"], h["name"])
        # The request the page makes carries the catalogue's defaults, under the API's names.
        wait_settled(page)
        sent = page.evaluate(f"{LAB}.run.body.optimizer")
        for h in o["hyperparameters"]:
            assert sent.get(h["name"], h["default"]) == h["default"]
    assert float(page.get_attribute("#eta", "max") or "nan") == cat["eta"]["max"]
    assert not page.problems.errors  # type: ignore[attr-defined]


def test_a_method_with_its_own_step_starts_from_the_catalogues_eta(
    page: Page, base_url: str
) -> None:
    cat = catalogue(page, base_url)
    own = [o for o in cat["optimizers"] if o["needs_hessian"]]
    assert own  # Newton's method
    surface = page.request.get(base_url + "/api/surfaces/quadratic").json()
    open_page(page, base_url + "/?surface=quadratic&steps=5")
    for o in own:
        page.select_option("#optimizer", o["name"])
        page.wait_for_function(f"(n) => {LAB}.state.optimizer === n", arg=o["name"])
        assert page.evaluate(f"{LAB}.state.eta") == o["default_eta"]
        page.select_option("#optimizer", "gd")
        page.wait_for_function(f"() => {LAB}.state.optimizer === 'gd'")
        assert page.evaluate(f"{LAB}.state.eta") == surface["default_eta"]
    # A link that names the optimizer but not η gets its own step too.
    open_page(page, f"{base_url}/?surface=quadratic&steps=5&opt={own[0]['name']}")
    assert page.evaluate(f"{LAB}.state.eta") == own[0]["default_eta"]
    assert not page.problems.errors  # type: ignore[attr-defined]
