"""Keeping a knowledge base safe: backup, restore, check and repair.

- `backup(kb, dest)`: SQLite's online backup API copies `kb.sqlite` page by page in one
  step, under one read snapshot: the copy is consistent while searches and ingests run
  (WAL lets writers go on meanwhile). The copy is one self-contained file (documents,
  passages, vectors, full-text index, originals); the FAISS file is a cache and is not
  copied.
- `restore(home, src)`: checks the file, copies it into `home/kb.sqlite` with the same
  API (so a running server's connections see the new content, never a half-written
  file), and moves the generation past both bases' so that every cached index is stale.
- `check(kb)`: what is wrong, as a list of `Problem`s; `repair(kb)` rebuilds what is
  derived (full-text index, vector index) and drops what cannot be used.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from kb.backend import catch_up
from kb.bm25 import MemoryLexical
from kb.embedded import INDEX_NAME, LEXICAL_NAME
from kb.errors import InvalidInput, NotFound
from kb.fts import FtsLexical
from kb.index import FaissDense, remove_files
from kb.knowledge_base import KnowledgeBase
from kb.quantised import PRECISION

DB_NAME = "kb.sqlite"


@dataclass
class Problem:
    """Something wrong in a knowledge base; `repairable` by `kb check --repair`."""

    area: str  # sqlite, fulltext, vectors, index, documents, originals
    message: str
    repairable: bool = False


@dataclass
class Copied:
    path: Path
    documents: int
    passages: int
    bytes: int


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _totals(db: sqlite3.Connection) -> tuple[int, int]:
    return (
        db.execute("SELECT count(*) FROM documents").fetchone()[0],
        db.execute("SELECT count(*) FROM chunks").fetchone()[0],
    )


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    source.backup(target)  # pages=-1: every page in one step, one consistent snapshot


def backup(kb: KnowledgeBase, dest: Path) -> Copied:
    """Copy the knowledge base into the file `dest` (or a new dated file in the folder
    `dest`); never overwrites. The copy is checked before it gets its name."""
    dest = Path(dest)
    if dest.is_dir():
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        dest = dest / f"kb-{stamp}.sqlite"
    if dest.exists():
        raise InvalidInput(f"{dest} already exists: give a new file name or a folder")
    if not dest.parent.is_dir():
        raise NotFound(f"no folder {dest.parent}")
    partial = dest.with_name(f".{dest.name}.partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(kb.store.path)
    try:
        target = sqlite3.connect(partial)
        try:
            _copy(source, target)
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
            documents, passages = _totals(target)
        finally:
            target.close()
    finally:
        source.close()
    if verdict != "ok":
        partial.unlink(missing_ok=True)
        raise InvalidInput(f"the copy failed its integrity check: {verdict}")
    _fsync(partial)
    os.replace(partial, dest)
    _fsync(dest.parent)
    return Copied(dest, documents, passages, dest.stat().st_size)


def _verify_backup(src: Path) -> sqlite3.Connection:
    if not src.is_file():
        raise NotFound(f"no file {src}")
    try:
        db = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as error:
        raise InvalidInput(f"{src} is not a knowledge base backup: {error}") from error
    if not {"meta", "documents", "chunks", "chunks_fts"} <= tables:
        db.close()
        raise InvalidInput(f"{src} is not a knowledge base backup (no documents table)")
    if verdict != "ok":
        db.close()
        raise InvalidInput(f"{src} fails its integrity check: {verdict}")
    return db


def _generation(db: sqlite3.Connection) -> int:
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    except sqlite3.OperationalError:  # not a knowledge base yet
        return 0
    return int(row[0]) if row else 0


def documents_in(home: Path) -> int:
    """How many documents the knowledge base in `home` holds (0 when there is none)."""
    path = Path(home) / DB_NAME
    if not path.is_file():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(*) FROM documents").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def restore(home: Path, src: Path) -> Copied:
    """Replace the knowledge base in `home` with the backup `src`."""
    home = Path(home)
    source = _verify_backup(Path(src))
    try:
        home.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(home / DB_NAME, isolation_level=None)
        try:
            target.execute("PRAGMA busy_timeout = 10000")
            before = _generation(target)
            _copy(source, target)
            target.execute("PRAGMA journal_mode = WAL")
            generation = max(before, _generation(target)) + 1
            target.execute(
                "INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (str(generation),)
            )
            # A new epoch: every derived index of the replaced base is rebuilt, not
            # caught up (the backup's passage ids may name other passages).
            target.execute(
                "INSERT OR REPLACE INTO meta VALUES ('epoch', "
                "(SELECT coalesce(max(CAST(value AS INTEGER)), 0) + 1 FROM meta "
                "WHERE key = 'epoch'))"
            )
            documents, passages = _totals(target)
        finally:
            target.close()
    finally:
        source.close()
    remove_files(home / INDEX_NAME)  # caches: rebuilt from SQLite on first use
    (home / LEXICAL_NAME).unlink(missing_ok=True)
    return Copied(home / DB_NAME, documents, passages, (home / DB_NAME).stat().st_size)


# --------------------------------------------------------------------------- check


def check(kb: KnowledgeBase) -> list[Problem]:
    """Every problem found: SQLite integrity, the full-text index against the passages,
    each passage's vector, the vector and lexical indexes against SQLite, originals
    against their hashes, documents without passages."""
    problems: list[Problem] = []
    own = sqlite3.connect(kb.store.path, isolation_level=None)
    try:
        own.execute("PRAGMA busy_timeout = 10000")
        verdicts = [r[0] for r in own.execute("PRAGMA integrity_check")]
        if verdicts != ["ok"]:
            return [Problem("sqlite", v) for v in verdicts[:20]]  # nothing else is sure
        try:  # an INSERT that writes nothing: on its own connection, outside a snapshot
            own.execute("INSERT INTO chunks_fts(chunks_fts) VALUES('integrity-check')")
        except sqlite3.DatabaseError as error:
            problems.append(Problem("fulltext", f"the full-text index is damaged: {error}", True))
    finally:
        own.close()
    with kb.store.snapshot() as db:
        problems += _check_fulltext(db)
        problems += _check_documents(db)
        problems += _check_originals(db)
        dim = int(kb.store.meta("dim", db) or 0)
        problems += _check_vectors(db, dim)
        model = kb.store.meta("model", db) or kb.model_name
        if not problems and dim:
            ids, vectors = kb.store.vectors(db, dim)
            index = FaissDense(kb.store, kb.path / INDEX_NAME, dim, model)
            if index.state() == kb.store.state(db):
                problems += _check_index(index, ids, vectors)
            words = kb.path / LEXICAL_NAME
            if words.exists():
                lexical = MemoryLexical(kb.store, words, FtsLexical(kb.store))
                if lexical.state() == kb.store.state(db):
                    problems += _check_lexical(lexical, ids)
    return problems


def _count(db: sqlite3.Connection, sql: str) -> int:
    return int(db.execute(sql).fetchone()[0])


def _check_fulltext(db: sqlite3.Connection) -> list[Problem]:
    problems = []
    missing = _count(
        db, "SELECT count(*) FROM chunks WHERE id NOT IN (SELECT rowid FROM chunks_fts)"
    )
    if missing:
        problems.append(Problem("fulltext", f"{missing} passages missing from it", True))
    orphans = _count(
        db, "SELECT count(*) FROM chunks_fts WHERE rowid NOT IN (SELECT id FROM chunks)"
    )
    if orphans:
        problems.append(Problem("fulltext", f"{orphans} entries without a passage", True))
    return problems


def _check_documents(db: sqlite3.Connection) -> list[Problem]:
    empty = [
        r[0]
        for r in db.execute(
            "SELECT id FROM documents WHERE id NOT IN (SELECT document_id FROM chunks)"
        )
    ]
    problems = [
        Problem("documents", f"{doc_id} has no passages (re-ingest its file)", True)
        for doc_id in empty
    ]
    orphans = _count(
        db, "SELECT count(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)"
    )
    if orphans:
        problems.append(Problem("documents", f"{orphans} passages without a document", True))
    return problems


def _check_originals(db: sqlite3.Connection) -> list[Problem]:
    problems = []
    for sha, content in db.execute("SELECT sha256, content FROM originals"):
        if hashlib.sha256(content).hexdigest() != sha:
            problems.append(
                Problem("originals", f"the original file {sha[:12]}… does not match its hash")
            )
    return problems


def _check_vectors(db: sqlite3.Connection, dim: int) -> list[Problem]:
    if not dim:
        return []
    wrong = _count(db, f"SELECT count(*) FROM chunks WHERE length(vector) != {4 * dim}")
    if wrong:
        return [Problem("vectors", f"{wrong} passage vectors are not {dim} floats: kb reindex")]
    return []


def _check_lexical(lexical: MemoryLexical, ids: np.ndarray) -> list[Problem]:
    """The saved lexical index against SQLite's passages, when it says it is at
    SQLite's state."""
    held = lexical.ids()
    if np.array_equal(held, ids):
        return []
    name = lexical.path.name
    return [Problem("index", f"{name} holds {len(held)} passages for {len(ids)}", True)]


