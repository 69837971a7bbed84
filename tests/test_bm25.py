"""The in-memory lexical leg against FTS5's own BM25, through a generated base."""

import mmap
import random
import sqlite3

import numpy as np
import pytest

import kb.bm25 as bm25
import kb.postings as postings
from kb import Chunk, Document, Filters, KnowledgeBase
from kb.backend import PassageFields, PassageText
from kb.bm25 import MemoryLexical
from kb.fts import FtsLexical
from kb.query import AnalysedQuery
from kb.settings import Settings
from kb.tokens import tokens

VOCABULARY = (
    "économie circulaire financement financements coopérative cooperatives logement "
    "jardin jardins partagés énergie solaire éolienne mobilité vélo vélos tramway "
    "école écoles cantine alimentation locale marché marchés emploi insertion "
    "habitat participatif Köln Straße Ωμέγα ΆΣ naïve Œuvre cafés foo_bar x²y 2024 "
    "recycling housing bikes market markets energy solar school canteen food"
)
WORDS = VOCABULARY.split()
QUERIES = (
    "économie circulaire",
    "financements coopératives",
    "Les jardins partagés de la ville",
    "énergie solaire et éolienne",
    "vélo tramway mobilité",
    "marché alimentation locale",
    "housing cooperatives",
    "Straße Köln",
    "cafés naïve Œuvre",
    "foo_bar",
    "2024",
    "zzyzx",
)


def text(rng: random.Random, size: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(size)) + "."


def documents(seed: int, count: int, prefix: str = "d") -> list[Document]:
    rng = random.Random(seed)
    return [
        Document(
            id=f"{prefix}{n}",
            title=text(rng, 3),
            chunks=[
                Chunk(text(rng, rng.randint(5, 60)), heading_path=(text(rng, 2),))
                for _ in range(rng.randint(1, 4))
            ],
            language=rng.choice(["fr", "en", None]),
            trip=rng.choice(["t1", "t2"]),
        )
        for n in range(count)
    ]


def open_kb(path, lexical="memory"):
    return KnowledgeBase(path, encoder="tiny", settings=Settings(lexical=lexical))


@pytest.fixture
def base(tmp_path):
    with open_kb(tmp_path) as kb:
        kb.add(documents(1, 40))
        yield kb


def both(kb, query, k=50, filters=None):
    """(FTS5's hits, the memory leg's hits) for one query."""
    analysed = AnalysedQuery.of(query)
    leg = kb.backend.lexical  # caught up first, when it is behind SQLite
    with kb.store.snapshot():
        table = FtsLexical(kb.store).search(analysed, k, filters)
        memory = leg.search(analysed, k, filters)
    return table, memory


def assert_same(table, memory):
    """Same scores rank by rank, and the same passage at each rank but among ties."""
    assert [s for _, s in memory] == pytest.approx([s for _, s in table], rel=1e-9)
    scores = dict(table)
    for rank, (passage, score) in enumerate(memory):
        if passage in scores:
            assert score == pytest.approx(scores[passage], rel=1e-9)
        if passage != table[rank][0]:
            tied = {p for p, s in table + memory if s == pytest.approx(score, rel=1e-9)}
            assert len(tied) > 1


def assert_agrees(kb, filters=None):
    for query in QUERIES:
        assert_same(*both(kb, query, filters=filters))


def test_tokens_are_those_of_fts5():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize = 'unicode61 remove_diacritics 2')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    sample = "Café\u0301s foo_bar ΆΣ ς Œuvre ßtraße ø İ a·b l'été 3.5 x²y ½ C++ NEAR( \"*"
    db.execute("INSERT INTO t (rowid, x) VALUES (1, ?)", (sample,))
    assert tokens(sample) == [r[0] for r in db.execute("SELECT term FROM v ORDER BY offset")]


def test_scores_and_order_are_fts5s(base):
    assert isinstance(base.backend.lexical, MemoryLexical)
    table, memory = both(base, "économie circulaire")
    assert memory and len(memory) == len(table)
    assert all(score > 0 for _, score in memory)
    assert_agrees(base)


def test_filters_are_exact(base):
    assert_agrees(base, Filters(trip=("t1",)))
    assert_agrees(base, Filters(language=("en",)))
    assert both(base, "économie", filters=Filters(trip=("nowhere",))) == ([], [])


