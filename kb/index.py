"""The embedded dense leg: FAISS in memory, saved to `index.faiss` beside the SQLite file.

The index is a derived cache of the vectors kept in SQLite. It is two parts and a
list: a large *main* part, a small *delta* that takes the passages added since main
was last built, and the *dead* ids of main whose passages were removed. A write
copies only the delta (at most `DELTA_MAX` vectors), so adding a document costs the
same in a base of a thousand passages or of a million; a full delta is merged into
main: a quantised main (`kb.quantised`) grows without copying its vectors, a flat one
is built anew. Every write publishes a new snapshot, so a search runs on a consistent
one without a lock.

Main is exact (`IndexFlatIP`) below `ann_from` passages and *quantised* above: a
fast-scan product quantiser (4-bit codes, two dimensions a code) proposes `rerank` × k
candidates, which are scored on the stored vectors (16-bit, within 1e-5 of exact).
Filters stay exact either way: the allowed ids come from SQLite and the vectors they
keep are searched exactly (a filter keeping most of main: the quantised candidates,
filtered, while enough pass).

The file is written when an ingest run ends and when the base closes (`flush`), not
per document: after a crash it may lack the last writes, and `kb.backend.catch_up`
adds them from SQLite's stored vectors when the base opens. A quantised main's vectors
(most of the bytes) live beside it in `index.<lineage>.vectors`: while main only grows,
a flush appends the rows the file lacks instead of writing them all again, then
replaces `index.faiss`, whose header says how many rows of that file are main's (rows
past them, from a flush cut short, are ignored). Flushes and loads take a lock file,
so two processes on one base never interleave them.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

import faiss
import numpy as np

from kb.backend import PassageFields, VectorLeg
from kb.blocks import Blocks
from kb.quantised import HELD, Quantised
from kb.replaced import replaced
from kb.store import Store
from kb.types import Filters

# One thread a search: a server runs searches side by side, and FAISS's OpenMP threads
# spin-waiting for a busy core made a 100,000-passage search 6x slower (bench/README.md).
faiss.omp_set_num_threads(1)

MAGIC = b"SAVOIR-FAIRE-INDEX 5\n"
HEADER_ROOM = 1024
"""Bytes kept for the file's JSON header (padded with spaces)."""
DELTA_MAX = 4096
"""Passages the delta takes before it is merged into main: a write copies at most this."""
DEAD_SHARE = 0.2
"""Main is rebuilt without its dead ids once they are this share of it."""
SKIPPED_SHARE = 0.5
"""A quantised main leaves excluded ids (its dead ones, those a caller excludes) out of
the candidates it proposes while they are at most this share of it; past it, the
passages left are searched exactly."""
FILTERED_CANDIDATES = 0.5
"""A filter keeping at least this share of a quantised main is searched through the
quantiser's candidates; a narrower one, exactly over the passages it keeps."""


def _flat(dim: int) -> faiss.Index:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def _ids(index: faiss.Index | Quantised) -> np.ndarray:
    """Passage ids of a part, in internal order."""
    if isinstance(index, Quantised):
        return index.ids
    return faiss.vector_to_array(faiss.downcast_index(index).id_map).astype(np.int64)


