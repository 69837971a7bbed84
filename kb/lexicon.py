"""Query translation with bilingual dictionaries, for the lexical leg.

A partner asks in French about a workshop noted in Italian: the embedding model links
the two languages only loosely, and the words of the question are not in the notes.
Each content word of the query is looked up in FreeDict's dictionaries (Debian's
`dict-freedict-*` packages, dictd format, in `/usr/share/dictd` by default) between
the languages of the partners' documents, in both directions, and its first
translations are searched too, stemmed in their language like the `stems` column of
a passage in that language.

A look-up is by Snowball stem in the source language, so `vêtements` finds the entry
`vêtement`. A query does not say its language: every word is looked up from every
language; a word that is no entry of a language (most of them) adds nothing.
"""

from __future__ import annotations

import gzip
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path

from kb.analysis import stemmer, stop_words
from kb.text import WORD, fold

log = logging.getLogger(__name__)

LANGUAGES = {"fra": "fr", "eng": "en", "ita": "it", "spa": "es"}
"""FreeDict's language codes, for the languages of the partners' documents."""
TRANSLATIONS_PER_WORD = 2
"""First translations kept per entry (a dictionary lists the usual sense first)."""
FILE = re.compile(r"freedict-([a-z]{3})-([a-z]{3})\.index$")
SENSE = re.compile(r"^\s*\d+\.\s*")
TRAILING_SENSE = re.compile(r"\s+\d+\.\s*$")
BASE64 = {
    c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}


def _number(text: str) -> int:
    """A dictd index number (base 64, most significant digit first)."""
    value = 0
    for char in text:
        value = value * 64 + BASE64[char]
    return value


def translations_of(entry: str) -> list[str]:
    """The translations in a FreeDict entry: the line after the headword line, and
    each numbered sense (`1. discarica`); the gloss lines that follow a sense, written
    in the source language, are left out."""
    out: list[str] = []
    for number, line in enumerate(entry.split("\n")[1:]):
        if number > 0 and not SENSE.match(line):
            continue
        line = TRAILING_SENSE.sub("", SENSE.sub("", line))
        out.extend(t.strip() for t in re.split(r"[,;]", line) if t.strip())
    return out


def read_dictd(index: Path) -> Iterator[tuple[str, list[str]]]:
    """(headword, translations) of a dictd dictionary: `NAME.index` beside
    `NAME.dict.dz` (dictzip, which gzip reads) or `NAME.dict`."""
    packed = index.with_suffix(".dict.dz")
    if packed.exists():
        data = gzip.decompress(packed.read_bytes())
    else:
        data = index.with_suffix(".dict").read_bytes()
    for line in index.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or parts[0].startswith("00-database"):
            continue
        start, length = _number(parts[1]), _number(parts[2])
        entry = data[start : start + length].decode("utf-8", "replace")
        yield parts[0], translations_of(entry)


def _single_word(text: str) -> str | None:
    found = WORD.findall(fold(text))
    return found[0] if len(found) == 1 else None


class Lexicon:
    """Translations between the partners' languages, by source-language stem."""

    def __init__(self, pairs: dict[tuple[str, str], dict[str, list[str]]]) -> None:
        self.pairs = pairs

    @classmethod
    def load(cls, folder: Path) -> Lexicon:
        """Every FreeDict dictionary in `folder` between two of LANGUAGES, read both
        ways. An unreadable file is logged and skipped."""
        pairs: dict[tuple[str, str], dict[str, list[str]]] = {}
        for index in sorted(folder.glob("freedict-*.index")):
            codes = FILE.search(index.name)
            if not codes or codes.group(1) not in LANGUAGES or codes.group(2) not in LANGUAGES:
                continue
            source, target = LANGUAGES[codes.group(1)], LANGUAGES[codes.group(2)]
            try:
                entries = list(read_dictd(index))
            except (OSError, ValueError, KeyError, EOFError) as error:
                log.warning("dictionary %s skipped: %s", index, error)
                continue
            forward = pairs.setdefault((source, target), {})
            backward = pairs.setdefault((target, source), {})
            for headword, translations in entries:
                word = _single_word(headword)
                if word is None:
                    continue
                kept = translations[:TRANSLATIONS_PER_WORD]
                _add(forward, stemmer(source).stemWord(word), kept)
                for translation in kept:
                    other = _single_word(translation)
                    if other is not None:
                        _add(backward, stemmer(target).stemWord(other), [headword])
        return cls(pairs)

    def __bool__(self) -> bool:
        return any(self.pairs.values())

    def translate(self, words: Iterable[str]) -> dict[str, set[str]]:
        """Per target language, the stems of the translations of `words` (folded
        content words), stop words left out."""
        words = list(words)
        out: dict[str, set[str]] = {}
        for (source, target), table in self.pairs.items():
            stem = stemmer(source).stemWord
            for word in words:
                for translation in table.get(stem(word), ()):
                    for part in WORD.findall(fold(translation)):
                        if len(part) > 2 and part not in stop_words(target):
                            out.setdefault(target, set()).add(stemmer(target).stemWord(part))
        return out

    def translated_stems(self, words: Iterable[str]) -> list[str]:
        """Every translation stem of `words`, in any language, sorted."""
        return sorted(set().union(*self.translate(words).values()))


def _add(table: dict[str, list[str]], key: str, values: Iterable[str]) -> None:
    known = table.setdefault(key, [])
    for value in values:
        if value not in known and len(known) < TRANSLATIONS_PER_WORD * 2:
            known.append(value)


_loading = threading.Lock()


@cache
def _cached(folder: str) -> Lexicon:
    path = Path(folder)
    if not path.is_dir():
        log.info("no dictionary folder %s: queries are not translated", path)
        return Lexicon({})
    return Lexicon.load(path)


def lexicon_at(folder: str | Path | None) -> Lexicon:
    """The lexicon of `folder`, read once per process; an empty one for None."""
    if not folder:
        return Lexicon({})
    with _loading:
        return _cached(str(folder))
