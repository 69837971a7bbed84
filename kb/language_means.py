"""The mean passage vector of each document language, to correct the language bias of
a multilingual embedding model.

Such a model scores a question closer to any passage in the question's own language
than to one in another language: a French question finds the French summary before
the English notes that answer it. The query's similarity to a language's mean vector
is its mean similarity to every passage of that language, so subtracting (from each
passage's similarity) how much that mean exceeds the mean over all passages removes
the offset and keeps what is specific to the passage. A language with few passages
is shrunk towards the whole (its mean is more topic than language).
"""

from __future__ import annotations

import numpy as np

SHRINK_PASSAGES = 20
"""A language with n passages gets n / (n + SHRINK_PASSAGES) of its offset."""
UNKNOWN = ""


class LanguageMeans:
    """Running sums and counts of passage vectors per language; copy before changing
    one that searches may be reading."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.sums: dict[str, np.ndarray] = {}
        self.counts: dict[str, int] = {}

    def copy(self) -> LanguageMeans:
        other = LanguageMeans(self.dim)
        other.sums = {k: v.copy() for k, v in self.sums.items()}
        other.counts = dict(self.counts)
        return other

    def add(self, language: str | None, vectors: np.ndarray, sign: int = 1) -> None:
        """Count `vectors` in (sign 1) or out (sign -1) of `language`."""
        if not len(vectors):
            return
        key = language or UNKNOWN
        total = self.sums.get(key, np.zeros(self.dim, dtype=np.float64))
        self.sums[key] = total + sign * np.asarray(vectors, dtype=np.float64).sum(axis=0)
        self.counts[key] = self.counts.get(key, 0) + sign * len(vectors)
        if self.counts[key] <= 0:
            del self.sums[key], self.counts[key]

    def offsets(self, query_vector: np.ndarray) -> dict[str, float]:
        """Per language, how much the query's mean similarity to its passages exceeds
        its mean similarity to all passages (shrunk for small languages)."""
        total = sum(self.counts.values())
        if total == 0 or len(self.counts) < 2:
            return {}
        query = np.asarray(query_vector, dtype=np.float64)
        overall = float(sum(self.sums.values()) @ query) / total
        offsets = {}
        for language, n in self.counts.items():
            mean = float(self.sums[language] @ query) / n
            offsets[language] = n / (n + SHRINK_PASSAGES) * (mean - overall)
        return offsets
