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
import hashlib
import json
import logging
import os
import re
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path

from kb.analysis import stemmer, stop_words
from kb.e5_convert import cache_dir
from kb.text import WORD, fold

log = logging.getLogger(__name__)

LANGUAGES = {"fra": "fr", "eng": "en", "ita": "it", "spa": "es"}
"""FreeDict's language codes, for the languages of the partners' documents."""
SOURCES = tuple(LANGUAGES.values())
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


Pairs = dict[tuple[str, str], dict[str, tuple[str, ...]]]
"""(source, target) language → source stem → target stems."""
SCHEMA = (
    "CREATE TABLE translation (key TEXT NOT NULL, target TEXT NOT NULL, stems TEXT NOT NULL, "
    "PRIMARY KEY (key, target)) WITHOUT ROWID"
)
CACHE_LAYOUT = 2


class Lexicon:
    """Translations between the partners' languages, kept in SQLite: a query looks up
    a few stems, so nothing is held in memory and nothing is read at start."""

    def __init__(self, db: sqlite3.Connection | None = None) -> None:
        self.db = db
        self._lock = threading.Lock()

    @classmethod
    def load(cls, folder: Path, path: str = ":memory:") -> Lexicon:
        """Every FreeDict dictionary in `folder` between two of LANGUAGES, read both
        ways into a SQLite database at `path`. An unreadable file is logged and
        skipped."""
        db = sqlite3.connect(path, check_same_thread=False)
        db.execute(SCHEMA)
        for (source, target), table in read_pairs(folder).items():
            db.executemany(
                "INSERT INTO translation VALUES (?, ?, ?)",
                ((f"{source} {stem}", target, " ".join(stems)) for stem, stems in table.items()),
            )
        db.commit()
        return cls(db)

    def __bool__(self) -> bool:
        return self.db is not None

    def translate(self, words: Iterable[str]) -> dict[str, set[str]]:
        """Per target language, the stems of the translations of `words` (folded
        content words)."""
        if self.db is None:
            return {}
        words = list(words)
        keys = list({f"{lang} {_stem(lang, w)}" for lang in SOURCES for w in words})
        if not keys:
            return {}
        with self._lock:
            rows = self.db.execute(
                f"SELECT target, stems FROM translation WHERE key IN ({','.join('?' * len(keys))})",
                keys,
            ).fetchall()
        out: dict[str, set[str]] = {}
        for target, stems in rows:
            out.setdefault(target, set()).update(stems.split())
        return out


def read_pairs(folder: Path) -> Pairs:
    """The dictionaries of `folder` as (source, target) → source stem → target stems,
    each dictionary read forwards and backwards."""
    pairs: Pairs = {}
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
            key = _stem(source, word)
            kept = translations[:TRANSLATIONS_PER_WORD]
            _add(forward, key, [s for t in kept for s in _stems(target, t)])
            for translation in kept:
                other = _single_word(translation)
                if other is not None:
                    _add(backward, _stem(target, other), [key])
    return pairs


def _stem(language: str, word: str) -> str:
    return stemmer(language).stemWord(word)


def _stems(language: str, text: str) -> list[str]:
    """Stems of the content words of a translation (`item of clothing` → item, cloth)."""
    stops = stop_words(language)
    return [_stem(language, w) for w in WORD.findall(fold(text)) if len(w) > 2 and w not in stops]


def _add(table: dict[str, tuple[str, ...]], key: str, stems: Iterable[str]) -> None:
    known = table.get(key, ())
    extra = tuple(s for s in dict.fromkeys(stems) if s not in known)
    if extra:
        table[key] = (known + extra)[: TRANSLATIONS_PER_WORD * 3]


_loading = threading.Lock()


def _signature(folder: Path) -> str:
    """What the compiled lexicon depends on: the dictionary files and how they are read."""
    files = sorted(
        (p.name, p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.glob("freedict-*")
        if p.is_file()
    )
    text = json.dumps([CACHE_LAYOUT, TRANSLATIONS_PER_WORD, str(folder.resolve()), files])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _compiled(folder: Path) -> Lexicon:
    """The lexicon of `folder`, compiled once into a SQLite file of the cache folder
    (reading and stemming the dictionaries takes seconds); in memory when the cache
    folder cannot be written."""
    cached = cache_dir() / f"lexicon-{_signature(folder)}.sqlite"
    if not cached.exists():
        temporary: Path | None = None
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=cached.parent, suffix=".tmp")
            os.close(handle)
            temporary = Path(name)
            Lexicon.load(folder, name).db.close()  # type: ignore[union-attr]
            os.replace(temporary, cached)
        except (OSError, sqlite3.Error) as error:
            if temporary is not None:
                temporary.unlink(missing_ok=True)
            log.info("lexicon not cached in %s (%s): kept in memory", cached, error)
            return Lexicon.load(folder)
    uri = f"{cached.as_uri()}?mode=ro"
    return Lexicon(sqlite3.connect(uri, uri=True, check_same_thread=False))


@cache
def _cached(folder: str) -> Lexicon:
    path = Path(folder)
    if not path.is_dir() or not any(path.glob("freedict-*.index")):
        log.info("no dictionaries in %s: queries are not translated", path)
        return Lexicon()
    return _compiled(path)


def lexicon_at(folder: str | Path | None) -> Lexicon:
    """The lexicon of `folder`, opened once per process; an empty one for None."""
    if not folder:
        return Lexicon()
    with _loading:
        return _cached(str(folder))
