"""Pydantic response models: the JSON contract published in /openapi.json.

They read the facade's dataclasses directly (`from_attributes`), properties included
(`Document.year`, `Passage.heading`), so no route copies fields by hand.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorDetail(Model):
    code: str = Field(examples=["not_found"])
    message: str


class ErrorOut(Model):
    """The one error shape of the API."""

    error: ErrorDetail


class DocumentOut(Model):
    id: str
    title: str
    kind: str
    language: str | None = None
    trip: str | None = None
    trip_name: str | None = None
    city: str | None = None
    country: str | None = None
    date: str | None = None
    year: int | None = None
    themes: list[str] = []
    themes_detected: bool = False
    source: str | None = None
    authors: list[str] = []
    organisations: list[str] = []
    media_type: str | None = None


class SnippetOut(Model):
    text: str
    highlights: list[tuple[int, int]] = Field(
        default=[], description="[start, end) character ranges of `text` to highlight."
    )


class PassageOut(Model):
    chunk_id: int
    text: str
    heading_path: list[str] = []
    heading: str = ""
    page: int | None = None
    position: int = 0
    score: float = 0.0
    snippet: SnippetOut | None = Field(
        default=None,
        description="For a result's other passage scoring close to its best one: the "
        "excerpt shown under the result's snippet.",
    )


class ResultOut(Model):
    document: DocumentOut
    passage: PassageOut
    snippet: SnippetOut
    score: float
    passages: list[PassageOut] = []


class FacetValueOut(Model):
    value: str
    count: int
    label: str | None = None


Facets = dict[str, list[FacetValueOut]]


class SearchOut(Model):
    query: str
    total: int
    took_ms: float
    low_confidence: bool
    results: list[ResultOut]
    facets: Facets


class ChunkOut(Model):
    id: int | None = None
    text: str
    heading_path: list[str] = []
    heading: str = ""
    page: int | None = None
    position: int = 0


class CardFieldOut(Model):
    text: str
    page: int | None = None
    origin: str = Field(
        "section",
        description="`section` (a heading of the document), `label` (an inline 'Name :') "
        "or `trip` (the trip's place or dates).",
    )


class PracticeOut(Model):
    """A practice card. A field the document does not state is absent from `fields` and
    listed in `not_stated` (the pages show it as 'non précisé')."""

    document_id: str
    title: str
    document_title: str = ""
    kind: str = "other"
    language: str | None = None
    trip: str | None = None
    trip_name: str | None = None
    themes: list[str] = []
    organisations: list[str] = []
    source: str | None = None
    page: int | None = None
    date: str | None = None
    fields: dict[str, CardFieldOut] = Field(
        default={},
        description="place, period, context, description, results, resources, transfer, "
        "lessons, contact — those found.",
    )
    not_stated: list[str] = []


class DocumentDetailOut(DocumentOut):
    sha256: str | None = None
    ingested_at: str | None = None
    passages: list[ChunkOut] = Field(default=[], validation_alias="chunks")
    practice: PracticeOut | None = Field(
        default=None, description="Its practice card, when the document describes a practice."
    )


class DocumentListOut(Model):
    items: list[DocumentOut]
    total: int
    limit: int
    offset: int


class SimilarOut(Model):
    document_id: str
    results: list[ResultOut]


class FacetsOut(Model):
    facets: Facets


class HealthOut(Model):
    status: Literal["ok"] = "ok"
    read_only: bool


class StatsOut(Model):
    documents: int
    chunks: int
    model: str
    dim: int
    generation: int
    by_trip: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    by_language: dict[str, int] = {}


class FileOutcomeOut(Model):
    name: str
    status: Literal["added", "updated", "unchanged", "duplicate", "rejected", "removed"]
    reason: str | None = None
    document_id: str | None = None
    chunks: int = 0


class UploadOut(Model):
    outcomes: list[FileOutcomeOut]
    counts: dict[str, int]
