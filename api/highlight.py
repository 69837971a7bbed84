"""Highlighting without markup: plain text is split at ranges; templates escape each part.

`segments("a <b> c", [(2, 5)])` → `[("a ", False), ("<b>", True), (" c", False)]`; the
template writes `<mark>{{ part }}</mark>` for marked parts, so data is never trusted.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

Segment = tuple[str, bool]

_WORD = re.compile(r"\w+")
_STOPWORDS_TEXT = """
    le la les un une des de du d l et ou en au aux a à pour par sur sans avec dans ce
    ces cette qui que quoi est sont comment quel quelle quels quelles ne pas plus se sa son
    ses leur leurs nous vous ils elles il elle on the of and or to in for on with without
    how what which is are an be by at from"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def merge(ranges: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Ranges clamped to [0, length], sorted, overlapping ones merged, empty ones dropped."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(length, e)) for s, e in ranges):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def segments(text: str, ranges: Iterable[tuple[int, int]]) -> list[Segment]:
    """`text` cut into (part, highlighted) pieces at the given [start, end) ranges."""
    out: list[Segment] = []
    cursor = 0
    for start, end in merge(ranges, len(text)):
        if start > cursor:
            out.append((text[cursor:start], False))
        out.append((text[start:end], True))
        cursor = end
    if cursor < len(text):
        out.append((text[cursor:], False))
    return out


def _fold(text: str) -> str:
    """Lower-case and strip accents character by character, keeping offsets aligned."""
    return "".join(
        (unicodedata.normalize("NFKD", ch)[:1] or ch).lower()[:1] or ch for ch in text
    )


def query_terms(query: str) -> list[str]:
    """The words of a query worth highlighting: folded, no stop words, 2+ characters."""
    terms = {w for w in _WORD.findall(_fold(query)) if len(w) > 1 and w not in STOPWORDS}
    return sorted(terms, key=len, reverse=True)


def term_ranges(text: str, query: str) -> list[tuple[int, int]]:
    """Where the query's words (and words starting with them) occur in `text`."""
    terms = query_terms(query)
    if not terms:
        return []
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(t) for t in terms) + r")\w*")
    return [m.span() for m in pattern.finditer(_fold(text))]