def _positions(held: np.ndarray, order: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Positions in `held` (ids, sorted by `order`) of those of `ids` it holds, ascending."""
    if not len(held):
        return np.zeros(0, np.int64)
    found = np.searchsorted(held, ids, sorter=order)
    inside = found < len(order)
    positions = order[found[inside]]
    return np.sort(positions[held[positions] == ids[inside]])


def _flat_scores(index: faiss.Index, positions: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Similarities of `query` to the vectors of a flat part at `positions`, read in
    place (the index must outlive the call: its vectors are not copied)."""
    inner = faiss.downcast_index(index.index)
    held = faiss.rev_swig_ptr(inner.get_xb(), inner.ntotal * inner.d).reshape(-1, inner.d)
    return held[positions] @ query


def _vectors(index: faiss.Index | Quantised) -> np.ndarray:
    if isinstance(index, Quantised):
        return index.array()
    inner = faiss.downcast_index(index).index
    return inner.reconstruct_n(0, inner.ntotal) if inner.ntotal else np.zeros((0, index.d))


def _is_quantised(index: faiss.Index | Quantised) -> bool:
    return isinstance(index, Quantised)


@dataclass(frozen=True)
class Snapshot:
    main: faiss.Index | Quantised
    main_ids: np.ndarray
    delta: faiss.Index
    dead: np.ndarray  # sorted ids of main whose passages are gone
    state: str | None

    def __len__(self) -> int:
        return int(self.main.ntotal) - len(self.dead) + int(self.delta.ntotal)

    def ids(self) -> np.ndarray:
        alive = np.setdiff1d(self.main_ids, self.dead, assume_unique=True)
        return np.union1d(alive, self.delta_ids)

    @cached_property
    def _by_id(self) -> np.ndarray:
        return np.argsort(self.main_ids, kind="stable")

    @cached_property
    def delta_ids(self) -> np.ndarray:
        return _ids(self.delta)

    @cached_property
    def _delta_by_id(self) -> np.ndarray:
        return np.argsort(self.delta_ids, kind="stable")

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Internal positions in main of those of `ids` it holds, ascending."""
        return _positions(self.main_ids, self._by_id, ids)

    def delta_positions(self, ids: np.ndarray) -> np.ndarray:
        """Internal positions in the delta of those of `ids` it holds, ascending."""
        return _positions(self.delta_ids, self._delta_by_id, ids)


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
        ann_from: int = 20_000,
        rerank: int = 20,
    ) -> None:
        self.store = store
        self.path = path
        self.dim = dim
        self.model = model
        self.ann_from = ann_from
        self.rerank = rerank
        self._staged = Staged()
        self._written: tuple[str, int] = ("", 0)
        """(lineage, rows) of the vectors file as this process last wrote or read it."""
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
        if delta.ntotal > DELTA_MAX or len(dead) > _dead_limit(old.main):
            snapshot = self._merged(snapshot)
        self._snapshot = snapshot

    def _merged(self, snapshot: Snapshot) -> Snapshot:
        """Main with the delta in and the dead out: a quantised main grows in a copy
        (its dead ids stay until there are too many, then it is compacted on the same
        codebooks), any other is built anew."""
        quantised = len(snapshot) >= self.ann_from
        old = snapshot.main
        if isinstance(old, Quantised) and quantised and len(snapshot.dead) <= _dead_limit(old):
            main = old.grown(_vectors(snapshot.delta), _ids(snapshot.delta))
            return Snapshot(main, main.ids, _flat(self.dim), snapshot.dead, snapshot.state)
        keep = ~np.isin(snapshot.main_ids, snapshot.dead)
        vectors = np.concatenate([_vectors(old)[keep], _vectors(snapshot.delta)])
        ids = np.concatenate([snapshot.main_ids[keep], _ids(snapshot.delta)])
        if quantised and isinstance(old, Quantised):
            main: faiss.Index | Quantised = old.rebuilt(vectors, ids)
        elif quantised:
            main = Quantised.built(vectors, ids)
        else:
            main = _flat(self.dim)
            main.add_with_ids(vectors.astype(np.float32, copy=False), ids)
        return Snapshot(main, _ids(main), _flat(self.dim), np.zeros(0, np.int64), snapshot.state)

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

    def similarities(self, vector: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        """Those of `ids` that main or the delta holds, scored on their held vectors
        (an id is never reused, so the vector held is that passage's)."""
        snapshot = self._snapshot
        if not len(ids):
            return {}
        ids = np.asarray(ids, dtype=np.int64)
        query = np.asarray(vector, dtype=np.float32)
        found: dict[int, float] = {}
        for part, held, positions in (
            (snapshot.main, snapshot.main_ids, snapshot.positions(ids)),
            (snapshot.delta, snapshot.delta_ids, snapshot.delta_positions(ids)),
        ):
            if len(positions):
                if isinstance(part, Quantised):
                    scores = part.scores(positions, query)
                else:
                    scores = _flat_scores(part, positions, query)
                found.update(zip(held[positions].tolist(), scores.tolist(), strict=True))
        return found

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
        if not isinstance(main, Quantised):
            return _search(main, query, k, _selector(allowed, excluded))
        skipped = len(excluded) <= SKIPPED_SHARE * main.ntotal
        if allowed is None:
            if skipped:
                return self._candidates(main, query, k, excluded)
            positions = np.arange(main.ntotal)
        else:
            positions = snapshot.positions(allowed)
            share = len(positions) / max(1, main.ntotal)
            if share >= FILTERED_CANDIDATES and skipped:
                found = self._candidates(main, query, int(2 * k / share), excluded, allowed)
                if len(found) >= min(k, len(positions)):
                    return found[:k]
        positions = positions[~np.isin(main.ids[positions], excluded)]
        return _hits(main, *main.exact(query[0], k, positions))

    def _candidates(
        self,
        main: Quantised,
        query: np.ndarray,
        k: int,
        excluded: np.ndarray,
        allowed: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        """Best `k` of a quantised main less `excluded` (and among `allowed`, when
        given): the quantiser proposes `rerank` times as many, scored exactly. It asks
        for enough that `k` should be left once the excluded share of main is taken
        out; when fewer are (excluded passages crowd the best: the old version of a
        document replaced), it asks again for `k` plus every excluded one."""
        live = max(1.0 - len(excluded) / main.ntotal, 0.05)
        first = min(math.ceil(k / live * 1.1) + 8 if len(excluded) else k, main.ntotal)
        for want in dict.fromkeys((first, min(k + len(excluded), main.ntotal))):
            positions, scores = main.candidates(query[0], want, self.rerank)
            ids = main.ids[positions]
            keep = ~np.isin(ids, excluded)
            if allowed is not None:
                keep &= np.isin(ids, allowed)
            if allowed is not None or np.count_nonzero(keep) >= k:
                break
        return [(int(i), float(s)) for i, s in zip(ids[keep][:k], scores[keep][:k], strict=True)]

    # the file

    def flush(self) -> None:
        """Write the current snapshot to the file, if it changed since the last write."""
        snapshot = self._snapshot
        if snapshot.state is None or snapshot is self._saved:
            return
        main = snapshot.main
        with _locked(self.path, exclusive=True):
            kept = self._write_vectors(main) if isinstance(main, Quantised) else None
            with replaced(self.path) as out:
                # The header names the parts' sizes: room is left for it, and it is
                # written once the parts have streamed to the file.
                out.write(MAGIC + b" " * HEADER_ROOM + b"\n")
                if isinstance(main, Quantised):
                    sizes = [
                        _stream(main.codes, out),
                        _raw(main.ids.astype("<i8"), out),
                        _raw(main.scales.astype("<f4"), out),
                    ]
                else:
                    sizes = [_stream(main, out)]
                sizes.append(_stream(snapshot.delta, out))
                sizes.append(_raw(snapshot.dead.astype("<i8"), out))
                header = json.dumps(
                    {
                        "state": snapshot.state,
                        "model": self.model,
                        "dim": self.dim,
                        "main": "quantised" if isinstance(main, Quantised) else "flat",
                        "lineage": main.lineage if isinstance(main, Quantised) else None,
                        "rows": main.ntotal,
                        "parts": sizes,
                    }
                ).encode()
                if len(header) > HEADER_ROOM:  # a model name of hundreds of characters
                    raise ValueError(f"the index header needs {len(header)} bytes")
                out.seek(len(MAGIC))
                out.write(header)
            for path in vectors_files(self.path):
                if path != kept:
                    path.unlink(missing_ok=True)
        self._saved = snapshot

    def _write_vectors(self, main: Quantised) -> Path:
        """Main's vectors in their file, made durable. The rows the file lacks are
        appended when the index file on disk names this lineage with the rows this
        process last wrote or read (so the file holds them); else it is written whole."""
        path = vectors_path(self.path, main.lineage)
        header = _header(self.path) or {}
        on_disk = (header.get("lineage"), header.get("rows"))
        lineage, start = self._written
        row = np.dtype(HELD).itemsize * self.dim
        size = path.stat().st_size if path.exists() else 0
        if on_disk != self._written or lineage != main.lineage or size < start * row:
            start = 0
        with open(path, "r+b" if start else "wb") as out:
            out.seek(start * row)
            for part in main.vectors.parts(start):
                _raw(part, out)
            out.truncate()
            out.flush()
            os.fsync(out.fileno())
        self._written = (main.lineage, main.ntotal)
        return path

    def _load(self) -> Snapshot | None:
        """The saved snapshot if the file is whole and of this model, else None. The
        parts stream from the file into FAISS (no copy of the whole file in memory); a
        quantised main's vectors are read from their file straight into blocks."""
        try:
            source = self.path.open("rb")
        except FileNotFoundError:
            return None
        with _locked(self.path, exclusive=False), source:
            try:
                header = _read_header(source)
                if header is None or header["model"] != self.model or header["dim"] != self.dim:
                    return None
                sizes = [int(size) for size in header["parts"]]
                if source.tell() + sum(sizes) != os.fstat(source.fileno()).st_size:
                    return None
                if header["main"] == "quantised":
                    lineage, rows = str(header["lineage"]), int(header["rows"])
                    if not lineage.isalnum():
                        return None
                    codes = _read(source, sizes[0])
                    ids = _array(source, sizes[1], "<i8").astype(np.int64)
                    scales = _array(source, sizes[2], "<f4").astype(np.float32)
                    with vectors_path(self.path, lineage).open("rb", buffering=0) as rows_file:
                        vectors = Blocks.read(rows_file, rows, (self.dim,), HELD)
                    main: faiss.Index | Quantised = Quantised(codes, vectors, scales, ids, lineage)
                    if not codes.ntotal == len(vectors) == len(scales) == len(ids):
                        return None
                    self._written = (lineage, rows)
                else:
                    main = _read(source, sizes[0])
                delta = _read(source, sizes[-2])
                dead = _array(source, sizes[-1], "<i8").astype(np.int64)
            except (OSError, ValueError, KeyError, TypeError, RuntimeError):
                return None
        return Snapshot(main, _ids(main), delta, dead, str(header["state"]))

    def close(self) -> None:
        self.flush()


def vectors_path(path: Path, lineage: str) -> Path:
    """The file of a quantised main's vectors, beside the index file `path`."""
    return path.with_name(f"{path.stem}.{lineage}.vectors")


def vectors_files(path: Path) -> list[Path]:
    """The files of vectors beside the index file `path`, current or stale."""
    return sorted(path.parent.glob(f"{path.stem}.*.vectors"))


def remove_files(path: Path) -> None:
    """Remove the index file `path` and its files of vectors (a cache: it is rebuilt
    from SQLite when the base opens)."""
    with _locked(path, exclusive=True):
        path.unlink(missing_ok=True)
        for vectors in vectors_files(path):
            vectors.unlink(missing_ok=True)


@contextmanager
def _locked(path: Path, exclusive: bool) -> Iterator[None]:
    """Hold the lock file beside `path`: exclusive to write the index, shared to read it."""
    with open(path.with_name(f".{path.stem}.lock"), "ab") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _header(path: Path) -> dict | None:
    """The JSON header of the index file `path`, None when there is none to read."""
    try:
        with path.open("rb") as source:
            return _read_header(source)
    except (OSError, ValueError):
        return None


def _read_header(source: BinaryIO) -> dict | None:
    """The JSON header at the start of an index file, None when it is not one."""
    if source.read(len(MAGIC)) != MAGIC:
        return None
    header = json.loads(source.readline(HEADER_ROOM + 1))
    return header if isinstance(header, dict) else None


def _stream(index: faiss.Index, out: BinaryIO) -> int:
    """Write `index` to `out` as FAISS serialises it, in chunks (no copy of the whole
    index in memory); the bytes written."""
    start = out.tell()
    faiss.write_index(index, faiss.PyCallbackIOWriter(out.write))
    return out.tell() - start


def _raw(array: np.ndarray, out: BinaryIO) -> int:
    """Write an array's bytes to `out` as they lie in memory; the bytes written."""
    array = np.ascontiguousarray(array)
    out.write(memoryview(array).cast("B"))
    return array.nbytes


def _array(source: BinaryIO, size: int, dtype: str) -> np.ndarray:
    """The array in the next `size` bytes of `source`."""
    raw = source.read(size)
    if len(raw) != size:
        raise ValueError("the file ends inside an array")
    return np.frombuffer(raw, dtype=dtype)


def _read(source: BinaryIO, size: int) -> faiss.Index:
    """The index serialised in the next `size` bytes of `source`."""
    start = source.tell()
    index = faiss.read_index(faiss.PyCallbackIOReader(source.read))
    if source.tell() - start != size:
        raise ValueError("an index part is not the size the header says")
    return index


def _hits(
    main: Quantised, positions: np.ndarray, scores: np.ndarray
) -> list[tuple[int, float]]:
    return [(int(i), float(score)) for i, score in zip(main.ids[positions], scores, strict=True)]


def _dead_limit(main: faiss.Index | Quantised) -> float:
    """Dead ids past which main is merged anew (without them): a share of it, so that
    compactions cost, spread over the removals, the same at any size."""
    return max(DELTA_MAX, DEAD_SHARE * main.ntotal)


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
) -> list[tuple[int, float]]:
    if index.ntotal == 0:
        return []
    params = faiss.SearchParameters(sel=selector) if selector is not None else None
    scores, ids = index.search(query, min(k, int(index.ntotal)), params=params)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
