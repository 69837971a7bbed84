"""Text split into tokens exactly as SQLite FTS5's `unicode61 remove_diacritics 2` does.

The in-memory lexical index (`kb.bm25`) must see the same tokens as the full-text table
(`kb.fts`) for both to rank alike. unicode61 keeps letters, numbers and private-use
characters (an underscore separates), lower-cases them and drops diacritics with its own
tables (Greek accents stay, `ς` becomes `σ`), which Python's Unicode data does not
reproduce; so what it makes of each character is asked of SQLite itself, once per
character met, and kept.
"""

from __future__ import annotations

import re
import sqlite3
import threading

ASCII_TOKEN = re.compile(r"[a-z0-9]+")
"""unicode61's tokens in ASCII text (lower-cased first)."""


class _Unicode61(dict[int, str]):
    """code point → its folded form inside a token ('' for a diacritic unicode61 drops),
    or a space for a separator: filled from SQLite as characters are met (str.translate)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            "CREATE VIRTUAL TABLE t USING fts5(x, tokenize = 'unicode61 remove_diacritics 2')"
        )
        self._db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")

    def __missing__(self, code: int) -> str:
        with self._lock:
            try:
                self._db.execute("DELETE FROM t")
                self._db.execute("INSERT INTO t (rowid, x) VALUES (1, ?)", (f"a{chr(code)}a",))
                found = [r[0] for r in self._db.execute("SELECT term FROM v ORDER BY offset")]
            except (sqlite3.Error, UnicodeEncodeError):  # a NUL or a lone surrogate
                found = []
        inside = len(found) == 1 and found[0][:1] == "a" and found[0][-1:] == "a"
        folded = self[code] = found[0][1:-1] if inside else " "
        return folded


_UNICODE61 = _Unicode61()


def tokens(text: str) -> list[str]:
    """The tokens FTS5 (`unicode61 remove_diacritics 2`) indexes of `text`, in order."""
    if text.isascii():
        return ASCII_TOKEN.findall(text.lower())
    return text.translate(_UNICODE61).split()
