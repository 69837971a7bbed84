"""The Milvus backend: both legs in one Milvus collection (Milvus Lite or a cluster).

Each passage is one row: its id, its dense vector (inner product), a lexical sparse
vector computed here from the same French analysis as FTS5 (`kb.analysis`), and the
fields filters look at. The lexical vector maps a hash of each folded word (`w:…`) and
each stem (`s:…`) to a BM25 term-frequency weight; a query weighs its words and stems
by their inverse document frequency, so the inner product is a BM25-like score.

A second small collection holds the document frequency of every term hash (for the
query weights and `known_terms`), the passage count and total length (the average
length of BM25), and the state last committed (row `STATE_ID`).

The two legs share the collection: `add` / `remove` only stage; the first `commit`
writes the staged rows, completing a row that one leg alone staged (a catch-up) with
the other part read from SQLite, so a row always holds both vectors and one state
serves both legs. Without `milvus_uri`, Milvus Lite runs on `milvus.db` beside the
SQLite file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from kb.backend import Backend, PassageFields, PassageText, VectorLeg
from kb.milvus_index import MilvusIndex, query_terms, term_hash
from kb.query import AnalysedQuery
from kb.settings import Settings
from kb.store import Store
from kb.types import Filters

__all__ = ["MilvusDense", "MilvusIndex", "MilvusLexical", "open_milvus"]


class _Leg:
    """What both legs do alike: they stage into, and read the state of, one index."""

    def __init__(self, index: MilvusIndex) -> None:
        self.index = index
        self.dim = index.dim

    def remove(self, ids: np.ndarray) -> None:
        self.index.stage_removal(ids)

    def commit(self, state: str) -> None:
        self.index.commit(state)

    def discard(self) -> None:
        self.index.discard()

    def state(self) -> str | None:
        return self.index.state()

    def ids(self) -> np.ndarray:
        return self.index.ids()

    def reset(self) -> None:
        self.index.reset()

    def flush(self) -> None:
        self.index.flush()

    def close(self) -> None:
        self.index.close()


class MilvusDense(_Leg, VectorLeg):
    def add(self, ids: np.ndarray, vectors: np.ndarray, fields: Sequence[PassageFields]) -> None:
        self.index.stage(ids, "vector", list(vectors), fields)

    def search(
        self,
        vector: np.ndarray,
        k: int,
        filters: Filters | None = None,
        excluded: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        data = np.asarray(vector, np.float32).reshape(-1).tolist()
        return self.index.search("dense", data, k, filters, excluded)


class MilvusLexical(_Leg):
    def add(
        self, ids: np.ndarray, passages: Sequence[PassageText], fields: Sequence[PassageFields]
    ) -> None:
        self.index.stage(ids, "text", passages, fields)

    def search(
        self, query: AnalysedQuery, k: int, filters: Filters | None = None
    ) -> list[tuple[int, float]]:
        df = self.index.df(query_terms(query))
        if not df:
            return []
        n = self.index.count()
        weights = {h: math.log(1 + (n - d + 0.5) / (d + 0.5)) for h, d in df.items()}
        return self.index.search("sparse", weights, k, filters)

    def known_terms(self, query: AnalysedQuery) -> set[str]:
        forms = {t: (term_hash(f"w:{t}"), term_hash(f"s:{t}")) for t in query.terms}
        known = set(self.index.df([h for pair in forms.values() for h in pair]))
        return {t for t, pair in forms.items() if known & set(pair)}

    def flush(self) -> None:
        """The dense leg flushes the shared collection."""


def open_milvus(store: Store, settings: Settings, dim: int, model: str) -> Backend:
    index = MilvusIndex(store, settings, dim)
    return Backend("milvus", MilvusDense(index), MilvusLexical(index))
