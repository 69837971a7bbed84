"""Facet counts: how many documents per trip, theme, kind, language and year."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Sequence

from kb.filters import filter_sql
from kb.types import NO_TRIP, Filters


def facet_counts(
    db: sqlite3.Connection, doc_ids: Sequence[str] | None, filters: Filters | None
) -> dict[str, list[tuple[str, int]]]:
    """Counts per trip, theme, kind, language and year over some documents (all of
    them when `doc_ids` is None) passing `filters`, most frequent first."""
    where, params = filter_sql(filters)
    if doc_ids is not None:
        where += " AND d.id IN (SELECT value FROM json_each(?))"
        params = [*params, json.dumps(list(doc_ids))]
    fields = ("trip", "kind", "language", "year")
    tallies: dict[str, Counter] = {facet: Counter() for facet in fields}
    rows = db.execute(
        f"SELECT coalesce(d.trip, '{NO_TRIP}'), d.kind, d.language, d.year "
        f"FROM documents d WHERE {where}",
        params,
    )
    for row in rows:
        for facet, value in zip(fields, row, strict=True):
            if value is not None:
                tallies[facet][value] += 1
    out = {
        facet: [(str(v), n) for v, n in sorted(tally.items(), key=lambda item: (-item[1], item[0]))]
        for facet, tally in tallies.items()
    }
    rows = db.execute(
        "SELECT t.theme, count(*) FROM document_themes t JOIN documents d "
        f"ON d.id = t.document_id WHERE {where} GROUP BY t.theme "
        "ORDER BY count(*) DESC, t.theme",
        params,
    )
    out["theme"] = [(str(r[0]), int(r[1])) for r in rows]
    return out


def counts(db: sqlite3.Connection) -> dict[str, dict[str, int]]:
    out = {}
    for column in ("trip", "kind", "language"):
        rows = db.execute(
            f"SELECT coalesce({column}, ''), count(*) FROM documents GROUP BY 1 ORDER BY 1"
        )
        out[column] = {r[0]: r[1] for r in rows}
    return out
