"""Query → ranked, fused, grouped results.

Dense (FAISS, filters inside the index search) and lexical (FTS5 BM25, the same
filters in SQL) rankings of chunks are fused by reciprocal rank fusion, then
grouped by document: best passage first, other matching passages kept.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kb.analysis import coverage, match_expression, query_stems, query_words
from kb.embed import Encoder
from kb.errors import InvalidInput
from kb.index import FaissIndex
from kb.settings import Settings
from kb.snippet import highlight_ranges, make_snippet
from kb.store import Store
from kb.text import sentences
from kb.types import Document, Filters, Passage, SearchResponse, SearchResult, Snippet

MODES = ("hybrid", "dense", "lexical")
CANDIDATES = 100
OTHER_PASSAGES = 3
LEXICAL_COVERAGE_POWER = 2.0
SEMANTIC_SNIPPET_SENTENCES = 24
"""Most sentences embedded per search to pick the snippets of purely semantic hits."""


def rrf(
    rankings: Sequence[Sequence[int]], k: int, weights: Sequence[float] | None = None
) -> dict[int, float]:
    """Reciprocal rank fusion: Σ weight / (k + rank), ranks from 1."""
    weights = weights or [1.0] * len(rankings)
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


def combine(
    dense: Sequence[tuple[int, float]],
    lexical: Sequence[tuple[int, float]],
    dense_share: float,
    lexical_weight: float = 1.0,
) -> dict[int, float]:
    """Normalised-score fusion: dense similarities min-max scaled over the candidates,
    BM25 scores divided by the best one, mixed `dense_share` : `1 - dense_share`
    (the lexical part scaled by `lexical_weight`). Both lists best first."""
    fused: dict[int, float] = {}
    if dense:
        top, low = dense[0][1], dense[-1][1]
        spread = (top - low) or 1.0
        for item, score in dense:
            fused[item] = dense_share * (score - low) / spread
    if lexical:
        top = lexical[0][1] or 1.0
        share = (1.0 - dense_share) * lexical_weight
        for item, score in lexical:
            fused[item] = fused.get(item, 0.0) + share * score / top
    return fused


@dataclass
class Ranked:
    """Chunk scores of one query before grouping, and the best dense similarity."""

    scores: dict[int, float]
    best_similarity: float | None
    query_vector: np.ndarray | None = None


def passage_of(row: sqlite3.Row, score: float) -> Passage:
    return Passage(
        chunk_id=int(row["id"]),
        text=row["text"],
        heading_path=tuple(json.loads(row["heading"])),
        page=row["page"],
        position=int(row["position"]),
        score=score,
    )


class Searcher:
    """Runs one query against a store snapshot and a vector index snapshot."""

    def __init__(self, store: Store, encoder: Encoder, settings: Settings) -> None:
        self.store = store
        self.encoder = encoder
        self.fusion = settings.fusion
        self.rrf_k = settings.rrf_k
        self.dense_share = settings.dense_share
        self.low_confidence = settings.low_confidence

    def rank(
        self,
        db: sqlite3.Connection,
        index: FaissIndex,
        query: str,
        filters: Filters | None,
        mode: str,
        depth: int,
    ) -> Ranked:
        allowed = (
            None if filters is None or filters.is_empty() else self.store.chunk_ids(db, filters)
        )
        rankings: list[list[int]] = []
        best_similarity = None
        vector = None
        if mode in ("hybrid", "dense"):
            vector = self.encoder.encode_queries([query])[0]
            hits = index.search(vector, depth, allowed=allowed)
            rankings.append([i for i, _ in hits])
            best_similarity = hits[0][1] if hits else None
            if mode == "dense":
                return Ranked({i: s for i, s in hits}, best_similarity, vector)
        match = match_expression(query)
        lexical = self.store.lexical(db, match, filters, depth) if match else []
        if mode == "lexical":
            return Ranked({i: s for i, s in lexical}, None)
        weight = self.lexical_weight(db, query)
        if self.fusion == "rrf":
            rankings.append([i for i, _ in lexical])
            return Ranked(rrf(rankings, self.rrf_k, [1.0, weight]), best_similarity, vector)
        return Ranked(combine(hits, lexical, self.dense_share, weight), best_similarity, vector)

    def lexical_weight(self, db: sqlite3.Connection, query: str) -> float:
        """Weight of the lexical leg: the share of the query's words that the index
        knows, so that a query phrased in other words or another language is ranked
        by meaning rather than dragged down by chance word matches."""
        known = self.store.known_terms(db, query_words(query) + query_stems(query))
        return coverage(query, known) ** LEXICAL_COVERAGE_POWER

    def search(
        self,
        db: sqlite3.Connection,
        index: FaissIndex,
        query: str,
        filters: Filters | None,
        limit: int,
        offset: int,
        mode: str,
        snippets: bool = True,
    ) -> SearchResponse:
        started = time.perf_counter()
        if mode not in MODES:
            raise InvalidInput(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
        depth = max(CANDIDATES, 4 * (offset + limit))
        ranked = self.rank(db, index, query, filters, mode, depth)
        results = self.group(db, ranked.scores)
        page = results[offset : offset + limit]
        documents = self.store.documents_by_id(db, [r.document.id for r in page])
        for result in page:
            result.document = documents[result.document.id]
        if snippets:
            self.add_snippets(page, query, ranked.query_vector)
        facets = self.store.facet_counts(db, [r.document.id for r in results], None)
        low = ranked.best_similarity is not None and ranked.best_similarity < self.low_confidence
        return SearchResponse(
            query=query,
            results=page,
            total=len(results),
            facets=facets,  # labelled by the facade
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            low_confidence=low or (not results),
        )

    def add_snippets(
        self, results: list[SearchResult], query: str, query_vector: np.ndarray | None
    ) -> None:
        """Each result's snippet: the sentences holding query words or, for a passage
        that shares no word with the query, the sentence closest to it in meaning."""
        semantic: list[tuple[SearchResult, list[str]]] = []
        budget = SEMANTIC_SNIPPET_SENTENCES
        for result in results:
            text = result.passage.text
            spans = sentences(text)
            if query_vector is None or highlight_ranges(text, query) or len(spans) < 2:
                result.snippet = make_snippet(text, query)
            elif budget >= len(spans):
                budget -= len(spans)
                semantic.append((result, [text[a:b] for a, b in spans]))
            else:
                result.snippet = make_snippet(text, query)
        if not semantic:
            return
        vectors = self.encoder.encode_passages([s for _, group in semantic for s in group])
        scores = (vectors @ query_vector).tolist()
        start = 0
        for result, group in semantic:
            own = scores[start : start + len(group)]
            start += len(group)
            result.snippet = make_snippet(result.passage.text, query, own)

    def group(self, db: sqlite3.Connection, scores: dict[int, float]) -> list[SearchResult]:
        """Chunks grouped by document, documents by their best chunk."""
        rows = self.store.chunk_rows(db, list(scores))
        by_document: dict[str, list[Passage]] = {}
        for chunk_id, score in sorted(scores.items(), key=lambda item: -item[1]):
            row = rows.get(chunk_id)
            if row is not None:
                by_document.setdefault(row["document_id"], []).append(passage_of(row, score))
        results = [
            SearchResult(
                document=Document(id=doc_id, title=""),
                passage=passages[0],
                snippet=Snippet(text=""),
                score=passages[0].score,
                passages=passages[1 : 1 + OTHER_PASSAGES],
            )
            for doc_id, passages in by_document.items()
        ]
        results.sort(key=lambda r: (-r.score, r.document.id))
        return results


def mean_vector(vectors: np.ndarray) -> np.ndarray:
    vector = vectors.mean(axis=0)
    norm = np.linalg.norm(vector)
    return vector / norm if norm else vector
