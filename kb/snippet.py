"""Snippets: the sentences of a passage that best answer the query, with highlights.

Highlights are character ranges into the snippet's plain text; the UI escapes the
text and wraps the ranges itself, so no markup ever comes from here.
"""

from __future__ import annotations

from kb.query import AnalysedQuery
from kb.text import WORD, fold, sentences
from kb.types import Snippet

SNIPPET_CHARS = 280
STEM_PREFIX = 5


def _matches(word: str, query_terms: set[str]) -> bool:
    if word in query_terms:
        return True
    if len(word) < STEM_PREFIX:
        return False
    return any(
        len(t) >= STEM_PREFIX
        and word[:STEM_PREFIX] == t[:STEM_PREFIX]
        and (
            word.startswith(t[: max(STEM_PREFIX, len(t) - 3)])
            or t.startswith(word[: len(word) - 3])
        )
        for t in query_terms
    )


def highlight_ranges(text: str, query: str | AnalysedQuery) -> list[tuple[int, int]]:
    """Ranges of the words of `text` that match a query word (accents and case folded,
    stop words left out)."""
    if isinstance(query, str):
        query = AnalysedQuery.of(query)
    query_terms = query.highlight_terms
    if not query_terms:
        return []
    prefixes = {t[:STEM_PREFIX] for t in query_terms if len(t) >= STEM_PREFIX}
    return [
        m.span()
        for m in WORD.finditer(fold(text))
        if m.group() in query_terms
        or (m.group()[:STEM_PREFIX] in prefixes and _matches(m.group(), query_terms))
    ]


def _clip(text: str, start: int, end: int) -> tuple[str, int]:
    """text[start:end] cut to SNIPPET_CHARS at word boundaries, with ellipses; offset."""
    if end - start <= SNIPPET_CHARS:
        return text[start:end], start
    cut = text.rfind(" ", start, start + SNIPPET_CHARS)
    cut = cut if cut > start else start + SNIPPET_CHARS
    return text[start:cut].rstrip() + " …", start


def make_snippet(
    text: str, query: str | AnalysedQuery, sentence_scores: list[float] | None = None
) -> Snippet:
    """The best sentence (and its neighbour while it fits) of a passage, highlighted.

    Sentences are ranked by the query words they hold, then by `sentence_scores`
    (semantic similarity, when given), so a passage sharing no word still shows
    the sentence closest in meaning.
    """
    spans = sentences(text) or [(0, len(text))]
    ranges = highlight_ranges(text, query)
    hits = [sum(1 for s, _ in ranges if a <= s < b) for a, b in spans]

    def rank(i: int) -> tuple[float, float, int]:
        semantic = sentence_scores[i] if sentence_scores and i < len(sentence_scores) else 0.0
        return (hits[i], semantic, -i)

    best = max(range(len(spans)), key=rank)
    start, end = spans[best]
    for after in spans[best + 1 :]:
        if after[1] - start > SNIPPET_CHARS:
            break
        end = after[1]
    snippet, offset = _clip(text, start, end)
    prefix = "… " if start > 0 else ""
    if prefix:
        snippet = prefix + snippet
    shift = len(prefix) - offset
    limit = len(snippet)
    marks = [(s + shift, e + shift) for s, e in ranges if s >= start and e + shift <= limit]
    return Snippet(text=snippet, highlights=marks)
