"""Facet counts of a search's documents, from SQLite and from the cache by passage."""

from __future__ import annotations

from kb import Chunk, Document
from kb.facets import DocumentFacets, count_values, facet_counts


def document(doc_id: str, trip: str | None, kind: str, language: str, year: int, themes):
    return Document(
        id=doc_id,
        title=doc_id,
        kind=kind,
        language=language,
        trip=trip,
        date=f"{year}-05-01",
        themes=list(themes),
        chunks=[Chunk(f"texte du document {doc_id}")],
    )


def test_the_cache_counts_as_sqlite_does_and_follows_the_writes(kb):
    kb.add(
        [
            document("a", "2025-barcelone", "workshop-notes", "fr", 2025, ["funding"]),
            document("b", "2025-barcelone", "practice-sheet", "es", 2025, ["funding", "food"]),
            document("c", None, "trip-report", "fr", 2024, []),
        ]
    )
    cache = DocumentFacets()
    store = kb.store

    def passages(db):
        return dict(db.execute("SELECT id, document_id FROM chunks").fetchall())

    with store.snapshot() as db:
        by_passage = passages(db)
        values = cache.of_passages(db, by_passage)
        first = {doc: values[chunk] for chunk, doc in by_passage.items()}
        for ids in (["a", "b", "c"], ["b"], ["c", "a"], []):
            assert count_values(first[d] for d in ids) == facet_counts(db, ids, None)
    # The document replaced whole: new passages, new values; the old entries stay valid.
    kb.add([document("a", "2026-turin", "workshop-notes", "it", 2026, ["food"])])
    with store.snapshot() as db:
        by_passage = passages(db)
        values = cache.of_passages(db, by_passage)
        now = {doc: values[chunk] for chunk, doc in by_passage.items()}
        counted = count_values(now[d] for d in ["a", "b"])
        assert counted == facet_counts(db, ["a", "b"], None)
        assert ("2026-turin", 1) in counted["trip"] and counted["theme"][0] == ("food", 2)
