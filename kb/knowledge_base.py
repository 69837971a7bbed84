"""`KnowledgeBase`: the one object everything else talks to.

It composes the SQLite store (the truth), the encoder and the FAISS index (a
derived cache). Writes take one lock; searches run concurrently, each on a
SQLite read snapshot and the index snapshot of the moment.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from kb import facets as facet_counts
from kb import practices as card_store
from kb import query_log
from kb import trips as trip_records
from kb.backend import Backend, PassageText, catch_up, fields_of, open_backend
from kb.background import EmbeddingProcess
from kb.cards import PracticeCard
from kb.embed import ENCODERS, Encoder, make_encoder
from kb.errors import InvalidInput, ModelMismatch, NotFound
from kb.evaluate import CUTOFF, Query, Ranking, Scores, evaluate
from kb.memory import give_back_freed_memory
from kb.moments import PassageMoments
from kb.query_vectors import QueryVectors
from kb.search import Searcher, group_by_document, mean_vector, result_of
from kb.sentences import pack, sentence_spans
from kb.settings import Settings
from kb.snippet import make_snippet
from kb.store import Store
from kb.types import (
    NO_TRIP,
    NO_TRIP_LABEL,
    Document,
    FacetValue,
    Filters,
    SearchResponse,
    SearchResult,
    Stats,
    Theme,
)

THEME_MARGIN = 0.01
MAX_DETECTED_THEMES = 3
EMBED_BATCH = 32
CARD_SYNC_WAIT_S = 0.5  # see _cards_current

Progress = Callable[[int, int], None]
"""Called with (done, total) while passages are embedded."""


def passage_text(title: str, heading: str, text: str) -> str:
    """What is embedded for a chunk: its document's title and heading path, then its
    text (measured in bench/README.md: it helps on the sample corpus, neutral on PIAF)."""
    context = ". ".join(part for part in (title, heading) if part)
    return f"{context}\n{text}" if context else text


def sentence_texts(text: str) -> tuple[list[tuple[int, int]], list[str]]:
    """The spans of a chunk's sentences and what is embedded for each: the sentence."""
    spans = sentence_spans(text)
    return spans, [text[a:b] for a, b in spans]


