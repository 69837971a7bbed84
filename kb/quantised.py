"""The quantised main part of the dense index (`kb.index`), for large bases.

A fast-scan product quantiser (FAISS `IndexPQFastScan`: 4-bit codes of two dimensions
each, scanned with SIMD look-ups) proposes candidates; they are scored on the vectors
kept beside it in blocks (`kb.blocks`), as 16-bit integers over a scale per vector: half
the memory of float32, scores within 1e-5 of the exact ones (8 bits were within 2e-3,
which changed 1.7 % of the top 10 on PIAF), and as fast to score. Growing the part
adds codes to a copy of the quantiser (a tenth of the vectors' size), the vectors into
their blocks and the ids and scales into room left after their arrays (`kb.arrays`), so
a merge costs what it adds, not the part's size.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import faiss
import numpy as np

from kb.arrays import appended
from kb.blocks import Blocks
from kb.steps import in_steps

TRAINING_SAMPLE = 30_000
"""Vectors the quantiser's codebooks are trained on when a part is built."""
HELD = np.int16
"""How the vectors are held (`kb.steps`), in memory and in their file."""
PRECISION = 1e-4
"""How far a held vector's components may lie from the exact ones (half a step is at
most 1.6e-5 of the largest)."""


def as_steps(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int16 rows, float32 scale per row), as the part holds its vectors."""
    return in_steps(vectors, HELD)


@dataclass(frozen=True)
class Quantised:
    codes: faiss.IndexPQFastScan
    """Labels are positions in `vectors`, `scales` and `ids`."""
    vectors: Blocks  # int16 [n, dim]: a vector over its scale
    scales: np.ndarray  # float32 [n]
    ids: np.ndarray  # int64 [n]
    lineage: str = field(default_factory=lambda: secrets.token_hex(8))
    """Names this part from its build on: a part grown from another keeps its lineage,
    and so the rows it shares with it (the file of vectors is appended to, not
    rewritten, while the lineage holds)."""

    @classmethod
    def built(cls, vectors: np.ndarray, ids: np.ndarray) -> Quantised:
        """A part for these vectors, its codebooks trained on a sample of them."""
        dim = vectors.shape[1]
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        sample = np.random.default_rng(0).permutation(len(vectors))[:TRAINING_SAMPLE]
        pieces = dim // 2 if dim % 2 == 0 else dim
        codes = faiss.IndexPQFastScan(dim, pieces, 4, faiss.METRIC_INNER_PRODUCT)
        codes.train(vectors[np.sort(sample)])
        return cls.holding(codes, vectors, ids)

    @classmethod
    def holding(
        cls, codes: faiss.IndexPQFastScan, vectors: np.ndarray, ids: np.ndarray
    ) -> Quantised:
        """A new part of these codebooks (empty codes) holding these vectors."""
        codes.add(vectors)
        steps, scales = as_steps(vectors)
        return cls(codes, Blocks.of(steps), scales, np.asarray(ids, np.int64))

    @property
    def ntotal(self) -> int:
        return len(self.ids)

    @property
    def d(self) -> int:
        return int(self.codes.d)

    def rebuilt(self, vectors: np.ndarray, ids: np.ndarray) -> Quantised:
        """A part for these vectors on this one's codebooks: a compaction (dead
        passages out) costs encoding the vectors, not training the quantiser again."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        codes = faiss.clone_index(self.codes)
        codes.reset()
        return Quantised.holding(codes, vectors, ids)

    def grown(self, vectors: np.ndarray, ids: np.ndarray) -> Quantised:
        """This part with more vectors; this one is left as it was."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        codes = faiss.clone_index(self.codes)
        codes.add(vectors)
        steps, scales = as_steps(vectors)
        return Quantised(
            codes,
            self.vectors.appended(steps),
            appended(self.scales, scales),
            appended(self.ids, np.asarray(ids, np.int64)),
            self.lineage,
        )

    def array(self) -> np.ndarray:
        """Every vector held, as float32 (a copy)."""
        return self.vectors.array() * self.scales[:, None]

    def scores(self, positions: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Similarities of `query` (float32 [dim]) to the vectors at `positions`."""
        positions = np.asarray(positions, dtype=np.int64)
        return self.vectors.scores(positions, query) * self.scales[positions]

    def candidates(
        self, query: np.ndarray, want: int, rerank: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(positions, similarities) of the best `want`, best first: the quantiser's
        `rerank` × `want` candidates scored exactly."""
        ask = min(self.ntotal, want * rerank)
        if ask <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        _, found = self.codes.search(query.reshape(1, -1), ask)
        return self.exact(query, want, found[0][found[0] >= 0])

    def exact(
        self, query: np.ndarray, k: int, positions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(positions, similarities) of the best `k` among `positions`, best first."""
        scores = self.scores(positions, query.reshape(-1))
        if len(scores) > k:
            best = np.argpartition(-scores, k - 1)[:k]
            positions, scores = positions[best], scores[best]
        order = np.argsort(-scores, kind="stable")
        return positions[order], scores[order]