def _check_index(index: FaissDense, ids: np.ndarray, vectors: np.ndarray) -> list[Problem]:
    """The saved index against SQLite, when it says it is at SQLite's state (an older
    one is caught up on the next start)."""
    name = index.path.name
    stored_ids, stored = index.vectors()
    if not np.array_equal(stored_ids, ids):
        return [
            Problem(
                "index", f"{name} holds {len(stored_ids)} vectors for {len(ids)} passages", True
            )
        ]
    if len(ids) and not np.allclose(stored, vectors, rtol=0, atol=PRECISION):
        return [Problem("index", f"{name} has vectors that differ from SQLite", True)]
    return []


def repair(kb: KnowledgeBase) -> list[str]:
    """Rebuild what is derived and drop what cannot be used; what was done."""
    done: list[str] = []
    with kb._write_lock:  # the one writer: no ingest runs meanwhile
        with kb.store.transaction() as db:
            empty = [
                r[0]
                for r in db.execute(
                    "SELECT id FROM documents WHERE id NOT IN (SELECT document_id FROM chunks)"
                )
            ]
            for doc_id in empty:
                kb.store.delete_document(db, doc_id)
                done.append(f"removed {doc_id}, which had no passages")
            gone = db.execute(
                "DELETE FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)"
            ).rowcount
            if gone:
                done.append(f"removed {gone} passages without a document")
            gone = db.execute(
                "DELETE FROM chunks_fts WHERE rowid NOT IN (SELECT id FROM chunks)"
            ).rowcount
            if gone:
                done.append(f"removed {gone} full-text entries without a passage")
            db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES('rebuild')")
            done.append("rebuilt the full-text index")
            kb.store.bump_generation(db)
        table = FtsLexical(kb.store)  # the table itself, whichever leg ranks by words
        with kb.store.transaction() as db:  # passages without full-text entries
            dim = int(kb.store.meta("dim", db) or 0)
            state = kb.store.state(db)
            restored = catch_up(table, kb.store, db, state, dim, force=True)
        if restored:
            done.append(f"re-indexed the text of {restored} passages")
        remove_files(kb.path / INDEX_NAME)
        kb.backend.dense.reset()
        rebuilt = [INDEX_NAME]
        if not isinstance(kb.backend.lexical, FtsLexical):  # a cache of its own
            (kb.path / LEXICAL_NAME).unlink(missing_ok=True)
            kb.backend.lexical.reset()
            rebuilt.append(LEXICAL_NAME)
        kb._catch_up(kb.backend)
        kb.flush()
        done.append(f"rebuilt {' and '.join(rebuilt)} from SQLite")
    return done
