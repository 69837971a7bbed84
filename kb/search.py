"""Query → ranked, fused, grouped results.

The dense leg (FAISS, filters inside the index search) scores each candidate passage
by its own vector and its best sentence, corrected for the language bias of the
model (`kb.moments`); the lexical leg (FTS5 BM25, the same filters in SQL) is
normalised within each document language, so that a passage in the query's language
is not lifted over a better one in another language for sharing its words. The two
are fused, passages grouped by document (a document scores by its best passage plus
a share of its second: detailed notes hold several passages on their subject, a
summary one), and a relevance cut says which documents count as matches.
"""

from __future__ import annotations

import json
import sqlite3
import time
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from kb.backend import Backend
from kb.embed import Encoder
from kb.errors import InvalidInput
from kb.facets import DocumentFacets, count_values
from kb.lexicon import lexicon_at
from kb.moments import PassageMoments
from kb.query import AnalysedQuery
from kb.sentences import scores_of_many
from kb.settings import Settings
from kb.snippet import make_excerpt, make_snippet
from kb.store import Store
from kb.text import WORD, fold, sentences
from kb.types import Document, Filters, Passage, SearchResponse, SearchResult, Snippet

MODES = ("hybrid", "dense", "lexical")
CANDIDATES = {"hybrid": 70, "dense": 100, "lexical": 100}
"""Passages each leg proposes for a first page, by mode. Every candidate is looked up,
scored on its sentences and grouped, so the depth sets much of a search's cost. In
hybrid search the two legs' 70 each make about 125 distinct candidates and rank as 100
each did on the three relevance sets, for a fifth less time at 100,000 passages; a leg
searching alone keeps 100 (dense search at 70 lost 0.013 nDCG@10 on the dev set: a
document's second passage fell out of the candidates). See bench/README.md, "Seventh
release"."""
OTHER_PASSAGES = 3
EXCERPTS = 2
EXCERPT_SHARE = 0.8
"""A result shows an excerpt of each of its next EXCERPTS passages scoring at least this
share of its best one: on the dev set, the answer on screen in 61.1 → 68.7 % of the
questions for 112 characters more per result (bench/README.md, "Ninth release")."""
LEXICAL_COVERAGE_POWER = 2.0
SENTENCE_SHARE = 0.3
"""Share of a passage's best sentence in its dense score (the rest: the passage's own
vector)."""
SECOND_PASSAGE_SHARE = 0.3
"""Share of a document's second-best passage added to its best one..."""
THIRD_PASSAGE_SHARE = 0.1
"""... and, on fused scores, of its third: notes that hold the detail match on several
passages."""
SUMMARY_KINDS = frozenset({"trip-report"})
SUMMARY_WEIGHT = 0.9
"""A trip report sums up, a paragraph each, workshops whose notes hold the detail: its
fused score (hybrid search, score fusion) is weighted by this, so that when a report and
the notes it sums up match alike, the notes come first (a question only the report
answers still finds it first)."""
BYLINE_EXTRA = 40
"""Characters a byline may hold besides its document's title and authors (a date,
separators): a longer passage says something of its own, and is not read for words."""
MATCH_SHARE = 0.5
"""In hybrid search with score fusion, a document counts as a match when its score is
at least this share of the best document's..."""
STAND_OUT = 0.0
"""... and its similarity stands out from the other candidate documents' (at least this
many standard deviations above their mean) or comes within half the relevance cut of
the best: a query that no document answers better than the rest counts few."""
STAND_OUT_FROM = 5
"""Fewer candidate documents than this give no meaningful spread: the share alone counts."""


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
    dense: dict[int, float],
    lexical: Sequence[tuple[int, float]],
    dense_share: float,
    lexical_weight: float = 1.0,
    group_of: dict[int, str] | None = None,
) -> dict[int, float]:
    """Normalised-score fusion: dense scores min-max scaled over the candidates, BM25
    scores divided by the best one of the same group (document language) when
    `group_of` is given, else by the best overall; mixed `dense_share` :
    `1 - dense_share` (the lexical part scaled by `lexical_weight`)."""
    fused: dict[int, float] = {}
    if dense:
        top, low = max(dense.values()), min(dense.values())
        spread = (top - low) or 1.0
        for item, score in dense.items():
            fused[item] = dense_share * (score - low) / spread
    if lexical:
        tops: dict[str, float] = {}
        for item, score in lexical:
            tops.setdefault(group_of.get(item, "") if group_of else "", score)
        share = (1.0 - dense_share) * lexical_weight
        for item, score in lexical:
            top = tops[group_of.get(item, "") if group_of else ""] or 1.0
            fused[item] = fused.get(item, 0.0) + share * score / top
    return fused