def test_top_k_is_the_best_k(base):
    table, memory = both(base, "économie circulaire financement", k=5)
    assert len(memory) == 5
    assert_same(table, memory)


def test_known_terms_and_common_translations_are_fts5s(base, monkeypatch):
    query = AnalysedQuery.of("financements zzyzx jardins")
    with base.store.snapshot():
        assert base.backend.lexical.known_terms(query) == FtsLexical(base.store).known_terms(query)
    monkeypatch.setattr("kb.fts.COMMON_FLOOR", 1)
    monkeypatch.setattr("kb.fts.COMMON_TRANSLATION", 0.3)
    translated = AnalysedQuery(
        text="bennes",
        words=("bennes",),
        stems=("benn",),
        highlight_terms=frozenset(),
        translated=("econom", "jardin", "velo", "zzq", "cafe"),
    )
    leg, table = base.backend.lexical, FtsLexical(base.store)
    with base.store.snapshot():
        assert leg._selective(translated.translated) == table._selective(translated.translated)
        assert_same(table.search(translated, 50), leg.search(translated, 50))


def test_writes_are_seen_after_commit_and_dropped_by_discard(tmp_path):
    with open_kb(tmp_path) as kb:
        kb.add(documents(2, 3))
        leg = kb.backend.lexical
        passage = PassageText("Nouveau", "", "un mot introuvable ailleurs", "fr")
        fields = PassageFields("x", "fr", None, "other", None)
        leg.add(np.array([10_000]), [passage], [fields])
        assert leg.search(AnalysedQuery.of("introuvable"), 10) == []
        leg.discard()
        leg.commit("0:99")
        assert leg.search(AnalysedQuery.of("introuvable"), 10) == []
        leg.add(np.array([10_000]), [passage], [fields])
        leg.commit("0:100")
        assert [i for i, _ in leg.search(AnalysedQuery.of("introuvable"), 10)] == [10_000]
        leg.remove(np.array([10_000]))
        assert [i for i, _ in leg.search(AnalysedQuery.of("introuvable"), 10)] == [10_000]
        leg.commit("0:101")
        assert leg.search(AnalysedQuery.of("introuvable"), 10) == []
        assert 10_000 not in leg.ids()


def test_an_older_snapshot_is_unchanged_by_later_commits(tmp_path):
    """Passages are appended in room left after the arrays, beyond what an older
    snapshot sees; each snapshot keeps its own passages and ranks by them."""
    with open_kb(tmp_path) as kb:
        leg = kb.backend.lexical
        fields = PassageFields("x", "fr", None, "other", None)
        snapshots = []
        for n in range(1, 40):
            passage = PassageText(f"Fiche {n}", "", f"mot{n} commun", "fr")
            leg.add(np.array([50_000 + n]), [passage], [fields])
            leg.commit(f"0:{1000 + n}")
            snapshots.append(leg._snapshot)
        leg.remove(np.array([50_001]))
        leg.commit("0:2000")
        for n, snapshot in enumerate(snapshots, start=1):
            assert snapshot.ids.tolist() == [50_000 + i for i in range(1, n + 1)]
            assert snapshot.alive.all() and snapshot.live == n
        assert leg.ids().tolist() == [50_000 + i for i in range(2, 40)]
        assert leg._snapshot.ids.base is snapshots[-1].ids.base  # one array, not 39


def test_a_word_only_removed_passages_held_is_no_longer_known(base, monkeypatch):
    base.add([Document(id="gone", title="Zzquux", chunks=[Chunk("Zzquux jardins partagés.")])])
    leg, table = base.backend.lexical, FtsLexical(base.store)
    query = AnalysedQuery.of("zzquux jardins")
    assert leg.known_terms(query) >= {"zzquux"}
    base.remove("gone")
    assert leg._snapshot.dead  # its passage stays in the segments, marked dead
    monkeypatch.setattr("kb.fts.COMMON_FLOOR", 1)
    monkeypatch.setattr("kb.fts.COMMON_TRANSLATION", 0.3)
    with base.store.snapshot():
        known = leg.known_terms(query)
        assert "zzquux" not in known and known == table.known_terms(query)
        stems = ("zzquux", "jardin", "econom", "velo")
        assert leg._selective(stems) == table._selective(stems)


