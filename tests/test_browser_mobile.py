"""The search page on a phone (390×844, in headless Chromium): the filters fold behind a
"Filtres (n)" button and the first result is in the first screen."""

from __future__ import annotations

import re

import browser_support
import pytest
from api_support import fill, make_app
from browser_support import live_server, screenshot

pytestmark = pytest.mark.browser
browser = browser_support.browser  # the shared fixtures, used by name
watched_page = browser_support.watched_page

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def base_url(kb):
    fill(kb)
    with live_server(make_app(kb)) as url:
        yield url


def test_on_a_phone_the_filters_fold_and_the_first_result_is_on_screen(base_url, watched_page):
    page, watch = watched_page
    page.set_viewport_size(PHONE)
    page.goto(base_url + "/?q=financement&trip=2022-copenhague")
    toggle = page.locator("summary.filters-toggle")
    assert toggle.inner_text() == "Filtres (1)"
    assert toggle.is_visible()
    trip = page.get_by_label(re.compile(r"^Copenhague 2022"))
    assert not trip.is_visible()
    title = page.locator(".card-title").first
    box = title.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"], box
    screenshot(page, "search-phone.png")

    toggle.click()
    assert trip.is_visible() and trip.is_checked()
    trip.uncheck()  # a change still submits the search at once
    page.wait_for_url(lambda url: "trip=" not in url)
    assert page.locator("summary.filters-toggle").inner_text() == "Filtres (0)"
    watch.assert_clean()


def test_on_a_wide_screen_the_filters_are_shown_without_a_button(base_url, watched_page):
    page, watch = watched_page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(base_url + "/?q=financement")
    assert not page.locator("summary.filters-toggle").is_visible()
    assert page.get_by_label(re.compile(r"^Copenhague 2022")).is_visible()
    assert page.get_by_role("button", name="Appliquer les filtres").is_visible()
    watch.assert_clean()
