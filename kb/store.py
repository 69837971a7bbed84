"""SQLite, the truth: documents, chunks, their vectors, full-text index and meta.

One writer connection (used under the knowledge base's write lock) and one
read connection per thread; WAL mode gives every read a consistent snapshot.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from kb.backend import PassageFields, PassageText
from kb.filters import filter_sql
from kb.sentences import SentenceVectors, unpack
from kb.types import Chunk, Document, Filters, Theme

SCHEMA_VERSION = 3  # 3: practice cards, trips, query log (kb.practices, kb.trips, kb.query_log)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    kind_detected INTEGER NOT NULL DEFAULT 0,
    language TEXT,
    trip TEXT,
    trip_name TEXT,
    city TEXT,
    country TEXT,
    date TEXT,
    year INTEGER,
    themes TEXT NOT NULL DEFAULT '[]',
    themes_detected INTEGER NOT NULL DEFAULT 0,
    organisations TEXT NOT NULL DEFAULT '[]',
    authors TEXT NOT NULL DEFAULT '[]',
    source TEXT,
    path TEXT,
    sha256 TEXT,
    media_type TEXT,
    ingested_at TEXT NOT NULL,
    date_source TEXT
);
CREATE INDEX IF NOT EXISTS documents_sha256 ON documents(sha256);
CREATE TABLE IF NOT EXISTS document_themes (
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    theme TEXT NOT NULL,
    PRIMARY KEY (document_id, theme)
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    heading TEXT NOT NULL DEFAULT '[]',
    page INTEGER,
    text TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_document ON chunks(document_id, position);
-- a passage's document, read without its row (text and vector: pages of their own)
CREATE INDEX IF NOT EXISTS chunks_id_document ON chunks(id, document_id);
CREATE TABLE IF NOT EXISTS chunk_sentences (
    chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
    spans BLOB NOT NULL,
    vectors BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS removed_chunks (
    id INTEGER PRIMARY KEY,
    generation INTEGER NOT NULL,
    language TEXT,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS removed_chunks_generation ON removed_chunks(generation);
CREATE TABLE IF NOT EXISTS themes (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    label_fr TEXT NOT NULL,
    label_en TEXT NOT NULL,
    description TEXT NOT NULL,
    vector BLOB
);
CREATE TABLE IF NOT EXISTS originals (sha256 TEXT PRIMARY KEY, content BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS practice_cards (
    document_id TEXT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    is_practice INTEGER NOT NULL,
    title TEXT,
    fields TEXT NOT NULL DEFAULT '{}',
    page INTEGER
);
CREATE TABLE IF NOT EXISTS trips (
    slug TEXT PRIMARY KEY,
    name TEXT,
    city TEXT,
    country TEXT,
    start TEXT,
    end_date TEXT,
    organisations TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS query_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    query TEXT NOT NULL,
    results INTEGER NOT NULL,
    low_confidence INTEGER NOT NULL,
    themes TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS query_log_at ON query_log(at);
CREATE TABLE IF NOT EXISTS query_opens (
    query_id INTEGER NOT NULL REFERENCES query_log(id) ON DELETE CASCADE,
    document_id TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS query_opens_query ON query_opens(query_id);
"""

DOCUMENT_COLUMNS = (
    "id, title, kind, kind_detected, language, trip, trip_name, city, country, date, "
    "themes, themes_detected, organisations, authors, source, path, sha256, media_type, "
    "ingested_at, date_source"
)


REMOVALS_KEPT = 200
"""Writes whose removed chunks stay noted: a process further behind counts anew."""
IN_BATCH = 500
"""Ids bound in one `IN (…)` list."""


def _among(
    db: sqlite3.Connection, select: str, column: str, ids: Sequence, then: str = ""
) -> Iterator[sqlite3.Row]:
    """The rows of `select … WHERE column IN (ids) then`, IN_BATCH ids at a time (numpy
    integers bound as Python ones)."""
    for start in range(0, len(ids), IN_BATCH):
        batch = [i if isinstance(i, str) else int(i) for i in ids[start : start + IN_BATCH]]
        marks = ",".join("?" * len(batch))
        yield from db.execute(f"{select} WHERE {column} IN ({marks}) {then}", batch)


def _vector_runs(
    rows: Iterable[tuple[Any, str | None, bytes]], dim: int
) -> Iterator[tuple[str | None, np.ndarray]]:
    """(label, vectors) of each run of (key, label, vector blob) rows sharing a key."""
    current, label, blobs = None, None, []
    for key, row_label, blob in rows:
        if key != current and blobs:
            yield label, np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(-1, dim)
            blobs = []
        current, label = key, row_label
        blobs.append(blob)
    if blobs:
        yield label, np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(-1, dim)


