"""Trips, practices, the dossier and insights in a real headless Chromium."""

from __future__ import annotations

import re

import browser_support
import docx
import pytest
from api_support import API_KEY, fill, make_app
from browser_support import live_server, screenshot

from kb import Chunk, Document, TripInfo

pytestmark = pytest.mark.browser
browser = browser_support.browser  # the shared fixtures, used by name
watched_page = browser_support.watched_page


def sheet(slug: str, name: str, trip: str) -> Document:
    return Document(
        id=f"{trip}--{slug}.md",
        title=f"Fiche pratique – {name}",
        kind="practice-sheet",
        language="fr",
        trip=trip,
        trip_name="Bologne 2026" if trip == "2026-bologne" else "Copenhague 2022",
        city="Bologne" if trip == "2026-bologne" else "Copenhague",
        themes=["inclusion"],
        source=f"{slug}.md",
        chunks=[
            Chunk(f"Le contexte de {name}.", ("Contexte",), page=1, position=0),
            Chunk(f"Ce que fait {name}.", ("Description",), page=1, position=1),
            Chunk("Un local, une équipe.", ("Conditions de transfert",), page=2, position=2),
        ],
    )


@pytest.fixture
def base_url(kb):
    fill(kb)
    kb.add([sheet("epicerie", "L'épicerie solidaire", "2026-bologne"),
            sheet("reemploi", "Le centre de réemploi", "2022-copenhague")])
    kb.put_trips([TripInfo("2026-bologne", "Bologne 2026", "Bologne", "Italie", "2026-03-23",
                           "2026-03-27", ["Comune di Bologna"])])
    with live_server(make_app(kb)) as url:
        yield url


def test_browse_a_trip_gather_a_dossier_reload_and_export_it(base_url, watched_page, tmp_path):
    page, watch = watched_page
    page.goto(base_url + "/")
    page.get_by_role("link", name=re.compile(r"^Les voyages")).click()
    page.get_by_role("link", name="Bologne 2026").first.click()
    page.wait_for_url(re.compile(r"/voyages/2026-bologne$"))
    assert "Comune di Bologna" in page.locator(".trip-meta").inner_text()
    page.locator(".practice-tile").filter(has_text="épicerie").get_by_role(
        "link", name="Voir la fiche complète").click()
    card = page.locator("#practice-card")
    assert "L'épicerie solidaire" in card.locator(".practice-title").inner_text()
    assert card.locator(".not-stated").count() == 4  # results, resources, lessons, contact
    screenshot(page, "practice-card.png")

    page.goto(base_url + "/pratiques")
    screenshot(page, "practice-gallery.png")
    buttons = page.locator(".practice-tile button[data-dossier-id]")
    assert buttons.count() == 3
    for i in range(3):
        buttons.nth(i).click()
        assert buttons.nth(i).get_attribute("aria-pressed") == "true"
    page.reload()
    assert page.locator("[data-dossier-count]").inner_text() == "3"
    page.get_by_role("link", name=re.compile(r"^Dossier")).click()
    page.wait_for_url(re.compile(r"/dossier\?id="))
    titles = page.locator(".practice-card .practice-title").all_inner_texts()
    assert len(titles) == 3
    screenshot(page, "dossier.png")
    with page.expect_download() as download:
        page.get_by_role("link", name="Exporter en DOCX").click()
    path = tmp_path / "dossier.docx"
    download.value.save_as(path)
    paragraphs = docx.Document(path).paragraphs
    assert [p.text for p in paragraphs if p.style.name == "Heading 1"] == titles
    citations = [p.text for p in paragraphs if p.style.name == "Quote"]
    assert len(citations) == 3 and all("/documents/" in c for c in citations)

    # removing one from the dossier page keeps the others
    page.locator(".practice-card button[data-dossier-id]").first.click()
    page.wait_for_function("document.querySelectorAll('.practice-card').length === 2")
    watch.assert_clean()


def test_insights_show_a_query_just_searched_and_need_the_key(base_url, browser):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(base_url + "/?q=" + "coopérative alimentaire")
    assert page.request.get(base_url + "/insights").status == 401
    context.close()
    context = browser.new_context(
        locale="fr-FR", http_credentials={"username": "equipe", "password": API_KEY}
    )
    page = context.new_page()
    response = page.goto(base_url + "/insights")
    assert response.status == 200
    assert "coopérative alimentaire" in page.locator("table").first.inner_text()
    screenshot(page, "insights.png")
    context.close()
