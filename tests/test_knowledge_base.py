import threading
from dataclasses import replace

import pytest

from kb import (
    Chunk,
    Document,
    Filters,
    InvalidInput,
    KnowledgeBase,
    ModelMismatch,
    NotFound,
    Settings,
    Theme,
    jsonable,
)
from kb.embed import TinyEncoder


class CountingEncoder(TinyEncoder):
    """The tiny encoder, counting the passages it embeds."""

    def __init__(self):
        super().__init__()
        self.passages = 0

    def encode_passages(self, texts):
        self.passages += len(texts)
        return super().encode_passages(texts)


SAMPLE = [
    Document(
        id="financement",
        title="Atelier financement",
        trip="2022-copenhague",
        trip_name="Copenhague 2022",
        kind="workshop-notes",
        language="fr",
        date="2022-05-17",
        themes=["funding"],
        source="atelier-financement.md",
        chunks=[
            Chunk(
                "Introduction de l'atelier et tour de table des partenaires.", ("Atelier",), None, 0
            ),
            Chunk(
                "Le financement d'une SCIC sans fonds propres passe par les titres participatifs. "
                "La banque solidaire prête à taux zéro.",
                ("Atelier", "Financement"),
                None,
                1,
            ),
        ],
    ),
    Document(
        id="inclusion",
        title="Inclusion à Barcelone",
        trip="2025-barcelone",
        kind="trip-report",
        language="fr",
        date="2025-03-10",
        themes=["inclusion"],
        chunks=[
            Chunk(
                "L'insertion par l'activité économique accueille des personnes "
                "éloignées de l'emploi.",
                ("Inclusion",),
                2,
                0,
            )
        ],
    ),
    Document(
        id="food",
        title="Urban farms in Bologna",
        trip="2026-bologne",
        kind="practice-sheet",
        language="en",
        date="2026-04-02",
        themes=["sustainable-food", "funding"],
        chunks=[
            Chunk(
                "Urban farms feed school canteens; funding comes from the city.", ("Results",), 1, 0
            )
        ],
    ),
]


@pytest.fixture
def filled(kb):
    kb.add([Document(**{**d.__dict__, "chunks": list(d.chunks)}) for d in SAMPLE])
    return kb


def test_search_returns_document_best_passage_and_highlighted_snippet(filled):
    response = filled.search("financement fonds propres")
    best = response.results[0]
    assert best.document.id == "financement"
    assert best.passage.heading_path == ("Atelier", "Financement")
    marked = [best.snippet.text[s:e].lower() for s, e in best.snippet.highlights]
    assert "financement" in marked and "fonds" in marked
    assert response.total == len(response.results) >= 1


def test_passages_of_one_document_are_grouped(filled):
    response = filled.search("atelier partenaires financement SCIC")
    ids = [r.document.id for r in response.results]
    assert len(ids) == len(set(ids))
    first = response.results[0]
    assert first.document.id == "financement" and len(first.passages) == 1


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
@pytest.mark.parametrize(
    "query", ["C++", '"', "NEAR(", "*", "-", "a OR", "AND NOT", '"unbalanced', "l'économie *-^:"]
)
def test_fts_syntax_in_queries_never_raises(filled, query, mode):
    filled.search(query, mode=mode)


def test_filters_narrow_results_and_facets_add_up(filled):
    everything = filled.search("financement emploi farms")
    assert sum(v.count for v in everything.facets["trip"]) == everything.total
    only = filled.search("financement emploi farms", Filters(trip=("2025-barcelone",)))
    assert {r.document.trip for r in only.results} == {"2025-barcelone"}
    assert [(v.value, v.count) for v in only.facets["trip"]] == [("2025-barcelone", 1)]
    by_theme = filled.search("financement", Filters(theme=("funding",)))
    assert {r.document.id for r in by_theme.results} == {"financement", "food"}
    by_year = filled.search("financement", Filters(year_from=2025, year_to=2025))
    assert {r.document.id for r in by_year.results} == {"inclusion"}
    by_lang_kind = filled.search("farms", Filters(language=("en",), kind=("practice-sheet",)))
    assert [r.document.id for r in by_lang_kind.results] == ["food"]


