"""JSON Lines of passages `{"_id", "title", "text"}`: one document per line."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from .metadata import slugify
from .parsed import Block, ParsedDocument
from .text import decode

MEDIA_TYPE = "application/x-ndjson"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


@dataclass
class Passage:
    line: int
    id: str
    parsed: ParsedDocument


def passages(data: bytes, max_chars: int) -> Iterator[Passage | str]:
    """Yield a Passage per good line, or a short complaint ('line 12: …') per bad one."""
    for number, line in enumerate(decode(data).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            yield f"line {number}: invalid JSON"
            continue
        if not isinstance(record, dict) or not str(record.get("text") or "").strip():
            yield f"line {number}: no text"
            continue
        raw_id = str(record.get("_id") or record.get("id") or f"line-{number}")
        doc_id = raw_id if _SAFE_ID.match(raw_id) else slugify(raw_id)
        text = str(record["text"])
        notes = []
        if len(text) > max_chars:
            text = text[:max_chars]
            notes.append(f"{doc_id}: text truncated (max_document_chars)")
        title = str(record.get("title") or "").strip() or doc_id
        yield Passage(number, doc_id, ParsedDocument(
            title=title, blocks=[Block(text)], media_type=MEDIA_TYPE, notes=notes,
            properties={"kind": "other"},
        ))
