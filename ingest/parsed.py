"""What a reader returns: a document's structure before chunking and metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Block:
    """A paragraph, list or table under a heading path, on a PDF page (or None)."""

    text: str
    heading_path: tuple[str, ...] = ()
    page: int | None = None


@dataclass
class ParsedDocument:
    """A file read by one reader.

    `properties` holds what the file says about itself (front matter, DOCX core
    properties, PDF info): any of title, kind, language, themes, authors, date,
    organisations, trip; and `created`, the file's own creation date (DOCX, PDF), which
    counts after the trip's dates. `notes` are remarks for the ingest report (e.g. truncation).
    """

    title: str | None
    blocks: list[Block]
    media_type: str
    properties: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def text_chars(self) -> int:
        return sum(len(b.text) for b in self.blocks)

    def headings(self) -> list[str]:
        """Every distinct heading, in order of first appearance."""
        seen: dict[str, None] = {}
        for block in self.blocks:
            for heading in block.heading_path:
                seen.setdefault(heading, None)
        return list(seen)
