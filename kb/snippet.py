"""Snippets: the sentences of a passage that best answer the query, with highlights.

Highlights are character ranges into the snippet's plain text; the UI escapes the
text and wraps the ranges itself, so no markup ever comes from here.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache

from kb.query import AnalysedQuery
from kb.text import fold, sentences
from kb.types import Snippet

SNIPPET_CHARS = 280
"""A passage this short is its own snippet."""
FRAGMENTS = 2
FRAGMENT_CHARS = 240
"""Most characters of one window of a longer passage."""
EXCERPT_CHARS = 160
"""Most characters of the one window shown of a result's other passage (`make_excerpt`)."""
STEM_PREFIX = 5
ANNOUNCED_CHARS = 120
"""Most characters a window takes beyond FRAGMENT_CHARS for the clause that its last one
announces (a clause ending with a colon: "La règle d'or :"), and for the clauses that
announce its first one."""
QUANTITY = re.compile(
    r"\b(combien|quel(le)?s? (part|taux|montant|budget|cout|prix|nombre|tonnage|somme)"
    r"|how (much|many)|what (share|percentage|proportion|amount|budget|rate)"
    r"|quant[oiae]|cuant[oa]s?|taux|pourcentage|proportion)\b"
)
"""A question that asks for a number (French, English, Italian, Spanish), matched on the
folded query: its sentences holding a figure rank as if they held one more query word."""
DIGIT = re.compile(r"\d")


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
    return [
        m.span()
        for m in _candidates(query_terms).finditer(fold(text))
        if _matches(m.group(), query_terms)
    ]


@lru_cache(maxsize=256)
def _candidates(query_terms: frozenset[str]) -> re.Pattern[str]:
    """The words that may match one of `query_terms`: those starting with a term's
    first STEM_PREFIX letters (the whole term when shorter); `_matches` decides."""
    starts = sorted({t[:STEM_PREFIX] for t in query_terms}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, starts)) + r")\w*")


@lru_cache(maxsize=256)
def _asks_quantity(query: str) -> bool:
    return QUANTITY.search(fold(query)) is not None


def _window(spans: list[tuple[int, int]], first: int, chars: int) -> tuple[int, int]:
    """The sentence `first` and those after it while the whole fits in `chars`."""
    start, end = spans[first]
    for after in spans[first + 1 :]:
        if after[1] - start > chars:
            break
        end = after[1]
    return start, end


def _announced(text: str, spans: list[tuple[int, int]], end: int) -> tuple[int, int]:
    """A window ending `end` and the extra characters it may take: when its last clause
    ends with a colon, the window takes the clause that follows (up to ANNOUNCED_CHARS
    more), since that is what the colon announces."""
    following = [s for s in spans if s[0] >= end]
    if following and text[:end].rstrip().endswith(":"):
        return following[0][1], ANNOUNCED_CHARS
    return end, 0


def _lead_in(text: str, spans: list[tuple[int, int]], first: int) -> int:
    """Where a window starting with sentence `first` starts once it takes the clauses
    that announce it: those just before it that end with a colon ("Chaque projet est
    suivi par un binôme de mentors :", "- Orientation :"), up to ANNOUNCED_CHARS. What
    follows a colon reads as an answer only beside what it answers."""
    start = spans[first][0]
    for before in range(first - 1, -1, -1):
        a, b = spans[before]
        if not text[a:b].rstrip().endswith(":") or spans[first][0] - a > ANNOUNCED_CHARS:
            break
        start = a
    return start


def _clip(text: str, start: int, end: int, chars: int) -> str:
    """text[start:end] cut to `chars` at a word boundary, with an ellipsis."""
    if end - start <= chars:
        return text[start:end]
    cut = text.rfind(" ", start, start + chars)
    cut = cut if cut > start else start + chars
    return text[start:cut].rstrip() + " …"


