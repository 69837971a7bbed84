"""Relevance measurement: nDCG@10, Recall@10 and MRR@10 over a queries/qrels set.

Queries are JSON lines (`_id`, `text` or another field, optional `filters`, and
optionally `corpus-id` when there is no qrels file); qrels are TSV lines
`query-id  corpus-id  score`. A corpus-id names a document id or a source file name.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import InvalidInput
from kb.types import Filters

CUTOFF = 10


@dataclass
class Query:
    id: str
    text: str
    filters: Filters | None = None
    relevant: dict[str, int] = field(default_factory=dict)


@dataclass
class Scores:
    ndcg: float
    recall: float
    mrr: float
    queries: int
    per_query: dict[str, dict[str, float]] = field(default_factory=dict)


def filters_of(data: dict | None) -> Filters | None:
    if not data:
        return None

    def values(key: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        return tuple(value) if isinstance(value, list) else (str(value),)

    return Filters(
        trip=values("trip"),
        theme=values("theme"),
        kind=values("kind"),
        language=values("lang") or values("language"),
        year_from=data.get("year_from"),
        year_to=data.get("year_to"),
    )


def load(queries_path: Path, qrels_path: Path | None, field_name: str = "text") -> list[Query]:
    """Queries with their relevance judgements; queries without any are dropped."""
    queries: dict[str, Query] = {}
    with open(queries_path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                query = Query(
                    str(data["_id"]), str(data[field_name]), filters_of(data.get("filters"))
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
    return [q for q in queries.values() if q.relevant]


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


def evaluate(queries: list[Query], rank: Callable[[Query], list[set[str]]]) -> Scores:
    """Mean scores of `rank` over the queries."""
    if not queries:
        raise InvalidInput("no query with relevance judgements to evaluate")
    per_query: dict[str, dict[str, float]] = {}
    for query in queries:
        ndcg, recall, rr = score_ranking(rank(query), query.relevant)
        per_query[query.id] = {"ndcg": ndcg, "recall": recall, "mrr": rr}
    n = len(per_query)
    return Scores(
        ndcg=sum(s["ndcg"] for s in per_query.values()) / n,
        recall=sum(s["recall"] for s in per_query.values()) / n,
        mrr=sum(s["mrr"] for s in per_query.values()) / n,
        queries=n,
        per_query=per_query,
    )