def test_dense_filter_applies_inside_the_index_not_after(filled):
    # Only one document passes: the dense leg must still find it even though
    # other documents are closer to the query.
    response = filled.search(
        "financement SCIC fonds propres", Filters(language=("en",)), mode="dense"
    )
    assert [r.document.id for r in response.results] == ["food"]


def test_pagination(filled):
    all_results = filled.search("financement emploi farms", limit=10).results
    page2 = filled.search("financement emploi farms", limit=1, offset=1).results
    assert [r.document.id for r in page2] == [all_results[1].document.id]


@pytest.mark.parametrize(
    "bad",
    [
        dict(query=""),
        dict(query="x" * 501),
        dict(query="x", limit=0),
        dict(query="x", limit=51),
        dict(query="x", mode="magic"),
    ],
)
def test_invalid_searches_are_refused(filled, bad):
    with pytest.raises(InvalidInput):
        filled.search(**bad)


def test_deleting_the_index_file_rebuilds_it_without_re_embedding(tmp_path):
    encoder = CountingEncoder()

    def search_counting_embeddings():
        before = encoder.passages
        with KnowledgeBase(tmp_path, encoder=encoder) as kb:
            found = jsonable(kb.search("financement").results)
        return found, encoder.passages - before

    with KnowledgeBase(tmp_path, encoder=encoder) as kb:
        kb.add([Document(**{**d.__dict__, "chunks": list(d.chunks)}) for d in SAMPLE])
    with_index, embedded_with_index = search_counting_embeddings()
    (tmp_path / "index.faiss").unlink()
    rebuilt, embedded_rebuilding = search_counting_embeddings()
    assert rebuilt == with_index
    assert embedded_rebuilding == embedded_with_index
    assert (tmp_path / "index.faiss").exists()


def test_stale_index_file_catches_up_with_sqlite(tmp_path):
    with KnowledgeBase(tmp_path, encoder="tiny") as kb:
        kb.add([SAMPLE[0], SAMPLE[1]])
        kb.flush()
        stale = (tmp_path / "index.faiss").read_bytes()
        kb.add([SAMPLE[2]])
        kb.remove(SAMPLE[1].id)
    (tmp_path / "index.faiss").write_bytes(stale)
    with KnowledgeBase(tmp_path, encoder="tiny") as kb:
        found = {r.document.id for r in kb.search("urban farms canteens", mode="dense").results}
        assert "food" in found
        assert SAMPLE[1].id not in found
        assert set(kb.backend.dense.ids()) == set(kb.backend.lexical.ids())


def test_another_model_refuses_to_search_until_reindexed(tmp_path):
    with KnowledgeBase(tmp_path, encoder="tiny") as kb:
        kb.add([SAMPLE[2]])
    with KnowledgeBase(tmp_path, encoder=TinyEncoder(dim=32)) as kb:
        with pytest.raises(ModelMismatch, match="kb reindex"):
            kb.search("farms")
        with pytest.raises(ModelMismatch):
            kb.add([SAMPLE[1]])
        kb.reindex()
        assert kb.stats().model == "tiny-32" and kb.stats().dim == 32
        assert kb.search("urban farms").results[0].document.id == "food"


def test_remove_and_not_found(filled):
    filled.remove("food")
    assert "food" not in {r.document.id for r in filled.search("urban farms").results}
    with pytest.raises(NotFound):
        filled.remove("food")
    with pytest.raises(NotFound):
        filled.document("food")


def test_replacing_a_document_replaces_its_passages(filled):
    filled.add([Document(id="food", title="Urban farms", chunks=[Chunk("Composting in Bologna")])])
    assert [c.text for c in filled.document("food").chunks] == ["Composting in Bologna"]
    assert filled.stats().documents == 3


