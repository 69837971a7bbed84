"""What a new user meets: documents outside any trip, `--json` on list, show and stats."""

from __future__ import annotations

import json

from api_support import fill, make_app
from click.testing import CliRunner
from fastapi.testclient import TestClient

from cli.main import main
from kb import NO_TRIP, Chunk, Document, Filters


def loose_note() -> Document:
    return Document(
        id="notes--financement-local.md",
        title="Note sur le financement local",
        language="fr",
        chunks=[Chunk("Le financement local des SCIC par les communes.", position=0)],
    )


def test_documents_outside_a_trip_have_a_facet_value_and_a_filter(kb):
    fill(kb)
    kb.add([loose_note()])
    trips = {v.value: v.count for v in kb.facets()["trip"]}
    assert trips[NO_TRIP] == 1 and trips["2022-copenhague"] == 2
    only = kb.search("financement", Filters(trip=(NO_TRIP,)))
    assert [r.document.id for r in only.results] == ["notes--financement-local.md"]
    both = kb.search("financement", Filters(trip=(NO_TRIP, "2022-copenhague")))
    assert {r.document.trip for r in both.results} == {None, "2022-copenhague"}


def test_the_search_page_labels_them_hors_voyage_or_no_trip(kb):
    fill(kb)
    kb.add([loose_note()])
    with TestClient(make_app(kb)) as client:
        french = client.get("/", params={"q": "financement local"}).text
        english = client.get("/", params={"q": "financement local", "lang": "en"}).text
    assert "Hors voyage" in french and "No trip" in english
    assert ">none<" not in french


def run(home, *args: str):
    return CliRunner().invoke(main, ["--home", str(home), "--model", "tiny", *args])


def test_list_show_and_stats_print_json(kb):
    fill(kb)
    kb.close()
    listed = json.loads(run(kb.path, "list", "--json", "--trip", "2022-copenhague").stdout)
    assert listed["total"] == 2
    assert {d["id"] for d in listed["documents"]} == {
        "2022-copenhague--atelier-financement-scic.md",
        "2022-copenhague--rapport-voyage.pdf",
    }
    assert all("chunks" not in d or d["chunks"] == [] for d in listed["documents"])
    shown = json.loads(run(kb.path, "show", "--json", "2026-bologne--food-hub.md").stdout)
    assert shown["year"] == 2026 and shown["chunks"][0]["text"].startswith("A cooperative")
    stats = json.loads(run(kb.path, "stats", "--json").stdout)
    assert stats["documents"] == 4 and stats["by_trip"]["2022-copenhague"] == 2
