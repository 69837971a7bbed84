"""The data types the knowledge base speaks: documents, chunks, filters, results.

Everything that crosses the facade (`kb.KnowledgeBase`) is one of these plain
dataclasses, so that `ingest/` and `api/` never need anything deeper.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from kb.errors import InvalidInput

NO_TRIP = "none"
"""The trip facet's value, and the trip filter, for documents outside any trip."""
NO_TRIP_LABEL = "Hors voyage"
"""The label of the `NO_TRIP` facet value (facet labels are French, as theme labels are;
the pages say "No trip" in English)."""

KINDS: tuple[str, ...] = (
    "trip-report",
    "workshop-notes",
    "practice-sheet",
    "job-shadowing-diary",
    "other",
)
"""Document kinds, in the order the UI lists them."""

HEADING_SEPARATOR = " › "


@dataclass
class Chunk:
    """A passage of a document: the unit that is embedded, indexed and returned."""

    text: str
    heading_path: tuple[str, ...] = ()
    page: int | None = None
    position: int = 0
    id: int | None = None

    @property
    def heading(self) -> str:
        return HEADING_SEPARATOR.join(self.heading_path)


@dataclass
class Document:
    """A document and its metadata; `chunks` is empty in listings."""

    id: str
    title: str
    chunks: list[Chunk] = field(default_factory=list)
    kind: str = "other"
    kind_detected: bool = False
    language: str | None = None
    trip: str | None = None
    trip_name: str | None = None
    city: str | None = None
    country: str | None = None
    date: str | None = None
    themes: list[str] = field(default_factory=list)
    themes_detected: bool = False
    organisations: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    source: str | None = None
    path: str | None = None
    sha256: str | None = None
    media_type: str | None = None
    ingested_at: str | None = None
    date_source: str | None = None
    """Where `date` came from: "document" (its own metadata or the upload form), "trip"
    (its trip's start) or "file" (the file's creation date, PDF or DOCX)."""
    original: bytes | None = field(default=None, repr=False)

    @property
    def year(self) -> int | None:
        if self.date and self.date[:4].isdigit():
            return int(self.date[:4])
        return None


@dataclass(frozen=True)
class Theme:
    """One entry of the theme taxonomy (`corpus/themes.yaml`)."""

    id: str
    label_fr: str
    label_en: str
    description: str = ""


FilterValues = str | Iterable[str] | None
"""What `Filters.from_values` takes for one field."""


@dataclass
class Filters:
    """Metadata filters; values of one field are OR-ed, fields are AND-ed."""

    trip: tuple[str, ...] = ()
    theme: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None

    def is_empty(self) -> bool:
        return not (self.trip or self.theme or self.kind or self.language) and (
            self.year_from is None and self.year_to is None
        )

    @classmethod
    def from_values(
        cls,
        trip: FilterValues = None,
        theme: FilterValues = None,
        kind: FilterValues = None,
        language: FilterValues = None,
        year_from: int | str | None = None,
        year_to: int | str | None = None,
    ) -> Filters:
        """Filters from raw values, as a form, a query string, a command line or a JSON
        file gives them: each field is None, a comma-joined string ("fr,en") or a list
        of values; values are stripped and empty ones dropped. A year is an int, a
        string of digits, or empty for none; anything else is `InvalidInput`."""
        return cls(
            trip=_filter_values(trip, "trip"),
            theme=_filter_values(theme, "theme"),
            kind=_filter_values(kind, "kind"),
            language=_filter_values(language, "language"),
            year_from=_year(year_from, "year_from"),
            year_to=_year(year_to, "year_to"),
        )


def _filter_values(values: FilterValues, name: str) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        items: Iterable[object] = values.split(",")
    elif isinstance(values, Iterable):
        items = values
    else:
        raise InvalidInput(f"{name} must be a value or a list of values, not {values!r}")
    stripped = (str(v).strip() for v in items)
    return tuple(dict.fromkeys(v for v in stripped if v))


def _year(value: int | str | None, name: str) -> int | None:
    if value is None or isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value)
    raise InvalidInput(f"{name} must be a year such as 2024, not {value!r}")


@dataclass
class Snippet:
    """Plain text plus `[start, end)` character ranges to highlight; never markup."""

    text: str
    highlights: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Passage:
    """A chunk as found by a search, with its fused score."""

    chunk_id: int
    text: str
    heading_path: tuple[str, ...] = ()
    page: int | None = None
    position: int = 0
    score: float = 0.0
    snippet: Snippet | None = None
    """For a result's other passage scoring close to its best one: its excerpt, shown
    under the result's snippet (`kb.search.add_snippets`)."""

    @property
    def heading(self) -> str:
        return HEADING_SEPARATOR.join(self.heading_path)


@dataclass
class SearchResult:
    """One document in a result list: its best passage first, other matches kept."""

    document: Document
    passage: Passage
    snippet: Snippet
    score: float
    passages: list[Passage] = field(default_factory=list)


@dataclass
class FacetValue:
    value: str
    count: int
    label: str | None = None


@dataclass
class SearchResponse:
    query: str
    results: list[SearchResult]
    total: int
    facets: dict[str, list[FacetValue]]
    took_ms: float = 0.0
    low_confidence: bool = False


@dataclass
class Stats:
    documents: int
    chunks: int
    model: str
    dim: int
    generation: int
    by_trip: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)
    by_language: dict[str, int] = field(default_factory=dict)


def jsonable(value: object) -> object:
    """Plain JSON data for any of these types: derived `year` and `heading` included,
    the original file's bytes left out."""
    if isinstance(value, Document):
        data = {f: jsonable(getattr(value, f)) for f in value.__dataclass_fields__}
        data.pop("original")
        data["year"] = value.year
        return data
    if isinstance(value, (Chunk, Passage)):
        data = {f: jsonable(getattr(value, f)) for f in value.__dataclass_fields__}
        data["heading"] = value.heading
        return data
    if hasattr(value, "__dataclass_fields__"):
        return {f: jsonable(getattr(value, f)) for f in value.__dataclass_fields__}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value
