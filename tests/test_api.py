"""The JSON API: shapes, errors, auth, bounds, files, CORS."""

from __future__ import annotations

import pytest
from api_support import API_KEY, auth, fill, guarantee_fund, make_app
from fastapi.testclient import TestClient

from api import InsecureConfiguration, create_app
from kb import NO_TRIP, Chunk, Document, InvalidInput, ModelMismatch, NotFound, Settings, TooLarge

SCIC = "2022-copenhague--atelier-financement-scic.md"
REPORT = "2022-copenhague--rapport-voyage.pdf"


@pytest.fixture
def client(kb):
    fill(kb)
    with TestClient(make_app(kb)) as client:
        yield client


def assert_error(response, status: int, code: str) -> None:
    """The one error shape of the API."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def test_search_returns_passages_with_document_facets_and_timing(client):
    body = client.get("/api/search", params={"q": "financer une SCIC"}).json()
    assert set(body) >= {"query", "total", "took_ms", "low_confidence", "results", "facets"}
    assert body["query"] == "financer une SCIC"
    assert body["total"] >= 1
    first = body["results"][0]
    assert set(first) >= {"document", "passage", "snippet", "score", "passages"}
    assert first["document"]["id"] == SCIC
    assert first["document"]["trip"] == "2022-copenhague"
    assert first["document"]["year"] == 2022
    assert first["passage"]["heading_path"] == ["Atelier 2", "Financement"]
    assert first["passage"]["heading"] == "Atelier 2 › Financement"
    snippet = first["snippet"]
    for start, end in snippet["highlights"]:
        assert 0 <= start < end <= len(snippet["text"])
    assert set(body["facets"]) == {"trip", "theme", "kind", "language", "year"}
    trips = {f["value"]: f["count"] for f in body["facets"]["trip"]}
    assert trips["2022-copenhague"] >= 1


def test_a_results_other_close_passage_carries_its_excerpt(client, kb):
    kb.add([guarantee_fund()])
    body = client.get("/api/search", params={"q": "fonds de garantie"}).json()
    first = body["results"][0]
    assert first["document"]["id"] == "2026-turin--fonds-garantie.md"
    assert first["snippet"]["text"].startswith("Le fonds de garantie solidaire")
    (other,) = first["passages"]
    excerpt = other["snippet"]
    assert excerpt["text"].startswith("Chaque membre verse au fonds de garantie")
    assert [excerpt["text"][a:b] for a, b in excerpt["highlights"]] == ["fonds", "garantie"]
    # a result's passage that scores far under its best carries none
    scic = client.get("/api/search", params={"q": "financer une SCIC"}).json()["results"][0]
    assert scic["passages"] and all(p["snippet"] is None for p in scic["passages"])


def test_search_filters_are_repeatable_and_combined(client):
    only_food = client.get("/api/search", params={"q": "cooperative", "trip": "2026-bologne"})
    assert {r["document"]["trip"] for r in only_food.json()["results"]} == {"2026-bologne"}
    two_trips = client.get(
        "/api/search",
        params=[("q", "financement"), ("trip", "2026-bologne"), ("trip", "2022-copenhague")],
    ).json()
    assert {r["document"]["trip"] for r in two_trips["results"]} <= {
        "2026-bologne",
        "2022-copenhague",
    }
    english = client.get("/api/search", params={"q": "food", "lang": "en"}).json()
    assert {r["document"]["language"] for r in english["results"]} == {"en"}
    recent = client.get("/api/search", params={"q": "financement", "year_from": 2024}).json()
    assert all(r["document"]["year"] >= 2024 for r in recent["results"])


def test_search_limit_and_offset_page_through_results(client):
    everything = client.get("/api/search", params={"q": "financement", "limit": 50}).json()
    first = client.get("/api/search", params={"q": "financement", "limit": 1}).json()
    second = client.get(
        "/api/search", params={"q": "financement", "limit": 1, "offset": 1}
    ).json()
    assert len(first["results"]) == 1
    assert first["total"] == everything["total"]
    ids = [r["document"]["id"] for r in everything["results"][:2]]
    assert [first["results"][0]["document"]["id"], second["results"][0]["document"]["id"]] == ids


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({}, 422, "validation_error"),
        ({"q": ""}, 422, "validation_error"),
        ({"q": "x" * 501}, 422, "validation_error"),
        ({"q": "financement", "limit": 0}, 422, "validation_error"),
        ({"q": "financement", "limit": 51}, 422, "validation_error"),
        ({"q": "financement", "year_from": "deux mille"}, 422, "validation_error"),
        ({"q": "   "}, 422, "validation_error"),
    ],
)
def test_search_rejects_bad_parameters_with_the_error_shape(client, params, status, code):
    assert_error(client.get("/api/search", params=params), status, code)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (InvalidInput("bad filter"), 400, "invalid_input"),
        (TooLarge("too big"), 413, "too_large"),
        (ModelMismatch("run kb reindex"), 503, "model_mismatch"),
        (NotFound("gone"), 404, "not_found"),
    ],
)
def test_domain_errors_become_status_codes_in_one_shape(
    client, kb, monkeypatch, error, status, code
):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(kb, "search", fail)
    response = client.get("/api/search", params={"q": "financement"})
    assert_error(response, status, code)
    assert response.json()["error"]["message"] == str(error)


def test_query_and_limit_bounds_come_from_settings(kb):
    fill(kb)
    client = TestClient(make_app(kb, max_query_chars=12, max_limit=3))
    assert client.get("/api/search", params={"q": "financement"}).status_code == 200
    assert_error(client.get("/api/search", params={"q": "financement!!"}), 422, "validation_error")
    assert_error(
        client.get("/api/search", params={"q": "financement", "limit": 4}), 422, "validation_error"
    )


def test_unknown_document_and_unknown_route_use_the_error_shape(client):
    assert_error(client.get("/api/documents/nope"), 404, "not_found")
    assert_error(client.get("/api/documents/nope/similar"), 404, "not_found")
    assert_error(client.get("/api/documents/nope/file"), 404, "not_found")
    assert_error(client.get("/api/nothing-here"), 404, "not_found")
    assert_error(client.put("/api/search", headers=auth()), 405, "method_not_allowed")


def test_documents_are_listed_paged_and_filtered(client):
    body = client.get("/api/documents", params={"limit": 2}).json()
    assert body["total"] == 4 and body["limit"] == 2 and body["offset"] == 0
    assert len(body["items"]) == 2
    assert "passages" not in body["items"][0]
    rest = client.get("/api/documents", params={"limit": 2, "offset": 2}).json()
    seen = {d["id"] for d in body["items"]} | {d["id"] for d in rest["items"]}
    assert len(seen) == 4
    bologna = client.get("/api/documents", params={"trip": "2026-bologne"}).json()
    assert [d["id"] for d in bologna["items"]] == ["2026-bologne--food-hub.md"]
    kinds = client.get(
        "/api/documents", params=[("kind", "trip-report"), ("kind", "practice-sheet")]
    ).json()
    assert kinds["total"] == 2


def test_a_document_comes_with_its_passages_in_order(client):
    body = client.get(f"/api/documents/{SCIC}").json()
    assert body["title"] == "Atelier financement des SCIC"
    assert body["themes"] == ["funding"] and body["themes_detected"] is False
    assert body["authors"] == ["Claire Martin"]
    assert [p["position"] for p in body["passages"]] == [0, 1]
    assert body["passages"][1]["heading_path"] == ["Atelier 2", "Gouvernance"]


def test_original_file_keeps_its_utf8_name_safely(client):
    response = client.get(f"/api/documents/{REPORT}/file")
    assert response.status_code == 200
    assert response.content == b"%PDF-1.4\n% rapport\n"
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("inline; ")  # so that #page=N opens the right page
    assert 'filename="rapport de voyage a Copenhague.pdf"' in disposition
    assert "filename*=UTF-8''rapport%20de%20voyage%20%C3%A0%20Copenhague.pdf" in disposition
    assert response.headers["x-content-type-options"] == "nosniff"


def test_non_pdf_originals_are_attachments(client):
    response = client.get(f"/api/documents/{SCIC}/file")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    assert response.headers["content-disposition"].startswith("attachment; ")


def test_content_disposition_never_lets_a_name_break_the_header():
    from api.files import content_disposition

    header = content_disposition('../../évil"\r\nX-Injected: 1;.md', "text/markdown")
    assert "\r" not in header and "\n" not in header
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and '"' not in fallback and "/" not in fallback
    assert header.startswith("attachment; ")
    assert "filename*=UTF-8''%C3%A9vil%22X-Injected%3A%201%3B.md" in header


def test_similar_facets_health_and_stats(client):
    similar = client.get(f"/api/documents/{SCIC}/similar", params={"limit": 2}).json()
    assert similar["document_id"] == SCIC
    assert len(similar["results"]) <= 2
    assert all(r["document"]["id"] != SCIC for r in similar["results"])
    facets = client.get("/api/facets", params={"lang": "fr"}).json()["facets"]
    assert {f["value"] for f in facets["language"]} == {"fr"}
    assert client.get("/api/health").json() == {"status": "ok", "read_only": False}
    stats = client.get("/api/stats").json()
    assert stats["documents"] == 4 and stats["chunks"] == 6
    assert stats["by_trip"]["2022-copenhague"] == 2


def test_facet_labels_name_trips_themes_and_documents_outside_a_trip(client, kb):
    kb.add([Document(id="note.md", title="Note", chunks=[Chunk("Le financement local.")])])
    for path in ("/api/facets", "/api/search?q=financement"):
        facets = client.get(path).json()["facets"]
        trips = {f["value"]: f["label"] for f in facets["trip"]}
        assert trips[NO_TRIP] == "Hors voyage", path
        assert all(trips.values()), path
        assert all(f["label"] for f in facets["theme"]), path


# --- writes ------------------------------------------------------------------------


def upload(client, files, headers=None, data=None):
    parts = [("files", (name, content, "text/markdown")) for name, content in files]
    return client.post("/api/documents", files=parts, data=data or {}, headers=headers or {})


NOTE = (
    "---\ntitle: Note sur la monnaie locale\n---\n\n# Monnaie locale\n\n"
    "La monnaie locale complémentaire soutient les commerces de proximité du quartier.\n"
)


def test_writes_need_a_valid_api_key_and_store_nothing_without_one(client, kb):
    before = kb.stats().documents
    no_key = upload(client, [("note.md", NOTE.encode())])
    assert_error(no_key, 401, "unauthorized")
    assert no_key.headers["www-authenticate"] == "Bearer"
    wrong = upload(client, [("note.md", NOTE.encode())], headers={"Authorization": "Bearer no"})
    assert_error(wrong, 401, "unauthorized")
    basic = upload(client, [("note.md", NOTE.encode())], headers={"Authorization": API_KEY})
    assert_error(basic, 401, "unauthorized")
    assert_error(client.delete(f"/api/documents/{SCIC}"), 401, "unauthorized")
    assert kb.stats().documents == before
    assert client.get(f"/api/documents/{SCIC}").status_code == 200


def test_an_upload_with_a_key_is_searchable_at_once(client, kb):
    response = upload(
        client,
        [("monnaie-locale.md", NOTE.encode())],
        headers=auth(),
        data={"trip": "2024-bruxelles", "kind": "practice-sheet", "themes": "funding"},
    )
    assert response.status_code == 200, response.text
    outcome = response.json()["outcomes"][0]
    assert outcome["name"] == "monnaie-locale.md"
    assert outcome["status"] == "added", outcome
    assert response.json()["counts"]["added"] == 1
    found = client.get("/api/search", params={"q": "monnaie locale complémentaire"}).json()
    assert found["results"][0]["document"]["id"] == outcome["document_id"]


def test_an_upload_over_the_size_bound_is_refused_and_stores_nothing(kb):
    fill(kb)
    client = TestClient(make_app(kb, max_upload_bytes=1000))
    before = kb.stats().documents
    response = upload(client, [("big.md", b"x" * 5000)], headers=auth())
    assert_error(response, 413, "too_large")
    assert kb.stats().documents == before


def test_the_size_bound_is_counted_while_streaming(kb):
    """A body without Content-Length (chunked) is still stopped at the bound."""
    fill(kb)
    client = TestClient(make_app(kb, max_upload_bytes=1000))

    def chunks():
        for _ in range(10):
            yield b"y" * 500

    response = client.post(
        "/api/documents",
        content=chunks(),
        headers={**auth(), "Content-Type": "multipart/form-data; boundary=zz"},
    )
    assert_error(response, 413, "too_large")
    assert kb.stats().documents == 4


def test_too_many_files_in_one_upload_is_refused(kb):
    fill(kb)
    app = make_app(kb, max_upload_files=2)
    client = TestClient(app)
    files = [(f"n{i}.md", NOTE.encode()) for i in range(3)]
    assert_error(upload(client, files, headers=auth()), 413, "too_large")
    assert kb.stats().documents == 4
    # The bound is in the schema, for clients and the contract test to know it.
    body = app.openapi()["components"]["schemas"]["Body_upload_api_documents_post"]
    assert body["properties"]["files"]["maxItems"] == 2


def test_delete_with_a_key_removes_the_document(client, kb):
    assert client.delete(f"/api/documents/{SCIC}", headers=auth()).status_code == 204
    assert_error(client.get(f"/api/documents/{SCIC}"), 404, "not_found")
    assert_error(client.delete(f"/api/documents/{SCIC}", headers=auth()), 404, "not_found")
    assert kb.stats().documents == 3


def test_read_only_refuses_writes_even_with_a_key(kb):
    fill(kb)
    client = TestClient(create_app(kb, Settings(read_only=True)))
    assert_error(client.delete(f"/api/documents/{SCIC}", headers=auth()), 403, "forbidden")
    assert_error(upload(client, [("n.md", NOTE.encode())], headers=auth()), 403, "forbidden")
    assert client.get("/api/health").json()["read_only"] is True
    assert kb.stats().documents == 4


def test_the_app_refuses_to_start_with_open_writes_and_no_key(kb):
    with pytest.raises(InsecureConfiguration, match="KB_API_KEYS"):
        create_app(kb, Settings(api_keys=[], read_only=False))
    with pytest.raises(InsecureConfiguration):
        create_app(kb, Settings(api_keys=[""], read_only=False))


# --- browsers on other sites --------------------------------------------------------


def test_cors_allows_listed_origins_to_read_only(client):
    origin = {"Origin": "https://partenaire.example"}
    read = client.get("/api/search", params={"q": "financement"}, headers=origin)
    assert read.headers["access-control-allow-origin"] == "https://partenaire.example"
    assert "access-control-allow-credentials" not in read.headers
    listing = client.get("/api/documents", headers=origin)
    assert listing.headers["access-control-allow-origin"] == "https://partenaire.example"
    other = client.get("/api/search", params={"q": "x"}, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = client.options(
        f"/api/documents/{SCIC}",
        headers={**origin, "Access-Control-Request-Method": "DELETE"},
    )
    assert preflight.status_code >= 400
    write = client.delete(f"/api/documents/{SCIC}", headers={**origin, **auth()})
    assert "access-control-allow-origin" not in write.headers
    stats = client.get("/api/stats", headers=origin)
    assert "access-control-allow-origin" not in stats.headers


def test_every_response_carries_the_security_headers(client):
    for path in ("/api/health", "/api/documents/nope", "/"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"]
