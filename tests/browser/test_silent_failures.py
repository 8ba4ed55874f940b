"""Issue 16 item 8: no silent failures, no stale state. A rejected formula range says so next to
the ranges; after a bad CSV upload the dataset box names the data the plots show; a link made
with uploaded data says, when opened elsewhere, that it cannot carry them."""

from __future__ import annotations

from playwright.sync_api import FilePayload, Page, expect

from tests.browser.conftest import open_page, wait_settled

LAB = "window.descentLab"
OVERLAP = "/?surface=data&model=logistic&dataset=overlap"
GOOD = "x,y\n" + "".join(f"{i / 10},{int(i > 12 if i % 5 else i > 8)}\n" for i in range(20))


def test_a_backwards_formula_range_is_said_next_to_the_ranges(page: Page, base_url: str) -> None:
    open_page(page, base_url + "/?surface=formula&f=x**2%2By**2&fx=-2,2&fy=-2,2")
    before = page.url
    page.fill("#fx-xmin", "5")
    page.fill("#fx-xmax", "3")
    page.press("#fx-xmax", "Enter")
    page.locator("#fx-xmax").blur()
    error = page.locator("#fx-range-error")
    expect(error).to_have_text("x from 5 to 3: the first must be smaller than the second.")
    expect(page.locator("#fx-xmin")).to_have_attribute("aria-invalid", "true")
    assert page.url == before  # the surface on show stays that of the last good ranges
    page.fill("#fx-xmax", "8")
    page.locator("#fx-xmax").blur()
    page.wait_for_function(f"() => {LAB}.state.surface.includes('x=5%2C8')")
    expect(error).to_be_empty()
    expect(page.locator("#fx-xmin")).not_to_have_attribute("aria-invalid", "true")


def upload(page: Page, name: str, text: str) -> None:
    with page.expect_file_chooser() as chooser:
        page.locator("#ds-set").select_option("upload")
    chooser.value.set_files(
        files=[FilePayload(name=name, mimeType="text/csv", buffer=text.encode())]
    )


def test_after_a_bad_upload_the_box_names_the_data_on_show(page: Page, base_url: str) -> None:
    open_page(page, base_url + OVERLAP)
    upload(page, "mine.csv", GOOD)
    page.wait_for_function(f"() => {LAB}.state.surface.includes('upload%3A')")
    wait_settled(page)
    shown = page.evaluate("document.getElementById('ds-set').value")
    assert shown.startswith("upload:")
    upload(page, "bad.csv", "x,y\n1,0\n2,1\n3,2\n")
    expect(page.locator("#ds-file-error")).to_contain_text("row")
    # the box names the upload still on show, not "upload CSV…"
    expect(page.locator("#ds-set")).to_have_value(shown)
    assert page.evaluate(f"{LAB}.dataView.data.n") == 20
    assert page.evaluate(f"{LAB}.state.surface").endswith(shown.replace(":", "%3A"))


def test_a_link_with_uploaded_data_says_it_cannot_carry_them(page: Page, base_url: str) -> None:
    open_page(page, base_url + OVERLAP)
    upload(page, "mine.csv", GOOD)
    page.wait_for_function(f"() => {LAB}.state.surface.includes('upload%3A')")
    wait_settled(page)
    link = page.url
    fresh = page.context.new_page()
    open_page(fresh, link)
    note = fresh.locator("#ds-error")
    expect(note).to_be_visible()
    expect(note).to_contain_text("uploaded data, which a link cannot carry")
    expect(note).to_contain_text("“overlap”")
    expect(fresh.locator("#ds-set")).to_have_value("overlap")
    assert fresh.evaluate(f"{LAB}.run.body.surface.dataset") == "overlap"
    # picking data here makes the note moot
    fresh.locator("#ds-set").select_option("separable")
    expect(note).to_be_hidden()
