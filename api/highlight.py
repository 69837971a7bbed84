"""Highlighting without markup: plain text is split at ranges; templates escape each part.

`segments("a <b> c", [(2, 5)])` → `[("a ", False), ("<b>", True), (" c", False)]`; the
template writes `<mark>{{ part }}</mark>` for marked parts, so data is never trusted.
"""

from __future__ import annotations

from collections.abc import Iterable

from kb import highlight_ranges

Segment = tuple[str, bool]


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


def term_ranges(text: str, query: str) -> list[tuple[int, int]]:
    """Where the query's words occur in `text`: the knowledge base's own matching, the
    same as in search snippets."""
    return highlight_ranges(text, query)