def test_similar_documents_exclude_the_document_itself(filled):
    similar = filled.similar("financement", limit=5)
    assert similar and "financement" not in {r.document.id for r in similar}


def test_themes_are_detected_when_none_given(kb):
    kb.set_themes(
        [
            Theme("funding", "Financement", "Funding", "financement banque fonds propres prêt"),
            Theme(
                "sustainable-food",
                "Alimentation durable",
                "Sustainable food",
                "fermes urbaines cantines",
            ),
        ]
    )
    kb.add(
        [
            Document(
                id="x",
                title="Prêt",
                chunks=[Chunk("La banque accorde un prêt pour le financement")],
            )
        ]
    )
    document = kb.document("x")
    assert document.themes[0] == "funding" and document.themes_detected


def test_documents_listing_and_original(filled):
    filled.add(
        [
            Document(
                id="orig",
                title="T",
                chunks=[Chunk("texte")],
                sha256="ab",
                original=b"%PDF-1.7",
                media_type="application/pdf",
                source="rapport é.pdf",
            )
        ]
    )
    documents, total = filled.documents(Filters(language=("en",)))
    assert total == 1 and documents[0].id == "food" and documents[0].chunks == []
    assert filled.original("orig") == (b"%PDF-1.7", "application/pdf", "rapport é.pdf")
    with pytest.raises(NotFound):
        filled.original("food")


def test_searches_run_concurrently_with_a_writer(filled):
    errors = []

    def search_many():
        try:
            for _ in range(20):
                assert filled.search("financement").results
        except Exception as error:  # noqa: BLE001 - collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=search_many) for _ in range(3)]
    for thread in threads:
        thread.start()
    for i in range(10):
        filled.add([Document(id=f"extra{i}", title="x", chunks=[Chunk(f"texte {i}")])])
    for thread in threads:
        thread.join()
    assert errors == []
    assert filled.stats().documents == 13


def test_score_fusion_normalises_each_leg_and_weights_them():
    from kb.search import combine

    dense = {1: 0.9, 2: 0.8, 3: 0.7}
    lexical = [(3, 12.0), (4, 6.0)]
    fused = combine(dense, lexical, dense_share=0.4)
    assert fused[1] == pytest.approx(0.4) and fused[2] == pytest.approx(0.2)
    assert fused[3] == pytest.approx(0.6) and fused[4] == pytest.approx(0.3)
    # Without lexical weight the ranking is the dense one.
    only_dense = combine(dense, lexical, dense_share=0.4, lexical_weight=0.0)
    assert sorted(only_dense, key=only_dense.get, reverse=True)[:3] == [1, 2, 3]
    # By language: BM25 is divided by the best of the passage's own language, so the
    # words a French query shares with a French passage do not outweigh the English one.
    by_language = combine(dense, lexical, dense_share=0.4, group_of={3: "fr", 4: "en"})
    assert by_language[3] == pytest.approx(0.6) and by_language[4] == pytest.approx(0.6)


def test_rrf_fusion():
    from kb.search import rrf

    fused = rrf([[1, 2], [2, 3]], k=60)
    assert max(fused, key=fused.get) == 2
    assert fused[1] == pytest.approx(1 / 61) and fused[3] == pytest.approx(1 / 62)


def test_lexical_leg_weighs_by_the_share_of_query_words_the_index_knows(filled):
    from kb.query import AnalysedQuery
    from kb.search import Searcher

    searcher = Searcher(filled.store, filled.backend, filled.encoder, filled.settings)

    def weight(text):
        return searcher.lexical_weight(AnalysedQuery.of(text))

    with filled.store.snapshot():
        assert weight("financement SCIC") == pytest.approx(1.0)
        assert weight("financement zygomatique") == pytest.approx(0.25)
        assert weight("zygomatique blorp") == 0.0


