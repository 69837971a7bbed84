"""The embedded backend: FAISS (`kb.index`) and BM25 over the words, one machine: in
memory (`kb.bm25`) or by SQLite FTS5 (`kb.fts`), as `KB_LEXICAL` says."""

from __future__ import annotations

from kb.backend import Backend, LexicalLeg
from kb.bm25 import MemoryLexical
from kb.fts import FtsLexical
from kb.index import FaissDense
from kb.settings import Settings
from kb.store import Store

INDEX_NAME = "index.faiss"
LEXICAL_NAME = "lexical.idx"


def open_embedded(store: Store, settings: Settings, dim: int, model: str) -> Backend:
    dense = FaissDense(
        store, store.path.parent / INDEX_NAME, dim, model, settings.ann_from, settings.ann_rerank
    )
    table = FtsLexical(store)
    lexical: LexicalLeg = table
    if settings.lexical == "memory":
        lexical = MemoryLexical(store, store.path.parent / LEXICAL_NAME, table)
    return Backend("embedded", dense, lexical)