def _document(row: sqlite3.Row) -> Document:
    return Document(
        id=row["id"],
        title=row["title"],
        kind=row["kind"],
        kind_detected=bool(row["kind_detected"]),
        language=row["language"],
        trip=row["trip"],
        trip_name=row["trip_name"],
        city=row["city"],
        country=row["country"],
        date=row["date"],
        themes=json.loads(row["themes"]),
        themes_detected=bool(row["themes_detected"]),
        organisations=json.loads(row["organisations"]),
        authors=json.loads(row["authors"]),
        source=row["source"],
        path=row["path"],
        sha256=row["sha256"],
        media_type=row["media_type"],
        ingested_at=row["ingested_at"],
        date_source=row["date_source"],
    )


@dataclass(frozen=True)
class PassageRow:
    id: int
    fields: PassageFields
    text: PassageText


class Store:
    """The SQLite file of one knowledge base."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._writer = self._connect()
        self._writer.executescript(SCHEMA)
        with self.transaction() as db:
            columns = {r[1] for r in db.execute("PRAGMA table_info(documents)")}
            if "date_source" not in columns:  # a base made before the column existed
                db.execute("ALTER TABLE documents ADD COLUMN date_source TEXT")
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            db.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; a commit costs no fsync
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA busy_timeout = 10000")
        return db

    @property
    def writer(self) -> sqlite3.Connection:
        """The writer connection: used under the knowledge base's write lock only."""
        return self._writer

    @property
    def reader(self) -> sqlite3.Connection:
        """This thread's read connection."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._connect()
        return db

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same state."""
        db = self.reader
        db.execute("BEGIN")
        try:
            yield db
        finally:
            db.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction on the writer connection; callers hold the write lock."""
        db = self._writer
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        self._writer.close()
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # meta

    def meta(self, key: str, db: sqlite3.Connection | None = None) -> str | None:
        row = (db or self.reader).execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def generation(self, db: sqlite3.Connection | None = None) -> int:
        return int(self.meta("generation", db) or 0)

    def state(self, db: sqlite3.Connection | None = None) -> str:
        """'epoch:generation': the generation counts every write; the epoch, every
        re-embedding of the vectors (a derived index of another epoch is rebuilt)."""
        db = db or self.reader
        return f"{self.meta('epoch', db) or 0}:{self.generation(db)}"

    def bump_epoch(self, db: sqlite3.Connection) -> None:
        self.set_meta(db, "epoch", str(int(self.meta("epoch", db) or 0) + 1))

    def bump_generation(self, db: sqlite3.Connection) -> int:
        generation = self.generation(db) + 1
        self.set_meta(db, "generation", str(generation))
        return generation

    # documents

    def put_document(
        self,
        db: sqlite3.Connection,
        document: Document,
        vectors: np.ndarray,
        sentence_vectors: Sequence[tuple[bytes, bytes]] = (),
    ) -> list[int]:
        """Replace the document of that id with this one and its chunks; new chunk ids.
        `sentence_vectors`: per chunk, its packed sentence spans and vectors."""
        self.delete_document(db, document.id)
        ingested = document.ingested_at or datetime.now(UTC).isoformat(timespec="seconds")
        db.execute(
            f"INSERT INTO documents ({DOCUMENT_COLUMNS}, year) VALUES ({','.join('?' * 21)})",
            (
                document.id,
                document.title,
                document.kind,
                int(document.kind_detected),
                document.language,
                document.trip,
                document.trip_name,
                document.city,
                document.country,
                document.date,
                json.dumps(document.themes),
                int(document.themes_detected),
                json.dumps(document.organisations),
                json.dumps(document.authors),
                document.source,
                document.path,
                document.sha256,
                document.media_type,
                ingested,
                document.date_source,
                document.year,
            ),
        )
        db.executemany(
            "INSERT OR IGNORE INTO document_themes VALUES (?, ?)",
            [(document.id, theme) for theme in document.themes],
        )
        if document.original is not None and document.sha256:
            db.execute(
                "INSERT OR IGNORE INTO originals VALUES (?, ?)",
                (document.sha256, document.original),
            )
        ids: list[int] = []
        last = self.last_chunk_id(db)
        for chunk, vector in zip(document.chunks, vectors, strict=True):
            last += 1
            db.execute(
                "INSERT INTO chunks (id, document_id, position, heading, page, text, vector) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    last,
                    document.id,
                    chunk.position,
                    json.dumps(list(chunk.heading_path), ensure_ascii=False),
                    chunk.page,
                    chunk.text,
                    np.asarray(vector, dtype=np.float32).tobytes(),
                ),
            )
            chunk_id = last
            ids.append(chunk_id)
            if sentence_vectors:
                db.execute(
                    "INSERT INTO chunk_sentences VALUES (?, ?, ?)",
                    (chunk_id, *sentence_vectors[len(ids) - 1]),
                )
        self.set_meta(db, "last_chunk_id", str(last))
        return ids

    def last_chunk_id(self, db: sqlite3.Connection) -> int:
        """The highest chunk id ever given: ids are never reused, so a derived index
        that holds an id holds that very passage."""
        stored = int(self.meta("last_chunk_id", db) or 0)
        highest = db.execute("SELECT max(id) FROM chunks").fetchone()[0] or 0
        return max(stored, int(highest))

    def delete_document(self, db: sqlite3.Connection, doc_id: str) -> list[int]:
        """Remove a document and its chunks; the removed chunk ids (empty if absent).
        The chunks are noted in `removed_chunks` with the generation this write makes
        (the last REMOVALS_KEPT generations' are kept), for other processes to catch
        up on them alone (`removed_ids`, `removed_vectors`)."""
        ids = [r[0] for r in db.execute("SELECT id FROM chunks WHERE document_id = ?", (doc_id,))]
        if ids:
            generation = self.generation(db) + 1
            db.execute(
                "INSERT OR REPLACE INTO removed_chunks SELECT c.id, ?, d.language, c.vector "
                "FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.id = ?",
                (generation, doc_id),
            )
            db.execute(
                "DELETE FROM removed_chunks WHERE generation <= ?",
                (generation - REMOVALS_KEPT,),
            )
        sha = db.execute("SELECT sha256 FROM documents WHERE id = ?", (doc_id,)).fetchone()
        db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        if sha and sha[0]:
            still_used = db.execute(
                "SELECT 1 FROM documents WHERE sha256 = ? LIMIT 1", (sha[0],)
            ).fetchone()
            if not still_used:
                db.execute("DELETE FROM originals WHERE sha256 = ?", (sha[0],))
        return ids

    def document(self, db: sqlite3.Connection, doc_id: str) -> Document | None:
        row = db.execute(
            f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id = ?", (doc_id,)
        ).fetchone()
        return _document(row) if row else None

    def documents_by_id(self, db: sqlite3.Connection, ids: Sequence[str]) -> dict[str, Document]:
        rows = _among(db, f"SELECT {DOCUMENT_COLUMNS} FROM documents", "id", ids)
        return {row["id"]: _document(row) for row in rows}

    def chunks(self, db: sqlite3.Connection, doc_id: str) -> list[Chunk]:
        rows = db.execute(
            "SELECT id, position, heading, page, text FROM chunks "
            "WHERE document_id = ? ORDER BY position",
            (doc_id,),
        )
        return [
            Chunk(
                id=row["id"],
                position=row["position"],
                heading_path=tuple(json.loads(row["heading"])),
                page=row["page"],
                text=row["text"],
            )
            for row in rows
        ]

    def list_documents(
        self, db: sqlite3.Connection, filters: Filters | None, limit: int | None, offset: int
    ) -> tuple[list[Document], int]:
        where, params = filter_sql(filters)
        total = db.execute(f"SELECT count(*) FROM documents d WHERE {where}", params).fetchone()[0]
        rows = db.execute(
            f"SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE {where} "
            "ORDER BY date DESC, title LIMIT ? OFFSET ?",
            [*params, -1 if limit is None else limit, offset],
        )
        return [_document(row) for row in rows], total

    def original(self, db: sqlite3.Connection, sha256: str) -> bytes | None:
        row = db.execute("SELECT content FROM originals WHERE sha256 = ?", (sha256,)).fetchone()
        return bytes(row[0]) if row else None

    # chunks and vectors

    def chunk_rows(
        self, db: sqlite3.Connection, chunk_ids: Sequence[int]
    ) -> dict[int, sqlite3.Row]:
        """Chunks by id, with their document's id."""
        select = "SELECT id, document_id, position, heading, page, text FROM chunks"
        return {row["id"]: row for row in _among(db, select, "id", chunk_ids)}

    def chunk_documents(self, db: sqlite3.Connection, chunk_ids: Sequence[int]) -> dict[int, str]:
        """The document of each of those chunks that exist in this snapshot (read from
        the index that pairs them: a search asks it of every candidate)."""
        select = "SELECT id, document_id FROM chunks INDEXED BY chunks_id_document"
        return dict(_among(db, select, "id", chunk_ids))

    def chunk_documents_and_sentences(
        self, db: sqlite3.Connection, chunk_ids: Sequence[int]
    ) -> tuple[dict[int, str], list[tuple[int, bytes, bytes]]]:
        """`chunk_documents` and `packed_sentences` of those chunks in one read: a
        search by meaning asks both of every candidate."""
        select = (
            "SELECT c.id, c.document_id, s.spans, s.vectors FROM chunks c "
            "INDEXED BY chunks_id_document LEFT JOIN chunk_sentences s ON s.chunk_id = c.id"
        )
        documents, packed = {}, []
        for chunk_id, document_id, spans, vectors in _among(db, select, "c.id", chunk_ids):
            documents[chunk_id] = document_id
            if spans is not None:
                packed.append((chunk_id, spans, vectors))
        return documents, packed

    def chunk_ids(self, db: sqlite3.Connection, filters: Filters | None) -> np.ndarray:
        """Ids of the chunks whose document passes the filters."""
        where, params = filter_sql(filters)
        rows = db.execute(
            f"SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE {where}",
            params,
        ).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def chunk_id_array(self, db: sqlite3.Connection) -> np.ndarray:
        """Every chunk id, in order. Read from the index of chunks by document, whose
        entries hold the ids (the table's own pages hold the texts and vectors: 4 to 6
        times slower to scan at 100,000 passages)."""
        rows = db.execute("SELECT id FROM chunks INDEXED BY chunks_document").fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        ids.sort()
        return ids

    def chunk_ids_after(self, db: sqlite3.Connection, last: int) -> np.ndarray:
        """The ids of the chunks above `last`, in order."""
        rows = db.execute("SELECT id FROM chunks WHERE id > ? ORDER BY id", (last,)).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def removed_ids(self, db: sqlite3.Connection, generation: int, last: int) -> np.ndarray:
        """The chunks up to id `last` removed by a write after `generation`, as noted
        (`delete_document`)."""
        rows = db.execute(
            "SELECT id FROM removed_chunks WHERE generation > ? AND id <= ?", (generation, last)
        ).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def removed_vectors(
        self, db: sqlite3.Connection, generation: int, last: int, dim: int
    ) -> Iterator[tuple[str | None, np.ndarray]]:
        """(document language, chunk vectors) of the chunks `removed_ids` gives."""
        rows = db.execute(
            "SELECT language, language, vector FROM removed_chunks "
            "WHERE generation > ? AND id <= ? ORDER BY language",
            (generation, last),
        )
        return _vector_runs(rows, dim)

    def chunks_up_to(self, db: sqlite3.Connection, last: int) -> int:
        """How many chunks with an id up to `last` exist (ids only grow: every chunk
        less those given since)."""
        (every,) = db.execute("SELECT count(*) FROM chunks").fetchone()
        (since,) = db.execute("SELECT count(*) FROM chunks WHERE id > ?", (last,)).fetchone()
        return int(every) - int(since)

    def passage_rows(self, db: sqlite3.Connection, chunk_ids: np.ndarray) -> list[PassageRow]:
        """What the retrieval legs index of each of those chunks that exist, in id order."""
        found: list[PassageRow] = []
        select = (
            "SELECT c.id, c.heading, c.text, d.id AS document_id, d.title, d.language, "
            "d.trip, d.kind, d.year, d.themes FROM chunks c "
            "JOIN documents d ON d.id = c.document_id"
        )
        for r in _among(db, select, "c.id", chunk_ids, "ORDER BY c.id"):
            fields = PassageFields(
                r["document_id"],
                r["language"],
                r["trip"],
                r["kind"],
                r["year"],
                tuple(json.loads(r["themes"])),
            )
            heading = " ".join(json.loads(r["heading"]))
            text = PassageText(r["title"], heading, r["text"], r["language"])
            found.append(PassageRow(int(r["id"]), fields, text))
        return found

    def vectors(
        self, db: sqlite3.Connection, dim: int, doc_id: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of every chunk, or of one document's chunks."""
        if doc_id is None:
            rows = db.execute("SELECT id, vector FROM chunks ORDER BY id").fetchall()
        else:
            rows = db.execute(
                "SELECT id, vector FROM chunks WHERE document_id = ? ORDER BY id", (doc_id,)
            ).fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        vectors = np.zeros((len(rows), dim), dtype=np.float32)
        for i, row in enumerate(rows):
            vectors[i] = np.frombuffer(row[1], dtype=np.float32)
        return ids, vectors

    def vectors_of(
        self, db: sqlite3.Connection, chunk_ids: Sequence[int], dim: int
    ) -> dict[int, np.ndarray]:
        """The vectors of those chunks that exist in this snapshot."""
        rows = _among(db, "SELECT id, vector FROM chunks", "id", chunk_ids)
        return {r[0]: np.frombuffer(r[1], dtype=np.float32, count=dim) for r in rows}

    def language_vectors(
        self, db: sqlite3.Connection, dim: int, after: int = 0
    ) -> Iterator[tuple[str | None, np.ndarray]]:
        """(document language, chunk vectors) per document, of the chunks whose id is
        above `after`."""
        # Every chunk: documents in order, each one's chunks by the index (a condition on
        # the chunk id would read the table in id order and sort it: 1.7 times slower).
        where, params = ("WHERE c.id > ?", (after,)) if after else ("", ())
        rows = db.execute(
            "SELECT d.id, d.language, c.vector FROM chunks c "
            f"JOIN documents d ON d.id = c.document_id {where} ORDER BY d.id",
            params,
        )
        return _vector_runs(rows, dim)

    def all_chunk_texts(self, db: sqlite3.Connection) -> list[tuple[int, str, str, str]]:
        """(id, title, heading, text) of every chunk, for re-embedding."""
        rows = db.execute(
            "SELECT c.id, d.title, c.heading, c.text FROM chunks c "
            "JOIN documents d ON d.id = c.document_id ORDER BY c.id"
        )
        return [(r[0], r[1], " › ".join(json.loads(r[2])), r[3]) for r in rows]

    def set_vectors(self, db: sqlite3.Connection, ids: Sequence[int], vectors: np.ndarray) -> None:
        db.executemany(
            "UPDATE chunks SET vector = ? WHERE id = ?",
            [
                (np.asarray(v, dtype=np.float32).tobytes(), int(i))
                for i, v in zip(ids, vectors, strict=True)
            ],
        )

    def set_sentence_vectors(
        self, db: sqlite3.Connection, packed: dict[int, tuple[bytes, bytes]]
    ) -> None:
        db.executemany(
            "INSERT OR REPLACE INTO chunk_sentences VALUES (?, ?, ?)",
            [(int(i), spans, vectors) for i, (spans, vectors) in packed.items()],
        )

    def packed_sentences(
        self, db: sqlite3.Connection, chunk_ids: Sequence[int]
    ) -> list[tuple[int, bytes, bytes]]:
        """(chunk id, packed spans, packed vectors) of those chunks that have them."""
        select = "SELECT chunk_id, spans, vectors FROM chunk_sentences"
        return [(int(r[0]), r[1], r[2]) for r in _among(db, select, "chunk_id", chunk_ids)]

    def sentence_vectors(
        self, db: sqlite3.Connection, chunk_ids: Sequence[int], dim: int
    ) -> dict[int, SentenceVectors]:
        """The sentence vectors of those chunks that have them."""
        packed = self.packed_sentences(db, chunk_ids)
        return {chunk_id: unpack(spans, vectors, dim) for chunk_id, spans, vectors in packed}

    # themes

    def put_themes(
        self, db: sqlite3.Connection, themes: Sequence[Theme], vectors: np.ndarray | None
    ) -> None:
        db.execute("DELETE FROM themes")
        for position, theme in enumerate(themes):
            vector = None if vectors is None else vectors[position].astype(np.float32).tobytes()
            db.execute(
                "INSERT INTO themes VALUES (?, ?, ?, ?, ?, ?)",
                (theme.id, position, theme.label_fr, theme.label_en, theme.description, vector),
            )

    def themes(self, db: sqlite3.Connection) -> list[tuple[Theme, np.ndarray | None]]:
        rows = db.execute("SELECT * FROM themes ORDER BY position")
        return [
            (
                Theme(r["id"], r["label_fr"], r["label_en"], r["description"]),
                None if r["vector"] is None else np.frombuffer(r["vector"], dtype=np.float32),
            )
            for r in rows
        ]

    def has_documents(self) -> bool:
        return self.reader.execute("SELECT 1 FROM documents LIMIT 1").fetchone() is not None

    def totals(self, db: sqlite3.Connection) -> tuple[int, int]:
        documents = db.execute("SELECT count(*) FROM documents").fetchone()[0]
        chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return documents, chunks
