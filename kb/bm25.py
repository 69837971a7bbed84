"""The embedded lexical leg in memory: FTS5's BM25 over numpy postings (`kb.postings`).

FTS5's own `bm25()` scores every passage that matches a query, row by row in SQLite:
20-26 ms at 100,000 passages. This leg holds the same tokens (`kb.tokens`), columns,
weights and statistics in numpy arrays and ranks the same passages with the same
scores in a few vectorised passes.

It is a derived cache, like the dense index (`kb.index`): writes are staged by `add` /
`remove` and published by `commit` as a new snapshot, so a search runs on a
consistent one without a lock; the file `lexical.idx` is written at `flush` with the
state it holds, and one that is missing, unreadable or behind SQLite is caught up from
the passages by `kb.backend.catch_up`. The full-text table is still written with the
passages, in their transaction (the check and the repair read it; a query with a word
that FTS5 splits in several tokens is ranked by it); `catch_up`, which runs outside any
transaction, only feeds this cache.
"""

from __future__ import annotations

import json
import mmap
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kb import fts, postings
from kb.arrays import appended
from kb.backend import PassageFields, PassageText
from kb.fts import WEIGHTS, FtsLexical, IndexedRow, indexed_rows
from kb.postings import TIER, Postings, Snapshot, language_code
from kb.query import AnalysedQuery
from kb.replaced import replaced
from kb.store import Store
from kb.tokens import tokens
from kb.types import Filters

MAGIC = b"SAVOIR-FAIRE-LEXICAL 4\n"
DELTA_MAX = 4096
"""Passages the delta takes before it is merged into main: a write copies at most this."""
DEAD_SHARE = 0.2
"""Main is compacted without its dead passages once they are this share of it."""
OTHER_LANGUAGE_SHARE = 0.5
"""Weight of a translated stem in a passage of another language than it translates
into (bench/README.md, "Ninth release": PIAF 0.860 → 0.865, the dev set 0.890 → 0.895)."""


@dataclass(frozen=True)
class Passage:
    """A passage as the index takes it: its keys (`kb.postings`) and their frequencies."""

    id: int
    length: int
    keys: np.ndarray
    freqs: np.ndarray
    language: int = 0
    """Its document's language (`kb.postings.language_code`)."""


@dataclass
class Staged:
    added: list[Passage] = field(default_factory=list)
    removed: list[np.ndarray] = field(default_factory=list)


