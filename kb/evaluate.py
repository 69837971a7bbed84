"""Relevance measurement: what a user of the search sees, over a queries/qrels set.

Queries are JSON lines (`_id`, `text` or another field, optional `filters`, `kind`
and `answer`, and optionally `corpus-id` when there is no qrels file); qrels are TSV
lines `query-id  corpus-id  score`. A corpus-id names a document id or a source file
name. A query of kind `off-topic` has no relevant document: nothing should answer it.

Figures: nDCG@10, Recall@10 and MRR@10 over the answerable queries (overall and per
kind); answer-visible@3, the share of queries with an `answer` phrase whose phrase
shows in what one of the first three results shows (its snippet or the excerpt of one
of its other passages); and how `low_confidence` flags the off-topic queries (it
should) and the answerable ones (it should not).
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import InvalidInput
from kb.text import fold
from kb.types import Filters

CUTOFF = 10
ANSWER_DEPTH = 3
OFF_TOPIC = "off-topic"


@dataclass
class Query:
    id: str
    text: str
    filters: Filters | None = None
    relevant: dict[str, int] = field(default_factory=dict)
    kind: str | None = None
    answer: str | None = None

    @property
    def off_topic(self) -> bool:
        return self.kind == OFF_TOPIC


@dataclass
class Ranking:
    """What a search showed for one query: the names each result answers to (document
    id, file name), best first, the texts each result shows (its snippet, then the
    excerpts of its other passages), and its 'no close match' flag."""

    names: list[set[str]]
    snippets: list[list[str]] = field(default_factory=list)
    low_confidence: bool = False
    total: int | None = None
    """How many documents the search counted as matches."""


@dataclass
class Figures:
    ndcg: float
    recall: float
    mrr: float
    queries: int


@dataclass
class Scores:
    ndcg: float
    recall: float
    mrr: float
    queries: int
    per_query: dict[str, dict[str, float]] = field(default_factory=dict)
    by_kind: dict[str, Figures] = field(default_factory=dict)
    answer_visible: float | None = None
    """Share of queries with an answer phrase that shows it in a top-3 snippet."""
    off_topic_flagged: float | None = None
    """Share of off-topic queries flagged `low_confidence`."""
    answerable_flagged: float | None = None
    """Share of answerable queries wrongly flagged `low_confidence`."""
    off_topic: int = 0
    counted: float | None = None
    """Mean number of documents counted as matches (`total`) per answerable query."""
    off_topic_counted: float | None = None
    """The same per off-topic query."""


def filters_of(data: dict | None) -> Filters | None:
    if not data:
        return None
    return Filters.from_values(
        trip=data.get("trip"),
        theme=data.get("theme"),
        kind=data.get("kind"),
        language=data.get("lang") or data.get("language"),
        year_from=data.get("year_from"),
        year_to=data.get("year_to"),
    )


def load(queries_path: Path, qrels_path: Path | None, field_name: str = "text") -> list[Query]:
    """Queries with their relevance judgements; unjudged queries are dropped unless
    they are off-topic."""
    queries: dict[str, Query] = {}
    with open(queries_path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                query = Query(
                    str(data["_id"]),
                    str(data[field_name]),
                    filters_of(data.get("filters")),
                    kind=data.get("kind"),
                    answer=data.get("answer") or None,
                )
            except (ValueError, KeyError) as error:
                raise InvalidInput(f"{queries_path}:{number}: not a query line ({error})") from None
            if "corpus-id" in data:
                query.relevant[str(data["corpus-id"])] = 1
            queries[query.id] = query
    if qrels_path is not None:
        with open(qrels_path, encoding="utf-8", newline="") as rows:
            for row in csv.reader(rows, delimiter="\t"):
                if len(row) < 2 or row[0] == "query-id" or row[0] not in queries:
                    continue
                score = int(row[2]) if len(row) > 2 and row[2].strip() else 1
                if score > 0:
                    queries[row[0]].relevant[row[1]] = score
    for query in queries.values():
        if query.off_topic and query.relevant:
            raise InvalidInput(f"query {query.id!r} is off-topic but has relevant documents")
    return [q for q in queries.values() if q.relevant or q.off_topic]


def score_ranking(ranking: list[set[str]], relevant: dict[str, int]) -> tuple[float, float, float]:
    """(nDCG, recall, reciprocal rank) at CUTOFF; each ranked item is the set of names
    (document id, file name) a result answers to."""
    gains: list[int] = []
    found: set[str] = set()
    first = 0
    for rank, names in enumerate(ranking[:CUTOFF], start=1):
        hit = next((n for n in names if n in relevant and n not in found), None)
        gains.append(relevant[hit] if hit else 0)
        if hit:
            found.add(hit)
            first = first or rank
    dcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted(relevant.values(), reverse=True)[:CUTOFF]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return (dcg / idcg if idcg else 0.0, len(found) / len(relevant), 1.0 / first if first else 0.0)


_SPACE = re.compile(r"\s+")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'", "\u00a0": " ", "\u202f": " "})


def normalised(text: str) -> str:
    """Case, accents, apostrophes and spacing folded, to find a phrase in a snippet."""
    return _SPACE.sub(" ", fold(text.translate(_APOSTROPHES))).strip()


def answer_visible(answer: str, snippets: list[list[str]]) -> bool:
    """Whether `answer` shows whole in one text shown by the first ANSWER_DEPTH
    results (each result's `snippets`: a phrase never spans two of them)."""
    phrase = normalised(answer)
    return any(phrase in normalised(s) for shown in snippets[:ANSWER_DEPTH] for s in shown)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _figures(per_query: list[dict[str, float]]) -> Figures:
    return Figures(
        ndcg=_mean([s["ndcg"] for s in per_query]),
        recall=_mean([s["recall"] for s in per_query]),
        mrr=_mean([s["mrr"] for s in per_query]),
        queries=len(per_query),
    )


def evaluate(queries: list[Query], rank: Callable[[Query], Ranking]) -> Scores:
    """Mean scores of `rank` over the queries."""
    if not queries:
        raise InvalidInput("no query with relevance judgements to evaluate")
    per_query: dict[str, dict[str, float]] = {}
    by_kind: dict[str, list[dict[str, float]]] = {}
    visible: list[float] = []
    flagged_off: list[float] = []
    flagged_answerable: list[float] = []
    counted: dict[bool, list[float]] = {True: [], False: []}
    for query in queries:
        ranking = rank(query)
        if ranking.total is not None:
            counted[query.off_topic].append(float(ranking.total))
        if query.off_topic:
            flagged_off.append(float(ranking.low_confidence))
            per_query[query.id] = {"low_confidence": float(ranking.low_confidence)}
            continue
        ndcg, recall, rr = score_ranking(ranking.names, query.relevant)
        scores = {"ndcg": ndcg, "recall": recall, "mrr": rr}
        scores["low_confidence"] = float(ranking.low_confidence)
        flagged_answerable.append(float(ranking.low_confidence))
        if query.answer:
            scores["answer_visible"] = float(answer_visible(query.answer, ranking.snippets))
            visible.append(scores["answer_visible"])
        per_query[query.id] = scores
        by_kind.setdefault(query.kind or "all", []).append(scores)
    answerable = [s for s in per_query.values() if "ndcg" in s]
    overall = _figures(answerable) if answerable else Figures(0.0, 0.0, 0.0, 0)
    return Scores(
        ndcg=overall.ndcg,
        recall=overall.recall,
        mrr=overall.mrr,
        queries=overall.queries,
        per_query=per_query,
        by_kind={kind: _figures(s) for kind, s in sorted(by_kind.items())},
        answer_visible=_mean(visible) if visible else None,
        off_topic_flagged=_mean(flagged_off) if flagged_off else None,
        answerable_flagged=_mean(flagged_answerable) if flagged_answerable else None,
        off_topic=len(flagged_off),
        counted=_mean(counted[False]) if counted[False] else None,
        off_topic_counted=_mean(counted[True]) if counted[True] else None,
    )
