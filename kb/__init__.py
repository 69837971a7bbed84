"""Savoir-faire's knowledge base: store, embeddings, vector index and search.

`KnowledgeBase` is the facade; the data types, errors and settings it speaks
are re-exported here and form the whole public surface.
"""

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
from kb.settings import Settings
from kb.snippet import highlight_ranges
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
    "HEADING_SEPARATOR",
    "KINDS",
    "NO_TRIP",
    "Chunk",
    "Document",
    "Encoder",
    "FacetValue",
    "Filters",
    "InvalidInput",
    "KBError",
    "KnowledgeBase",
    "ModelMismatch",
    "NotFound",
    "Passage",
    "SearchResponse",
    "SearchResult",
    "Settings",
    "Snippet",
    "Stats",
    "Theme",
    "TooLarge",
    "Unauthorized",
    "UnsupportedDocument",
    "highlight_ranges",
    "jsonable",
    "make_encoder",
]
