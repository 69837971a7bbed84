"""The embedded dense leg: main + delta + dead ids, merges, HNSW, the file."""

import numpy as np
import pytest

from kb import index as dense_index
from kb.index import FaissDense
from kb.store import Store


def unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "kb.sqlite")
    yield store
    store.close()


def leg(store, tmp_path, **options):
    return FaissDense(store, tmp_path / "index.faiss", 3, "m", **options)


def ids_of(hits):
    return [i for i, _ in hits]


def test_search_best_first_excluded_inside_faiss(store, tmp_path):
    dense = leg(store, tmp_path)
    dense.add(np.array([10, 20, 30]), unit([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0]]), [])
    assert dense.search(unit([[1, 0, 0]])[0], 3) == []  # staged, not committed
    dense.commit("0:1")
    assert ids_of(dense.search(unit([[1, 0, 0]])[0], 3)) == [10, 20, 30]
    # Excluded ids are left out inside FAISS: k results come back, not fewer.
    assert ids_of(dense.search(unit([[1, 0, 0]])[0], 2, excluded=np.array([10]))) == [20, 30]


def test_removed_ids_vanish_from_main_and_delta_and_discard_drops_staged(
    store, tmp_path, monkeypatch
):
    monkeypatch.setattr(dense_index, "DELTA_MAX", 2)
    dense = leg(store, tmp_path)
    dense.add(np.array([1, 2, 3]), unit([[1, 0, 0], [0, 1, 0], [0, 0, 1]]), [])
    dense.commit("0:1")  # over DELTA_MAX: merged into main
    assert dense._snapshot.main.ntotal == 3 and dense._snapshot.delta.ntotal == 0
    dense.add(np.array([4]), unit([[1, 1, 0]]), [])
    dense.commit("0:2")
    dense.remove(np.array([1, 4]))
    dense.commit("0:3")
    assert sorted(dense.ids()) == [2, 3]
    assert set(ids_of(dense.search(unit([[1, 0.1, 0]])[0], 10))) == {2, 3}
    dense.add(np.array([5]), unit([[1, 0, 0]]), [])
    dense.discard()
    dense.commit("0:4")
    assert sorted(dense.ids()) == [2, 3] and dense.state() == "0:4"


def test_a_search_keeps_its_snapshot_while_a_write_commits(store, tmp_path):
    dense = leg(store, tmp_path)
    dense.add(np.array([1]), unit([[1, 0, 0]]), [])
    dense.commit("0:1")
    before = dense._snapshot
    dense.add(np.array([2]), unit([[1, 0, 0]]), [])
    dense.commit("0:2")
    assert len(before) == 1 and len(dense) == 2


def test_hnsw_main_finds_what_exact_search_finds(store, tmp_path, monkeypatch):
    monkeypatch.setattr(dense_index, "DELTA_MAX", 100)
    rng = np.random.default_rng(0)
    vectors = unit(rng.standard_normal((1500, 3)) + np.array([0, 0, 0.5]))
    exact = FaissDense(store, tmp_path / "a.faiss", 3, "m", ann_from=10**9)
    approximate = FaissDense(store, tmp_path / "b.faiss", 3, "m", ann_from=500)
    for start in range(0, 1500, 50):
        ids = np.arange(start, start + 50)
        for dense in (exact, approximate):
            dense.add(ids, vectors[start : start + 50], [])
            dense.commit(f"0:{start}")
    assert dense_index._is_hnsw(approximate._snapshot.main)
    assert not dense_index._is_hnsw(exact._snapshot.main)
    found = sum(
        len(set(ids_of(exact.search(q, 10))) & set(ids_of(approximate.search(q, 10))))
        for q in unit(rng.standard_normal((50, 3)))
    )
    assert found / 500 >= 0.98


def test_flush_and_reload_keep_state_model_and_parts(store, tmp_path, monkeypatch):
    monkeypatch.setattr(dense_index, "DELTA_MAX", 2)
    dense = leg(store, tmp_path)
    dense.add(np.array([1, 2, 3]), unit([[1, 0, 0], [0, 1, 0], [0, 0, 1]]), [])
    dense.commit("0:1")
    dense.add(np.array([7]), unit([[0, 0, 1]]), [])
    dense.remove(np.array([3]))
    dense.commit("0:2")
    dense.flush()
    assert not list(tmp_path.glob(".index-*"))
    again = leg(store, tmp_path)
    assert again.state() == "0:2" and sorted(again.ids()) == [1, 2, 7]
    assert ids_of(again.search(unit([[0, 0, 1]])[0], 1)) == [7]
    other_model = FaissDense(store, tmp_path / "index.faiss", 3, "other")
    assert other_model.state() is None and len(other_model) == 0
    (tmp_path / "index.faiss").write_bytes(b"garbage")
    assert leg(store, tmp_path).state() is None
    (tmp_path / "index.faiss").write_bytes(dense_index.MAGIC + b'{"state": "0:1"}\n')
    assert leg(store, tmp_path).state() is None
