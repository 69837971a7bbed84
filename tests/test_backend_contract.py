"""One contract for every retrieval backend: the embedded one (FAISS + FTS5) and Milvus
(Milvus Lite, started by the tests in the knowledge base's folder)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from test_knowledge_base import SAMPLE

from kb import Chunk, Document, Filters, KnowledgeBase
from kb.settings import Settings

BACKENDS = ["embedded", "milvus"]
DERIVED = {"embedded": ["index.faiss"], "milvus": ["milvus.db", ".milvus.db.lock"]}


def sample() -> list[Document]:
    """The facade tests' sample documents, the English one without a trip (the 'no trip'
    filter needs one)."""
    return [
        replace(d, chunks=list(d.chunks), trip=None if d.id == "food" else d.trip)
        for d in SAMPLE
    ]


def open_base(path: Path, backend: str) -> KnowledgeBase:
    return KnowledgeBase(path, encoder="tiny", settings=Settings(backend=backend))


@pytest.fixture(params=BACKENDS)
def base(request, tmp_path):
    """A knowledge base holding `sample()` on each backend; `.reopen()` closes it and
    opens it again (the fixture closes whichever is open last)."""
    path = tmp_path / "kb"
    opened = [open_base(path, request.param)]
    opened[0].add(sample())

    def reopen(forget_derived: bool = False) -> KnowledgeBase:
        opened[-1].close()
        if forget_derived:
            for name in DERIVED[request.param]:
                target = path / name
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
        opened.append(open_base(path, request.param))
        return opened[-1]

    kb = opened[0]
    kb.reopen = reopen  # type: ignore[attr-defined]
    kb.backend_name = request.param  # type: ignore[attr-defined]
    yield kb
    opened[-1].close()


@pytest.fixture(scope="module", params=BACKENDS)
def shared(request, tmp_path_factory):
    """One knowledge base per backend for the tests that only read (Milvus Lite starts once)."""
    kb = open_base(tmp_path_factory.mktemp(request.param) / "kb", request.param)
    kb.add(sample())
    kb.backend_name = request.param  # type: ignore[attr-defined]
    yield kb
    kb.close()


def ids(kb: KnowledgeBase, query: str, filters: Filters | None = None, mode: str = "hybrid"):
    return [r.document.id for r in kb.search(query, filters, mode=mode).results]


def test_settings_choose_the_backend(shared):
    assert shared.backend.name == shared.backend_name


def test_dense_filters_are_exact_inside_the_index(shared):
    # the query is closest to the French workshop; only the English sheet may pass
    english = Filters(language=("en",))
    assert ids(shared, "financement SCIC fonds propres", english, "dense") == ["food"]
    no_trip = Filters(trip=("none",))
    assert ids(shared, "financement SCIC fonds propres", no_trip, "dense") == ["food"]
    either = Filters(trip=("none", "2025-barcelone"))
    assert set(ids(shared, "financement SCIC", either, "dense")) <= {"food", "inclusion"}
    assert "inclusion" in ids(shared, "financement SCIC", either, "dense")


def test_filters_on_themes_years_and_kinds(shared):
    funding = Filters(theme=("funding",))
    assert set(ids(shared, "financement funding farms", funding)) == {"financement", "food"}
    only_2025 = Filters(year_from=2025, year_to=2025)
    assert ids(shared, "financement emploi farms", only_2025) == ["inclusion"]
    sheets = Filters(kind=("practice-sheet",), language=("en",))
    assert ids(shared, "farms financement", sheets) == ["food"]


def test_french_lexical_matching(shared):
    assert ids(shared, "financements", mode="lexical")[0] == "financement"
    assert ids(shared, "economie", mode="lexical") == ["inclusion"]
    assert ids(shared, "Économique", mode="lexical") == ["inclusion"]
    assert ids(shared, "zzyzx", mode="lexical") == []


def test_known_terms_come_from_the_lexical_leg(shared):
    from kb.query import AnalysedQuery

    known = shared.backend.lexical.known_terms(AnalysedQuery.of("financements zzyzx"))
    assert "zzyzx" not in known and known & {"financ", "financement", "financements"}


def test_hybrid_ranks_the_right_document_first(shared):
    assert ids(shared, "financement fonds propres SCIC")[0] == "financement"
    assert ids(shared, "insertion activité économique")[0] == "inclusion"
    assert ids(shared, "urban farms canteens")[0] == "food"


def test_adding_a_document_again_replaces_it(base):
    food = sample()[2]
    food.chunks = [Chunk("Rooftop beehives produce honey for the market.", ("Bees",), 1, 0)]
    base.add([food])
    assert ids(base, "canteens", mode="lexical") == []
    assert ids(base, "beehives honey", mode="lexical") == ["food"]
    assert ids(base, "beehives honey")[0] == "food"
    assert len(base.backend.dense.ids()) == len(base.backend.lexical.ids()) == 4


def test_removing_a_document(base):
    base.remove("inclusion")
    assert "inclusion" not in ids(base, "insertion activité économique")
    assert ids(base, "economie", mode="lexical") == []
    assert len(base.backend.dense.ids()) == 3


def test_reopening_gives_the_same_results(base):
    queries = ["financement fonds propres", "economie", "urban farms"]
    before = {(q, m): ids(base, q, mode=m) for q in queries for m in ("hybrid", "lexical", "dense")}
    again = base.reopen()
    after = {(q, m): ids(again, q, mode=m) for q in queries for m in ("hybrid", "lexical", "dense")}
    assert after == before


def test_a_lost_derived_index_is_rebuilt_from_sqlite(base):
    queries = ["financement fonds propres", "economie", "urban farms"]
    before = {(q, m): ids(base, q, mode=m) for q in queries for m in ("hybrid", "lexical", "dense")}
    again = base.reopen(forget_derived=True)
    after = {(q, m): ids(again, q, mode=m) for q in queries for m in ("hybrid", "lexical", "dense")}
    assert after == before
    assert len(again.backend.dense.ids()) == len(again.backend.lexical.ids()) == 4


def test_reset_and_catch_up_rebuild_every_leg(base):
    from kb.backend import catch_up

    backend = base.backend
    for leg in backend.legs():
        leg.reset()
    with base.store.snapshot() as db:
        state = base.store.state(db)
        for leg in backend.legs():
            catch_up(leg, base.store, db, state, backend.dense.dim, force=True)
    assert ids(base, "economie", mode="lexical") == ["inclusion"]
    assert ids(base, "financement fonds propres", mode="dense")[0] == "financement"
    assert all(leg.state() == base.store.state() for leg in backend.legs())
