"""Practices, trips, the dossier and the query log over HTTP (JSON API and pages)."""

from __future__ import annotations

import base64
import io
import logging
import sqlite3

import docx
import pytest
from api_support import API_KEY, fill, make_app
from fastapi.testclient import TestClient

from api.routes_search import logged
from kb import Chunk, Document, TripInfo, query_log
from kb.query_log import normalise
from kb.store import Store

SHEET = "2026-bologne--fiche-epicerie.md"
SCIC = "2022-copenhague--atelier-financement-scic.md"


def practice_sheet() -> Document:
    return Document(
        id=SHEET,
        title="Fiche pratique – L'épicerie solidaire",
        kind="practice-sheet",
        language="fr",
        trip="2026-bologne",
        trip_name="Bologne 2026",
        city="Bologne",
        country="Italie",
        date="2026-04-08",
        themes=["inclusion"],
        source="fiche-epicerie.md",
        chunks=[
            Chunk("La précarité alimentaire a augmenté.", ("Contexte",), page=1, position=0),
            Chunk("Une épicerie à points.", ("Description",), page=1, position=1),
            Chunk("Un local et deux salariés.", ("Conditions de transfert",), page=2,
                  position=2),
        ],
    )


@pytest.fixture
def filled(kb):
    fill(kb)
    kb.add([practice_sheet()])
    kb.put_trips([TripInfo("2026-bologne", "Bologne 2026", "Bologne", "Italie", "2026-03-23",
                           "2026-03-27", ["Comune di Bologna"])])
    return kb


@pytest.fixture
def client(filled):
    with TestClient(make_app(filled)) as client:
        yield client


