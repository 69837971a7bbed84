import numpy as np
import pytest

from kb import Chunk, Document
from kb.language_means import SHRINK_PASSAGES, LanguageMeans


def test_offsets_remove_what_a_language_shares_and_shrink_small_languages():
    means = LanguageMeans(2)
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
    alone = LanguageMeans(2)
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
