"""Running moments of the passage vectors, to read a query's similarities against the
base they come from.

- *The language bias.* A multilingual embedding model scores a question closer to any
  passage in the question's own language than to one in another language: a French
  question finds the French summary before the English notes that answer it. The
  query's similarity to a language's mean vector is its mean similarity to every
  passage of that language, so subtracting (from each passage's similarity) how much
  that mean exceeds the mean over all passages removes the offset and keeps what is
  specific to the passage. A language with few passages is shrunk towards the whole
  (its mean is more topic than language).
- *How far the best passage stands out.* The mean vector and the second moment of all
  passages give the mean and the spread of the query's similarity to every passage of
  the base without scoring them: a question that something answers finds a passage far
  above the rest; one that nothing answers finds only the base's general closeness to
  its subject (`standing`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

SHRINK_PASSAGES = 20
"""A language with n passages gets n / (n + SHRINK_PASSAGES) of its offset."""
SPREAD_FROM = 50
"""Fewer passages than this give no meaningful spread (`standing` says nothing)."""
BUILD_ROWS = 4096
"""Rows gathered per language before they are counted in, when built from a whole base."""
UNKNOWN = ""


class PassageMoments:
    """Running sums and counts of passage vectors per language, and the sum of their
    outer products; copy before changing one that searches may be reading."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.sums: dict[str, np.ndarray] = {}
        self.counts: dict[str, int] = {}
        self.squares = np.zeros((dim, dim), dtype=np.float64)
        self.last = 0
        """The highest passage id given when they were counted (the knowledge base's)."""
        self.epoch = ""
        """The vectors' epoch when they were counted (the knowledge base's)."""

    @classmethod
    def of(cls, dim: int, vectors: Iterable[tuple[str | None, np.ndarray]]) -> PassageMoments:
        """The moments of (language, vectors) pairs."""
        moments = cls(dim)
        moments.add_all(vectors)
        return moments

    def add_all(self, vectors: Iterable[tuple[str | None, np.ndarray]]) -> None:
        """Count in (language, vectors) pairs, BUILD_ROWS rows of a language at a time."""
        pending: dict[str, list[np.ndarray]] = {}
        rows_pending: dict[str, int] = {}
        for language, rows in vectors:
            key = language or UNKNOWN
            pending.setdefault(key, []).append(rows)
            rows_pending[key] = rows_pending.get(key, 0) + len(rows)
            if rows_pending[key] >= BUILD_ROWS:
                self.add(key, np.concatenate(pending.pop(key)))
                del rows_pending[key]
        for key, parts in pending.items():
            self.add(key, np.concatenate(parts))

    def copy(self) -> PassageMoments:
        other = PassageMoments(self.dim)
        other.sums = {k: v.copy() for k, v in self.sums.items()}
        other.counts = dict(self.counts)
        other.squares = self.squares.copy()
        other.last, other.epoch = self.last, self.epoch
        return other

    def add(self, language: str | None, vectors: np.ndarray, sign: int = 1) -> None:
        """Count `vectors` in (sign 1) or out (sign -1) of `language`."""
        if not len(vectors):
            return
        key = language or UNKNOWN
        rows = np.asarray(vectors, dtype=np.float32)
        total = self.sums.get(key, np.zeros(self.dim, dtype=np.float64))
        self.sums[key] = total + sign * rows.sum(axis=0, dtype=np.float64)
        self.counts[key] = self.counts.get(key, 0) + sign * len(rows)
        self.squares += sign * (rows.T @ rows).astype(np.float64)
        if self.counts[key] <= 0:
            del self.sums[key], self.counts[key]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def offsets(self, query_vector: np.ndarray) -> dict[str, float]:
        """Per language, how much the query's mean similarity to its passages exceeds
        its mean similarity to all passages (shrunk for small languages)."""
        if self.total == 0 or len(self.counts) < 2:
            return {}
        query = np.asarray(query_vector, dtype=np.float64)
        overall = self._mean_similarity(query)
        offsets = {}
        for language, n in self.counts.items():
            mean = float(self.sums[language] @ query) / n
            offsets[language] = n / (n + SHRINK_PASSAGES) * (mean - overall)
        return offsets

    def standing(self, query_vector: np.ndarray, similarity: float) -> float | None:
        """How far `similarity` (the query's to one passage) stands above the query's
        mean similarity to every passage of the base, in standard deviations of it,
        over √(2 ln n): how the best of n unrelated similarities grows with the base's
        n passages. None under SPREAD_FROM passages."""
        total = self.total
        if total < SPREAD_FROM:
            return None
        query = np.asarray(query_vector, dtype=np.float64)
        mean = self._mean_similarity(query)
        variance = float(query @ self.squares @ query) / total - mean * mean
        if variance <= 0.0:
            return None
        return (similarity - mean) / math.sqrt(variance) / math.sqrt(2.0 * math.log(total))

    def _mean_similarity(self, query: np.ndarray) -> float:
        """The query's mean similarity to every passage."""
        return float(sum(self.sums.values()) @ query) / self.total