@pytest.mark.parametrize("fusion", ["score", "rrf"])
def test_both_fusions_find_the_answer(tmp_path, fusion):
    from kb import Settings

    with KnowledgeBase(tmp_path, encoder="tiny", settings=Settings(fusion=fusion)) as kb:
        kb.add([Document(**{**d.__dict__, "chunks": list(d.chunks)}) for d in SAMPLE])
        assert kb.search("titres participatifs SCIC").results[0].document.id == "financement"


def test_snippet_highlights_query_words_but_not_stop_words():
    from kb.snippet import make_snippet

    snippet = make_snippet(
        "Il faut payer les salaires. Les salariés sont payés sans retard.", "payer les salariés"
    )
    marked = {snippet.text[s:e].lower() for s, e in snippet.highlights}
    assert "salariés" in marked and "les" not in marked


class ConceptEncoder(TinyEncoder):
    """Words mapped to a few concepts: texts about the same thing in other words are close."""

    CONCEPTS = (
        {"argent", "capital", "banques", "prêtent", "financement"},
        {"jardin", "cantine", "repas", "légumes"},
    )

    def __init__(self):
        super().__init__(dim=3)
        self.name = "concepts"

    def _encode(self, texts):
        import numpy as np

        out = np.zeros((len(texts), 3), dtype=np.float32)
        for row, text in enumerate(texts):
            words = set(text.lower().replace(".", " ").split())
            for axis, concept in enumerate(self.CONCEPTS):
                out[row, axis] = len(words & concept)
            out[row, 2] = 0.1
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_snippet_of_a_purely_semantic_hit_is_its_closest_sentence(tmp_path):
    passage = (
        "Le jardin partagé ouvre le samedi. " * 6
        + "La cantine sert des repas. Les banques prêtent du capital aux coopératives. "
        + "Le bilan suit. " * 12
    )
    with KnowledgeBase(tmp_path, encoder=ConceptEncoder()) as kb:
        kb.add([Document(id="d", title="Visite", chunks=[Chunk(passage)])])
        result = kb.search("argent", mode="dense").results[0]
    assert "Les banques prêtent du capital" in result.snippet.text
    assert result.snippet.highlights == []


def listing_every_id(monkeypatch) -> list[int]:
    """A list that grows each time a catch-up lists every passage id."""
    from kb.store import Store

    listed: list[int] = []
    every_id = Store.chunk_id_array
    monkeypatch.setattr(
        Store, "chunk_id_array", lambda self, db: listed.append(1) or every_id(self, db)
    )
    return listed


def test_a_reader_catches_up_on_another_writer_s_changes_alone(kb, monkeypatch):
    kb.add(SAMPLE)
    reader = KnowledgeBase(kb.path, encoder="tiny")  # as another process would
    reader.search("jardin")
    listed = listing_every_id(monkeypatch)
    late = Document(id="late", title="Tard", chunks=[Chunk("une ressourcerie de quartier")])
    kb.add([late])
    assert reader.search("ressourcerie").results[0].document.id == "late"
    kb.remove("late")
    assert "late" not in {r.document.id for r in reader.search("ressourcerie").results}
    kb.add([replace(SAMPLE[0], chunks=[Chunk("une ressourcerie, version corrigée")])])
    assert reader.search("ressourcerie").results[0].document.id == SAMPLE[0].id
    assert listed == []  # what changed was read, not every id
    assert all(leg.state() == kb.store.state() for leg in reader.backend.legs())
    assert sorted(reader.backend.dense.ids()) == sorted(kb.backend.dense.ids())
    reader.close()


def test_a_reader_further_behind_than_the_removals_noted_compares_every_id(kb, monkeypatch):
    monkeypatch.setattr("kb.store.REMOVALS_KEPT", 2)
    kb.add(SAMPLE)
    reader = KnowledgeBase(kb.path, encoder="tiny")
    reader.search("jardin")
    listed = listing_every_id(monkeypatch)
    for document in SAMPLE[:3]:
        kb.remove(document.id)
    gone = {d.id for d in SAMPLE[:3]}
    assert not gone & {r.document.id for r in reader.search("jardin").results}
    assert listed  # the first removal is no longer noted
    assert sorted(reader.backend.lexical.ids()) == sorted(kb.backend.lexical.ids())
    reader.close()


