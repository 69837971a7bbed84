"""The embedded dense leg: main + delta + dead ids, merges, the quantised main, the file."""

import faiss
import numpy as np
import pytest

from kb import blocks
from kb import index as dense_index
from kb.index import FaissDense
from kb.quantised import PRECISION, as_steps
from kb.store import Store
from kb.types import Filters


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


def grown(store, tmp_path, name, vectors, dim, **options):
    """A leg fed `vectors` (ids 0..n-1) 50 at a time, each batch committed."""
    dense = FaissDense(store, tmp_path / name, dim, "m", **options)
    for start in range(0, len(vectors), 50):
        dense.add(np.arange(start, start + 50), vectors[start : start + 50], [])
        dense.commit(f"0:{start}")
    return dense


def overlap(exact, other, queries, k=10, **search):
    found = sum(
        len(set(ids_of(exact.search(q, k, **search))) & set(ids_of(other.search(q, k, **search))))
        for q in queries
    )
    return found / (k * len(queries))


def test_quantised_main_finds_what_exact_search_finds(store, tmp_path, monkeypatch):
    monkeypatch.setattr(dense_index, "DELTA_MAX", 100)
    rng = np.random.default_rng(0)
    # Uniformly random directions: the hardest case for a quantiser.
    vectors = unit(rng.standard_normal((2000, 16)))
    exact = grown(store, tmp_path, "a.faiss", vectors, 16, ann_from=10**9)
    quantised = grown(store, tmp_path, "b.faiss", vectors, 16, ann_from=1000)
    assert dense_index._is_quantised(quantised._snapshot.main)
    assert not dense_index._is_quantised(exact._snapshot.main)
    assert quantised._snapshot.main.ntotal > 1000  # grown in place past its training
    queries = unit(rng.standard_normal((50, 16)))
    assert overlap(exact, quantised, queries) >= 0.98
    # Removed passages and excluded ones never come back; k results still do.
    for dense in (exact, quantised):
        dense.remove(np.arange(0, 2000, 7))
        dense.commit("0:removed")
    assert len(quantised._snapshot.dead) > 0
    excluded = np.arange(1, 2000, 5)
    for q in queries[:10]:
        hits = ids_of(quantised.search(q, 10, excluded=excluded))
        assert len(hits) == 10
        assert not {i for i in hits if i % 7 == 0 or i % 5 == 1}
    assert overlap(exact, quantised, queries, excluded=excluded) >= 0.98


def test_the_leg_scores_given_passages_on_the_vectors_it_holds(store, tmp_path, monkeypatch):
    """Main (quantised or flat) and the delta score the passages they hold; one they do
    not hold is left to SQLite."""
    monkeypatch.setattr(dense_index, "DELTA_MAX", 100)
    vectors = unit(np.random.default_rng(1).standard_normal((1250, 16)))
    asked = [3, 500, 1249, 5000]  # 5000 is no passage; 1249 is still in the delta
    for options in ({"ann_from": 1000}, {"ann_from": 10**9}):
        dense = grown(store, tmp_path, "b.faiss", vectors, 16, **options)
        assert dense_index._is_quantised(dense._snapshot.main) == (options["ann_from"] == 1000)
        assert 1249 in dense._snapshot.delta_ids and 3 in dense._snapshot.main_ids
        scores = dense.similarities(vectors[0], asked)
        assert set(scores) == {3, 500, 1249}
        for chunk_id, score in scores.items():
            assert abs(score - float(vectors[chunk_id] @ vectors[0])) < 1e-5
        dense.remove(np.array([500, 1249]))
        dense.commit("0:removed")
        assert set(dense.similarities(vectors[0], asked)) <= {3, 500}  # dead in main at most