def make_snippet(
    text: str,
    query: str | AnalysedQuery,
    sentence_scores: list[float] | None = None,
    spans: list[tuple[int, int]] | None = None,
) -> Snippet:
    """The passage's best sentences, each with what follows it while it fits, highlighted.

    Sentences are ranked by the query words they hold, then by `sentence_scores`
    (semantic similarity, when given), so a passage sharing no word still shows the
    sentences closest in meaning. A passage that fits in SNIPPET_CHARS is shown whole;
    a longer one as its FRAGMENTS best windows of FRAGMENT_CHARS, in text order, joined
    by an ellipsis: the best-ranked sentence is often the one beside the answer. Around
    a colon a window keeps both sides: the clauses announcing its first sentence and
    the clause its last one announces.
    `spans` are `kb.text.sentences(text)`, when the caller has them.
    """
    return _snippet(text, query, sentence_scores, spans, FRAGMENTS, FRAGMENT_CHARS, SNIPPET_CHARS)


def make_excerpt(
    text: str,
    query: str | AnalysedQuery,
    sentence_scores: list[float] | None = None,
    spans: list[tuple[int, int]] | None = None,
) -> Snippet:
    """A shorter snippet, for another passage of a result's document: its best window of
    EXCERPT_CHARS (the whole passage when it fits), ranked as `make_snippet` ranks."""
    return _snippet(text, query, sentence_scores, spans, 1, EXCERPT_CHARS, EXCERPT_CHARS)


def _snippet(
    text: str,
    query: str | AnalysedQuery,
    sentence_scores: list[float] | None,
    spans: list[tuple[int, int]] | None,
    fragments: int,
    fragment_chars: int,
    whole_chars: int,
) -> Snippet:
    """`fragments` windows of `fragment_chars` of `text`, or all of it when it fits in
    `whole_chars` (see `make_snippet`)."""
    if isinstance(query, str):
        query = AnalysedQuery.of(query)
    spans = (spans if spans is not None else sentences(text)) or [(0, len(text))]
    ranges = highlight_ranges(text, query)
    limits: dict[int, int] = {}
    if len(text) <= whole_chars:
        windows = [(spans[0][0], spans[-1][1])]
    else:
        starts = [s for s, _ in ranges]  # in text order
        hits = [bisect_left(starts, b) - bisect_left(starts, a) for a, b in spans]
        if _asks_quantity(query.text):
            figures = [bool(DIGIT.search(text, a, b)) for a, b in spans]
            hits = [h + f for h, f in zip(hits, figures, strict=True)]

        def rank(i: int) -> tuple[float, float, int]:
            semantic = sentence_scores[i] if sentence_scores and i < len(sentence_scores) else 0.0
            return (hits[i], semantic, -i)

        windows = []
        for best in sorted(range(len(spans)), key=rank, reverse=True):
            if len(windows) == fragments:
                break
            if any(a <= spans[best][0] < b for a, b in windows):
                continue
            start, end = _window(spans, best, fragment_chars)
            end, extra = _announced(text, spans, end)
            lead = _lead_in(text, spans, best)
            if any(a <= lead < b for a, b in windows):
                lead = start
            start, limits[lead] = lead, extra + start - lead
            later = [a for a, _ in windows if a > start]
            windows.append((start, min([end, *later])))
        windows.sort()
    parts: list[str] = []
    marks: list[tuple[int, int]] = []
    length = 0
    for start, end in windows:
        prefix = "… " if start > 0 and not (parts and parts[-1].endswith("…")) else ""
        separator = " " if parts else ""
        chars = fragment_chars if len(windows) > 1 else whole_chars
        piece = _clip(text, start, end, chars + limits.get(start, 0))
        offset = length + len(separator) + len(prefix)
        kept = len(piece.removesuffix(" …"))
        marks += [
            (s - start + offset, e - start + offset)
            for s, e in ranges
            if start <= s and e - start <= kept
        ]
        parts.append(separator + prefix + piece)
        length += len(parts[-1])
    return Snippet(text="".join(parts), highlights=marks)
