"""The HTML pages: search and document, escaping, language, accessibility hooks."""

from __future__ import annotations

import re

import pytest
from api_support import XSS_TEXT, XSS_TITLE, fill, make_app
from fastapi.testclient import TestClient

from api.highlight import segments, term_ranges

SCIC = "2022-copenhague--atelier-financement-scic.md"
REPORT = "2022-copenhague--rapport-voyage.pdf"
XSS = "2024-bruxelles--xss.md"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


@pytest.fixture
def client(kb):
    fill(kb)
    with TestClient(make_app(kb)) as client:
        yield client


def assert_no_inline_code(html: str) -> None:
    """Nothing the CSP would block: no inline script, style or event handler attribute."""
    assert " style=" not in html
    assert "<style" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
    assert re.search(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", html) is None


def test_search_page_without_query_has_a_labelled_form_and_landmarks(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CSP
    html = response.text
    assert '<html lang="fr">' in html
    assert '<label for="q">' in html and 'id="q" name="q"' in html
    assert 'method="get"' in html
    for landmark in ("<header", "<main", "<nav", "<footer"):
        assert landmark in html
    assert 'class="skip-link" href="#main"' in html
    assert 'aria-live="polite"' in html
    assert "Atelier financement des SCIC" in html  # the documents of the base are listed
    assert_no_inline_code(html)


def test_search_page_shows_result_cards_with_passage_links_and_marks(client):
    html = client.get("/", params={"q": "financer une SCIC"}).text
    # qid: the logged search the result is opened from (see kb.query_log)
    assert f'href="/documents/{SCIC}?q=financer+une+SCIC&amp;qid=1#passage-0"' in html
    assert "Copenhague 2022" in html and "Notes d&#39;atelier" in html
    assert "2022-05-17" in html
    assert "Atelier 2 › Financement" in html
    assert "<mark>" in html
    assert f'href="/documents/{SCIC}#similar"' in html and "Pratiques similaires" in html
    assert re.search(r'id="result-count"[^>]*aria-live="polite"[^>]*>\s*\d+ résultats?', html)
    assert_no_inline_code(html)


def test_a_card_lists_excerpts_of_its_documents_other_close_passages(client):
    html = client.get("/", params={"q": "prêt participatif"}).text
    cards = html.split('<li class="card">')[1:]
    report = next(c for c in cards if REPORT in c)
    # the report's other passage scores close to its best one: an excerpt links to it
    assert "Aussi dans ce document :" in report
    link = f"/documents/{REPORT}?q=pr%C3%AAt+participatif&amp;qid=1#passage-0"
    assert f'<a class="excerpt" href="{link}">' in report
    assert "Visite d&#39;un atelier d&#39;insertion par le réemploi de matériaux." in report
    assert '<span class="excerpt-heading">Jour 1</span>' in report
    # the SCIC notes' other passage scores far under their best: no excerpt
    scic = next(c for c in cards if SCIC in c)
    assert "excerpt" not in scic
    english = client.get("/", params={"q": "prêt participatif", "lang": "en"}).text
    assert "Also in this document:" in english
    assert_no_inline_code(html)


def test_search_page_shows_a_page_badge_for_pdf_passages(client):
    html = client.get("/", params={"q": "atelier d'insertion réemploi"}).text
    assert REPORT in html
    assert '<span class="badge">p. 2</span>' in html


def test_facets_are_checkbox_lists_with_counts_and_labels(client):
    html = client.get("/", params={"q": "financement"}).text
    assert re.search(r'type="checkbox" id="f-trip-\d+" name="trip" value="2022-copenhague"', html)
    assert "Copenhague 2022" in html
    assert re.search(r'name="theme" value="funding"', html) and "Financement" in html
    assert re.search(r'name="kind" value="workshop-notes"', html)
    assert re.search(r'name="language" value="fr"', html) and "Français" in html
    assert re.search(r"<span class=\"count\">\(\d+\)</span>", html)


def test_a_checked_facet_filters_results_and_stays_checked(client):
    html = client.get("/", params={"q": "cooperative food", "trip": "2026-bologne"}).text
    assert re.search(r'name="trip" value="2026-bologne" checked', html)
    assert "Food hub cooperative" in html
    assert SCIC not in html.split('class="cards"')[1]


def test_low_confidence_is_said_plainly(client, kb, monkeypatch):
    original = kb.search

    def unsure(*args, **kwargs):
        response = original(*args, **kwargs)
        response.low_confidence = True
        return response

    monkeypatch.setattr(kb, "search", unsure)
    html = client.get("/", params={"q": "financement"}).text
    assert "Aucun résultat proche — résultats les plus proches :" in html


def test_pagination_links_keep_query_and_filters(client, monkeypatch):
    from api import pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 1)
    html = client.get("/", params={"q": "financement", "lang": "en"}).text
    assert 'rel="next" href="/?q=financement&amp;page=2&amp;lang=en"' in html
    assert "Page 1 of" in html


def test_query_too_long_is_explained_on_the_page(kb):
    fill(kb)
    client = TestClient(make_app(kb, max_query_chars=5))
    response = client.get("/", params={"q": "financement"})
    assert response.status_code == 200
    assert 'role="alert"' in response.text and "5 caractères au plus" in response.text
    assert 'value="financement"' in response.text  # the form keeps the question


def test_document_page_shows_sections_passages_and_metadata(client):
    response = client.get(f"/documents/{SCIC}")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CSP
    html = response.text
    assert "<h1>Atelier financement des SCIC</h1>" in html
    assert '<h2 class="section-heading">Atelier 2</h2>' in html
    assert '<h3 class="section-heading">Financement</h3>' in html
    assert '<h3 class="section-heading">Gouvernance</h3>' in html
    assert 'id="passage-0"' in html and 'id="passage-1"' in html
    assert "Copenhague 2022" in html and "Copenhague (Danemark)" in html
    assert "Claire Martin" in html and "Toulouse Métropole" in html
    assert "Financement" in html and "(détecté)" not in html
    assert f'href="/api/documents/{SCIC}/file"' in html
    assert 'id="similar"' in html
    assert_no_inline_code(html)


def test_document_page_marks_query_words_and_links_pdf_pages(client):
    html = client.get(f"/documents/{REPORT}", params={"q": "financement insertion"}).text
    assert "<mark>financement</mark>" in html
    assert "<mark>insertion</mark>" in html
    assert f'href="/api/documents/{REPORT}/file#page=5"' in html
    assert "(détecté)" in html  # its themes were detected, not declared


def test_unknown_document_page_is_an_html_404(client):
    response = client.get("/documents/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Document introuvable." in response.text


def test_english_by_parameter_or_accept_language(client):
    by_param = client.get("/", params={"lang": "en"}).text
    assert '<html lang="en">' in by_param and "Your question" in by_param
    by_header = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in by_header.text
    assert by_header.headers["vary"] == "Accept-Language"
    french = client.get("/", headers={"Accept-Language": "de-DE,fr;q=0.8"}).text
    assert '<html lang="fr">' in french and "Votre question" in french
    weighted = client.get("/", headers={"Accept-Language": "fr;q=0.2, en;q=0.9"}).text
    assert '<html lang="en">' in weighted
    doc = client.get(f"/documents/{REPORT}", params={"lang": "en"}).text
    assert "(detected)" in doc and "Trip report" in doc


def test_markup_in_titles_and_text_is_shown_as_text(client):
    search = client.get("/", params={"q": "financement solidaire piégé"}).text
    page = client.get(f"/documents/{XSS}", params={"q": "financement"}).text
    for html in (search, page):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
        assert_no_inline_code(html)
    assert "&lt;b&gt;Section&lt;/b&gt;" in page
    assert XSS_TITLE not in page and XSS_TEXT not in page


def test_highlight_segments_split_plain_text_at_ranges():
    assert segments("a <b> c", [(2, 5)]) == [("a ", False), ("<b>", True), (" c", False)]
    assert segments("abcdef", [(4, 9), (0, 2), (1, 3)]) == [
        ("abc", True),
        ("d", False),
        ("ef", True),
    ]
    assert segments("abc", [(2, 2), (-5, 0)]) == [("abc", False)]
    text = "Économie sociale et financement"
    assert [text[s:e] for s, e in term_ranges(text, "economie financer")] == [
        "Économie",
        "financement",
    ]
    assert [text[s:e] for s, e in term_ranges(text, "financement")] == ["financement"]
    assert term_ranges(text, "et les de") == []


def test_the_year_filter_accepts_all_years_or_one(client):
    every = client.get("/", params={"q": "financement", "year": ""})
    assert every.status_code == 200
    one = client.get("/", params={"q": "financement", "year": "2026"}).text
    assert '<option value="2026" selected>' in one
    assert "Food hub cooperative" in one and "Atelier financement des SCIC" not in one


def test_links_to_documents_quote_their_ids(client, kb):
    from kb import Chunk, Document

    kb.add([Document(id="note #1?.md", title="Note étrange", chunks=[Chunk("Monnaie locale.")])])
    html = client.get("/", params={"q": "monnaie locale"}).text
    assert 'href="/documents/note%20%231%3F.md?q=monnaie+locale&amp;qid=1#passage-0"' in html
    page = client.get("/documents/note%20%231%3F.md")
    assert page.status_code == 200 and "Note étrange" in page.text
