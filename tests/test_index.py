import numpy as np

from kb.index import FaissIndex


def unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_search_returns_ids_best_first_and_filters_inside_faiss():
    index = FaissIndex(3)
    index.add(np.array([10, 20, 30]), unit([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0]]))
    assert [i for i, _ in index.search(unit([[1, 0, 0]])[0], 3)] == [10, 20, 30]
    # With a selector, the best *allowed* hits come back: k results, not fewer.
    assert [i for i, _ in index.search(unit([[1, 0, 0]])[0], 2, allowed=np.array([20, 30]))] == [
        20,
        30,
    ]
    assert [i for i, _ in index.search(unit([[1, 0, 0]])[0], 3, excluded=np.array([10]))] == [
        20,
        30,
    ]
    assert index.search(unit([[1, 0, 0]])[0], 3, allowed=np.array([], dtype=np.int64)) == []


def test_remove_and_copy_are_independent():
    index = FaissIndex(3)
    index.add(np.array([1, 2]), unit([[1, 0, 0], [0, 1, 0]]))
    snapshot = index.copy()
    index.remove(np.array([1]))
    assert len(index) == 1 and len(snapshot) == 2


def test_save_load_checks_generation_and_model(tmp_path):
    path = tmp_path / "index.faiss"
    index = FaissIndex(3)
    index.add(np.array([7]), unit([[0, 0, 1]]))
    index.save(path, 5, "m")
    assert [i for i, _ in FaissIndex.load(path, 5, "m").search(unit([[0, 0, 1]])[0], 1)] == [7]
    assert FaissIndex.load(path, 6, "m") is None
    assert FaissIndex.load(path, 5, "other") is None
    assert not list(tmp_path.glob(".index-*"))
    path.write_bytes(b"garbage")
    assert FaissIndex.load(path, 5, "m") is None
    assert FaissIndex.load(tmp_path / "missing", 5, "m") is None
