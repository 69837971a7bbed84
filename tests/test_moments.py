import numpy as np
import pytest

from kb import Chunk, Document, KnowledgeBase
from kb import moments as moments_module
from kb.embed import TinyEncoder
from kb.moments import SHRINK_PASSAGES, SPREAD_FROM, PassageMoments


def test_offsets_remove_what_a_language_shares_and_shrink_small_languages():
    means = PassageMoments(2)
    french = np.array([[1.0, 0.0]] * 100)
    english = np.array([[0.0, 1.0]] * 100)
    means.add("fr", french)
    means.add("en", english)
    query = np.array([0.8, 0.6])  # leans French: closer to every French passage
    offsets = means.offsets(query)
    shrink = 100 / (100 + SHRINK_PASSAGES)
    assert offsets["fr"] == pytest.approx(shrink * (0.8 - 0.7))
    assert offsets["en"] == pytest.approx(shrink * (0.6 - 0.7))
    # Taking vectors out again restores the state before.
    means.add("es", np.array([[1.0, 0.0]] * 3))
    means.add("es", np.array([[1.0, 0.0]] * 3), sign=-1)
    assert set(means.offsets(query)) == {"fr", "en"}
    assert means.offsets(query)["fr"] == pytest.approx(offsets["fr"])
    # One language alone has no bias to correct.
    alone = PassageMoments(2)
    alone.add("fr", french)
    assert alone.offsets(query) == {}


def test_the_knowledge_base_keeps_its_means_in_step_with_adds_and_removes(kb):
    kb.add([Document(id="a", title="A", language="fr", chunks=[Chunk("jardin partagé")])])
    kb.add([Document(id="b", title="B", language="en", chunks=[Chunk("shared garden")])])
    kb.add([Document(id="a", title="A", language="it", chunks=[Chunk("orto condiviso")])])
    kb.remove("b")
    kept = kb._current_means()
    kb._means = None  # recomputed from SQLite
    fresh = kb._current_means()
    assert kept.counts == fresh.counts == {"it": 1}
    assert np.allclose(kept.sums["it"], fresh.sums["it"])
    assert np.allclose(kept.squares, fresh.squares)


def test_standing_is_the_best_similarity_in_deviations_of_the_whole_base():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(300, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    french, english = vectors[:200], vectors[200:]
    # Built in one pass (by the thousand rows) or document by document: the same.
    built = PassageMoments.of(8, [("fr", french[:150]), ("en", english), ("fr", french[150:])])
    moments = PassageMoments(8)
    for language, rows in (("fr", french), ("en", english)):
        for row in rows:
            moments.add(language, row[None, :])
    assert np.allclose(built.squares, moments.squares)
    query = vectors[0]
    similarities = vectors @ query
    expected = (similarities.max() - similarities.mean()) / similarities.std()
    assert moments.standing(query, float(similarities.max())) == pytest.approx(
        expected / np.sqrt(2 * np.log(300)), rel=1e-5
    )
    # Vectors counted out leave the moments of the rest.
    moments.add("en", english, sign=-1)
    rest = french @ query
    assert moments.standing(query, 0.5) == pytest.approx(
        (0.5 - rest.mean()) / rest.std() / np.sqrt(2 * np.log(200)), rel=1e-5
    )


def test_a_base_too_small_for_a_spread_has_no_standing():
    moments = PassageMoments(2)
    moments.add("fr", np.array([[1.0, 0.0], [0.0, 1.0]] * ((SPREAD_FROM - 1) // 2)))
    assert moments.standing(np.array([1.0, 0.0]), 1.0) is None
    moments.add("fr", np.array([[0.6, 0.8]] * 2))
    assert moments.standing(np.array([1.0, 0.0]), 1.0) is not None


def same(a: PassageMoments, b: PassageMoments) -> bool:
    return (
        a.counts == b.counts
        and all(np.allclose(a.sums[k], b.sums[k]) for k in a.sums)
        and np.allclose(a.squares, b.squares)
    )


COUNT_ANEW = PassageMoments.of


def counted_anew(kb: KnowledgeBase) -> PassageMoments:
    """The moments of the base now, from every vector in SQLite."""
    with kb.store.snapshot() as db:
        return COUNT_ANEW(64, list(kb.store.language_vectors(db, 64)))


def counting_anew(monkeypatch) -> list[int]:
    """A list that grows each time moments are counted anew from a whole base."""
    built: list[int] = []
    monkeypatch.setattr(
        moments_module.PassageMoments,
        "of",
        classmethod(lambda cls, *a: built.append(1) or COUNT_ANEW(*a)),
    )
    return built


def test_another_process_s_changes_are_counted_alone(kb, monkeypatch):
    kb.add([Document(id="a", title="A", language="fr", chunks=[Chunk("jardin partagé")])])
    reader = KnowledgeBase(kb.path, encoder="tiny")  # as another process would
    reader._current_means()
    built = counting_anew(monkeypatch)
    kb.add([Document(id="b", title="B", language="en", chunks=[Chunk("shared garden")] * 2)])
    after_add = reader._current_means()
    assert same(after_add, counted_anew(kb))
    kb.remove("a")
    after_remove = reader._current_means()
    assert built == []  # the reader read what changed, not every vector
    assert after_remove.counts == {"en": 2}
    assert same(after_remove, counted_anew(kb))
    reader.close()


def test_a_process_further_behind_than_the_removals_noted_counts_anew(kb, monkeypatch):
    monkeypatch.setattr("kb.store.REMOVALS_KEPT", 1)
    for name in "abc":
        kb.add([Document(id=name, title=name, language="fr", chunks=[Chunk(f"jardin {name}")])])
    reader = KnowledgeBase(kb.path, encoder="tiny")
    reader._current_means()
    built = counting_anew(monkeypatch)
    kb.remove("a")
    kb.remove("b")  # the removal of "a" is no longer noted
    assert reader._current_means().counts == {"fr": 1}
    assert len(built) == 1  # counted anew
    assert same(reader._current_means(), counted_anew(kb))
    reader.close()


class OtherTiny(TinyEncoder):
    """Another model of the same size: other vectors for the same texts."""

    name = "tiny-other"

    def _features(self, text: str) -> list[str]:
        return [f"{feature}!" for feature in super()._features(text)]


def test_vectors_embedded_anew_elsewhere_are_counted_anew(kb):
    kb.add([Document(id="a", title="A", language="fr", chunks=[Chunk("jardin partagé")])])
    reader = KnowledgeBase(kb.path, encoder="tiny")
    before = reader._current_means()
    with KnowledgeBase(kb.path, encoder=OtherTiny()) as writer:
        writer.reindex()
        expected = writer._current_means()
    after = reader._current_means()
    assert same(after, expected) and not same(after, before)
    reader.close()
