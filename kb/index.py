"""The vector index: a derived cache of the chunk vectors kept in SQLite.

`VectorIndex` is the small interface; `FaissIndex` keeps an `IndexIDMap2` over
inner product (ids = chunk ids). Writers work on a copy and swap it in, so a
search always runs on a consistent snapshot without taking a lock.
"""

from __future__ import annotations

import json
import os
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path

import faiss
import numpy as np

MAGIC = b"SAVOIR-FAIRE-INDEX 1\n"


class VectorIndex(ABC):
    dim: int

    @abstractmethod
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    @abstractmethod
    def remove(self, ids: np.ndarray) -> None: ...

    @abstractmethod
    def search(
        self,
        vector: np.ndarray,
        k: int,
        allowed: np.ndarray | None = None,
        excluded: np.ndarray | None = None,
    ) -> list[tuple[int, float]]: ...

    @abstractmethod
    def save(self, path: Path, generation: int, model: str) -> None: ...

    @abstractmethod
    def __len__(self) -> int: ...


class FaissIndex(VectorIndex):
    """Exact inner-product search over unit vectors; filters via an ID selector."""

    def __init__(self, dim: int, index: faiss.Index | None = None) -> None:
        self.dim = dim
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def copy(self) -> FaissIndex:
        return FaissIndex(self.dim, faiss.clone_index(self._index))

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
            )

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            self._index.remove_ids(faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64)))

    def search(
        self,
        vector: np.ndarray,
        k: int,
        allowed: np.ndarray | None = None,
        excluded: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        """Best `k` (chunk id, similarity); `allowed`/`excluded` restrict inside FAISS."""
        if len(self) == 0 or k <= 0:
            return []
        selector = None
        if allowed is not None:
            if len(allowed) == 0:
                return []
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
        if excluded is not None and len(excluded):
            not_these = faiss.IDSelectorNot(
                faiss.IDSelectorBatch(np.asarray(excluded, dtype=np.int64))
            )
            selector = not_these if selector is None else faiss.IDSelectorAnd(selector, not_these)
        params = faiss.SearchParameters(sel=selector) if selector is not None else None
        query = np.ascontiguousarray(np.atleast_2d(vector), dtype=np.float32)
        scores, ids = self._index.search(query, min(k, len(self)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def save(self, path: Path, generation: int, model: str) -> None:
        """Write atomically: a temporary file, fsynced, then renamed over `path`."""
        header = json.dumps({"generation": generation, "model": model, "dim": self.dim})
        data = faiss.serialize_index(self._index)
        fd, tmp = tempfile.mkstemp(prefix=".index-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(MAGIC + header.encode() + b"\n")
                out.write(data.tobytes())
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path, generation: int, model: str) -> FaissIndex | None:
        """The saved index if it exists and matches this generation and model, else None."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.startswith(MAGIC):
            return None
        end = raw.index(b"\n", len(MAGIC))
        try:
            header = json.loads(raw[len(MAGIC) : end])
            if header["generation"] != generation or header["model"] != model:
                return None
            index = faiss.deserialize_index(np.frombuffer(raw[end + 1 :], dtype=np.uint8))
        except (ValueError, KeyError, RuntimeError):
            return None
        return cls(int(header["dim"]), index)