class Calibrated(TinyEncoder):
    """The tiny encoder with a close-match calibration: every best similarity is under
    its threshold, so how far the best passage stands out decides."""

    close_match = 0.99
    close_standing = 1.2


TOPICS = [
    "monnaie locale",
    "cantine scolaire",
    "repair café",
    "clauses sociales",
    "tiers-lieu",
    "épicerie solidaire",
    "réemploi textile",
    "insertion par l'activité",
    "prêt d'honneur",
    "habitat participatif",
    "plaidoyer européen",
    "mesure d'impact",
]


def passages(count: int) -> list[Document]:
    """`count` one-passage documents on the TOPICS, and one on a shared garden."""
    documents = [
        Document(
            id=f"p{i}",
            title=f"Atelier {i}",
            chunks=[Chunk(f"Atelier {i} : {TOPICS[i % len(TOPICS)]}, session {i // len(TOPICS)}.")],
        )
        for i in range(count - 1)
    ]
    garden = "Un jardin partagé au pied des immeubles, cultivé par les habitants."
    return [*documents, Document(id="garden", title="Jardin", chunks=[Chunk(garden)])]


def test_a_weak_best_match_is_close_when_it_stands_out_from_the_base(tmp_path):
    with KnowledgeBase(tmp_path / "large", encoder=Calibrated()) as kb:
        kb.add(passages(60))
        found = kb.search("jardin partagé des habitants")
        assert found.results[0].document.id == "garden" and not found.low_confidence
        nothing = kb.search("téléphone portable pour les jeux vidéo")
        assert nothing.low_confidence and nothing.total == 0 and nothing.results
    # With an explicit threshold, or on a base too small for a spread, the similarity
    # alone decides.
    settings = Settings(low_confidence=0.99)
    with KnowledgeBase(tmp_path / "large", encoder=Calibrated(), settings=settings) as kb:
        assert kb.search("jardin partagé des habitants").low_confidence
    with KnowledgeBase(tmp_path / "small", encoder=Calibrated()) as kb:
        kb.add(passages(20))
        assert kb.search("jardin partagé des habitants").low_confidence


class CloseToAll(TinyEncoder):
    """A calibrated encoder whose threshold every best similarity passes."""

    close_match = -1.0
    close_standing = 1.2


def test_a_query_whose_words_meet_nothing_in_the_base_has_no_close_match(tmp_path):
    with KnowledgeBase(tmp_path / "kb", encoder=CloseToAll()) as kb:
        kb.add(passages(60))
        junk = kb.search("zzqx wvkj")
        assert junk.low_confidence and junk.total == 0 and junk.results
        # a word of the base, or a translation of one, is evidence enough
        assert not kb.search("jardin zzqx").low_confidence
        assert not kb.search("garden").low_confidence
        # a search by meaning alone has no words to check
        assert not kb.search("zzqx wvkj", mode="dense").low_confidence
    settings = Settings(low_confidence=-1.0)
    with KnowledgeBase(tmp_path / "kb", encoder=CloseToAll(), settings=settings) as kb:
        assert not kb.search("zzqx wvkj").low_confidence  # the set threshold alone decides


def test_low_confidence_follows_the_threshold(tmp_path):
    for threshold, expected in ((0.99, True), (-1.0, False)):
        folder = tmp_path / str(threshold)
        settings = Settings(low_confidence=threshold)
        with KnowledgeBase(folder, encoder="tiny", settings=settings) as kb:
            kb.add([Document(id="d", title="t", chunks=[Chunk("jardin partagé")])])
            assert kb.search("cantine scolaire").low_confidence is expected
