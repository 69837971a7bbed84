"""Stored practice cards: built from the stored passages, kept beside the documents.

A card is derived from a document's chunks (see `kb.cards`), like the vector index is
derived from its vectors; it is stored in the `practice_cards` table (one row per
document, also for documents that are not practices, so that each is examined once).
`sync` builds the rows that are missing — a document added or replaced since (its row
goes with it: ON DELETE CASCADE), every document of a knowledge base built before
cards existed (schema 2), or every document when `CARD_VERSION` changed — and is run
before cards are read and by `kb reindex`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict

from kb.cards import CARD_VERSION, CardField, PracticeCard, complete, extract_card
from kb.store import DOCUMENT_COLUMNS, Store, _document, filter_sql
from kb.types import Filters

_CARD_COLUMNS = ", ".join(f"d.{c.strip()}" for c in DOCUMENT_COLUMNS.split(","))


def stale(db: sqlite3.Connection) -> list[str]:
    """Ids of the documents whose card row is missing or of an older version."""
    rows = db.execute(
        "SELECT d.id FROM documents d LEFT JOIN practice_cards p ON p.document_id = d.id "
        "WHERE p.document_id IS NULL OR p.version != ? ORDER BY d.id",
        (CARD_VERSION,),
    )
    return [r[0] for r in rows]


def sync(store: Store) -> int:
    """Build the missing or outdated card rows; the caller holds the write lock.
    Returns how many documents were examined."""
    with store.snapshot() as db:
        ids = stale(db)
    if not ids:
        return 0
    with store.transaction() as db:
        for doc_id in ids:
            document = store.document(db, doc_id)
            if document is None:
                continue
            document.chunks = store.chunks(db, doc_id)
            card = extract_card(document)
            db.execute(
                "INSERT OR REPLACE INTO practice_cards VALUES (?, ?, ?, ?, ?, ?)",
                (
                    doc_id,
                    CARD_VERSION,
                    int(card is not None),
                    card.title if card else None,
                    json.dumps(
                        {k: asdict(v) for k, v in card.fields.items()} if card else {},
                        ensure_ascii=False,
                    ),
                    card.page if card else None,
                ),
            )
    return len(ids)


def clear(db: sqlite3.Connection) -> None:
    """Forget every card: the next `sync` rebuilds them all."""
    db.execute("DELETE FROM practice_cards")


def _card(row: sqlite3.Row) -> PracticeCard:
    fields = {name: CardField(**value) for name, value in json.loads(row["fields"]).items()}
    card = PracticeCard(row["id"], row["card_title"], fields, page=row["card_page"])
    return complete(card, _document(row), (row["trip_start"], row["trip_end"]))


def cards(
    db: sqlite3.Connection,
    filters: Filters | None = None,
    ids: Sequence[str] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[PracticeCard], int]:
    """Cards of the practices passing `filters` (and among `ids` when given), by trip
    then title (in the order of `ids` when given), and their total."""
    where, params = filter_sql(filters)
    if ids is not None:
        where += " AND d.id IN (SELECT value FROM json_each(?))"
        params = [*params, json.dumps(list(ids))]
    base = (
        "FROM practice_cards p JOIN documents d ON d.id = p.document_id "
        f"LEFT JOIN trips t ON t.slug = d.trip WHERE p.is_practice AND {where}"
    )
    total = db.execute(f"SELECT count(*) {base}", params).fetchone()[0]
    rows = db.execute(
        f"SELECT {_CARD_COLUMNS}, p.title AS card_title, p.fields, p.page AS card_page, "
        f"t.start AS trip_start, t.end_date AS trip_end {base} "
        "ORDER BY d.date DESC, p.title LIMIT ? OFFSET ?",
        [*params, -1 if limit is None else limit, offset],
    ).fetchall()
    found = [_card(row) for row in rows]
    if ids is not None:
        order = {doc_id: i for i, doc_id in enumerate(ids)}
        found.sort(key=lambda card: order.get(card.document_id, len(order)))
    return found, total
