"""The retrieval seam: a dense leg and a lexical leg, chosen by `KB_BACKEND`.

SQLite (`kb.store`) holds the truth: documents, passages, their vectors and the
originals. A backend is the pair of derived indexes a search runs on, each kept in
step with the truth through the same small interface, so that the embedded engines
(FAISS and FTS5, one machine) and a distributed one (Milvus) rank alike — fusion,
grouping and the relevance cut stay in `kb.search`.

Writes are staged by `add` / `remove` and become visible and durable with
`commit(state)`; `state()` is the state a leg last committed, so a leg that missed
commits (a crash, another process writing) is brought up to date from SQLite by
`catch_up`, and `reset` + `catch_up` rebuilds it from SQLite alone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Protocol

import numpy as np

from kb.errors import InvalidInput
from kb.query import AnalysedQuery
from kb.types import Document, Filters

if TYPE_CHECKING:
    from kb.settings import Settings
    from kb.store import Store

CATCH_UP_BATCH = 2000


@dataclass(frozen=True)
class PassageFields:
    """What filters look at, copied from a passage's document."""

    document_id: str
    language: str | None
    trip: str | None
    kind: str
    year: int | None
    themes: tuple[str, ...] = ()


def fields_of(document: Document) -> PassageFields:
    return PassageFields(
        document.id,
        document.language,
        document.trip,
        document.kind,
        document.year,
        tuple(document.themes),
    )


@dataclass(frozen=True)
class PassageText:
    """What the lexical leg indexes of a passage."""

    title: str
    heading: str
    text: str
    language: str | None


class Leg(Protocol):
    def remove(self, ids: np.ndarray) -> None: ...

    def commit(self, state: str) -> None:
        """Make the staged writes visible (and durable when the leg says so)."""

    def discard(self) -> None:
        """Drop the writes staged since the last commit (their transaction failed)."""

    def state(self) -> str | None:
        """The state last committed, None when unknown (a new or unreadable index)."""

    def ids(self) -> np.ndarray:
        """Every passage id the leg holds (committed)."""

    def reset(self) -> None:
        """Forget everything (then `catch_up` rebuilds from SQLite)."""

    def flush(self) -> None:
        """Write what is committed to lasting storage (an ingest run ends, a close)."""

    def close(self) -> None: ...


class VectorLeg:
    """Base of the dense legs, so that `catch_up` knows to feed them vectors."""

    dim: int

    def similarities(self, vector: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        """Similarity of `vector` to those of `ids` whose vectors the leg holds in
        memory; the search reads the others' from SQLite. None by default."""
        return {}


class DenseLeg(Leg, Protocol):
    dim: int

    def add(
        self, ids: np.ndarray, vectors: np.ndarray, fields: Sequence[PassageFields]
    ) -> None: ...

    def search(
        self,
        vector: np.ndarray,
        k: int,
        filters: Filters | None = None,
        excluded: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        """Best `k` (passage id, similarity) passing `filters`, exactly filtered."""

    def similarities(self, vector: np.ndarray, ids: Sequence[int]) -> dict[int, float]: ...


class LexicalLeg(Leg, Protocol):
    def add(
        self, ids: np.ndarray, passages: Sequence[PassageText], fields: Sequence[PassageFields]
    ) -> None: ...

    def search(
        self, query: AnalysedQuery, k: int, filters: Filters | None = None
    ) -> list[tuple[int, float]]:
        """Best `k` (passage id, score ≥ 0, higher is better) passing `filters`."""

    def known_terms(self, query: AnalysedQuery) -> set[str]:
        """Those of the query's words and stems that occur somewhere in the index."""


@dataclass
class Backend:
    name: str
    dense: DenseLeg
    lexical: LexicalLeg

    def legs(self) -> tuple[Leg, Leg]:
        return (self.dense, self.lexical)

    def commit(self, state: str) -> None:
        for leg in self.legs():
            leg.commit(state)

    def discard(self) -> None:
        for leg in self.legs():
            leg.discard()

    def flush(self) -> None:
        for leg in self.legs():
            leg.flush()

    def close(self) -> None:
        for leg in self.legs():
            leg.close()


BackendFactory = Callable[["Store", "Settings", int, str], Backend]
BACKENDS: dict[str, str] = {
    "embedded": "kb.embedded:open_embedded",
    "milvus": "kb.milvus:open_milvus",
}
"""Backend name → 'module:factory', imported on first use (Milvus is optional)."""


def open_backend(store: Store, settings: Settings, dim: int, model: str) -> Backend:
    name = settings.backend
    if name not in BACKENDS:
        raise InvalidInput(f"unknown backend {name!r}; use one of {', '.join(BACKENDS)}")
    module, _, factory = BACKENDS[name].partition(":")
    make: BackendFactory = getattr(import_module(module), factory)
    return make(store, settings, dim, model)


def catch_up(
    leg: Leg, store: Store, db: sqlite3.Connection, state: str, dim: int, force: bool = False
) -> int:
    """Bring `leg` to the SQLite snapshot `db` whose state is `state`: add the passages
    it lacks, remove those SQLite no longer has, commit. A leg whose state is of another
    epoch (the vectors were re-embedded) is reset first; `force` compares the ids even
    when the leg says it is at `state` (a repair). The number of passages changed.

    A leg holds the passages of the state it names, and passage ids only grow: when
    every passage up to the leg's highest is either still in SQLite or noted as removed
    since the leg's generation (`Store.removed_ids`), the leg lacks only those above
    it and holds too many only those noted (another process wrote): read without
    listing every id."""
    current = leg.state()
    if current == state and not force:
        return 0
    if current is None or current.split(":")[0] != state.split(":")[0]:
        leg.reset()
        current = None
    held = leg.ids()
    extra = missing = None
    if not force and current is not None and len(held):
        highest = int(held.max())
        gone = store.removed_ids(db, int(current.split(":")[1]), highest)
        gone = gone[np.isin(gone, held)]
        if store.chunks_up_to(db, highest) == len(held) - len(gone):
            extra, missing = gone, store.chunk_ids_after(db, highest)
    if extra is None or missing is None:
        truth = store.chunk_id_array(db)
        extra = np.setdiff1d(held, truth, assume_unique=True)
        missing = np.setdiff1d(truth, held, assume_unique=True)
    leg.remove(extra)
    for start in range(0, len(missing), CATCH_UP_BATCH):
        rows = store.passage_rows(db, missing[start : start + CATCH_UP_BATCH])
        ids = np.asarray([row.id for row in rows], dtype=np.int64)
        fields = [row.fields for row in rows]
        if isinstance(leg, VectorLeg):
            found = store.vectors_of(db, ids.tolist(), dim)
            leg.add(ids, np.stack([found[int(i)] for i in ids]).reshape(-1, dim), fields)
        else:
            leg.add(ids, [row.text for row in rows], fields)  # type: ignore[arg-type]
    leg.commit(state)
    return len(extra) + len(missing)
