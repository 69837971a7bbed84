"""French-aware lexical analysis for the stemmed full-text column.

Words are accent-folded, elisions (`l'`, `d'`, `qu'`…) split off, stop words dropped
and Snowball-stemmed in the document's language. A query does not say its language,
so its words are stemmed in French and English and both forms are searched.
"""

from __future__ import annotations

from functools import cache

import Stemmer
from stop_words import get_stop_words

from kb.text import WORD, fold

STEMMERS = {
    "fr": "french",
    "en": "english",
    "es": "spanish",
    "it": "italian",
    "de": "german",
    "nl": "dutch",
    "pt": "portuguese",
    "ca": "catalan",
    "da": "danish",
}
QUERY_LANGUAGES = ("fr", "en")


@cache
def stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(STEMMERS.get(language, "french"))


@cache
def stop_words(language: str) -> frozenset[str]:
    try:
        words = get_stop_words(language)
    except Exception:  # noqa: BLE001 - a language without a list has no stop words
        words = []
    return frozenset(fold(w) for w in words)


def words(text: str, language: str) -> list[str]:
    """Folded words of `text` without stop words; elisions fall off as 1-letter words."""
    stops = stop_words(language)
    return [w for w in WORD.findall(fold(text)) if len(w) > 1 and w not in stops]


def stems(text: str, language: str | None) -> str:
    """The stemmed text indexed for a passage in `language` (French when unknown)."""
    language = language if language in STEMMERS else "fr"
    return " ".join(stemmer(language).stemWords(words(text, language)))


@cache
def query_stop_words() -> frozenset[str]:
    """The stop words of every query language (their union took 50 µs, three times a
    search)."""
    return frozenset().union(*(stop_words(lang) for lang in QUERY_LANGUAGES))


def content_words(query: str) -> list[str]:
    """Distinct folded words of a query, without the stop words of any query language."""
    stops = query_stop_words()
    every = dict.fromkeys(WORD.findall(fold(query)))
    return [w for w in every if (len(w) > 1 or w.isdigit()) and w not in stops]


def query_words(query: str) -> list[str]:
    """The content words of a query, or all its words when it has none."""
    return content_words(query) or list(dict.fromkeys(WORD.findall(fold(query))))


def query_stems(query: str) -> list[str]:
    """Distinct stems of a query's words, in French and in English."""
    kept = query_words(query)
    seen: dict[str, None] = {}
    for language in QUERY_LANGUAGES:
        for stem in stemmer(language).stemWords(kept):
            seen.setdefault(stem, None)
    return list(seen)