def test_documents_replaced_and_removed_rank_as_in_fts5(base):
    base.add(documents(3, 10))  # the same ids: every passage of d0..d9 replaced
    base.remove("d11")
    assert sorted(base.backend.lexical.ids()) == sorted(base.backend.dense.ids())
    assert_agrees(base)


def test_merged_delta_and_compacted_main_rank_the_same(tmp_path, monkeypatch):
    monkeypatch.setattr(bm25, "DELTA_MAX", 5)
    with open_kb(tmp_path) as kb:
        for n in range(6):
            kb.add(documents(10 + n, 6, prefix=f"g{n % 3}-"))  # replaces every other round
        kb.remove("g0-1")
        snapshot = kb.backend.lexical._snapshot
        assert snapshot.segments and snapshot.in_delta <= 5
        assert_agrees(kb)
        assert_agrees(kb, Filters(trip=("t2",)))


def test_segments_stay_few_growing_in_size_and_rank_as_one(tmp_path, monkeypatch):
    """Each full delta becomes a segment, merged into the one before it while that one
    is under TIER times its size: segments shrink from the oldest, few of them."""
    monkeypatch.setattr(bm25, "DELTA_MAX", 3)
    with open_kb(tmp_path) as kb:
        most = 0
        for n in range(40):
            kb.add(documents(100 + n, 2, prefix=f"s{n}-"))
            segments = kb.backend.lexical._snapshot.segments
            sizes = [len(segment) for segment in segments]
            assert all(a >= bm25.TIER * b for a, b in zip(sizes, sizes[1:], strict=False))
            most = max(most, len(segments))
        assert 1 < most <= 6
        assert_agrees(kb)
        kb.flush()
    with open_kb(tmp_path) as kb:  # the segments come back from the file
        assert len(kb.backend.lexical._snapshot.segments) == len(segments)
        assert_agrees(kb)


def test_no_merge_makes_a_segment_past_the_largest_size(tmp_path, monkeypatch):
    monkeypatch.setattr(bm25, "DELTA_MAX", 3)
    monkeypatch.setattr(postings, "MAX_MERGED", 400)
    with open_kb(tmp_path) as kb:
        for n in range(40):
            kb.add(documents(100 + n, 2, prefix=f"s{n}-"))
        segments = kb.backend.lexical._snapshot.segments
        assert len(segments) > 6  # more of them than without the cap ...
        assert all(len(segment) <= 400 for segment in segments)  # ... none grown past it
        assert_agrees(kb)


def test_the_file_is_reopened_without_catching_up(tmp_path):
    with open_kb(tmp_path) as kb:
        kb.add(documents(4, 20))
        before = {q: both(kb, q)[1] for q in QUERIES}
    assert (tmp_path / "lexical.idx").is_file()
    with open_kb(tmp_path) as kb:
        opened = kb._open_backend()  # as opened, before any catching up
        assert opened.lexical.state() == kb.store.state()
        assert {q: both(kb, q)[1] for q in QUERIES} == before


def mapped(array: np.ndarray) -> bool:
    """Whether `array` is a view of a file mapped in memory."""
    while isinstance(array, np.ndarray):
        array = array.base
    return isinstance(array, memoryview) and isinstance(array.obj, mmap.mmap)


def test_a_flush_hands_the_arrays_over_to_the_mapped_file(tmp_path, monkeypatch):
    monkeypatch.setattr(bm25, "DELTA_MAX", 5)
    with open_kb(tmp_path) as kb:
        kb.add(documents(7, 12))
        leg = kb.backend.lexical
        assert leg._snapshot.segments and not mapped(leg._snapshot.segments[0].rows)
        before = {q: both(kb, q)[1] for q in QUERIES}
        kb.flush()
        flushed = leg._snapshot
        assert mapped(flushed.ids) and mapped(flushed.segments[0].rows)
        assert not flushed.ids.flags.writeable  # never written through
        assert {q: both(kb, q)[1] for q in QUERIES} == before
        kb.add(documents(8, 8, prefix="more"))  # grows from the mapped arrays
        assert_agrees(kb)
        kb.flush()  # replaces the file: the older mapping stays whole
        assert flushed.ids.tolist() == sorted(flushed.ids.tolist()) and len(flushed.ids) > 0
        assert leg._snapshot is not flushed and mapped(leg._snapshot.ids)
        assert_agrees(kb)


