"""Trips (mobilities) to browse: what each trip's `trip.yaml` says, and what it produced.

The ingest run records every trip folder it walks (`KnowledgeBase.put_trips`); a trip
known only from its documents (an upload, a knowledge base built before trips were
recorded) is still listed, with the name and place its documents carry.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class TripInfo:
    """A trip as its folder describes it; `slug` is the folder name (`2022-copenhague`)."""

    slug: str
    name: str | None = None
    city: str | None = None
    country: str | None = None
    start: str | None = None
    end: str | None = None
    organisations: list[str] = field(default_factory=list)


@dataclass
class TripOverview:
    """A trip and what it produced: documents per kind, themes, practices."""

    trip: TripInfo
    documents: int = 0
    practices: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    themes: list[tuple[str, int]] = field(default_factory=list)
    first_date: str | None = None
    """The earliest date of its documents: orders trips whose dates are not recorded."""

    @property
    def title(self) -> str:
        return self.trip.name or self.trip.slug


def put(db: sqlite3.Connection, trips: Sequence[TripInfo]) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO trips (slug, name, city, country, start, end_date, "
        "organisations) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (t.slug, t.name, t.city, t.country, t.start, t.end,
             json.dumps(list(t.organisations), ensure_ascii=False))
            for t in trips
        ],
    )


def overviews(db: sqlite3.Connection, slug: str | None = None) -> list[TripOverview]:
    """Every trip with documents (or the one `slug`), newest first."""
    where, params = ("WHERE d.trip = ?", [slug]) if slug else ("WHERE d.trip IS NOT NULL", [])
    known = {
        r["slug"]: r
        for r in db.execute(
            "SELECT * FROM trips" + (" WHERE slug = ?" if slug else ""), params
        )
    }
    found: dict[str, TripOverview] = {}
    rows = db.execute(
        "SELECT d.trip, max(d.trip_name), max(d.city), max(d.country), min(d.date), "
        "count(*) FROM documents d " + where + " GROUP BY d.trip", params
    )
    for trip, name, city, country, first, count in rows:
        row = known.get(trip)
        if row is not None:
            info = TripInfo(
                trip, row["name"] or name, row["city"] or city, row["country"] or country,
                row["start"], row["end_date"], json.loads(row["organisations"]),
            )
        else:
            info = TripInfo(trip, name, city, country)
        found[trip] = TripOverview(info, documents=count, first_date=first)
    for trip, kind, count in db.execute(
        "SELECT d.trip, d.kind, count(*) FROM documents d " + where + " GROUP BY 1, 2", params
    ):
        found[trip].by_kind[kind] = count
    for trip, theme, count in db.execute(
        "SELECT d.trip, t.theme, count(*) FROM document_themes t JOIN documents d "
        "ON d.id = t.document_id " + where + " GROUP BY 1, 2 ORDER BY 3 DESC, 2", params
    ):
        found[trip].themes.append((theme, count))
    for trip, count in db.execute(
        "SELECT d.trip, count(*) FROM practice_cards p JOIN documents d "
        "ON d.id = p.document_id " + where + " AND p.is_practice GROUP BY 1", params
    ):
        found[trip].practices = count
    return sorted(
        found.values(),
        key=lambda o: (o.trip.start or o.first_date or "", o.trip.slug),
        reverse=True,
    )