class KnowledgeBase:
    """A knowledge base in one folder: `kb.sqlite` plus the derived `index.faiss` and
    `lexical.idx`."""

    def __init__(
        self,
        path: str | Path,
        encoder: str | Encoder | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.path / "kb.sqlite")
        self._encoder_spec = encoder if encoder is not None else self.settings.model
        self._encoder: Encoder | None = encoder if isinstance(encoder, Encoder) else None
        self._write_lock = threading.RLock()
        self._load_lock = threading.Lock()
        self._backend: Backend | None = None
        self._means: PassageMoments | None = None
        self._means_generation = -1
        self._trip_labels: tuple[int, dict[str, str]] | None = None
        self._query_vectors = QueryVectors(lambda: self.encoder)
        self._document_facets = facet_counts.DocumentFacets()
        self._background: EmbeddingProcess | None = None

    # the encoder and the index

    @property
    def encoder(self) -> Encoder:
        """The encoder, loaded on first use (a model takes seconds to load)."""
        if self._encoder is None:
            with self._load_lock:
                if self._encoder is None:
                    self._encoder = make_encoder(
                        str(self._encoder_spec),
                        self.settings.query_prompt,
                        self.settings.passage_prompt,
                    )
        return self._encoder

    @property
    def model_name(self) -> str:
        if self._encoder is not None:
            return self._encoder.name
        spec = str(self._encoder_spec)
        if spec in ENCODERS:
            return self.encoder.name
        return spec

    def _check_model(self) -> None:
        built_with = self.store.meta("model")
        if built_with and built_with != self.model_name and self.store.has_documents():
            raise ModelMismatch(
                f"this knowledge base was built with the model {built_with!r} but is opened "
                f"with {self.model_name!r}: run `kb reindex` to re-embed it with "
                f"{self.model_name!r}, or open it with {built_with!r}"
            )

    @property
    def backend(self) -> Backend:
        """The retrieval backend (`KB_BACKEND`), brought up to date with SQLite when it
        missed writes (a crash, another process) unless a write of this process is
        under way (it brings the backend up to date itself)."""
        backend = self._open_backend()
        state = self.store.state()
        behind = any(leg.state() != state for leg in backend.legs())
        if behind and self._write_lock.acquire(blocking=False):
            try:
                self._catch_up(backend)
            finally:
                self._write_lock.release()
        return backend

    def _open_backend(self) -> Backend:
        if self._backend is None:
            # Before the lock: on an empty base, the encoder (loaded under that lock)
            # gives the size and the model.
            dim = int(self.store.meta("dim") or self.encoder.dim)
            model = self.store.meta("model") or self.model_name
            with self._load_lock:
                if self._backend is None:
                    self._backend = open_backend(self.store, self.settings, dim, model)
        return self._backend

    def _catch_up(self, backend: Backend) -> int:
        """Bring every leg to SQLite's state (callers hold the write lock)."""
        changed = 0
        with self.store.snapshot() as db:
            state = self.store.state(db)
            dim = int(self.store.meta("dim", db) or self.encoder.dim)
            for leg in backend.legs():
                changed += catch_up(leg, self.store, db, state, dim)
        return changed

    def flush(self) -> None:
        """Write the derived indexes to lasting storage: the end of an ingest run.
        Not needed for safety (SQLite holds every write), it saves catching up at the
        next start."""
        with self._write_lock:
            if self._backend is not None:
                self._backend.flush()
        give_back_freed_memory()

    def _current_means(self) -> PassageMoments:
        """The passage vectors' moments (`kb.moments`) of the current generation."""
        generation = self.store.generation()
        means = self._means
        if means is not None and self._means_generation == generation:
            return means
        with self._load_lock:
            if self._means is not None and self._means_generation == generation:
                return self._means
            with self.store.snapshot() as db:
                generation = self.store.generation(db)
                means = self._moments_at(db, self._means, self._means_generation)
            self._means, self._means_generation = means, generation
            return means

    def _moments_at(
        self, db: sqlite3.Connection, previous: PassageMoments | None, counted: int
    ) -> PassageMoments:
        """The moments of the snapshot `db`: `previous` (of generation `counted`) less
        the passages removed since and with those given since, when the vectors are of
        its epoch and every one it counted is either still there or noted as removed
        (another process wrote: a search after it reads what changed, not the whole
        base); else counted anew."""
        dim = int(self.store.meta("dim", db) or self.encoder.dim)
        epoch = self.store.meta("epoch", db) or "0"
        last = self.store.last_chunk_id(db)
        means = None
        if previous is not None and (previous.dim, previous.epoch) == (dim, epoch):
            gone = list(self.store.removed_vectors(db, counted, previous.last, dim))
            removed = sum(len(vectors) for _, vectors in gone)
            if self.store.chunks_up_to(db, previous.last) == previous.total - removed:
                means = previous.copy()
                for language, vectors in gone:
                    means.add(language, vectors, sign=-1)
                means.add_all(self.store.language_vectors(db, dim, after=previous.last))
        if means is None:
            means = PassageMoments.of(dim, self.store.language_vectors(db, dim))
            give_back_freed_memory()  # every vector went through: ~10 MB at 100,000 passages
        means.last, means.epoch = last, epoch
        return means

    # writing

    def _embed_chunks(
        self, chunks: Sequence[tuple[str, str, str]], progress: Progress | None = None
    ) -> tuple[np.ndarray, list[tuple[bytes, bytes]]]:
        """Vectors of (title, heading, text) chunks, and each one's packed sentence
        vectors; all embedded in one pass."""
        texts = [passage_text(*chunk) for chunk in chunks]
        spans: list[list[tuple[int, int]]] = []
        for _, _, text in chunks:
            own, own_texts = sentence_texts(text)
            spans.append(own)
            texts.extend(own_texts)
        vectors = self._embed(texts, progress)
        packed = []
        start = len(chunks)
        for own in spans:
            packed.append(pack(own, vectors[start : start + len(own)]))
            start += len(own)
        return vectors[: len(chunks)], packed

    def embed_beside_searches(self) -> None:
        """From now on, embed passages in a child process of the lowest CPU priority (see
        `kb.background`): what a server does, so that searches keep being answered while
        an upload is embedded. One opened with an `Encoder` object embeds in place."""
        if isinstance(self._encoder_spec, Encoder):
            return
        with self._load_lock:
            if self._background is None:
                self._background = EmbeddingProcess(
                    str(self._encoder_spec),
                    self.settings.query_prompt,
                    self.settings.passage_prompt,
                )

    def _embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        encode = (self._background or self.encoder).encode_passages
        vectors = np.zeros((len(texts), self.encoder.dim), dtype=np.float32)
        for start in range(0, len(texts), EMBED_BATCH):
            batch = texts[start : start + EMBED_BATCH]
            vectors[start : start + len(batch)] = encode(batch)
            if progress:
                progress(start + len(batch), len(texts))
        return vectors

    def _detect_themes(self, vectors: np.ndarray) -> list[str]:
        themes = [(t, v) for t, v in self.store.themes(self.store.reader) if v is not None]
        if not themes or not len(vectors):
            return []
        matrix = np.stack([v for _, v in themes])
        scores = matrix @ mean_vector(vectors)
        order = np.argsort(-scores)
        best = scores[order[0]]
        return [
            themes[i][0].id for i in order[:MAX_DETECTED_THEMES] if scores[i] >= best - THEME_MARGIN
        ]

    def add(self, documents: Iterable[Document], progress: Progress | None = None) -> list[str]:
        """Add or replace documents (by id); each one lands whole or not at all."""
        documents = list(documents)
        for document in documents:
            if not document.id or not document.chunks:
                raise InvalidInput(f"document {document.id!r} has no id or no text")
        with self._write_lock:
            self._check_model()
            vectors, sentence_vectors = self._embed_chunks(
                [(d.title, c.heading, c.text) for d in documents for c in d.chunks], progress
            )
            backend = self.backend
            means = self._current_means().copy()
            offset = 0
            for document in documents:
                own = vectors[offset : offset + len(document.chunks)]
                own_sentences = sentence_vectors[offset : offset + len(document.chunks)]
                offset += len(document.chunks)
                if not document.themes:
                    document.themes = self._detect_themes(own)
                    document.themes_detected = bool(document.themes)
                fields = [fields_of(document)] * len(document.chunks)
                texts = [
                    PassageText(document.title, " ".join(c.heading_path), c.text, document.language)
                    for c in document.chunks
                ]
                try:
                    with self.store.transaction() as db:
                        self._forget_means(db, means, document.id)
                        removed = np.asarray(self.store.delete_document(db, document.id), np.int64)
                        backend.lexical.remove(removed)
                        ids = np.asarray(
                            self.store.put_document(db, document, own, own_sentences), np.int64
                        )
                        backend.lexical.add(ids, texts, fields)
                        self.store.set_meta(db, "model", self.model_name)
                        self.store.set_meta(db, "dim", str(self.encoder.dim))
                        self.store.bump_generation(db)
                        state = self.store.state(db)
                except BaseException:
                    backend.discard()
                    raise
                backend.dense.remove(removed)
                backend.dense.add(ids, own, fields)
                backend.commit(state)
                means.add(document.language, own)
                means.last = max(means.last, int(ids.max()))
            if documents:
                self._publish_means(means, self.store.generation())
        return [d.id for d in documents]

    def _forget_means(self, db: sqlite3.Connection, means: PassageMoments, doc_id: str) -> None:
        """Take a stored document's vectors out of `means` (before it is replaced)."""
        old = self.store.document(db, doc_id)
        if old is not None:
            means.add(old.language, self.store.vectors(db, means.dim, doc_id)[1], sign=-1)

    def _publish_means(self, means: PassageMoments, generation: int) -> None:
        with self._load_lock:
            self._means, self._means_generation = means, generation

    def remove(self, doc_id: str) -> None:
        with self._write_lock:
            backend = self.backend
            means = self._current_means().copy()
            try:
                with self.store.transaction() as db:
                    if self.store.document(db, doc_id) is None:
                        raise NotFound(f"no document {doc_id!r}")
                    self._forget_means(db, means, doc_id)
                    removed = np.asarray(self.store.delete_document(db, doc_id), np.int64)
                    backend.lexical.remove(removed)
                    generation = self.store.bump_generation(db)
                    state = self.store.state(db)
            except BaseException:
                backend.discard()
                raise
            backend.dense.remove(removed)
            backend.commit(state)
            self._publish_means(means, generation)

    def set_themes(self, themes: Sequence[Theme]) -> None:
        """Set the theme taxonomy; descriptions are embedded to detect document themes."""
        with self._write_lock:
            texts = [f"{t.label_fr}. {t.label_en}. {t.description}" for t in themes]
            current = {t.id: t for t, v in self.store.themes(self.store.reader) if v is not None}
            if list(current.values()) == list(themes) and not self._model_changed():
                return
            vectors = self._embed(texts) if themes else None
            with self.store.transaction() as db:
                self.store.put_themes(db, themes, vectors)

    def _model_changed(self) -> bool:
        built_with = self.store.meta("model")
        return bool(built_with) and built_with != self.model_name

    def themes(self) -> list[Theme]:
        return [t for t, _ in self.store.themes(self.store.reader)]

    def reindex(self, progress: Progress | None = None) -> None:
        """Re-embed every chunk with the current encoder and rebuild the index."""
        with self._write_lock:
            with self.store.snapshot() as db:
                rows = self.store.all_chunk_texts(db)
                themes = [t for t, _ in self.store.themes(db)]
            vectors, sentence_vectors = self._embed_chunks(
                [(t, h, x) for _, t, h, x in rows], progress
            )
            theme_vectors = (
                self._embed([f"{t.label_fr}. {t.label_en}. {t.description}" for t in themes])
                if themes
                else None
            )
            with self.store.transaction() as db:
                self.store.set_vectors(db, [r[0] for r in rows], vectors)
                self.store.set_sentence_vectors(
                    db, {r[0]: packed for r, packed in zip(rows, sentence_vectors, strict=True)}
                )
                self.store.put_themes(db, themes, theme_vectors)
                self.store.set_meta(db, "model", self.model_name)
                self.store.set_meta(db, "dim", str(self.encoder.dim))
                self.store.bump_generation(db)
                self.store.bump_epoch(db)
            if self._backend is not None:
                self._backend.close()
                self._backend = None
            with self._load_lock:
                self._means = None
            self._catch_up(self._open_backend())
            self._backend.flush()

    # reading

    def search(
        self,
        query: str,
        filters: Filters | None = None,
        limit: int = 10,
        offset: int = 0,
        mode: str = "hybrid",
    ) -> SearchResponse:
        """Documents best matching `query`, best passage first, with facets."""
        return self._search(query, filters, limit, offset, mode, snippets=True)

    def _search(
        self,
        query: str,
        filters: Filters | None,
        limit: int,
        offset: int,
        mode: str,
        snippets: bool,
    ) -> SearchResponse:
        query = (query or "").strip()
        if not query:
            raise InvalidInput("the query is empty")
        if len(query) > self.settings.max_query_chars:
            raise InvalidInput(
                f"the query is {len(query)} characters long; the limit is "
                f"{self.settings.max_query_chars} (KB_MAX_QUERY_CHARS)"
            )
        if not 1 <= limit <= self.settings.max_limit:
            raise InvalidInput(f"limit must be between 1 and {self.settings.max_limit}")
        if offset < 0:
            raise InvalidInput("offset must not be negative")
        self._check_model()
        backend = self.backend
        means = self._current_means() if mode != "lexical" else None
        searcher = Searcher(
            self.store,
            backend,
            self.encoder,
            self.settings,
            means,
            self._query_vectors,
            self._document_facets,
        )
        with self.store.snapshot() as db:
            response = searcher.search(db, query, filters, limit, offset, mode, snippets)
            response.facets = self._label_facets(db, response.facets)
        return response

    def _label_facets(
        self, db, counts: dict[str, list[tuple[str, int]]]
    ) -> dict[str, list[FacetValue]]:
        labels = self._facet_labels(db)
        return {
            facet: [FacetValue(v, n, labels.get(facet, {}).get(v)) for v, n in values]
            for facet, values in counts.items()
        }

    def _facet_labels(self, db: sqlite3.Connection) -> dict[str, dict[str, str]]:
        """Theme and trip labels of the snapshot `db`; the trips' (a pass over every
        document) read again only after a write of documents."""
        generation = self.store.generation(db)
        cached = self._trip_labels
        if cached is None or cached[0] != generation:
            trips = dict(
                db.execute(
                    "SELECT trip, max(coalesce(trip_name, trip)) FROM documents "
                    "WHERE trip IS NOT NULL GROUP BY trip"
                ).fetchall()
            )
            trips[NO_TRIP] = NO_TRIP_LABEL
            cached = self._trip_labels = (generation, trips)
        themes = dict(db.execute("SELECT id, label_fr FROM themes").fetchall())
        return {"theme": themes, "trip": cached[1]}

    def facets(self, filters: Filters | None = None) -> dict[str, list[FacetValue]]:
        """Counts per trip, theme, kind, language and year of the documents passing `filters`."""
        with self.store.snapshot() as db:
            return self._label_facets(db, facet_counts.facet_counts(db, None, filters))

    def document(self, doc_id: str) -> Document:
        with self.store.snapshot() as db:
            document = self.store.document(db, doc_id)
            if document is None:
                raise NotFound(f"no document {doc_id!r}")
            document.chunks = self.store.chunks(db, doc_id)
        return document

    def documents(
        self, filters: Filters | None = None, limit: int | None = None, offset: int = 0
    ) -> tuple[list[Document], int]:
        """Documents' metadata (no chunks), newest first, and their total."""
        with self.store.snapshot() as db:
            return self.store.list_documents(db, filters, limit, offset)

    def original(self, doc_id: str) -> tuple[bytes, str, str]:
        """(bytes, media type, file name) of the file a document was read from."""
        with self.store.snapshot() as db:
            document = self.store.document(db, doc_id)
            if document is None:
                raise NotFound(f"no document {doc_id!r}")
            content = self.store.original(db, document.sha256) if document.sha256 else None
        if content is None:
            raise NotFound(f"the original file of {doc_id!r} was not kept")
        return (
            content,
            document.media_type or "application/octet-stream",
            document.source or doc_id,
        )

    def similar(self, doc_id: str, limit: int = 5) -> list[SearchResult]:
        """Other documents closest in meaning to this one, best passage first."""
        self._check_model()
        backend = self.backend
        with self.store.snapshot() as db:
            if self.store.document(db, doc_id) is None:
                raise NotFound(f"no document {doc_id!r}")
            own_ids, vectors = self.store.vectors(db, backend.dense.dim, doc_id)
            if not len(own_ids):
                return []
            hits = backend.dense.search(mean_vector(vectors), 20 * limit, excluded=own_ids)
            scores = dict(hits)
            rows = self.store.chunk_rows(db, list(scores))
            results = [result_of(g, scores, rows) for g in group_by_document(scores, rows)[:limit]]
            documents = self.store.documents_by_id(db, [r.document.id for r in results])
        for result in results:
            result.document = documents[result.document.id]
            result.snippet = make_snippet(result.passage.text, "")
        return results

    def evaluate(self, queries: list[Query], mode: str = "hybrid") -> Scores:
        """What users see on judged queries: nDCG@10, Recall@10, MRR@10, the answer in
        the snippets, and the 'no close match' flag (see `kb.evaluate`)."""

        def rank(query: Query) -> Ranking:
            response = self._search(query.text, query.filters, CUTOFF, 0, mode, snippets=True)
            results = response.results
            return Ranking(
                names=[{r.document.id, r.document.source or r.document.id} for r in results],
                snippets=[
                    [r.snippet.text, *(p.snippet.text for p in r.passages if p.snippet)]
                    for r in results
                ],
                low_confidence=response.low_confidence,
                total=response.total,
            )

        return evaluate(queries, rank)

    def stats(self) -> Stats:
        with self.store.snapshot() as db:
            documents, chunks = self.store.totals(db)
            counts = facet_counts.counts(db)
            return Stats(
                documents=documents,
                chunks=chunks,
                model=self.store.meta("model", db) or self.model_name,
                dim=int(self.store.meta("dim", db) or 0),
                generation=self.store.generation(db),
                by_trip=counts["trip"],
                by_kind=counts["kind"],
                by_language=counts["language"],
            )

    def close(self) -> None:
        with self._write_lock:
            if self._backend is not None:
                self._backend.close()
                self._backend = None
            if self._background is not None:
                self._background.close()
                self._background = None
        self.store.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # transfer: practice cards, trips, what partners look for (kb.practices, kb.trips,
    # kb.query_log)

    def _cards_current(self) -> None:
        """Build the cards that are missing (see `kb.practices`): cheap when none is.
        A reader never waits long behind an ingest: if the write lock stays busy, the
        missing cards are built by a later read."""
        with self.store.snapshot() as db:
            if not card_store.stale(db):
                return
        if not self._write_lock.acquire(timeout=CARD_SYNC_WAIT_S):
            return
        try:
            card_store.sync(self.store)
        finally:
            self._write_lock.release()

    def rebuild_cards(self) -> int:
        """Rebuild every practice card from the stored passages; documents examined."""
        with self._write_lock:
            with self.store.transaction() as db:
                card_store.clear(db)
            return card_store.sync(self.store)

    def practices(
        self, filters: Filters | None = None, limit: int | None = None, offset: int = 0
    ) -> tuple[list[PracticeCard], int]:
        """Practice cards passing `filters`, newest first, and their total."""
        self._cards_current()
        with self.store.snapshot() as db:
            return card_store.cards(db, filters, None, limit, offset)

    def practice(self, doc_id: str) -> PracticeCard | None:
        """The card of a document, or None when it is not a practice."""
        found = self.practice_cards([doc_id], missing_ok=True)
        if not found and self.store.document(self.store.reader, doc_id) is None:
            raise NotFound(f"no document {doc_id!r}")
        return found[0] if found else None

    def practice_cards(self, ids: Sequence[str], missing_ok: bool = False) -> list[PracticeCard]:
        """The cards of these documents, in this order; `NotFound` naming the ids that are
        not practices (unless `missing_ok`)."""
        self._cards_current()
        with self.store.snapshot() as db:
            found, _ = card_store.cards(db, None, list(dict.fromkeys(ids)))
        unknown = sorted(set(ids) - {card.document_id for card in found})
        if unknown and not missing_ok:
            raise NotFound("no practice with the id " + ", ".join(repr(i) for i in unknown))
        return found

    def put_trips(self, trips: Sequence[trip_records.TripInfo]) -> None:
        """Record what trip folders say about their trips (name, place, dates, hosts)."""
        with self._write_lock, self.store.transaction() as db:
            trip_records.put(db, trips)

    def trips(self) -> list[trip_records.TripOverview]:
        """Every trip with documents, newest first, with what it produced."""
        self._cards_current()
        with self.store.snapshot() as db:
            return trip_records.overviews(db)

    def trip(self, slug: str) -> trip_records.TripOverview:
        self._cards_current()
        with self.store.snapshot() as db:
            found = trip_records.overviews(db, slug)
        if not found:
            raise NotFound(f"no trip {slug!r}")
        return found[0]

    def log_search(self, query: str, response: SearchResponse) -> int | None:
        """Log a search (see `kb.query_log`); its id, or None when the log is off or the
        write failed (reported on the `kb.query_log` logger: the search still answers)."""
        if not self.settings.query_log:
            return None
        themes = response.results[0].document.themes if response.results else []
        try:
            return query_log.record(
                self.store.path,
                query,
                response.total,
                response.low_confidence,
                list(themes),
                self.settings.query_log_days,
            )
        except sqlite3.Error as error:
            query_log.logger.warning("query log: the search was not logged: %s", error)
            return None

    def log_opened(self, query_id: int, doc_id: str) -> None:
        """Record that a result of a logged search was opened (failures reported only)."""
        if not self.settings.query_log:
            return
        try:
            query_log.opened(self.store.path, query_id, doc_id)
        except sqlite3.Error as error:
            query_log.logger.warning("query log: the opening was not logged: %s", error)

    def insights(self) -> query_log.Insights:
        """What partners searched for: frequent queries, gaps, demand per theme, trend."""
        with self.store.snapshot() as db:
            return query_log.insights(db)

    def insights_csv(self) -> str:
        with self.store.snapshot() as db:
            return query_log.to_csv(db)
