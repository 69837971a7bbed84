"""The ingest run: folders or uploads in, an IngestReport out.

Walking rule: folders are walked in sorted order; hidden files and folders are
skipped, and so are `trip.yaml` / `themes.yaml`, scripts and YAML files (.py, .yaml,
.yml), every file under a folder named `eval` or `sources` inside an ingested folder
(the sample corpus keeps its evaluation set and Markdown sources there) and a
README.md at the top of an ingested folder. A file named on its own is always read.

Per file: size checked with stat before reading; same id and same sha256 → unchanged
(not parsed); the same bytes already stored under another id, or met earlier in the
run → duplicate; otherwise parsed, chunked and added (a changed file replaces its
document in one transaction). A failure is that file's "rejected" outcome and never
stops the run. Text over `max_document_chars` is truncated, with a note in the reason.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePath
from typing import Any

import yaml

from kb import Document, Filters, KBError, KnowledgeBase, NotFound, UnsupportedDocument

from .chunking import chunk_document, truncate
from .jsonl import MEDIA_TYPE as JSONL_MEDIA_TYPE
from .jsonl import Passage, passages
from .metadata import (
    THEMES_FILE,
    Trip,
    build_document,
    document_id,
    find_upwards,
    load_themes,
    slugify,
    trip_for,
)
from .readers import check_content, read_document
from .report import FileOutcome, IngestReport, Progress

SKIP_DIRS = frozenset({"eval", "sources"})
SKIP_FILES = frozenset({"trip.yaml", "themes.yaml"})
SKIP_SUFFIXES = frozenset({".py", ".pyc", ".yaml", ".yml"})
UPLOAD_KEYS = ("title", "trip", "kind", "language", "themes", "date", "authors")
JSONL_BATCH = 64


def ingest_paths(
    kb: KnowledgeBase,
    paths: Iterable[Path | str],
    *,
    prune: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest files and folders; `prune` also removes documents whose file is gone."""
    run = _Run(kb, dry_run=dry_run, progress=progress)
    roots = [Path(p) for p in paths]
    run.load_taxonomy(roots)
    pruned = run.prune(roots) if prune else set()
    for root in roots:
        if root.is_dir():
            for file in walk(root):
                run.ingest_file(file, file.relative_to(root).as_posix())
        elif root.is_file():
            run.ingest_file(root, root.name)
        elif root.resolve() not in pruned:
            run.record(FileOutcome(str(root), "rejected", "no such file or folder"))
    if run.trips and not dry_run:
        kb.put_trips(list(run.trips.values()))
    if not dry_run:
        kb.flush()  # the derived index, written once per run rather than per document
    return run.report


def ingest_upload(
    kb: KnowledgeBase,
    files: Iterable[tuple[str, bytes]],
    *,
    metadata: dict[str, Any] | None = None,
) -> IngestReport:
    """Ingest uploaded (file name, bytes) pairs; `metadata` (UPLOAD_KEYS) wins over all."""
    run = _Run(kb, dry_run=False, progress=None)
    overrides = {k: v for k, v in (metadata or {}).items() if k in UPLOAD_KEYS}
    trip = run.known_trip(str(overrides["trip"])) if overrides.get("trip") else None
    for name, data in files:
        source = PurePath(str(name).replace("\\", "/")).name.strip() or "upload"
        if run.check_size(source, len(data)):
            run.ingest_bytes(
                source, data, doc_id=f"upload--{slugify(source)}", source=source, path=None,
                trip=trip, overrides=overrides, hints=(PurePath(source).stem,),
            )
    return run.report


