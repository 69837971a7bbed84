"""The embedded lexical leg: SQLite FTS5 in the knowledge base's own file.

Passages are indexed with their title, heading path, text and French-aware stems
(`kb.analysis`), in the same SQLite transaction as the passages themselves: the leg
is always at the state of the truth, so its `commit` has nothing to do. BM25 weighs
the columns by `WEIGHTS`; filters are SQL on the documents table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from kb.analysis import stems
from kb.backend import PassageFields, PassageText
from kb.filters import filter_sql
from kb.query import AnalysedQuery
from kb.store import Store
from kb.types import Filters

SCHEMA = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5("
    "title, heading, text, stems, tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, 'row')",
)
WEIGHTS = (0.5, 0.5, 1.0, 1.0)
"""BM25 weights of the title, heading, text and stems columns."""
COMMON_TRANSLATION = 0.02
"""A query's translated stem found in more than this share of the passages (and more
than COMMON_FLOOR of them) is not searched: it says little and costs the most."""
COMMON_FLOOR = 100


IndexedRow = tuple[int, str, str, str, str]
"""A row of `chunks_fts`: rowid (the passage id), title, heading, text, stems."""


def indexed_rows(ids: np.ndarray, passages: Sequence[PassageText]) -> list[IndexedRow]:
    """What the full-text index holds of each passage, its columns in `WEIGHTS` order."""
    return [
        (
            int(i),
            p.title,
            p.heading,
            p.text,
            stems(f"{p.title}\n{p.heading}\n{p.text}", p.language),
        )
        for i, p in zip(ids, passages, strict=True)
    ]


class FtsLexical:
    """FTS5 over the passages of one `Store`: writes go through its writer connection
    inside the facade's transaction, searches through the calling thread's snapshot."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._passages: tuple[str, int] | None = None
        for statement in SCHEMA:  # not executescript: it would commit a caller's transaction
            store.writer.execute(statement)

    def add(
        self, ids: np.ndarray, passages: Sequence[PassageText], fields: Sequence[PassageFields]
    ) -> None:
        self.insert(indexed_rows(ids, passages))

    def insert(self, rows: Sequence[IndexedRow]) -> None:
        self.store.writer.executemany(
            "INSERT INTO chunks_fts (rowid, title, heading, text, stems) VALUES (?, ?, ?, ?, ?)",
            rows,
        )

    def remove(self, ids: np.ndarray) -> None:
        self.store.writer.executemany(
            "DELETE FROM chunks_fts WHERE rowid = ?", [(int(i),) for i in ids]
        )

    def search(
        self, query: AnalysedQuery, k: int, filters: Filters | None = None
    ) -> list[tuple[int, float]]:
        if query.translated:
            query = replace(query, translated=self._selective(query.translated))
        match = query.match_expression()
        if match is None:
            return []
        weights = ", ".join(str(float(w)) for w in WEIGHTS)
        if filters is None or filters.is_empty():
            sql = (
                f"SELECT rowid, bm25(chunks_fts, {weights}) AS rank FROM chunks_fts "
                "WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?"
            )
            params: list[object] = [match, k]
        else:
            where, params = filter_sql(filters)
            sql = (
                f"SELECT f.rowid, bm25(chunks_fts, {weights}) AS rank FROM chunks_fts f "
                "JOIN chunks c ON c.id = f.rowid JOIN documents d ON d.id = c.document_id "
                f"WHERE chunks_fts MATCH ? AND {where} ORDER BY rank LIMIT ?"
            )
            params = [match, *params, k]
        rows = self.store.reader.execute(sql, params).fetchall()
        return [(int(r[0]), -float(r[1])) for r in rows]

    def _selective(self, stems: Sequence[str]) -> tuple[str, ...]:
        """The translated stems worth searching: those in the index and not common."""
        reader = self.store.reader
        state = self.store.state(reader)
        if self._passages is None or self._passages[0] != state:
            count = reader.execute("SELECT count(*) FROM chunks_fts_docsize").fetchone()[0]
            self._passages = (state, int(count))
        limit = max(COMMON_FLOOR, COMMON_TRANSLATION * self._passages[1])
        rows = reader.execute(
            f"SELECT term, doc FROM chunks_vocab WHERE term IN ({','.join('?' * len(stems))})",
            list(stems),
        )
        return tuple(sorted(term for term, documents in rows if documents <= limit))

    def known_terms(self, query: AnalysedQuery) -> set[str]:
        terms = query.terms
        if not terms:
            return set()
        rows = self.store.reader.execute(
            f"SELECT term FROM chunks_vocab WHERE term IN ({','.join('?' * len(terms))})",
            terms,
        )
        return {r[0] for r in rows}

    def state(self) -> str | None:
        return self.store.state()

    def commit(self, state: str) -> None:
        """Nothing to do: the rows were written in the passages' own transaction."""

    def discard(self) -> None:
        """Nothing to do: the transaction's rollback took the rows back."""

    def ids(self) -> np.ndarray:
        rows = self.store.reader.execute("SELECT rowid FROM chunks_fts ORDER BY rowid").fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def reset(self) -> None:
        self.store.writer.execute("DELETE FROM chunks_fts")

    def flush(self) -> None:
        """Nothing to do: SQLite made it durable at commit."""

    def close(self) -> None:
        """The store closes the connection."""
