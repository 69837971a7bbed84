"""The embedded backend: FAISS (`kb.index`) and SQLite FTS5 (`kb.fts`), one machine."""

from __future__ import annotations

from kb.backend import Backend
from kb.fts import FtsLexical
from kb.index import FaissDense
from kb.settings import Settings
from kb.store import Store

INDEX_NAME = "index.faiss"


def open_embedded(store: Store, settings: Settings, dim: int, model: str) -> Backend:
    dense = FaissDense(
        store, store.path.parent / INDEX_NAME, dim, model, settings.ann_from, settings.ann_rerank
    )
    return Backend("embedded", dense, FtsLexical(store))