def walk(root: Path) -> Iterator[Path]:
    """The files of `root` to ingest, in sorted order (see the module docstring)."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
        at_root = Path(folder) == root
        for name in sorted(files):
            if (
                name.startswith(".")
                or name in SKIP_FILES
                or PurePath(name).suffix.lower() in SKIP_SUFFIXES
                or (at_root and name.lower() == "readme.md")
            ):
                continue
            yield Path(folder) / name


class _Run:
    """State of one run: what the KB already holds, by id and by content hash."""

    def __init__(self, kb: KnowledgeBase, *, dry_run: bool, progress: Progress | None):
        self.kb = kb
        self.settings = kb.settings
        self.dry_run = dry_run
        self.progress = progress
        self.report = IngestReport(dry_run=dry_run)
        self.chunks_done = 0
        documents, _ = kb.documents(limit=None)
        self.known: dict[str, Document] = {d.id: d for d in documents}
        self.by_sha: dict[str, str] = {}
        for doc in documents:
            if doc.sha256:
                self.by_sha.setdefault(doc.sha256, doc.id)
        self.theme_ids = frozenset(t.id for t in kb.themes())
        self.trips: dict[str, Trip] = {}  # the trip folders walked, recorded at the end

    def record(self, outcome: FileOutcome) -> None:
        self.report.outcomes.append(outcome)
        if self.progress is not None:
            self.progress(outcome.name, self.chunks_done)

    # ------------------------------------------------------------------ setup

    def load_taxonomy(self, roots: list[Path]) -> None:
        """Set the taxonomy from the nearest themes.yaml at or above the ingested paths."""
        for root in roots:
            themes_file = find_upwards((root if root.is_dir() else root.parent).resolve(),
                                       THEMES_FILE)
            if themes_file is not None:
                break
        else:
            return
        try:
            themes = load_themes(themes_file)
        except (OSError, ValueError, yaml.YAMLError, UnicodeDecodeError) as exc:
            self.record(FileOutcome(str(themes_file), "rejected", f"themes not loaded: {exc}"))
            return
        if not self.dry_run and themes != self.kb.themes():
            self.kb.set_themes(themes)
        self.theme_ids = frozenset(t.id for t in themes)

    def known_trip(self, slug: str) -> Trip:
        """An upload's trip: its name and place are copied from a document already in it."""
        slug = slugify(slug)
        documents, _ = self.kb.documents(Filters(trip=(slug,)), limit=1)
        if documents:
            doc = documents[0]
            return Trip(slug=slug, name=doc.trip_name, city=doc.city, country=doc.country)
        return Trip(slug=slug)

    def prune(self, roots: list[Path]) -> set[Path]:
        """Remove documents whose file lay under an ingested path and is gone."""
        targets = [root.resolve() for root in roots]
        gone: dict[str, list[Document]] = {}
        for doc in self.known.values():
            if not doc.path:
                continue
            path = Path(doc.path)
            if any(path == t or t in path.parents for t in targets) and not path.exists():
                gone.setdefault(doc.path, []).append(doc)
        hit: set[Path] = set()
        for path, documents in sorted(gone.items()):
            for doc in documents:
                if not self.dry_run:
                    with contextlib.suppress(NotFound):
                        self.kb.remove(doc.id)
                self._forget(doc.id)
            hit.add(Path(path))
            single = len(documents) == 1
            self.record(FileOutcome(
                documents[0].source or path, "removed",
                None if single else f"{len(documents)} documents",
                documents[0].id if single else None,
            ))
        return hit

    # ------------------------------------------------------------------ files

    def check_size(self, name: str, size: int) -> bool:
        if size == 0:
            self.record(FileOutcome(name, "rejected", "empty file"))
            return False
        if size > self.settings.max_file_bytes:
            self.record(FileOutcome(name, "rejected", (
                f"too large: {size:,} bytes (max_file_bytes={self.settings.max_file_bytes:,})"
            )))
            return False
        return True

    def ingest_file(self, path: Path, name: str) -> None:
        try:
            size = path.stat().st_size
            if not self.check_size(name, size):
                return
            data = path.read_bytes()
        except OSError as exc:
            self.record(FileOutcome(name, "rejected", f"cannot read: {exc.strerror or exc}"))
            return
        trip = trip_for(path.parent)
        if trip is not None:
            self.trips[trip.slug] = trip
        prefix = trip.slug if trip else path.resolve().parent.name
        self.ingest_bytes(
            name, data, doc_id=document_id(prefix, path.name), source=path.name,
            path=str(path.resolve()), trip=trip, overrides=None,
            hints=(path.stem, path.parent.name),
        )

    def ingest_bytes(
        self, name: str, data: bytes, *, doc_id: str, source: str, path: str | None,
        trip: Trip | None, overrides: dict[str, Any] | None, hints: tuple[str, ...],
    ) -> None:
        sha = hashlib.sha256(data).hexdigest()
        if PurePath(source).suffix.lower() == ".jsonl":
            self._ingest_jsonl(name, data, sha, source=source, path=path, trip=trip,
                               overrides=overrides)
            return
        existing = self.known.get(doc_id)
        if existing is not None and existing.sha256 == sha:
            self.record(FileOutcome(name, "unchanged", None, doc_id))
            return
        same = self.by_sha.get(sha)
        if same is not None and same != doc_id:
            self.record(FileOutcome(name, "duplicate", f"same content as {same}", same))
            return
        try:
            parsed = truncate(read_document(source, data, self.settings),
                              self.settings.max_document_chars)
            chunks = chunk_document(parsed, self.settings.chunk_tokens)
            if not chunks:
                raise UnsupportedDocument("no text")
            doc = build_document(
                parsed, chunks, doc_id=doc_id, source=source, path=path, data=data,
                sha256=sha, trip=trip, overrides=overrides, theme_ids=self.theme_ids,
                hints=hints,
            )
            if not self.dry_run:
                self.kb.add([doc])
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the run
            self.record(FileOutcome(name, "rejected", _reason(exc)))
            return
        self._remember(doc)
        self.chunks_done += len(chunks)
        self.record(FileOutcome(
            name, "updated" if existing is not None else "added",
            "; ".join(parsed.notes) or None, doc_id, len(chunks),
        ))

    def _ingest_jsonl(
        self, name: str, data: bytes, sha: str, *, source: str, path: str | None,
        trip: Trip | None, overrides: dict[str, Any] | None,
    ) -> None:
        """One document per line, added in batches; unchanged when the file's sha is."""
        owned = [d for d in self.known.values()
                 if d.media_type == JSONL_MEDIA_TYPE and d.path == path and d.source == source]
        if owned and all(d.sha256 == sha for d in owned):
            self.record(FileOutcome(name, "unchanged", f"{len(owned)} passages"))
            return
        same = self.by_sha.get(sha)
        if same is not None and same not in {d.id for d in owned}:
            self.record(FileOutcome(name, "duplicate", f"same content as {same}", same))
            return
        overrides = {k: v for k, v in (overrides or {}).items() if k != "title"}
        seen: set[str] = set()
        problems: list[str] = []
        batch: list[Document] = []
        chunks = 0
        try:
            check_content(source, data)
            for item in passages(data, self.settings.max_document_chars):
                if not isinstance(item, Passage):
                    problems.append(item)
                    continue
                if item.id in seen:
                    problems.append(f"line {item.line}: _id {item.id} seen before")
                    continue
                seen.add(item.id)
                doc_chunks = chunk_document(item.parsed, self.settings.chunk_tokens)
                batch.append(build_document(
                    item.parsed, doc_chunks, doc_id=item.id, source=source, path=path,
                    data=None, sha256=sha, trip=trip, overrides=overrides,
                    theme_ids=self.theme_ids,
                ))
                chunks += len(doc_chunks)
                if len(batch) >= JSONL_BATCH:
                    self._add_batch(name, batch)
            self._add_batch(name, batch)
            if not seen:
                raise UnsupportedDocument("no passages" + _problems(problems))
            for doc in owned:
                if doc.id not in seen:
                    if not self.dry_run:
                        self.kb.remove(doc.id)
                    self._forget(doc.id)
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the run
            done = f" (after {len(seen)} passages)" if seen else ""
            self.record(FileOutcome(name, "rejected", _reason(exc) + done))
            return
        self.record(FileOutcome(
            name, "updated" if owned else "added",
            f"{len(seen)} passages" + _problems(problems), None, chunks,
        ))

    def _add_batch(self, name: str, batch: list[Document]) -> None:
        if not batch:
            return
        if not self.dry_run:
            self.kb.add(batch)
        for doc in batch:
            self._remember(doc)
            self.chunks_done += len(doc.chunks)
        batch.clear()
        if self.progress is not None:
            self.progress(name, self.chunks_done)

    def _remember(self, doc: Document) -> None:
        old = self.known.get(doc.id)
        if old is not None and old.sha256 and self.by_sha.get(old.sha256) == doc.id:
            del self.by_sha[old.sha256]
        self.known[doc.id] = dataclasses.replace(doc, chunks=[], original=None)
        if doc.sha256:
            self.by_sha.setdefault(doc.sha256, doc.id)

    def _forget(self, doc_id: str) -> None:
        old = self.known.pop(doc_id, None)
        if old is not None and old.sha256 and self.by_sha.get(old.sha256) == doc_id:
            del self.by_sha[old.sha256]


def _reason(exc: Exception) -> str:
    if isinstance(exc, KBError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"[:500]


def _problems(problems: list[str]) -> str:
    if not problems:
        return ""
    shown = "; ".join(problems[:3]) + ("; …" if len(problems) > 3 else "")
    return f"; {len(problems)} lines skipped ({shown})"
