"""The embedded dense leg: FAISS in memory, saved to `index.faiss` beside the SQLite file.

The index is a derived cache of the vectors kept in SQLite. It is two parts and a
list: a large *main* part, a small *delta* that takes the passages added since main
was last built, and the *dead* ids of main whose passages were removed. A write
copies only the delta (at most `DELTA_MAX` vectors), so adding a document costs the
same in a base of a thousand passages or of a million; a full delta is merged into a
copy of main (an HNSW graph grows in place in the copy). Every write publishes a new
snapshot, so a search runs on a consistent one without a lock.

Main is exact (`IndexFlatIP`) below `ann_from` passages and an HNSW graph above,
searched with `ef` candidates; filters stay exact either way: the allowed ids come
from SQLite and reach FAISS through an ID selector, and a filter that keeps few
passages is searched exactly over just those.

The file is written when an ingest run ends and when the base closes (`flush`), not
per document: after a crash it may lack the last writes, and `kb.backend.catch_up`
adds them from SQLite's stored vectors when the base opens.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from kb.backend import PassageFields, VectorLeg
from kb.store import Store
from kb.types import Filters

MAGIC = b"SAVOIR-FAIRE-INDEX 2\n"
DELTA_MAX = 4096
"""Passages the delta takes before it is merged into main: a write copies at most this."""
DEAD_SHARE = 0.2
"""Main is rebuilt without its dead ids once they are this share of it."""
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
EXACT_SUBSET = 0.1
"""A filter keeping under this share of an HNSW main is searched exactly."""


def _flat(dim: int) -> faiss.Index:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def _hnsw(dim: int) -> faiss.Index:
    graph = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    return faiss.IndexIDMap2(graph)


def _ids(index: faiss.Index) -> np.ndarray:
    """External ids of an IndexIDMap2, in internal order."""
    return faiss.vector_to_array(faiss.downcast_index(index).id_map).astype(np.int64)


def _vectors(index: faiss.Index) -> np.ndarray:
    inner = faiss.downcast_index(index).index
    return inner.reconstruct_n(0, inner.ntotal) if inner.ntotal else np.zeros((0, index.d))


def _is_hnsw(index: faiss.Index) -> bool:
    return isinstance(faiss.downcast_index(faiss.downcast_index(index).index), faiss.IndexHNSW)


@dataclass(frozen=True)
class Snapshot:
    main: faiss.Index
    main_ids: np.ndarray
    delta: faiss.Index
    dead: np.ndarray  # sorted ids of main whose passages are gone
    state: str | None

    def __len__(self) -> int:
        return int(self.main.ntotal) - len(self.dead) + int(self.delta.ntotal)

    def ids(self) -> np.ndarray:
        alive = np.setdiff1d(self.main_ids, self.dead, assume_unique=True)
        return np.union1d(alive, _ids(self.delta))


@dataclass
class Staged:
    ids: list[np.ndarray] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    removed: list[np.ndarray] = field(default_factory=list)


class FaissDense(VectorLeg):
    """The dense leg of the embedded backend (see the module's doc)."""

    def __init__(
        self,
        store: Store,
        path: Path,
        dim: int,
        model: str,
        ann_from: int = 1_000_000,
        ef: int = 128,
    ) -> None:
        self.store = store
        self.path = path
        self.dim = dim
        self.model = model
        self.ann_from = ann_from
        self.ef = ef
        self._staged = Staged()
        self._snapshot = self._load() or self._empty(None)
        self._saved: Snapshot | None = self._snapshot

    def _empty(self, state: str | None) -> Snapshot:
        return Snapshot(
            _flat(self.dim), np.zeros(0, np.int64), _flat(self.dim), np.zeros(0, np.int64), state
        )

    def __len__(self) -> int:
        return len(self._snapshot)

    # writing

    def add(self, ids: np.ndarray, vectors: np.ndarray, fields: Sequence[PassageFields]) -> None:
        if len(ids):
            self._staged.ids.append(np.asarray(ids, dtype=np.int64))
            self._staged.vectors.append(np.ascontiguousarray(vectors, dtype=np.float32))

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            self._staged.removed.append(np.asarray(ids, dtype=np.int64))

    def commit(self, state: str) -> None:
        staged, self._staged = self._staged, Staged()
        old = self._snapshot
        delta, dead = old.delta, old.dead
        if staged.removed or staged.ids:
            delta = faiss.clone_index(old.delta)
        if staged.removed:
            removed = np.concatenate(staged.removed)
            delta.remove_ids(faiss.IDSelectorBatch(removed))
            gone = removed[np.isin(removed, old.main_ids)]
            dead = np.union1d(dead, gone)
        if staged.ids:
            delta.add_with_ids(np.concatenate(staged.vectors), np.concatenate(staged.ids))
        snapshot = Snapshot(old.main, old.main_ids, delta, dead, state)
        if delta.ntotal > DELTA_MAX or len(dead) > max(DELTA_MAX, DEAD_SHARE * old.main.ntotal):
            snapshot = self._merged(snapshot)
        self._snapshot = snapshot

    def _merged(self, snapshot: Snapshot) -> Snapshot:
        """Main with the delta in and the dead out: the graph grown in a copy, or a new
        part built when main changes kind or carries too many dead ids."""
        live = len(snapshot)
        rebuild = len(snapshot.dead) > DEAD_SHARE * snapshot.main.ntotal or (
            live >= self.ann_from and not _is_hnsw(snapshot.main)
        )
        if _is_hnsw(snapshot.main) and not rebuild:
            main = faiss.clone_index(snapshot.main)
            dead = snapshot.dead
        else:
            main = _hnsw(self.dim) if live >= self.ann_from else _flat(self.dim)
            keep = ~np.isin(snapshot.main_ids, snapshot.dead)
            main.add_with_ids(_vectors(snapshot.main)[keep], snapshot.main_ids[keep])
            dead = np.zeros(0, np.int64)
        main.add_with_ids(_vectors(snapshot.delta), _ids(snapshot.delta))
        return Snapshot(main, _ids(main), _flat(self.dim), dead, snapshot.state)

    def discard(self) -> None:
        self._staged = Staged()

    def state(self) -> str | None:
        return self._snapshot.state

    def ids(self) -> np.ndarray:
        return self._snapshot.ids()

    def reset(self) -> None:
        self._staged = Staged()
        self._snapshot = self._empty(None)

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of every live passage, by id: what a check compares with SQLite."""
        snapshot = self._snapshot
        ids = np.concatenate([snapshot.main_ids, _ids(snapshot.delta)])
        vectors = np.concatenate([_vectors(snapshot.main), _vectors(snapshot.delta)])
        keep = ~np.isin(ids, snapshot.dead)
        order = np.argsort(ids[keep])
        return ids[keep][order], vectors[keep][order]

    # reading

    def search(
        self,
        vector: np.ndarray,
        k: int,
        filters: Filters | None = None,
        excluded: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        """Best `k` (chunk id, similarity): exact in the delta and a flat main, through
        the graph in an HNSW main; filters exact."""
        snapshot = self._snapshot
        if k <= 0 or len(snapshot) == 0:
            return []
        allowed = None
        if filters is not None and not filters.is_empty():
            allowed = self.store.chunk_ids(self.store.reader, filters)
            if not len(allowed):
                return []
        query = np.ascontiguousarray(np.atleast_2d(vector), dtype=np.float32)
        excluded = np.zeros(0, np.int64) if excluded is None else np.asarray(excluded, np.int64)
        hits = self._search_main(snapshot, query, k, allowed, np.union1d(excluded, snapshot.dead))
        hits += _search(snapshot.delta, query, k, _selector(allowed, excluded))
        hits.sort(key=lambda hit: -hit[1])
        return hits[:k]

    def _search_main(
        self,
        snapshot: Snapshot,
        query: np.ndarray,
        k: int,
        allowed: np.ndarray | None,
        excluded: np.ndarray,
    ) -> list[tuple[int, float]]:
        main = snapshot.main
        if not _is_hnsw(main):
            return _search(main, query, k, _selector(allowed, excluded))
        if allowed is not None and len(allowed) < EXACT_SUBSET * main.ntotal:
            positions = np.nonzero(np.isin(snapshot.main_ids, allowed))[0]
            positions = positions[~np.isin(snapshot.main_ids[positions], excluded)]
            if not len(positions):
                return []
            inner = faiss.downcast_index(main).index
            scores = inner.reconstruct_batch(positions) @ query[0]
            best = np.argsort(-scores)[:k]
            return [(int(snapshot.main_ids[positions[i]]), float(scores[i])) for i in best]
        params = faiss.SearchParametersHNSW(efSearch=max(self.ef, k))
        selector = _selector(allowed, excluded)
        if selector is not None:
            params.sel = selector
        return _search(main, query, k, None, params)

    # the file

    def flush(self) -> None:
        """Write the current snapshot to the file, if it changed since the last write."""
        snapshot = self._snapshot
        if snapshot.state is None or snapshot is self._saved:
            return
        main = faiss.serialize_index(snapshot.main)
        delta = faiss.serialize_index(snapshot.delta)
        dead = snapshot.dead.astype("<i8").tobytes()
        header = json.dumps(
            {
                "state": snapshot.state,
                "model": self.model,
                "dim": self.dim,
                "parts": [len(main), len(delta), len(dead)],
            }
        )
        fd, tmp = tempfile.mkstemp(prefix=".index-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(MAGIC + header.encode() + b"\n")
                for part in (main.tobytes(), delta.tobytes(), dead):
                    out.write(part)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._saved = snapshot

    def _load(self) -> Snapshot | None:
        """The saved snapshot if the file is whole and of this model, else None."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.startswith(MAGIC):
            return None
        try:
            end = raw.index(b"\n", len(MAGIC))
            header = json.loads(raw[len(MAGIC) : end])
            if header["model"] != self.model or header["dim"] != self.dim:
                return None
            sizes = header["parts"]
            start = end + 1
            parts = []
            for size in sizes:
                parts.append(raw[start : start + size])
                start += size
            if start != len(raw):
                return None
            main = faiss.deserialize_index(np.frombuffer(parts[0], dtype=np.uint8))
            delta = faiss.deserialize_index(np.frombuffer(parts[1], dtype=np.uint8))
            dead = np.frombuffer(parts[2], dtype="<i8").astype(np.int64)
        except (ValueError, KeyError, TypeError, RuntimeError):
            return None
        return Snapshot(main, _ids(main), delta, dead, str(header["state"]))

    def close(self) -> None:
        self.flush()


def _selector(allowed: np.ndarray | None, excluded: np.ndarray) -> faiss.IDSelector | None:
    selector = faiss.IDSelectorBatch(allowed) if allowed is not None else None
    if len(excluded):
        not_these = faiss.IDSelectorNot(faiss.IDSelectorBatch(excluded))
        selector = not_these if selector is None else faiss.IDSelectorAnd(selector, not_these)
    return selector


def _search(
    index: faiss.Index,
    query: np.ndarray,
    k: int,
    selector: faiss.IDSelector | None,
    params: faiss.SearchParameters | None = None,
) -> list[tuple[int, float]]:
    if index.ntotal == 0:
        return []
    if params is None and selector is not None:
        params = faiss.SearchParameters(sel=selector)
    scores, ids = index.search(query, min(k, int(index.ntotal)), params=params)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
