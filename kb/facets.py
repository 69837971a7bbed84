"""Facet counts: how many documents per trip, theme, kind, language and year."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import chain
from operator import itemgetter

from kb.filters import filter_sql
from kb.types import NO_TRIP, Filters


def facet_counts(
    db: sqlite3.Connection, doc_ids: Sequence[str] | None, filters: Filters | None
) -> dict[str, list[tuple[str, int]]]:
    """Counts per trip, theme, kind, language and year over some documents (all of
    them when `doc_ids` is None) passing `filters`, most frequent first."""
    where, params = filter_sql(filters)
    if doc_ids is not None:
        where += f" AND {_AMONG}"
        params = [*params, json.dumps(list(doc_ids))]
    return count_values(_facet_values(db, where, params).values())


class DocumentFacets:
    """Each document's facet values, cached by the id of a passage of it: a passage id
    is never reused and a document is only ever replaced whole (its passages get new
    ids), so an entry never goes stale and the cache outlives the base's writes. Which
    passages exist, and their documents, are still read from each search's snapshot."""

    LIMIT = 500_000
    """Passages remembered at most; past it, the cache starts again."""

    def __init__(self) -> None:
        self._by_passage: dict[int, tuple] = {}

    def of_passages(self, db: sqlite3.Connection, documents: dict[int, str]) -> dict[int, tuple]:
        """(trip, kind, language, year, themes) of the document of each passage of
        `documents` (passage id → document id, as the snapshot `db` has them)."""
        cache = self._by_passage
        missing = {c: d for c, d in documents.items() if c not in cache}
        if missing:
            if len(cache) + len(missing) > self.LIMIT:
                cache = self._by_passage = {}
            among = json.dumps(list(dict.fromkeys(missing.values())))
            values = _facet_values(db, _AMONG, [among])
            for chunk_id, doc_id in missing.items():
                if doc_id in values:
                    cache[chunk_id] = values[doc_id]
        return {c: cache[c] for c in documents if c in cache}


def count_values(values: Iterable[tuple]) -> dict[str, list[tuple[str, int]]]:
    """Facet counts of documents given by their (trip, kind, language, year, themes), as
    `facet_counts` gives them."""
    found = list(values)
    tallies = {
        facet: Counter(map(itemgetter(column), found))
        for column, facet in enumerate(("trip", "kind", "language", "year"))
    }
    tallies["theme"] = Counter(chain.from_iterable(map(itemgetter(4), found)))
    for tally in tallies.values():
        tally.pop(None, None)
    return {
        facet: [(str(v), n) for v, n in sorted(t.items(), key=lambda item: (-item[1], item[0]))]
        for facet, t in tallies.items()
    }


_AMONG = "d.id IN (SELECT value FROM json_each(?))"
"""Documents among a JSON list of ids."""


def _facet_values(db: sqlite3.Connection, where: str, params: Sequence) -> dict[str, tuple]:
    """(trip, kind, language, year, themes) of each document `d` matching `where`."""
    themes: dict[str, list[str]] = {}
    for doc_id, theme in db.execute(
        "SELECT t.document_id, t.theme FROM document_themes t "
        f"JOIN documents d ON d.id = t.document_id WHERE {where}",
        params,
    ):
        themes.setdefault(doc_id, []).append(theme)
    rows = db.execute(
        f"SELECT d.id, coalesce(d.trip, '{NO_TRIP}'), d.kind, d.language, d.year "
        f"FROM documents d WHERE {where}",
        params,
    )
    return {row[0]: (*row[1:], tuple(themes.get(row[0], ()))) for row in rows}


def counts(db: sqlite3.Connection) -> dict[str, dict[str, int]]:
    out = {}
    for column in ("trip", "kind", "language"):
        rows = db.execute(
            f"SELECT coalesce({column}, ''), count(*) FROM documents GROUP BY 1 ORDER BY 1"
        )
        out[column] = {r[0]: r[1] for r in rows}
    return out
