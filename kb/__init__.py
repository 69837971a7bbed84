"""Savoir-faire's knowledge base: store, embeddings, vector index and search.

`KnowledgeBase` is the facade; the data types, errors and settings it speaks
are re-exported here and form the whole public surface.
"""

from kb.cards import FIELDS as CARD_FIELDS
from kb.cards import NOT_STATED, CardField, PracticeCard, field_label
from kb.embed import Encoder, make_encoder
from kb.errors import (
    InvalidInput,
    KBError,
    ModelMismatch,
    NotFound,
    TooLarge,
    Unauthorized,
    UnsupportedDocument,
)
from kb.knowledge_base import KnowledgeBase
from kb.query_log import Insights, QueryFigures
from kb.settings import Settings
from kb.snippet import highlight_ranges
from kb.trips import TripInfo, TripOverview
from kb.types import (
    HEADING_SEPARATOR,
    KINDS,
    NO_TRIP,
    Chunk,
    Document,
    FacetValue,
    Filters,
    Passage,
    SearchResponse,
    SearchResult,
    Snippet,
    Stats,
    Theme,
    jsonable,
)

__all__ = [
    "CARD_FIELDS",
    "HEADING_SEPARATOR",
    "KINDS",
    "NOT_STATED",
    "NO_TRIP",
    "CardField",
    "Chunk",
    "Document",
    "Encoder",
    "FacetValue",
    "Filters",
    "Insights",
    "InvalidInput",
    "KBError",
    "KnowledgeBase",
    "ModelMismatch",
    "NotFound",
    "Passage",
    "PracticeCard",
    "QueryFigures",
    "SearchResponse",
    "SearchResult",
    "Settings",
    "Snippet",
    "Stats",
    "Theme",
    "TooLarge",
    "TripInfo",
    "TripOverview",
    "Unauthorized",
    "UnsupportedDocument",
    "field_label",
    "highlight_ranges",
    "jsonable",
    "make_encoder",
]
