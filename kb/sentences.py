"""Sentence vectors: every sentence of a passage embedded at ingest, stored compactly.

They let a search score a passage by its best sentence (a detailed passage answers
in one sentence; a summary only brushes the subject) and pick the sentence that
answers for the snippet, with no embedding at query time. Each vector is kept as
int8 with its own scale: 388 bytes a sentence for 384 dimensions, a quarter of
float32, with cosines within ~0.01 of the exact ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kb.steps import in_steps
from kb.text import sentences

MAX_SENTENCES = 48
"""Most sentences embedded per passage (a passage is ~260 tokens: rarely reached)."""
MIN_SENTENCE_CHARS = 12
"""Shorter fragments (a list bullet, a date) are merged into the next sentence."""


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) spans of the sentences worth embedding; fragments shorter than
    MIN_SENTENCE_CHARS are joined to their neighbour."""
    spans: list[tuple[int, int]] = []
    pending: int | None = None
    for start, end in sentences(text):
        start = pending if pending is not None else start
        if end - start < MIN_SENTENCE_CHARS:
            pending = start
            continue
        pending = None
        spans.append((start, end))
    if pending is not None:
        if spans:
            spans[-1] = (spans[-1][0], len(text.rstrip()))
        else:
            spans.append((pending, len(text.rstrip())))
    return spans[:MAX_SENTENCES]


@dataclass
class SentenceVectors:
    """The sentence spans of one passage and their vectors."""

    spans: list[tuple[int, int]]
    vectors: np.ndarray  # (len(spans), dim) float32

    def scores(self, query_vector: np.ndarray) -> np.ndarray:
        return self.vectors @ query_vector


def pack(spans: Sequence[tuple[int, int]], vectors: np.ndarray) -> tuple[bytes, bytes]:
    """(spans, vectors) as two blobs: int32 start/end pairs; per row a float32 scale
    followed by int8 components."""
    quantised, scale = in_steps(vectors, np.int8)
    # 4 scale bytes then dim int8 per row
    rows = np.concatenate([scale[:, None].view(np.int8), quantised], axis=1)
    return np.asarray(spans, dtype=np.int32).tobytes(), rows.tobytes()


def unpack(spans: bytes, vectors: bytes, dim: int) -> SentenceVectors:
    pairs = np.frombuffer(spans, dtype=np.int32).reshape(-1, 2)
    rows = np.frombuffer(vectors, dtype=np.int8).reshape(len(pairs), 4 + dim)
    scale = rows[:, :4].copy().view(np.float32)
    values = rows[:, 4:].astype(np.float32) * scale
    return SentenceVectors([(int(a), int(b)) for a, b in pairs], values)


def scores_of_many(
    packed: Sequence[tuple[int, bytes, bytes]], dim: int, query_vector: np.ndarray
) -> tuple[dict[int, tuple[np.ndarray, np.ndarray]], dict[int, float]]:
    """(spans, sentence scores) of many passages' packed sentences, by passage id, and
    each passage's best sentence score, in one matrix product: what a search needs of
    every candidate."""
    if not packed:
        return {}, {}
    rows = np.frombuffer(b"".join(p[2] for p in packed), dtype=np.int8).reshape(-1, 4 + dim)
    scale = rows[:, :4].copy().view(np.float32)[:, 0]
    scores = (rows[:, 4:] @ query_vector.astype(np.float32)) * scale
    pairs = np.frombuffer(b"".join(p[1] for p in packed), dtype=np.int32).reshape(-1, 2)
    counts = np.fromiter((len(p[1]) // 8 for p in packed), dtype=np.int64, count=len(packed))
    starts = np.cumsum(counts) - counts
    some = counts > 0
    best_scores = np.maximum.reduceat(scores, starts[some]) if some.any() else scores[:0]
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    spans = zip(starts.tolist(), counts.tolist(), strict=True)
    for (chunk_id, _, _), (start, count) in zip(packed, spans, strict=True):
        out[chunk_id] = (pairs[start : start + count], scores[start : start + count])
    ids = [p[0] for p, kept in zip(packed, some.tolist(), strict=True) if kept]
    return out, dict(zip(ids, best_scores.tolist(), strict=True))
