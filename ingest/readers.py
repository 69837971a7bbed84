"""Pick the reader for a file from its extension, after checking what the bytes really are."""

from __future__ import annotations

from pathlib import PurePath

from kb import Settings, UnsupportedDocument

from .docx import read_docx
from .html import read_html
from .markdown import read_markdown
from .parsed import ParsedDocument
from .pdf import read_pdf
from .sniff import sniff
from .text import read_text

TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".jsonl")
SUFFIXES = (*TEXT_SUFFIXES, ".pdf", ".docx")
_NO_ARTICLE = ("plain text", "binary data")


def a(description: str) -> str:
    """'an HTML page', 'a PNG image', 'plain text'."""
    if description in _NO_ARTICLE:
        return description
    vowel_sound = description[0].lower() in "aeiou" or description.split()[0] in (
        "HTML", "RTF", "MP3", "SVG", "EPUB", "Excel", "OpenDocument", "Ogg",
    )
    return ("an " if vowel_sound else "a ") + description


def check_content(name: str, data: bytes) -> str:
    """The reader kind for this file, or UnsupportedDocument naming what it really is."""
    suffix = PurePath(name).suffix.lower()
    kind, description = sniff(data)
    if kind == "empty":
        raise UnsupportedDocument("empty file")
    if suffix not in SUFFIXES:
        if kind in ("image", "binary"):
            raise UnsupportedDocument(f"unsupported: {description}")
        raise UnsupportedDocument(f"unsupported file type ({suffix or 'no extension'})")
    if suffix == ".pdf":
        if kind != "pdf":
            raise UnsupportedDocument(f"not a PDF: looks like {a(description)}")
        return "pdf"
    if suffix == ".docx":
        if kind != "docx":
            raise UnsupportedDocument(f"not a DOCX: looks like {a(description)}")
        return "docx"
    if kind not in ("text", "html"):
        raise UnsupportedDocument(f"not a text file: looks like {a(description)}")
    return {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
            ".jsonl": "jsonl"}.get(suffix, "text")


def read_document(name: str, data: bytes, settings: Settings) -> ParsedDocument:
    """Parse one file (not .jsonl, see jsonl.py) into its structure.

    Raises UnsupportedDocument or TooLarge with a reason meant for people.
    """
    reader = check_content(name, data)
    if reader == "pdf":
        parsed = read_pdf(name, data, settings)
    elif reader == "docx":
        parsed = read_docx(name, data, settings)
    elif reader == "markdown":
        parsed = read_markdown(name, data)
    elif reader == "html":
        parsed = read_html(name, data)
    elif reader == "text":
        parsed = read_text(name, data)
    else:
        raise UnsupportedDocument(f"{reader} files hold many documents: use the ingest run")
    if not any(block.text.strip() for block in parsed.blocks):
        raise UnsupportedDocument("no text")
    return parsed
