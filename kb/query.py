"""A query analysed once: its words, their stems, the full-text expression and the
terms to highlight, passed down to every leg and to the snippets."""

from __future__ import annotations

from dataclasses import dataclass

from kb.analysis import QUERY_LANGUAGES, content_words, query_stems, query_words, stemmer
from kb.lexicon import Lexicon


@dataclass(frozen=True)
class AnalysedQuery:
    text: str
    words: tuple[str, ...]
    """Content words, folded (all the words when none is a content word)."""
    stems: tuple[str, ...]
    """Distinct stems of `words` in every query language."""
    highlight_terms: frozenset[str]
    """Content words of three letters or more, and numbers."""
    translated: tuple[str, ...] = ()
    """Stems of the words' dictionary translations into the other languages (not in
    `stems`), searched in the stems column like `stems`."""
    translated_into: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """The languages each of `translated` is a translation into: (stem, languages)
    pairs. A leg that knows its passages' languages weighs a translation more in a
    passage of its language (`kb.bm25`)."""

    @classmethod
    def of(cls, text: str, lexicon: Lexicon | None = None) -> AnalysedQuery:
        words = tuple(query_words(text))
        stems = tuple(query_stems(text))
        into = lexicon.translate(words) if lexicon else {}
        languages: dict[str, set[str]] = {}
        for language, found in into.items():
            for stem in found:
                languages.setdefault(stem, set()).add(language)
        translated = sorted(s for s in languages if s not in stems)
        return cls(
            text=text,
            words=words,
            stems=stems,
            highlight_terms=frozenset(t for t in content_words(text) if len(t) > 2 or t.isdigit()),
            translated=tuple(translated),
            translated_into=tuple((s, tuple(sorted(languages[s]))) for s in translated),
        )

    @property
    def terms(self) -> list[str]:
        """Words and stems, for a vocabulary look-up."""
        return list(dict.fromkeys(self.words + self.stems))

    def match_expression(self) -> str | None:
        """The FTS5 MATCH expression: the words in the title, heading and text columns,
        or their stems in the stems column. Every word is quoted, so operators and
        punctuation (`C++`, `"`, `NEAR(`, `*`, `-`) are plain text and never raise."""
        if not self.words:
            return None
        return (
            f"{{title heading text}} : ({_any_of(self.words)}) "
            f"OR stems : ({_any_of(self.stems + self.translated)})"
        )

    def coverage(self, known: set[str]) -> float:
        """Share of the words found in an index's vocabulary `known`, as such or by one
        of their stems."""
        if not self.words:
            return 0.0
        hits = 0
        for word in self.words:
            forms = {word, *(stemmer(lang).stemWord(word) for lang in QUERY_LANGUAGES)}
            hits += bool(forms & known)
        return hits / len(self.words)


def _any_of(words: tuple[str, ...]) -> str:
    return " OR ".join(f'"{w}"' for w in words)
