"""Uploads through the API while clients search, on a real server (uvicorn, 127.0.0.1):
no search fails, and every upload is found as soon as it is acknowledged."""

from __future__ import annotations

import threading

import httpx
from api_support import auth, fill, make_app
from browser_support import live_server

WORDS = ("ornithorynque", "zeppelin", "quokka", "xylophone", "mangrove", "kookaburra")


def note(word: str) -> bytes:
    return (
        f"---\ntrip: 2026-bologne\n---\n# Fiche {word}\n\n## Contexte\n\nLa coopérative "
        f"{word} gère une épicerie solidaire de quartier.\n\n## Résultats\n\nLe projet "
        f"{word} nourrit trois cents familles chaque semaine.\n"
    ).encode()


def test_uploads_are_searchable_when_acknowledged_and_no_search_fails(kb):
    fill(kb)
    # Neither the rate limit (many searches from one address) nor the in-flight bound
    # (whose refusals depend on timing): both are tested in test_api_limits.py.
    app = make_app(kb, rate_limit=0, max_in_flight=0)
    searches: list[int] = []
    errors: list[str] = []
    stop = threading.Event()

    with live_server(app) as url:

        def search(query: str) -> None:
            with httpx.Client(base_url=url, timeout=30) as client:
                while not stop.is_set():
                    try:
                        searches.append(
                            client.get("/api/search", params={"q": query}).status_code
                        )
                    except httpx.HTTPError as error:
                        errors.append(repr(error))

        clients = [
            threading.Thread(target=search, args=(q,))
            for q in ("financer une SCIC", "épicerie solidaire", "insertion")
        ]
        for client in clients:
            client.start()
        found: dict[str, bool] = {}
        try:
            with httpx.Client(base_url=url, timeout=60, headers=auth()) as writer:
                for word in WORDS:
                    answer = writer.post(
                        "/api/documents", files=[("files", (f"fiche-{word}.md", note(word)))]
                    )
                    assert answer.status_code == 200, answer.text
                    (outcome,) = answer.json()["outcomes"]
                    assert outcome["status"] == "added"
                    hits = writer.get("/api/search", params={"q": word}).json()["results"]
                    found[word] = outcome["document_id"] in [h["document"]["id"] for h in hits]
        finally:
            stop.set()
            for client in clients:
                client.join()

    assert found == dict.fromkeys(WORDS, True)
    assert errors == []
    assert searches and set(searches) == {200}, sorted(set(searches))
