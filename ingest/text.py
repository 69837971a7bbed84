"""Plain text: encoding detection (UTF-8, UTF-8 with BOM, Windows-1252…) and paragraphs."""

from __future__ import annotations

import re
from pathlib import PurePath

from charset_normalizer import from_bytes

from kb import UnsupportedDocument

from .parsed import Block, ParsedDocument

_BULLET = re.compile(r"^\s*(?:[-*•–]\s|\d+[.)]\s)")
_BLANK_LINES = re.compile(r"\n[ \t]*\n+")
_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})[.)]?\s+\w")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode(data: bytes) -> str:
    """Bytes → str: strict UTF-8 (a BOM is dropped) first, else the detected encoding.

    When detection does not point to a non-Latin script, the text is read as
    Windows-1252: partners write Western European languages, and short texts fool the
    detector into other single-byte code pages (cp1252 also keeps ’ and œ, which
    latin-1 turns into control characters).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = _decode_guess(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


_NON_LATIN = ("utf_16", "utf_32", "cp1251", "cp1253", "cp1255", "cp1256", "koi8", "mac_cyrillic",
              "iso8859_5", "iso8859_6", "iso8859_7", "iso8859_8", "shift_jis", "cp932", "euc",
              "gb", "big5", "hz", "iso2022", "cp949", "cp950", "johab", "tis_620", "cp874")


def _decode_guess(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding.startswith(_NON_LATIN):
        try:
            return data.decode(best.encoding)
        except (UnicodeDecodeError, LookupError):
            pass
    return data.decode("cp1252", errors="replace")


def paragraphs(text: str) -> list[str]:
    """Split on blank lines; hard-wrapped lines are rejoined, list items kept apart."""
    out = []
    for chunk in _BLANK_LINES.split(text):
        lines = [line.strip() for line in chunk.split("\n") if line.strip()]
        if not lines:
            continue
        merged: list[str] = []
        for line in lines:
            if merged and not _BULLET.match(line):
                merged[-1] = _join_wrapped(merged[-1], line)
            else:
                merged.append(line)
        out.append("\n".join(merged))
    return out


def _join_wrapped(left: str, right: str) -> str:
    if left.endswith("-") and len(left) > 1 and left[-2].isalpha() and right[:1].islower():
        return left[:-1] + right  # a word cut by hyphenation at the line end
    return f"{left} {right}"


def read_text(name: str, data: bytes) -> ParsedDocument:
    """Paragraphs; a short first line is the title; numbered or capitalised lines on their
    own (``2. Financement``, ``2.1 Fonds propres``, ``CONTEXTE``) are headings."""
    text = decode(data).strip()
    if not text:
        raise UnsupportedDocument("no text")
    title = None
    first, _, rest = text.partition("\n")
    if len(first.strip()) <= 150 and rest.strip():
        title, text = first.strip(), rest
    blocks: list[Block] = []
    stack: list[tuple[int, str]] = []
    for paragraph in paragraphs(text):
        level = _heading_level(paragraph)
        if level:
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, paragraph))
        else:
            blocks.append(Block(paragraph, tuple(h for _, h in stack)))
    return ParsedDocument(
        title=title or PurePath(name).stem,
        blocks=blocks,
        media_type="text/plain",
    )


def _heading_level(paragraph: str) -> int:
    if "\n" in paragraph or len(paragraph) > 90 or paragraph[-1] in ".:;,!?":
        return 0
    numbered = _NUMBERED.match(paragraph)
    if numbered:
        return numbered.group(1).count(".") + 1
    letters = [ch for ch in paragraph if ch.isalpha()]
    if len(letters) >= 4 and all(ch.isupper() for ch in letters):
        return 1
    return 0