@pytest.mark.parametrize("damage", ["corrupt", "truncated", "stale"])
def test_a_damaged_or_stale_file_is_ignored_and_rebuilt(tmp_path, damage):
    with open_kb(tmp_path) as kb:
        kb.add(documents(5, 10))
    path = tmp_path / "lexical.idx"
    old = path.read_bytes()
    with open_kb(tmp_path) as kb:
        kb.add(documents(6, 5, prefix="late"))
        kb.remove("d3")
        expected = {q: both(kb, q)[0] for q in QUERIES}
    if damage == "corrupt":
        path.write_bytes(b"junk" + old[4:])
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:-10])
    else:
        path.write_bytes(old)  # the file of an earlier state
    with open_kb(tmp_path) as kb:
        for query, table in expected.items():
            assert_same(table, both(kb, query)[1])


def test_fts_stays_the_choice_of_the_setting(tmp_path):
    with open_kb(tmp_path, lexical="fts") as kb:
        kb.add(documents(7, 3))
        assert isinstance(kb.backend.lexical, FtsLexical)
    assert not (tmp_path / "lexical.idx").exists()


def test_a_file_that_cannot_be_mapped_leaves_the_arrays_in_memory(tmp_path, monkeypatch):
    with open_kb(tmp_path) as kb:
        kb.add(documents(9, 10))
        expected = {q: both(kb, q)[0] for q in QUERIES}

    def unmappable(*args, **kwargs):
        raise OSError("mmap not supported on this file system")

    monkeypatch.setattr(bm25.mmap, "mmap", unmappable)
    with open_kb(tmp_path) as kb:  # caught up from SQLite instead
        leg = kb.backend.lexical
        for query, table in expected.items():
            assert_same(table, both(kb, query)[1])
        kb.add(documents(10, 3, prefix="late"))
        kb.flush()  # written; its arrays stay in memory
        assert not mapped(leg._snapshot.ids) and (tmp_path / "lexical.idx").is_file()
        assert_agrees(kb)


def test_a_translation_weighs_in_full_in_its_language_and_half_in_others(tmp_path, monkeypatch):
    monkeypatch.setattr(bm25, "DELTA_MAX", 3)
    same = "Tram."  # the same stem and length in every language
    docs = {language or "none": language for language in ("it", "fr", "en", None)}

    def scores(kb, languages: tuple[str, ...] = ("it",)) -> dict[str, float]:
        """Each document's score for the stem "tram", a translation into `languages`."""
        query = AnalysedQuery(
            text="zzq",
            words=("zzq",),
            stems=(),
            highlight_terms=frozenset(),
            translated=("tram",),
            translated_into=(("tram", languages),) if languages else (),
        )
        with kb.store.snapshot() as db:
            found = kb.backend.lexical.search(query, 100)
            owners = kb.store.chunk_documents(db, [i for i, _ in found])
        return {owners[i]: s for i, s in found}

    with open_kb(tmp_path) as kb:
        kb.add(documents(9, 20, prefix="other"))
        kb.add([Document(d, "t", chunks=[Chunk(same)], language=n) for d, n in docs.items()])
        for n in range(6):  # the arrays get compacted, the languages with them
            kb.remove(f"other{n}")
        snapshot = kb.backend.lexical._snapshot
        assert len(snapshot.ids) == snapshot.live == len(snapshot.languages)
        found = scores(kb)
        assert found["fr"] == pytest.approx(found["it"] / 2)
        assert found["en"] == pytest.approx(found["it"] / 2)
        assert found["none"] == pytest.approx(found["it"])  # a language not known: in full
        unknown = scores(kb, languages=())  # the translation's languages not known: in full
        assert [unknown[d] for d in docs] == pytest.approx([found["it"]] * len(docs))
        both = scores(kb, languages=("fr", "it"))
        assert [both["fr"], both["it"]] == pytest.approx([found["it"]] * 2)
    with open_kb(tmp_path) as kb:  # the languages come back with the file
        assert kb._open_backend().lexical.state() == kb.store.state()
        assert scores(kb) == pytest.approx(found)