@dataclass
class Ranked:
    """Chunk scores of one query before grouping, with what grouping, the relevance
    cut and the snippets need."""

    scores: dict[int, float]
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Each candidate's document id, language and kind."""
    similarity: dict[int, float] = field(default_factory=dict)
    """Language-corrected dense score of each dense candidate."""
    sentence_scores: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    fused: bool = False
    """Scores mix both legs on one scale (hybrid search, score fusion)."""
    standing: float | None = None
    """How far the best dense candidate stands out from the whole base
    (`PassageMoments.standing`); None without a dense leg or on a small base."""
    words_met: bool | None = None
    """Whether a word of the query, a stem or a translation of one, occurs in the base;
    None when the lexical leg did not run."""


def passage_of(row: Mapping[str, Any], score: float) -> Passage:
    return Passage(
        chunk_id=int(row["id"]),
        text=row["text"],
        heading_path=tuple(json.loads(row["heading"])),
        page=row["page"],
        position=int(row["position"]),
        score=score,
    )


class Searcher:
    """Runs one query against a store snapshot and the backend's legs."""

    def __init__(
        self,
        store: Store,
        backend: Backend,
        encoder: Encoder,
        settings: Settings,
        means: PassageMoments | None = None,
        query_vector: Callable[[str], np.ndarray] | None = None,
        facets: DocumentFacets | None = None,
    ) -> None:
        self.store = store
        self.dense = backend.dense
        self.lexical = backend.lexical
        self.encoder = encoder
        self.query_vector = query_vector or (lambda text: encoder.encode_queries([text])[0])
        self.means = means
        self.facets = facets or DocumentFacets()
        self.lexicon = lexicon_at(settings.dictionaries)
        self.fusion = settings.fusion
        self.rrf_k = settings.rrf_k
        self.dense_share = settings.dense_share
        self.low_confidence = (
            settings.low_confidence if settings.low_confidence is not None else encoder.close_match
        )
        self.close_standing = encoder.close_standing if settings.low_confidence is None else None
        self.relevance_cut = (
            settings.relevance_cut if settings.relevance_cut is not None else encoder.match_margin
        )

    def rank(
        self,
        db: sqlite3.Connection,
        query: AnalysedQuery,
        filters: Filters | None,
        mode: str,
        depth: int,
    ) -> Ranked:
        lexical: list[tuple[int, float]] = []
        if mode in ("hybrid", "lexical"):
            lexical = self.lexical.search(query, depth, filters)
        if mode == "lexical":
            documents = self.store.chunk_documents(db, [i for i, _ in lexical])
            return Ranked(dict(lexical), self.candidate_rows(db, documents))
        vector = self.query_vector(query.text)
        hits = self.dense.search(vector, depth, filters)
        candidates = list(dict.fromkeys([i for i, _ in hits] + [i for i, _ in lexical]))
        documents, packed = self.store.chunk_documents_and_sentences(db, candidates)
        ranked = Ranked({}, self.candidate_rows(db, documents))
        if hits and self.means is not None:
            ranked.standing = self.means.standing(vector, hits[0][1])
        self._dense_scores(db, vector, hits, ranked, packed)
        if mode == "dense":
            ranked.scores = dict(ranked.similarity)
            return ranked
        weight = self.lexical_weight(query)
        ranked.words_met = weight > 0 or bool(lexical)
        if self.fusion == "rrf":
            order = sorted(ranked.similarity, key=lambda i: -ranked.similarity[i])
            ranked.scores = rrf([order, [i for i, _ in lexical]], self.rrf_k, [1.0, weight])
            return ranked
        language = {i: row["language"] or "" for i, row in ranked.rows.items()}
        ranked.scores = combine(ranked.similarity, lexical, self.dense_share, weight, language)
        ranked.fused = True
        return ranked

    def candidate_rows(self, db: sqlite3.Connection, documents: dict[int, str]) -> dict[int, dict]:
        """Document id, language, kind and facet values of each candidate chunk, given
        its document (the texts are read for the shown page only)."""
        values = self.facets.of_passages(db, documents)
        rows = {}
        for chunk_id, doc_id in documents.items():
            found = values.get(chunk_id)
            if found is not None:
                _, kind, language, *_ = found
                rows[chunk_id] = {
                    "document_id": doc_id,
                    "language": language,
                    "kind": kind,
                    "facets": found,
                }
        return rows

    def _dense_scores(
        self,
        db: sqlite3.Connection,
        vector: np.ndarray,
        hits: list[tuple[int, float]],
        ranked: Ranked,
        packed: list[tuple[int, bytes, bytes]],
    ) -> None:
        """Each candidate's dense score: its similarity mixed with its best sentence's
        (from its `packed` sentences), less its language's offset; and its sentence
        scores, for the snippets."""
        offsets = self.means.offsets(vector) if self.means is not None else {}
        ranked.sentence_scores, best_sentence = scores_of_many(packed, self.dense.dim, vector)
        found = dict(hits)
        # Passages found by words alone: scored by the dense leg when it holds their
        # vectors in memory, else on their vectors from the same SQLite snapshot as the
        # words (the index snapshot may be older than it).
        others = [i for i in ranked.rows if i not in found]
        found.update(self.dense.similarities(vector, others))
        others = [i for i in others if i not in found]
        for chunk_id, own in self.store.vectors_of(db, others, self.dense.dim).items():
            found[chunk_id] = float(own @ vector)
        for chunk_id, similarity in found.items():
            row = ranked.rows.get(chunk_id)
            if row is None:
                continue
            best = best_sentence.get(chunk_id)
            if best is not None:
                similarity = (1 - SENTENCE_SHARE) * similarity + SENTENCE_SHARE * best
            ranked.similarity[chunk_id] = similarity - offsets.get(row["language"] or "", 0.0)

    def lexical_weight(self, query: AnalysedQuery) -> float:
        """Weight of the lexical leg: the share of the query's words that the index
        knows, so that a query phrased in other words or another language is ranked
        by meaning rather than dragged down by chance word matches."""
        return query.coverage(self.lexical.known_terms(query)) ** LEXICAL_COVERAGE_POWER

    def search(
        self,
        db: sqlite3.Connection,
        text: str,
        filters: Filters | None,
        limit: int,
        offset: int,
        mode: str,
        snippets: bool = True,
    ) -> SearchResponse:
        started = time.perf_counter()
        if mode not in MODES:
            raise InvalidInput(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
        depth = max(CANDIDATES[mode], 4 * (offset + limit))
        query = AnalysedQuery.of(text, self.lexicon if mode != "dense" else None)
        ranked = self.rank(db, query, filters, mode, depth)
        groups = group_by_document(ranked.scores, ranked.rows, ranked.fused)
        passing = self.passing(groups, ranked)
        low_confidence = not passing
        shown = passing if passing else groups
        groups = shown[offset : offset + limit]
        texts = self.store.chunk_rows(db, [i for g in groups for i in g.chunk_ids])
        page = [result_of(g, ranked.scores, texts) for g in groups]
        documents = self.store.documents_by_id(db, [r.document.id for r in page])
        for result in page:
            result.document = documents[result.document.id]
            shown_with_content(result)
        if snippets:
            add_snippets(page, query, ranked.sentence_scores)
        facets = count_values(ranked.rows[g.chunk_ids[0]]["facets"] for g in passing)
        return SearchResponse(
            query=text,
            results=page,
            total=len(passing),
            facets=facets,  # labelled by the facade
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            low_confidence=low_confidence,
        )

    def passing(self, results: list[Grouped], ranked: Ranked) -> list[Grouped]:
        """The results that count as matches: for a search by meaning, none when
        nothing is a close match (`close_match`); else, for a calibrated model (one
        with a relevance cut), with score fusion those scoring at least MATCH_SHARE of
        the best document (the score weighs meaning and words), otherwise those whose
        best passage comes within the relevance cut of the best one; every result of a
        search by words alone."""
        if not ranked.similarity:
            return results
        best = max(ranked.similarity.values())
        if not self.close_match(ranked, best):
            return []
        if self.relevance_cut is None:
            return results
        if ranked.fused and results:
            floor = MATCH_SHARE * results[0].score
            similarities = np.array(self.similarities_of(results, ranked))
            out = stand_out(similarities, self.relevance_cut / 2).tolist()
            return [
                r for r, standing in zip(results, out, strict=True) if r.score >= floor and standing
            ]
        similarities = self.similarities_of(results, ranked)
        floor = best - self.relevance_cut
        return [r for r, s in zip(results, similarities, strict=True) if s >= floor]

    def close_match(self, ranked: Ranked, best: float) -> bool:
        """Whether the search found a close match: not when its best similarity is under
        the model's `close_match` and, for a calibrated model on a base large enough
        for a spread, its best passage does not stand out from the whole base either
        (`close_standing`). A question that nothing answers finds passages only as
        close as the base at large is to its subject; one phrased in other words or
        another language may score lower but still stands out. For a calibrated
        model, a hybrid search whose words meet nothing in the base (no word, stem or
        dictionary translation of one occurs in it: a string of letters, a greeting,
        a name the base never mentions) has no close match whatever its similarity:
        the model places such strings as close to some passages as real questions
        to their answers. With KB_LOW_CONFIDENCE set, its threshold alone decides."""
        if self.low_confidence is None:
            return True
        if self.close_standing is not None and ranked.words_met is False:
            return False
        if best >= self.low_confidence:
            return True
        return (
            self.close_standing is not None
            and ranked.standing is not None
            and ranked.standing >= self.close_standing
        )

    @staticmethod
    def similarities_of(results: list[Grouped], ranked: Ranked) -> list[float]:
        """The best dense score among each result's passages (-1 for none)."""
        of = ranked.similarity.get
        return [
            of(r.chunk_ids[0], -1.0)
            if len(r.chunk_ids) == 1
            else max([of(i, -1.0) for i in r.chunk_ids])
            for r in results
        ]


def add_snippets(
    results: list[SearchResult],
    query: AnalysedQuery,
    stored: Mapping[int, tuple[np.ndarray, np.ndarray]],
) -> None:
    """Each result's snippet: the sentences of its passage that hold the query's words,
    then those closest in meaning (`stored` sentence scores, by passage, from the
    sentence vectors stored at ingest); and an excerpt of each of its next EXCERPTS
    passages that scores at least EXCERPT_SHARE of the shown one, unless it is a byline
    (`shown_with_content`). The answer is often in a document's second or third
    passage: on screen, so, without a longer snippet for every result."""
    for result in results:
        result.snippet = _snippet_of(result.passage, query, stored, make_snippet)
        best = result.passage.score
        for passage in result.passages[:EXCERPTS]:
            close = best > 0 and passage.score >= EXCERPT_SHARE * best
            if close and not is_byline(passage.text, result.document):
                passage.snippet = _snippet_of(passage, query, stored, make_excerpt)


def _snippet_of(
    passage: Passage,
    query: AnalysedQuery,
    stored: Mapping[int, tuple[np.ndarray, np.ndarray]],
    make: Callable[..., Snippet],
) -> Snippet:
    """`make`'s snippet of a passage, its sentences ranked with their stored scores."""
    spans = sentences(passage.text)
    own = stored.get(passage.chunk_id)
    return make(passage.text, query, sentence_scores(spans, own) if own else None, spans)


class Grouped(NamedTuple):
    """A document's place in a ranking, before its result is built (a tuple: a search
    makes one for every candidate document)."""

    document_id: str
    score: float
    chunk_ids: tuple[int, ...]
    """Its best passages, best first (at most 1 + OTHER_PASSAGES)."""


def group_by_document(
    scores: dict[int, float], rows: Mapping[int, Mapping[str, Any]], fused: bool = False
) -> list[Grouped]:
    """Chunks grouped by document; a document scores by its best chunk plus a share of
    its second; on `fused` scores (hybrid search, score fusion), plus a share of its
    third, and times SUMMARY_WEIGHT when it is a summary (SUMMARY_KINDS)."""
    by_document: dict[str, list[int]] = {}
    for chunk_id in sorted(scores, key=scores.__getitem__, reverse=True):  # stable
        row = rows.get(chunk_id)
        if row is not None:
            by_document.setdefault(row["document_id"], []).append(chunk_id)
    groups = []
    for doc_id, chunk_ids in by_document.items():
        score = scores[chunk_ids[0]]
        if len(chunk_ids) > 1:
            others = SECOND_PASSAGE_SHARE * scores[chunk_ids[1]]
            if fused and len(chunk_ids) > 2:
                others += THIRD_PASSAGE_SHARE * scores[chunk_ids[2]]
            score += others
        if fused and rows[chunk_ids[0]]["kind"] in SUMMARY_KINDS:
            score *= SUMMARY_WEIGHT
        groups.append(Grouped(doc_id, score, tuple(chunk_ids[: 1 + OTHER_PASSAGES])))
    groups.sort(key=lambda g: (-g.score, g.document_id))
    return groups


def result_of(
    group: Grouped, scores: dict[int, float], rows: Mapping[int, Mapping[str, Any]]
) -> SearchResult:
    """The result shown for a grouped document (its document filled in by the caller)."""
    passages = [passage_of(rows[i], scores[i]) for i in group.chunk_ids]
    return SearchResult(
        document=Document(id=group.document_id, title=""),
        passage=passages[0],
        snippet=Snippet(text=""),
        score=group.score,
        passages=passages[1:],
    )


def shown_with_content(result: SearchResult) -> None:
    """Show a result by a passage with content of its own: a passage whose words, figures
    aside, all belong to its document's title and authors (a byline and its date under
    the title) gives way to the document's next best passage. Its vector, the title's
    context and little else, is often the closest to a question about the document's
    subject; the document's rank stays what its passages earned."""
    if result.passages and is_byline(result.passage.text, result.document):
        result.passages.append(result.passage)
        result.passage = result.passages.pop(0)


def is_byline(text: str, document: Document) -> bool:
    """Whether a passage says nothing but its document's title and authors (figures
    aside, and at most BYLINE_EXTRA characters more)."""
    known = " ".join([document.title, *document.authors])
    if len(text) > len(known) + BYLINE_EXTRA:
        return False
    words = {w for w in WORD.findall(fold(text)) if not w.isdigit()}
    return words <= set(WORD.findall(fold(known)))


def stand_out(similarities: np.ndarray, near_best: float) -> np.ndarray:
    """Which candidate documents' `similarities` stand out from all of them: within
    `near_best` of the best, or at least STAND_OUT standard deviations above their
    mean. Too few candidates tell nothing: all do."""
    if len(similarities) < STAND_OUT_FROM:
        return np.ones(len(similarities), dtype=bool)
    spread = float(similarities.std()) or 1.0
    z = (similarities - float(similarities.mean())) / spread
    return (similarities >= similarities.max() - near_best) | (z >= STAND_OUT)


def sentence_scores(
    spans: Sequence[tuple[int, int]], stored: tuple[np.ndarray, np.ndarray]
) -> list[float]:
    """The stored sentence scores laid on a text's sentence `spans`
    (`kb.text.sentences`): each sentence gets the score of the stored span that holds
    its start, 0 when none does. (A passage has a few sentences: plain lists beat
    numpy's calls here.)"""
    pairs = np.asarray(stored[0]).reshape(-1, 2).tolist()
    if not pairs or not spans:
        return [0.0] * len(spans)
    starts = [a for a, _ in pairs]
    values = np.asarray(stored[1], dtype=np.float64).tolist()
    out = []
    for start, _ in spans:
        at = max(bisect_right(starts, start) - 1, 0)
        a, b = pairs[at]
        out.append(values[at] if a <= start < b else 0.0)
    return out


def mean_vector(vectors: np.ndarray) -> np.ndarray:
    vector = vectors.mean(axis=0)
    norm = np.linalg.norm(vector)
    return vector / norm if norm else vector
