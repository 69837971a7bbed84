"""Facet counts: how many documents per trip, theme, kind, language and year."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from kb.filters import filter_sql
from kb.types import NO_TRIP, Filters


def facet_counts(
    db: sqlite3.Connection, doc_ids: Sequence[str] | None, filters: Filters | None
) -> dict[str, list[tuple[str, int]]]:
    """Counts per trip, theme, kind, language and year over some documents."""
    where, params = filter_sql(filters)
    if doc_ids is not None:
        where += " AND d.id IN (SELECT value FROM json_each(?))"
        params = [*params, json.dumps(list(doc_ids))]
    out: dict[str, list[tuple[str, int]]] = {}
    for facet, column in (
        ("trip", f"coalesce(d.trip, '{NO_TRIP}')"),
        ("kind", "d.kind"),
        ("language", "d.language"),
        ("year", "d.year"),
    ):
        rows = db.execute(
            f"SELECT {column}, count(*) FROM documents d WHERE {where} AND {column} "
            f"IS NOT NULL GROUP BY {column} ORDER BY count(*) DESC, {column}",
            params,
        )
        out[facet] = [(str(r[0]), int(r[1])) for r in rows]
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