class MemoryLexical:
    """The in-memory lexical leg of the embedded backend (see the module's doc)."""

    def __init__(self, store: Store, path: Path, table: FtsLexical) -> None:
        self.store = store
        self.path = path
        self.table = table
        self._staged = Staged()
        self._snapshot = self._load() or Snapshot.empty(None)
        self._saved: Snapshot | None = self._snapshot

    def __len__(self) -> int:
        return self._snapshot.live

    # writing

    def add(
        self, ids: np.ndarray, passages: Sequence[PassageText], fields: Sequence[PassageFields]
    ) -> None:
        rows = indexed_rows(ids, passages)
        if self.store.writer.in_transaction:  # the facade's write, not a catch-up
            self.table.insert(rows)
        self._staged.added.extend(
            self._passage(row, language_code(p.language))
            for row, p in zip(rows, passages, strict=True)
        )

    def _passage(self, row: IndexedRow, language: int) -> Passage:
        columns = [tokens(text) for text in row[1:]]
        words: Counter[str] = Counter()
        for weight, column in zip(WEIGHTS[:3], columns[:3], strict=True):
            for term, count in Counter(column).items():
                words[term] += weight * count
        stems = Counter(columns[3])
        terms = self._snapshot.terms
        keys = [2 * terms.setdefault(t, len(terms)) for t in words]
        keys += [2 * terms.setdefault(t, len(terms)) + 1 for t in stems]
        return Passage(
            row[0],
            sum(len(c) for c in columns),
            np.asarray(keys, np.int32),
            np.asarray([*words.values(), *stems.values()], np.float16),
            language,
        )

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            if self.store.writer.in_transaction:
                self.table.remove(ids)
            self._staged.removed.append(np.asarray(ids, np.int64))

    def commit(self, state: str) -> None:
        staged, self._staged = self._staged, Staged()
        old = self._snapshot
        ids, lengths, alive, live, total = old.ids, old.lengths, old.alive, old.live, old.tokens
        languages = old.languages
        if staged.removed:
            gone = np.isin(ids, np.concatenate(staged.removed)) & alive
            if gone.any():
                alive = alive & ~gone
                live -= int(gone.sum())
                total -= float(lengths[gone].sum())
        delta = old.delta
        if staged.added:
            added = staged.added
            start = len(ids)
            fresh = np.asarray([p.length for p in added], np.float32)
            ids = appended(ids, np.asarray([p.id for p in added], np.int64))
            lengths = appended(lengths, fresh)
            alive = appended(alive, np.ones(len(added), bool))
            languages = appended(languages, np.asarray([p.language for p in added], np.uint16))
            live += len(added)
            total += float(fresh.sum())
            counts = [len(p.keys) for p in added]
            delta = delta.inserted(
                np.concatenate([p.keys for p in added]),
                np.repeat(np.arange(start, start + len(added), dtype=np.int32), counts),
                np.concatenate([p.freqs for p in added]),
            )
        in_delta = old.in_delta + len(staged.added)
        snapshot = Snapshot(
            old.terms,
            ids,
            lengths,
            alive,
            languages,
            old.segments,
            delta,
            state,
            live,
            total,
            in_delta,
        )
        if in_delta > DELTA_MAX or snapshot.dead > max(DELTA_MAX, DEAD_SHARE * len(ids)):
            snapshot = self._merged(snapshot)
        self._snapshot = snapshot

    def _merged(self, snapshot: Snapshot) -> Snapshot:
        """The delta made a segment, merged with the ones before it while they are not
        much larger nor the two too large (`kb.postings`); all compacted into one when
        many passages are dead."""
        keys = 2 * len(snapshot.terms)
        segments = [*snapshot.segments, Postings.empty(True).merged(snapshot.delta, keys)]
        while (
            len(segments) > 1
            and len(segments[-2]) < TIER * len(segments[-1])
            and len(segments[-2]) + len(segments[-1]) <= postings.MAX_MERGED
        ):
            last = segments.pop()
            segments[-1] = segments[-1].merged(last.as_delta(), keys)
        ids, lengths, alive = snapshot.ids, snapshot.lengths, snapshot.alive
        languages = snapshot.languages
        if snapshot.dead > DEAD_SHARE * len(ids):
            whole = segments[0]
            for segment in segments[1:]:
                whole = whole.merged(segment.as_delta(), keys)
            segments = [whole.compacted(alive)]
            ids, lengths, languages = ids[alive], lengths[alive], languages[alive]
            alive = np.ones(snapshot.live, bool)
        return Snapshot(
            snapshot.terms,
            ids,
            lengths,
            alive,
            languages,
            tuple(segments),
            Postings.empty(False),
            snapshot.state,
            snapshot.live,
            snapshot.tokens,
        )

    def discard(self) -> None:
        self._staged = Staged()

    def state(self) -> str | None:
        return self._snapshot.state

    def ids(self) -> np.ndarray:
        snapshot = self._snapshot
        return np.sort(snapshot.ids[snapshot.alive])

    def reset(self) -> None:
        self._staged = Staged()
        self._snapshot = Snapshot.empty(None)

    # reading

    def search(
        self, query: AnalysedQuery, k: int, filters: Filters | None = None
    ) -> list[tuple[int, float]]:
        snapshot = self._snapshot
        if k <= 0 or not query.words or not snapshot.live:
            return []
        phrases = [(w, 0) for w in query.words] + [(s, 1) for s in query.stems]
        into = dict(query.translated_into)
        translated = self._selective(query.translated, snapshot)
        keyed = _keyed(snapshot, phrases)
        translations = _keyed(snapshot, [(s, 1) for s in translated])
        if keyed is None or translations is None:
            # a phrase of several tokens: FTS5 matches their sequence
            return self.table.search(query, k, filters)
        keys = [key for key, _ in keyed] + [key for key, _ in translations]
        rows, each, counts = snapshot.terms_of(keys)
        if translations:
            start = sum(counts[: len(keyed)])
            languages = [into.get(stem, ()) for _, stem in translations]
            each[start:] *= _translation_weights(
                languages, counts[len(keyed) :], rows[start:], snapshot
            )
        scores = snapshot.summed(rows, each)
        if filters is not None and not filters.is_empty():
            allowed = self.store.chunk_ids(self.store.reader, filters)
            scores[~np.isin(snapshot.ids, allowed)] = 0.0
        found = np.flatnonzero(scores > 0.0)
        if len(found) > k:
            found = found[np.argpartition(-scores[found], k - 1)[:k]]
        found = found[np.lexsort((snapshot.ids[found], -scores[found]))]
        return [(int(snapshot.ids[i]), float(scores[i])) for i in found]

    def _selective(self, stems: Sequence[str], snapshot: Snapshot | None = None) -> tuple[str, ...]:
        """The translated stems worth searching: those in the index and not common
        (`kb.fts`'s rule: in at most `COMMON_TRANSLATION` of the passages)."""
        snapshot = snapshot or self._snapshot
        limit = max(fts.COMMON_FLOOR, fts.COMMON_TRANSLATION * snapshot.live)
        kept = []
        for stem in stems:
            term = snapshot.terms.get(stem)
            if term is None:
                continue
            words, stemmed = snapshot.count(2 * term), snapshot.count(2 * term + 1)
            if words + stemmed == 0 or max(words, stemmed) > limit:
                continue
            if words + stemmed <= limit or (
                len(np.union1d(snapshot.postings(2 * term)[0], snapshot.postings(2 * term + 1)[0]))
                <= limit
            ):
                kept.append(stem)
        return tuple(sorted(kept))

    def known_terms(self, query: AnalysedQuery) -> set[str]:
        snapshot = self._snapshot
        known = set()
        for term in query.terms:
            found = snapshot.terms.get(term)
            if found is not None and (snapshot.count(2 * found) or snapshot.count(2 * found + 1)):
                known.add(term)
        return known

    # the file

    def flush(self) -> None:
        """Write the current snapshot to the file, if it changed since the last write."""
        snapshot = self._snapshot
        if snapshot.state is None or snapshot is self._saved:
            return
        arrays = _arrays(snapshot)
        vocabulary = "\n".join(snapshot.terms).encode()
        header = {
            "state": snapshot.state,
            "live": snapshot.live,
            "tokens": snapshot.tokens,
            "in_delta": snapshot.in_delta,
            "terms": len(snapshot.terms),
            "segments": len(snapshot.segments),
            "arrays": [[name, a.dtype.str, len(a)] for name, a in arrays.items()],
            "vocabulary": len(vocabulary),
        }
        with replaced(self.path) as out:
            head = MAGIC + json.dumps(header).encode()
            out.write(head + b" " * _padding(len(head) + 1) + b"\n")
            for a in arrays.values():
                out.write(memoryview(np.ascontiguousarray(a)).cast("B"))
                out.write(bytes(_padding(a.nbytes)))
            out.write(vocabulary)
        # The snapshot's arrays give way to the file's, mapped: the memory they held is
        # freed (flush runs under the base's write lock: no commit comes in between).
        mapped = self._load(snapshot.terms)
        if mapped is not None and mapped.state == snapshot.state and self._snapshot is snapshot:
            self._snapshot = snapshot = mapped
        self._saved = snapshot

    def _load(self, terms: dict[str, int] | None = None) -> Snapshot | None:
        """The saved snapshot if the file is whole, else None. Its arrays are views of
        the file mapped in memory: the system reads in the postings a search touches
        and may drop them again under memory pressure, and processes serving the same
        base share one copy. The file is only ever replaced whole (`kb.replaced`), so
        a mapping stays whole. `terms`: the vocabulary when it is known already."""
        try:
            with self.path.open("rb") as source:
                raw = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):  # missing, unmappable; ValueError: an empty file
            return None
        if raw[: len(MAGIC)] != MAGIC:
            return None
        try:
            end = raw.find(b"\n", len(MAGIC))
            if end < 0:
                return None
            header = json.loads(raw[len(MAGIC) : end])
            start = end + 1
            arrays = {}
            for name, dtype, count in header["arrays"]:
                size = np.dtype(dtype).itemsize * count
                if start + size > len(raw):
                    return None
                arrays[name] = np.frombuffer(raw, dtype=dtype, count=count, offset=start)
                start += size + _padding(size)
            if start + header["vocabulary"] != len(raw):
                return None
            if terms is None:
                words = raw[start:].decode().split("\n") if header["vocabulary"] else []
                if len(words) != header["terms"]:
                    return None
                terms = dict(zip(words, range(len(words)), strict=True))
            elif len(terms) != header["terms"]:
                return None
            snapshot = Snapshot(
                terms,
                arrays["ids"],
                arrays["lengths"],
                arrays["alive"],
                arrays["languages"],
                tuple(
                    Postings(
                        np.zeros(0, np.int32),
                        arrays[f"segment{n}_rows"],
                        arrays[f"segment{n}_freqs"],
                        arrays[f"segment{n}_starts"],
                    )
                    for n in range(int(header["segments"]))
                ),
                Postings(arrays["delta_keys"], arrays["delta_rows"], arrays["delta_freqs"]),
                str(header["state"]),
                int(header["live"]),
                float(header["tokens"]),
                int(header["in_delta"]),
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return None
        return snapshot

    def close(self) -> None:
        self.flush()


def _translation_weights(
    languages: list[tuple[str, ...]],
    counts: list[int],
    rows: np.ndarray,
    snapshot: Snapshot,
) -> np.ndarray:
    """The weight of each posting of the translated stems (`counts` postings each, at
    positions `rows`; the `languages` each translates into): in full in a passage of
    one of them, OTHER_LANGUAGE_SHARE in the others. A French word's Italian
    translation is the Italian notes' word; in French text the same letters are a
    cognate or a borrowed term at best. A stem whose languages are not known, or a
    passage whose language is not, counts in full."""
    weights = np.ones(len(rows))
    start = 0
    for into, count in zip(languages, counts, strict=True):
        end = start + count
        if into and count:
            held = snapshot.languages[rows[start:end]]
            other = held != 0  # a few codes: compared one by one (np.isin sorts)
            for language in into:
                other &= held != language_code(language)
            weights[start:end][other] = OTHER_LANGUAGE_SHARE
        start = end
    return weights


def _keyed(snapshot: Snapshot, phrases: list[tuple[str, int]]) -> list[tuple[int, str]] | None:
    """(key, phrase) of the (phrase, 1 for a stem) pairs that the index holds; None when
    a phrase is several tokens (FTS5 alone matches a sequence)."""
    keyed = []
    for phrase, stem in phrases:
        split = tokens(phrase)
        if len(split) != 1:
            return None
        term = snapshot.terms.get(split[0])
        if term is not None:
            keyed.append((2 * term + stem, phrase))
    return keyed


def _arrays(snapshot: Snapshot) -> dict[str, np.ndarray]:
    """The snapshot's arrays as the file holds them, in order."""
    arrays = {
        "ids": snapshot.ids,
        "lengths": snapshot.lengths,
        "alive": snapshot.alive,
        "languages": snapshot.languages,
    }
    for n, segment in enumerate(snapshot.segments):
        assert segment.starts is not None
        arrays[f"segment{n}_rows"] = segment.rows
        arrays[f"segment{n}_freqs"] = segment.freqs
        arrays[f"segment{n}_starts"] = segment.starts
    return arrays | {
        "delta_keys": snapshot.delta.keys,
        "delta_rows": snapshot.delta.rows,
        "delta_freqs": snapshot.delta.freqs,
    }


def _padding(size: int) -> int:
    """Bytes that bring `size` to a multiple of 8: every array starts aligned."""
    return -size % 8
