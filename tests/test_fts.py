"""The embedded lexical leg (SQLite FTS5) and the facet counts, through a small base."""

import pytest

from kb import Chunk, Document, Filters, KnowledgeBase
from kb.facets import facet_counts
from kb.query import AnalysedQuery
from kb.settings import Settings


@pytest.fixture
def kb(tmp_path):
    with KnowledgeBase(tmp_path, encoder="tiny", settings=Settings(lexical="fts")) as kb:
        yield kb


def doc(doc_id, text, **fields):
    return Document(id=doc_id, title=f"Doc {doc_id}", chunks=[Chunk(text)], **fields)


def lexical(kb, text, filters=None):
    with kb.store.snapshot():
        hits = kb.backend.lexical.search(AnalysedQuery.of(text), 10, filters)
        rows = kb.store.chunk_rows(kb.store.reader, [i for i, _ in hits])
    return [rows[i]["document_id"] for i, _ in hits]


def test_accents_fold_stems_match_and_filters_apply(kb):
    kb.add([doc("a", "Économie circulaire et financements", trip="t1")])
    kb.add([doc("b", "economie sociale, un financement", trip="t2")])
    assert sorted(lexical(kb, "economie")) == ["a", "b"]
    assert sorted(lexical(kb, "financements")) == ["a", "b"]
    assert lexical(kb, "économie", Filters(trip=("t2",))) == ["b"]
    assert lexical(kb, 'C++ NEAR( "*') == []


def test_replacing_and_removing_leave_no_old_row(kb):
    kb.add([doc("a", "premier passage")])
    kb.add([doc("a", "nouveau texte")])
    assert lexical(kb, "premier") == []
    assert lexical(kb, "nouveau") == ["a"]
    kb.remove("a")
    assert lexical(kb, "nouveau") == []
    assert len(kb.backend.lexical.ids()) == 0


def test_known_terms_are_words_or_stems_of_the_index(kb):
    kb.add([doc("a", "Les financements solidaires")])
    with kb.store.snapshot():
        known = kb.backend.lexical.known_terms(AnalysedQuery.of("financement introuvable"))
    assert "financ" in known and "introuvable" not in known


def test_facet_counts_over_some_documents(kb):
    for i, (trip, theme) in enumerate([("t1", "funding"), ("t1", "inclusion"), ("t2", "funding")]):
        kb.add(
            [
                doc(
                    f"d{i}",
                    "x",
                    trip=trip,
                    themes=[theme],
                    date=f"202{i}-01-01",
                    kind="practice-sheet",
                )
            ]
        )
    with kb.store.snapshot() as db:
        every = facet_counts(db, None, None)
        some = facet_counts(db, ["d0", "d2"], None)
    assert dict(every["trip"]) == {"t1": 2, "t2": 1}
    assert dict(every["theme"]) == {"funding": 2, "inclusion": 1}
    assert dict(some["trip"]) == {"t1": 1, "t2": 1}
    assert dict(some["year"]) == {"2020": 1, "2022": 1}


def test_common_or_unknown_translated_stems_are_not_searched(kb, monkeypatch):
    import kb.fts as fts

    monkeypatch.setattr(fts, "COMMON_FLOOR", 1)
    monkeypatch.setattr(fts, "COMMON_TRANSLATION", 0.5)
    kb.add([doc(f"c{i}", "abiti usati raccolti", language="it") for i in range(3)])
    kb.add([doc("bin", "cassonetti per abiti", language="it")])
    leg = kb.backend.lexical
    with kb.store.snapshot():
        # "abit" is in 4 of 4 passages (over half): dropped; "cassonett" kept; "zzq" unknown
        assert leg._selective(["abit", "cassonett", "zzq"]) == ("cassonett",)
        query = AnalysedQuery(
            text="bennes",
            words=("bennes",),
            stems=("benn",),
            highlight_terms=frozenset(),
            translated=("abit", "cassonett"),
        )
        hits = leg.search(query, 10)
    assert len(hits) == 1
