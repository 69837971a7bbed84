"""The embeddable search over HTTP: /widget.js, the /embed iframe page, /embed-demo."""

from __future__ import annotations

import gzip
import html
import re

import pytest
from api_support import financing_workshop, guarantee_fund, make_app
from fastapi.testclient import TestClient

from api.templating import STATIC_DIR
from api.widget import frame_ancestors
from kb import Chunk, Document, Settings

WIDGET_JS = STATIC_DIR / "widget.js"
PAYLOAD_TITLE = "<script>alert('titre')</script> Financement"
PAYLOAD_TEXT = 'Le financement solidaire <img src=x onerror="alert(1)"> des SCIC.'


def make_client(kb, **settings: object) -> TestClient:
    return TestClient(make_app(kb, **settings))


@pytest.fixture
def client(kb) -> TestClient:
    kb.add([
        financing_workshop(),
        Document(
            id="hostile.md",
            title=PAYLOAD_TITLE,
            trip="2024-bruxelles",
            chunks=[Chunk(text=PAYLOAD_TEXT, position=1)],
        ),
    ])
    return make_client(kb, frame_ancestors=["https://partenaire.example", "'self'"])


def test_widget_js_is_javascript_cacheable_and_loadable_from_any_site(client):
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert "max-age=" in response.headers["cache-control"]
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "customElements.define" in response.text

    again = client.get("/widget.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_widget_js_is_under_20_kb_gzipped():
    source = WIDGET_JS.read_bytes()
    assert len(gzip.compress(source, compresslevel=9)) < 20_000


def test_widget_js_never_turns_data_into_markup_or_code():
    source = WIDGET_JS.read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                 "new Function"):
        assert sink not in source


def test_embed_has_its_own_csp_with_frame_ancestors_from_settings(client):
    response = client.get("/embed", params={"q": "financement"})
    assert response.status_code == 200
    csp = response.headers.get_list("content-security-policy")
    assert len(csp) == 1, csp  # the app's default policy did not add a second one
    assert "frame-ancestors https://partenaire.example 'self'" in csp[0]
    assert "'unsafe-inline'" not in csp[0] and "'unsafe-eval'" not in csp[0]
    assert "x-frame-options" not in response.headers


def test_frame_ancestors_drops_entries_that_would_rewrite_the_policy():
    settings = Settings(
        read_only=True,
        frame_ancestors=["https://ok.example", "https://x.example; script-src *", "a b"],
    )
    assert frame_ancestors(settings) == "https://ok.example"
    assert frame_ancestors(Settings(read_only=True, frame_ancestors=[])) == "'none'"


def test_embed_renders_results_without_javascript(client):
    page = client.get("/embed", params={"q": "financement participatif"}).text
    assert "Atelier financement" in page
    assert "Copenhague 2022 · Atelier 2 › Financement" in page
    assert "<mark>financement</mark>" in page
    url = "http://testserver/documents/2022-copenhague--atelier-financement.md#passage-4"
    assert f'href="{url}"' in page
    assert "<savoir-faire-search" in page and 'src="http://testserver/widget.js"' in page


def test_embed_shows_the_excerpt_of_a_results_other_close_passage(client, kb):
    kb.add([guarantee_fund()])
    page = client.get("/embed", params={"q": "fonds de garantie"}).text
    result = page.split("<li>")[1]
    assert "Aussi dans ce document :" in result
    excerpt = result.split('<span class="sf-excerpt">')[1].split("</span>")[0]
    assert excerpt == (
        "Chaque membre verse au <mark>fonds</mark> de <mark>garantie</mark> 0,5 % de son "
        "chiffre d&#39;affaires."
    )
    english = client.get("/embed", params={"q": "fonds de garantie", "lang": "en"}).text
    assert "Also in this document:" in english


def test_embed_escapes_document_data(client):
    page = client.get("/embed", params={"q": "financement solidaire"}).text
    assert "<script>alert" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(" in page
    assert "&lt;img src=x onerror=" in page


def test_embed_escapes_the_query_and_speaks_english(client):
    query = '"><script>alert(1)</script>'
    page = client.get("/embed", params={"q": query, "lang": "en"}).text
    assert '<html lang="en">' in page
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)" in page


def test_embed_reports_an_invalid_query_on_the_page(client):
    response = client.get("/embed", params={"q": "x" * 10_000})
    assert response.status_code == 200
    assert "Requête invalide" in response.text


def test_embed_applies_preset_filters(client):
    page = client.get("/embed", params={"q": "financement", "trip": "2024-bruxelles"}).text
    assert "Atelier financement" not in page
    assert 'trip="2024-bruxelles"' in page


def test_embed_demo_shows_the_two_lines_with_no_inline_script_or_style(client):
    page = client.get("/embed-demo").text
    text = html.unescape(page)
    assert '<script src="http://testserver/widget.js" defer></script>\n' \
        '<savoir-faire-search lang="fr"></savoir-faire-search>' in text
    assert "script-src http://testserver" in text and "connect-src http://testserver" in text
    assert "Copier" in page
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None
    assert "<style" not in page and " style=" not in page
    assert client.get("/embed-demo.js").headers["content-type"].startswith(
        "application/javascript"
    )
    assert client.get("/embed.css").headers["content-type"].startswith("text/css")
