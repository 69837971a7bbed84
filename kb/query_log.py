"""What partners look for: a query log with no personal data, kept for a bounded time.

A row holds the normalised query (lower case, spaces collapsed, e-mail addresses and
phone numbers blanked), its time (UTC, to the second), the number of results, the
"no close match" flag and the themes of the best result; `query_opens` records which
result was opened from it. No IP address, cookie or user id is ever stored. Rows older
than `KB_QUERY_LOG_DAYS` are deleted at each write; `KB_QUERY_LOG=false` turns it off.

Each write opens its own short connection with a short busy timeout, so that logging
never waits behind an ingest, and the caller reports a failed write instead of failing
the search.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

MAX_LOGGED_CHARS = 200
BUSY_TIMEOUT_S = 2.0
TOP = 20

logger = logging.getLogger("kb.query_log")

_EMAIL = re.compile(r"\S+@\S+")
_PHONE = re.compile(r"\+?\d[\d .-]{7,}\d")


def normalise(query: str) -> str:
    """The query as logged: lower case, spaces collapsed, no e-mail or phone number."""
    text = _EMAIL.sub("[e-mail]", query)
    text = _PHONE.sub("[numéro]", text)
    return " ".join(text.lower().split())[:MAX_LOGGED_CHARS]


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    db.execute("PRAGMA foreign_keys = ON")
    # As for the store's own writes (`kb.store`): in WAL mode a commit then waits for no
    # fsync (0.3 ms a logged search instead of 1.0 beside a serving process); a crash of
    # the process loses nothing, a power cut at most the last searches logged.
    db.execute("PRAGMA synchronous = NORMAL")
    return db


def record(
    path: Path, query: str, results: int, low_confidence: bool, themes: list[str], days: int
) -> int:
    """Log one search; returns its id (for `opened`). Raises sqlite3.Error on failure."""
    now = _now()
    db = _connect(path)
    try:
        db.execute("BEGIN IMMEDIATE")
        cursor = db.execute(
            "INSERT INTO query_log (at, query, results, low_confidence, themes) "
            "VALUES (?, ?, ?, ?, ?)",
            (now.isoformat(), normalise(query), results, int(low_confidence), json.dumps(themes)),
        )
        db.execute(
            "DELETE FROM query_log WHERE at < ?", ((now - timedelta(days=days)).isoformat(),)
        )
        db.execute("COMMIT")
        return int(cursor.lastrowid)
    finally:
        db.close()


def opened(path: Path, query_id: int, doc_id: str) -> bool:
    """Record that a result of a logged search was opened; False if the search is unknown."""
    db = _connect(path)
    try:
        cursor = db.execute(
            "INSERT INTO query_opens (query_id, document_id, at) "
            "SELECT id, ?, ? FROM query_log WHERE id = ?",
            (doc_id, _now().isoformat(), query_id),
        )
        return cursor.rowcount == 1
    finally:
        db.close()


@dataclass
class QueryFigures:
    query: str
    count: int
    no_close_match: int = 0
    results: float = 0.0
    opened: int = 0
    last: str = ""


@dataclass
class Insights:
    """What partners searched for over the kept period."""

    searches: int = 0
    distinct: int = 0
    since: str | None = None
    top: list[QueryFigures] = field(default_factory=list)
    gaps: list[QueryFigures] = field(default_factory=list)
    demand: list[tuple[str, int, int]] = field(default_factory=list)
    """(theme, searches whose best result has it, documents with it)."""
    weekly: list[tuple[str, int, int]] = field(default_factory=list)
    """(Monday of the week, searches, searches with no close match)."""


def insights(db: sqlite3.Connection) -> Insights:
    found = Insights()
    found.searches, found.distinct, found.since = db.execute(
        "SELECT count(*), count(DISTINCT query), min(at) FROM query_log"
    ).fetchone()
    per_query = (
        "SELECT q.query, count(*), sum(q.low_confidence OR q.results = 0), avg(q.results), "
        "sum((SELECT count(*) FROM query_opens o WHERE o.query_id = q.id)), max(q.at) "
        "FROM query_log q {where} GROUP BY q.query ORDER BY 2 DESC, 6 DESC LIMIT ?"
    )
    found.top = [
        QueryFigures(*row) for row in db.execute(per_query.format(where=""), (TOP,))
    ]
    found.gaps = [
        QueryFigures(*row)
        for row in db.execute(
            per_query.format(where="WHERE q.low_confidence OR q.results = 0"), (TOP,)
        )
    ]
    demand: Counter[str] = Counter()
    for (themes,) in db.execute("SELECT themes FROM query_log"):
        demand.update(json.loads(themes))
    documents = dict(db.execute("SELECT theme, count(*) FROM document_themes GROUP BY theme"))
    found.demand = sorted(
        ((theme, demand.get(theme, 0), documents.get(theme, 0))
         for theme in set(demand) | set(documents)),
        key=lambda item: (-item[1], -item[2], item[0]),
    )
    found.weekly = [
        tuple(row)
        for row in db.execute(
            "SELECT date(at, '-6 days', 'weekday 1'), count(*), "
            "sum(low_confidence OR results = 0) FROM query_log GROUP BY 1 ORDER BY 1"
        )
    ]
    return found


CSV_COLUMNS = ("time", "query", "results", "no_close_match", "themes", "opened")


def to_csv(db: sqlite3.Connection) -> str:
    """Every logged search, oldest first, as CSV (one row per search)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    rows = db.execute(
        "SELECT q.at, q.query, q.results, q.low_confidence, q.themes, "
        "(SELECT group_concat(document_id, ' ') FROM query_opens o WHERE o.query_id = q.id) "
        "FROM query_log q ORDER BY q.at, q.id"
    )
    for at, query, results, low, themes, opened_ids in rows:
        writer.writerow(
            [at, query, results, int(low), " ".join(json.loads(themes)), opened_ids or ""]
        )
    return out.getvalue()