def basic(password: str) -> dict[str, str]:
    token = base64.b64encode(f"équipe:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_practices_are_listed_filtered_and_shown_with_their_document(client):
    body = client.get("/api/practices").json()
    assert body["total"] == 2  # the sheet above, and the food hub practice sheet
    card = next(c for c in body["items"] if c["document_id"] == SHEET)
    assert card["title"] == "L'épicerie solidaire"
    assert card["fields"]["context"] == {
        "text": "La précarité alimentaire a augmenté.", "page": 1, "origin": "section"}
    assert card["fields"]["place"]["text"] == "Bologne, Italie"
    assert card["fields"]["period"]["text"] == "2026-03-23 → 2026-03-27"
    assert card["not_stated"] == ["results", "resources", "lessons", "contact"]
    only = client.get("/api/practices", params={"trip": "2022-copenhague"}).json()
    assert only["total"] == 0
    assert client.get("/api/practices", params={"theme": "inclusion", "lang": "fr"}).json()[
        "total"] == 1
    detail = client.get(f"/api/documents/{SHEET}").json()
    assert detail["practice"]["title"] == "L'épicerie solidaire"
    assert client.get(f"/api/documents/{SCIC}").json()["practice"] is None
    assert client.get(f"/api/practices/{SCIC}").status_code == 404


def test_trips_list_places_dates_and_what_they_produced(client):
    trips = {t["slug"]: t for t in client.get("/api/trips").json()["items"]}
    bologna = trips["2026-bologne"]
    assert (bologna["start"], bologna["end"], bologna["practices"]) == (
        "2026-03-23", "2026-03-27", 2)
    assert bologna["organisations"] == ["Comune di Bologna"]
    assert trips["2022-copenhague"]["by_kind"] == {"trip-report": 1, "workshop-notes": 1}
    detail = client.get("/api/trips/2026-bologne").json()
    assert {p["document_id"] for p in detail["practice_list"]} >= {SHEET}
    assert client.get("/api/trips/nowhere").status_code == 404


def test_trip_and_gallery_pages_work_without_javascript(client):
    trips = client.get("/voyages").text
    assert "Bologne 2026" in trips and "/voyages/2026-bologne" in trips
    trip = client.get("/voyages/2026-bologne").text
    assert "L&#39;épicerie solidaire" in trip and "Comune di Bologna" in trip
    gallery = client.get("/pratiques", params={"trip": "2026-bologne"}).text
    assert "2 pratique(s)" in gallery and 'name="trip"' in gallery
    filtered = client.get("/pratiques", params={"theme": "inclusion", "language": "fr"}).text
    assert "1 pratique(s)" in filtered
    home = client.get("/").text
    assert 'href="/voyages"' in home and 'href="/pratiques"' in home


def test_the_document_page_starts_with_the_card_and_says_what_is_not_stated(client):
    page = client.get(f"/documents/{SHEET}").text
    assert page.index('id="practice-card"') < page.index('class="doc-body"')
    assert page.count("non précisé") == 4
    assert "not stated" in client.get(f"/documents/{SHEET}", params={"lang": "en"}).text


def test_dossier_exports_docx_and_markdown_and_names_unknown_ids(client):
    ids = [("id", SHEET), ("id", "2026-bologne--food-hub.md")]
    response = client.get("/api/dossier", params=[*ids, ("format", "docx")])
    assert response.status_code == 200
    assert "dossier-de-transfert.docx" in response.headers["content-disposition"]
    document = docx.Document(io.BytesIO(response.content))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["L'épicerie solidaire", "Food hub cooperative"]
    quotes = [p.text for p in document.paragraphs if p.style.name == "Quote"]
    assert "fiche-epicerie.md, p. 1" in quotes[0] and f"/documents/{SHEET}" in quotes[0]
    markdown = client.get("/api/dossier", params=[*ids, ("format", "md")]).text
    assert "## L'épicerie solidaire" in markdown and "*non précisé*" in markdown
    missing = client.get("/api/dossier", params=[("id", SHEET), ("id", "nope"), ("id", SCIC)])
    assert missing.status_code == 404
    assert "'nope'" in missing.json()["error"]["message"] and SCIC in missing.text
    page = client.get("/dossier", params=[("id", SHEET), ("id", "nope")])
    assert page.status_code == 404 and "data-dossier-unknown" in page.text
    assert "L&#39;épicerie solidaire" in page.text


def test_searches_are_logged_without_personal_data_and_shown_to_the_team(client, filled):
    client.get("/api/search", params={"q": "Écrire à claire@example.org  SCIC"})
    client.get("/", params={"q": "financer une SCIC"})
    page = client.get("/", params={"q": "financer une SCIC"}).text
    assert "qid=" in page
    qid = int(page.split("qid=")[1].split("#")[0].split("&")[0].split('"')[0])
    client.get(f"/documents/{SCIC}", params={"qid": qid})
    logged()  # API searches are logged off the request's thread
    insights = filled.insights()
    assert insights.searches == 3
    assert insights.top[0].query == "financer une scic" and insights.top[0].count == 2
    assert insights.top[0].opened == 1
    assert "écrire à [e-mail] scic" in {q.query for q in insights.top}
    csv = filled.insights_csv()
    assert "claire" not in csv and "testclient" not in csv
    assert csv.splitlines()[0] == "time,query,results,no_close_match,themes,opened"

    assert client.get("/insights").status_code == 401
    assert client.get("/insights").headers["www-authenticate"].startswith("Basic")
    assert client.get("/insights", headers=basic("wrong")).status_code == 401
    shown = client.get("/insights", headers=basic(API_KEY))
    assert shown.status_code == 200 and "financer une scic" in shown.text
    assert client.get("/insights.csv", headers={"Authorization": f"Bearer {API_KEY}"}).text == (
        filled.insights_csv())


def test_a_failed_log_write_never_breaks_a_search(client, filled, caplog):
    with sqlite3.connect(filled.store.path) as db:
        db.execute("DROP TABLE query_opens")
        db.execute("DROP TABLE query_log")
    with caplog.at_level(logging.WARNING, logger="kb.query_log"):
        assert client.get("/api/search", params={"q": "SCIC"}).status_code == 200
        assert client.get("/", params={"q": "SCIC"}).status_code == 200
        logged()
    assert sum("not logged" in r.getMessage() for r in caplog.records) == 2


def test_the_log_can_be_turned_off_and_forgets_old_searches(kb):
    fill(kb)
    kb.settings = kb.settings.model_copy(update={"query_log": False})
    response = kb.search("SCIC")
    assert kb.log_search("SCIC", response) is None and kb.insights().searches == 0
    kb.settings = kb.settings.model_copy(update={"query_log": True, "query_log_days": 30})
    with sqlite3.connect(kb.store.path) as db:
        db.execute("INSERT INTO query_log (at, query, results, low_confidence) "
                   "VALUES ('2020-01-01T00:00:00+00:00', 'ancienne', 0, 1)")
    assert kb.log_search("SCIC", response) is not None
    assert [q.query for q in kb.insights().top] == ["scic"]


def test_a_logged_search_waits_for_no_disk_flush(tmp_path):
    # Written as the store writes (WAL, synchronous NORMAL): a search's log entry costs
    # no fsync; the store's own connection does the same.
    Store(tmp_path / "kb.sqlite").close()
    db = query_log._connect(tmp_path / "kb.sqlite")
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    finally:
        db.close()


def test_normalised_queries_keep_no_address_or_phone_number():
    assert normalise("  Appeler le 06 12 34 56 78  ou  x.y@z.fr ") == (
        "appeler le [numéro] ou [e-mail]")
