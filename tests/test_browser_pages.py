"""The pages in a real headless Chromium: search, filter, open a passage, stay safe."""

from __future__ import annotations

import re

import browser_support
import pytest
from api_support import XSS_TEXT, XSS_TITLE, fill, make_app
from browser_support import live_server, screenshot

pytestmark = pytest.mark.browser
browser = browser_support.browser  # the shared fixtures, used by name
watched_page = browser_support.watched_page

TARGET_BACKGROUND = "rgb(255, 244, 194)"  # --target in style.css


@pytest.fixture
def base_url(kb):
    fill(kb)
    with live_server(make_app(kb)) as url:
        yield url


def test_search_filter_and_open_the_matching_passage(base_url, watched_page):
    page, watch = watched_page
    page.goto(base_url + "/")
    page.get_by_label("Votre question").fill("financement des SCIC")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_url(re.compile(r"q=financement"))
    assert page.locator(".card").count() >= 2
    assert re.match(r"\d+ résultats?", page.locator("#result-count").inner_text())
    assert page.locator(".card mark").count() >= 1
    screenshot(page, "search-page.png")

    # A facet applies at once (the static script submits the form on change).
    page.get_by_label(re.compile(r"^Copenhague 2022")).check()
    page.wait_for_url(re.compile(r"trip=2022-copenhague"))
    trips = page.locator(".card .trip").all_inner_texts()
    assert trips and set(trips) == {"Copenhague 2022"}
    assert page.get_by_label(re.compile(r"^Copenhague 2022")).is_checked()

    # The title opens the document at the passage that answered.
    first = page.locator(".card-title a").first
    href = first.get_attribute("href")
    passage = href.split("#", 1)[1]
    first.click()
    page.wait_for_url(re.compile(r"/documents/.+#passage-\d+$"))
    target = page.locator(f"#{passage}")
    assert target.evaluate("el => el.matches(':target')")
    assert target.evaluate("el => getComputedStyle(el).backgroundColor") == TARGET_BACKGROUND
    assert target.locator("mark").count() >= 1
    box = target.bounding_box()
    assert box is not None and 0 <= box["y"] < page.viewport_size["height"]
    watch.assert_clean()


def test_markup_in_a_document_is_shown_as_text_and_never_runs(base_url, watched_page):
    page, watch = watched_page
    page.goto(base_url + "/?q=passage+pi%C3%A9g%C3%A9+financement+solidaire")
    card = page.locator(".card", has_text="alert(1)").first
    assert XSS_TITLE in card.locator(".card-title").inner_text()
    card.locator(".card-title a").click()
    page.wait_for_url(re.compile(r"/documents/"))
    assert page.locator("h1").inner_text() == XSS_TITLE
    assert XSS_TEXT in page.locator(".doc-body").inner_text()
    assert page.locator("main script, main img").count() == 0
    assert page.locator("h2.section-heading").first.inner_text() == "<b>Section</b>"
    watch.assert_clean()


def test_search_works_with_javascript_off(base_url, browser):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(base_url + "/?lang=en")
        page.get_by_label("Your question").fill("cooperative food hub")
        page.get_by_label("Your question").press("Enter")
        page.wait_for_url(re.compile(r"q=cooperative"))
        assert "Food hub cooperative" in page.locator(".cards").inner_text()
        page.get_by_label(re.compile(r"^Bologne 2026")).check()
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_url(re.compile(r"trip=2026-bologne"))
        assert page.locator(".card").count() == 1
    finally:
        context.close()


def test_keyboard_users_get_a_skip_link_and_a_visible_focus(base_url, watched_page):
    page, watch = watched_page
    page.goto(base_url + "/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"#main$"))  # fails (times out) if the link goes nowhere
    assert page.url.endswith("#main")
    watch.assert_clean()


def test_small_screens_get_one_column(base_url, browser):
    context = browser.new_context(viewport={"width": 375, "height": 800})
    try:
        page = context.new_page()
        page.goto(base_url + "/?q=financement")
        filters = page.locator(".filters").bounding_box()
        results = page.locator(".results").bounding_box()
        assert filters and results and results["y"] > filters["y"] + filters["height"] - 1
        screenshot(page, "search-page-mobile.png")
    finally:
        context.close()
