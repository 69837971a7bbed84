"""Response models of the transfer routes: practice cards and trips."""

from __future__ import annotations

from api.schemas import DocumentOut, Model, PracticeOut


class PracticeListOut(Model):
    items: list[PracticeOut]
    total: int
    limit: int
    offset: int


class ThemeCountOut(Model):
    theme: str
    count: int


class TripOut(Model):
    slug: str
    name: str | None = None
    city: str | None = None
    country: str | None = None
    start: str | None = None
    end: str | None = None
    organisations: list[str] = []
    documents: int = 0
    practices: int = 0
    by_kind: dict[str, int] = {}
    themes: list[ThemeCountOut] = []


class TripListOut(Model):
    items: list[TripOut]


class TripDetailOut(TripOut):
    document_list: list[DocumentOut] = []
    practice_list: list[PracticeOut] = []


def trip_out(overview, cls: type[TripOut] = TripOut, **extra: object) -> TripOut:  # noqa: ANN001
    """A `kb.TripOverview` as its response model."""
    info = overview.trip
    return cls(
        slug=info.slug, name=info.name, city=info.city, country=info.country,
        start=info.start, end=info.end, organisations=info.organisations,
        documents=overview.documents, practices=overview.practices,
        by_kind=overview.by_kind,
        themes=[ThemeCountOut(theme=t, count=n) for t, n in overview.themes],
        **extra,
    )