@pytest.mark.parametrize("share", [0.03, 0.8])
def test_quantised_main_filters_exactly(store, tmp_path, monkeypatch, share):
    """A narrow filter is searched exactly over what it keeps; a wide one through the
    quantiser's candidates: both give the exact search's results."""
    monkeypatch.setattr(dense_index, "DELTA_MAX", 100)
    rng = np.random.default_rng(1)
    vectors = unit(rng.standard_normal((2000, 16)))
    exact = grown(store, tmp_path, "a.faiss", vectors, 16, ann_from=10**9)
    quantised = grown(store, tmp_path, "b.faiss", vectors, 16, ann_from=1000)
    allowed = np.sort(rng.choice(2000, int(share * 2000), replace=False))
    assert dense_index._is_quantised(quantised._snapshot.main)
    monkeypatch.setattr(store, "chunk_ids", lambda db, filters: allowed)
    some = Filters(language=("fr",))
    queries = unit(rng.standard_normal((20, 16)))
    for q in queries:
        assert set(ids_of(quantised.search(q, 10, some))) <= set(allowed.tolist())
    assert overlap(exact, quantised, queries, filters=some) >= 0.98


def test_a_quantised_main_with_many_dead_ids_is_built_anew(store, tmp_path, monkeypatch):
    monkeypatch.setattr(dense_index, "DELTA_MAX", 100)
    monkeypatch.setattr(dense_index, "DEAD_SHARE", 0.01)
    rng = np.random.default_rng(2)
    vectors = unit(rng.standard_normal((1500, 16)))
    # 30 near copies of one passage (the old version of a document replaced)
    vectors[:30] = unit(vectors[5] + 0.01 * rng.standard_normal((30, 16)))
    quantised = grown(store, tmp_path, "b.faiss", vectors, 16, ann_from=1000)
    codebooks = faiss.vector_to_array(quantised._snapshot.main.codes.pq.centroids)
    quantised.remove(np.arange(30))
    quantised.commit("0:few")
    assert len(quantised._snapshot.dead) == 30  # under the limit: left out, not compacted
    # They crowd the best candidates: k live ones still come back.
    hits = ids_of(quantised.search(vectors[5], 10))
    assert len(hits) == 10 and min(hits) >= 30
    quantised.remove(np.arange(30, 130))
    quantised.commit("0:removed")
    snapshot = quantised._snapshot
    assert len(snapshot.dead) == 0 and snapshot.main.ntotal == 1370
    assert dense_index._is_quantised(snapshot.main)
    # compacted on the same codebooks, not trained again
    assert np.array_equal(faiss.vector_to_array(snapshot.main.codes.pq.centroids), codebooks)
    assert [ids_of(quantised.search(vectors[i], 1)) for i in (140, 700)] == [[140], [700]]
    quantised.flush()
    reopened = FaissDense(store, tmp_path / "b.faiss", 16, "m", ann_from=1000)
    assert dense_index._is_quantised(reopened._snapshot.main)
    assert sorted(reopened.ids()) == list(range(130, 1500))


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


def test_a_quantised_main_grows_without_copying_its_vectors_and_older_snapshots_hold(
    store, tmp_path, monkeypatch
):
    monkeypatch.setattr(dense_index, "DELTA_MAX", 100)
    monkeypatch.setattr(blocks, "BLOCK", 256)  # vectors over several blocks
    rng = np.random.default_rng(3)
    vectors = unit(rng.standard_normal((1600, 16)))
    quantised = grown(store, tmp_path, "b.faiss", vectors[:1200], 16, ann_from=1000)
    before = quantised._snapshot
    for start in range(1200, 1600, 50):
        quantised.add(np.arange(start, start + 50), vectors[start : start + 50], [])
        quantised.commit(f"0:{start}")
    after = quantised._snapshot.main
    assert after.ntotal > before.main.ntotal
    assert after.vectors.blocks[0] is before.main.vectors.blocks[0]  # appended, not copied
    assert before.main.ntotal == len(before.main.vectors) == before.main.codes.ntotal
    assert np.allclose(before.main.array(), vectors[before.main.ids], rtol=0, atol=PRECISION)
    assert np.allclose(after.array(), vectors[after.ids], rtol=0, atol=PRECISION)
    exact = grown(store, tmp_path, "a.faiss", vectors, 16, ann_from=10**9)
    assert overlap(exact, quantised, unit(rng.standard_normal((30, 16)))) >= 0.98


def reopened(store, path, dim=16):
    return FaissDense(store, path, dim, "m", ann_from=1000)


def same_vectors(a, b):
    ids_a, vectors_a = a.vectors()
    ids_b, vectors_b = b.vectors()
    return np.array_equal(ids_a, ids_b) and np.array_equal(vectors_a, vectors_b)


