"""Postings in numpy arrays, and FTS5's BM25 over them (for `kb.bm25`).

Every passage has a *position*: its slot in `ids` and `lengths` (its tokens over the
four columns). A key is a term id and a field: `2 * term` for the words of the title,
heading and text, `2 * term + 1` for the stems. A posting is (key, position, frequency),
the frequency weighed by column like FTS5's `bm25()` (`WEIGHTS` of `kb.fts`).

Postings live in *segments*, each compressed by key (`starts[key]:starts[key + 1]`
slices `rows` and `freqs`), and a small *delta* of the postings added since the last
segment was made, sorted by key. Adding passages inserts into the delta only; a full
delta becomes a segment, and a segment is merged with the one before it while that one
is under `TIER` times its size and the two are under `MAX_MERGED` postings: a few
segments of growing sizes, then of that size, each posting copied a bounded number of
times as the base grows (one main part rewritten at every merge made ingest slow down
as the base grew). A removed passage keeps its position, marked
dead, until the segments are compacted into one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TIER = 4
"""A segment is merged into the one before it while that one holds under TIER times
its postings..."""
MAX_MERGED = 6_000_000
"""... and the two hold at most this many (about 15,000 passages of French prose): the
largest merge then copies a bounded number of postings, so that no write pays for a
merge as large as the base (at 100,000 passages one took 2.2 s); a large base has a few
more segments, each a slice per query word."""
K1 = 1.2
B = 0.75
"""BM25's constants, as FTS5's `bm25()` sets them."""


@dataclass(frozen=True)
class Postings:
    """Postings sorted by key; `starts` indexes them by key for main, None for a delta."""

    keys: np.ndarray  # int32, only kept for a delta
    rows: np.ndarray  # int32 positions
    freqs: np.ndarray  # float16 weighted frequencies (halves, exact)
    starts: np.ndarray | None = None  # int64 [keys + 1]

    @classmethod
    def empty(cls, compressed: bool) -> Postings:
        return cls(
            np.zeros(0, np.int32),
            np.zeros(0, np.int32),
            np.zeros(0, np.float16),
            np.zeros(1, np.int64) if compressed else None,
        )

    def __len__(self) -> int:
        return len(self.rows)

    def span(self, key: int) -> tuple[int, int]:
        if self.starts is not None:
            if key + 1 >= len(self.starts):
                return 0, 0
            return int(self.starts[key]), int(self.starts[key + 1])
        # The key as the keys' own type: a Python int would make numpy copy every key
        # to int64 first (0.2 ms for a full delta, against a microsecond).
        typed = self.keys.dtype.type(key)
        return (
            int(self.keys.searchsorted(typed, "left")),
            int(self.keys.searchsorted(typed, "right")),
        )

    def inserted(self, keys: np.ndarray, rows: np.ndarray, freqs: np.ndarray) -> Postings:
        """This delta with more postings (in any order): one copy of its arrays."""
        order = np.argsort(keys, kind="stable")
        keys, rows, freqs = keys[order], rows[order], freqs[order]
        at = np.searchsorted(self.keys, keys, "right")
        return Postings(
            np.insert(self.keys, at, keys),
            np.insert(self.rows, at, rows),
            np.insert(self.freqs, at, freqs),
        )

    def as_delta(self) -> Postings:
        """This segment's postings in a delta's form (keys spelt out)."""
        assert self.starts is not None
        keys = np.repeat(np.arange(len(self.starts) - 1, dtype=np.int32), np.diff(self.starts))
        return Postings(keys, self.rows, self.freqs)

    def merged(self, delta: Postings, keys: int) -> Postings:
        """This segment with `delta` in, indexed for `keys` keys."""
        assert self.starts is not None
        starts = np.concatenate([self.starts, np.full(keys + 1 - len(self.starts), len(self))])
        at = starts[delta.keys + 1]  # after the key's own postings in main
        added = np.searchsorted(delta.keys, np.arange(keys + 1), "left")
        return Postings(
            np.zeros(0, np.int32),
            np.insert(self.rows, at, delta.rows),
            np.insert(self.freqs, at, delta.freqs),
            starts + added,
        )

    def compacted(self, alive: np.ndarray) -> Postings:
        """This segment without the postings of dead positions, positions renumbered."""
        assert self.starts is not None
        keep = alive[self.rows]
        before = np.concatenate([[0], np.cumsum(keep)])
        renumbered = (np.cumsum(alive) - 1).astype(np.int32)
        return Postings(
            self.keys,
            renumbered[self.rows[keep]],
            self.freqs[keep],
            before[self.starts].astype(np.int64),
        )


def language_code(language: str | None) -> int:
    """A language as a position holds it: its first two letters in 16 bits, 0 unknown."""
    if not language:
        return 0
    letters = language[:2].lower().encode("ascii", "replace").ljust(2, b" ")
    return letters[0] << 8 | letters[1]


@dataclass(frozen=True)
class Snapshot:
    """One committed state of the index, replaced whole by each commit. Only `terms`
    grows in place (term → id, shared by the snapshots since the last reset): a term
    added after this snapshot has no postings in it."""

    terms: dict[str, int]
    ids: np.ndarray  # int64 passage id per position
    lengths: np.ndarray  # float32 tokens per position
    alive: np.ndarray  # bool per position
    languages: np.ndarray  # uint16 language code per position (`language_code`)
    segments: tuple[Postings, ...]
    delta: Postings
    state: str | None
    live: int
    tokens: float  # of the live passages
    in_delta: int = 0  # passages added since main was built

    @classmethod
    def empty(cls, state: str | None) -> Snapshot:
        return cls(
            {},
            np.zeros(0, np.int64),
            np.zeros(0, np.float16),
            np.zeros(0, bool),
            np.zeros(0, np.uint16),
            (),
            Postings.empty(False),
            state,
            0,
            0.0,
        )

    @property
    def dead(self) -> int:
        return len(self.ids) - self.live

    def postings(self, key: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, frequencies) of a key's live postings."""
        parts = []
        for part in (*self.segments, self.delta):
            start, end = part.span(key)
            if end > start:
                parts.append((part.rows[start:end], part.freqs[start:end]))
        if not parts:
            return np.zeros(0, np.int32), np.zeros(0, np.float16)
        rows = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
        freqs = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
        if self.dead:
            keep = self.alive[rows]
            rows, freqs = rows[keep], freqs[keep]
        return rows, freqs

    def count(self, key: int) -> int:
        """How many live postings a key has, without gathering them: the lengths of its
        spans, less their dead positions when there are any."""
        total = 0
        for part in (*self.segments, self.delta):
            start, end = part.span(key)
            if end > start:
                alive = self.alive[part.rows[start:end]] if self.dead else None
                total += end - start if alive is None else int(np.count_nonzero(alive))
        return total

    def summed(self, rows: np.ndarray, each: np.ndarray) -> np.ndarray:
        """Per position, the sum of the `each` of its `rows` (`terms_of`): FTS5's bm25
        (negated: higher is better), 0 where no key matches."""
        return np.bincount(rows, weights=each, minlength=len(self.ids))

    def terms_of(self, keys: list[int]) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """Each live posting of `keys` with its term of the bm25 sum (each key is one
        phrase: sqlite's fts5_aux.c, fts5Bm25Function): (positions, terms, how many
        postings each key has), key after key."""
        found = [self.postings(key) for key in keys] if self.live else []
        counts = [len(rows) for rows, _ in found] or [0] * len(keys)
        if not sum(counts):
            return np.zeros(0, np.int64), np.zeros(0), counts
        average = self.tokens / self.live
        rows = np.concatenate([r for r, _ in found])
        freqs = np.concatenate([f for _, f in found]).astype(np.float64)
        hits = np.array(counts, dtype=np.float64)
        idf = np.log((self.live - hits + 0.5) / (hits + 0.5))
        idf[idf <= 0.0] = 1e-6
        norm = K1 * (1 - B + B * self.lengths[rows].astype(np.float64) / average)
        each = np.repeat(idf, counts) * (freqs * (K1 + 1) / (freqs + norm))
        return rows, each, counts