def test_a_quantised_main_appends_to_its_file_of_vectors(store, tmp_path, monkeypatch):
    monkeypatch.setattr(dense_index, "DELTA_MAX", 100)
    monkeypatch.setattr(blocks, "BLOCK", 256)  # read back over several blocks
    vectors = unit(np.random.default_rng(3).standard_normal((1600, 16)))
    path = tmp_path / "index.faiss"
    dense = grown(store, tmp_path, "index.faiss", vectors[:1200], 16, ann_from=1000)
    dense.flush()
    [file] = dense_index.vectors_files(path)
    first = file.stat()
    assert first.st_size == dense._snapshot.main.ntotal * 16 * 2
    for start in range(1200, 1600, 50):  # main grows: same lineage, same file
        dense.add(np.arange(start, start + 50), vectors[start : start + 50], [])
        dense.commit(f"0:{start}")
    dense.flush()
    assert dense_index.vectors_files(path) == [file]
    after = file.stat()
    assert after.st_ino == first.st_ino and after.st_size > first.st_size  # appended
    assert same_vectors(reopened(store, path), dense)
    # Rows past the header's count (a flush cut short) are ignored.
    with file.open("ab") as out:
        out.write(b"\x01" * 16 * 2 * 3)
    again = reopened(store, path)
    assert same_vectors(again, dense)
    # Its next flush writes from where the header says, dropping the stray rows.
    again.add(np.array([5000]), vectors[:1], [])
    again.commit("0:more")
    again.flush()
    assert same_vectors(reopened(store, path), again)
    assert file.stat().st_size == again._snapshot.main.ntotal * 16 * 2
    # Without its file of vectors the index is not loaded (SQLite fills it again).
    file.unlink()
    assert reopened(store, path).state() is None


def test_a_rebuilt_main_gets_a_new_file_and_two_writers_stay_consistent(
    store, tmp_path, monkeypatch
):
    monkeypatch.setattr(dense_index, "DELTA_MAX", 100)
    monkeypatch.setattr(dense_index, "DEAD_SHARE", 0.01)
    vectors = unit(np.random.default_rng(4).standard_normal((1300, 16)))
    path = tmp_path / "index.faiss"
    dense = grown(store, tmp_path, "index.faiss", vectors, 16, ann_from=1000)
    dense.flush()
    [old_file] = dense_index.vectors_files(path)
    # Two processes open the same base and each writes its own passages.
    first, second = reopened(store, path), reopened(store, path)
    for leg_, base in ((first, 2000), (second, 3000)):
        for start in range(0, 150, 50):
            ids = np.arange(base + start, base + start + 50)
            leg_.add(ids, vectors[start : start + 50], [])
            leg_.commit(f"0:{base + start}")
    first.flush()
    second.flush()  # the file no longer holds what `second` read: written whole
    assert same_vectors(reopened(store, path), second)
    first.flush()  # nothing new for `first`: the file stays `second`'s
    assert same_vectors(reopened(store, path), second)
    # Many removals rebuild main: a new lineage, a new file, the old one removed.
    second.remove(np.arange(150))
    second.commit("0:removed")
    second.flush()
    [new_file] = dense_index.vectors_files(path)
    assert new_file != old_file and not old_file.exists()
    assert same_vectors(reopened(store, path), second)
    dense_index.remove_files(path)
    assert not path.exists() and not dense_index.vectors_files(path)


def test_held_vectors_score_within_their_precision():
    rng = np.random.default_rng(5)
    vectors = unit(rng.standard_normal((500, 384)))
    vectors[7] *= 40.0  # a vector of any length keeps its precision
    steps, scales = as_steps(vectors)
    assert steps.dtype == np.int16 and steps.nbytes == vectors.nbytes // 2
    held = steps * scales[:, None]
    assert np.abs(held - vectors).max() <= np.abs(vectors).max(axis=1).max() / 32767
    query = unit(rng.standard_normal((1, 384)))[0]
    assert np.abs(held[:7] @ query - vectors[:7] @ query).max() < 1e-4
    zero_steps, zero_scales = as_steps(np.zeros((2, 4), np.float32))
    assert not zero_steps.any() and np.all(zero_scales == 1.0)
