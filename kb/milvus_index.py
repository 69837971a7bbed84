"""The Milvus collection both legs of `kb.milvus` share, and what it stores.

Per passage: the dense vector, the lexical sparse vector (term hash → BM25 weight,
from `kb.analysis`), the term hashes again (Milvus Lite cannot read a sparse field
back), the length and the filter fields. A second collection holds each term hash's
document frequency, the passage count and total length, and the state committed.
"""

from __future__ import annotations

import json
import warnings
import zlib
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from kb.analysis import STEMMERS, stems, words
from kb.backend import PassageFields, PassageText
from kb.query import AnalysedQuery
from kb.settings import Settings
from kb.store import Store
from kb.types import NO_TRIP, Filters

LITE_FILE = "milvus.db"
STATE_ID, COUNT_ID, LENGTH_ID = -1, -2, -3
"""Reserved rows of the terms collection: the state, the passage count, the total length."""
NO_YEAR = -1
K1, B = 1.2, 0.75
MAX_LIMIT = 16_384
"""Milvus's largest `limit` of a search or query."""
BATCH = 1000
MAX_THEMES = 64
MAX_TERMS = 4096
TEXT_LENGTH = 1024


def term_hash(term: str) -> int:
    """The sparse-vector index of a term (`w:word` or `s:stem`): 32 bits, never 2³²-1."""
    return zlib.crc32(term.encode()) % (2**32 - 1)


def passage_terms(passage: PassageText) -> Counter[int]:
    """Term hash → frequency of a passage's folded words and stems."""
    language = passage.language if passage.language in STEMMERS else "fr"
    text = f"{passage.title}\n{passage.heading}\n{passage.text}"
    counts = Counter(term_hash(f"w:{w}") for w in words(text, language))
    counts.update(term_hash(f"s:{s}") for s in stems(text, language).split())
    return counts


def query_terms(query: AnalysedQuery) -> list[int]:
    return list(
        dict.fromkeys(
            [term_hash(f"w:{w}") for w in query.words]
            + [term_hash(f"s:{s}") for s in query.stems + query.translated]
        )
    )


def filter_expression(filters: Filters | None, excluded: np.ndarray | None = None) -> str:
    """`Filters` as a Milvus boolean expression ('' when there is nothing to filter)."""
    parts: list[str] = []
    if filters is not None:
        for field, values in (
            ("trip", filters.trip),
            ("kind", filters.kind),
            ("language", filters.language),
        ):
            if field == "trip" and NO_TRIP in values:
                others = [v for v in values if v != NO_TRIP]
                either = f" or trip in {_list(others)}" if others else ""
                parts.append(f'(trip == ""{either})')
            elif values:
                parts.append(f"{field} in {_list(values)}")
        if filters.theme:
            parts.append(f"array_contains_any(themes, {_list(filters.theme)})")
        if filters.year_from is not None:
            parts.append(f"year >= {int(filters.year_from)}")
        if filters.year_to is not None:
            parts.append(f"(year != {NO_YEAR} and year <= {int(filters.year_to)})")
    if excluded is not None and len(excluded):
        parts.append(f"id not in {[int(i) for i in excluded]}")
    return " and ".join(parts)


def _list(values: Sequence[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def connect(store: Store, settings: Settings) -> Any:
    if not settings.milvus_uri:
        with warnings.catch_warnings():  # milvus-lite imports the deprecated pkg_resources
            warnings.simplefilter("ignore")
            import milvus_lite  # noqa: F401
    from pymilvus import MilvusClient

    uri = settings.milvus_uri or str(store.path.parent / LITE_FILE)
    return MilvusClient(uri=uri, token=settings.milvus_token)


class MilvusIndex:
    """The collection both legs share (see the module's doc)."""

    def __init__(self, store: Store, settings: Settings, dim: int) -> None:
        self.store = store
        self.dim = dim
        self.name = settings.milvus_collection
        self.terms_name = f"{self.name}_terms"
        self.client = connect(store, settings)
        self._staged: dict[int, dict[str, Any]] = {}
        self._removed: set[int] = set()
        self._state: str | None = None
        self._closed = False
        if self._dim_differs():
            self._drop()
        self._create()
        self._state = self._read_state()

    # the collections

    def _dim_differs(self) -> bool:
        if not self.client.has_collection(self.name):
            return False
        for field in self.client.describe_collection(self.name)["fields"]:
            if field["name"] == "dense":
                return int(field["params"]["dim"]) != self.dim
        return True

    def _drop(self) -> None:
        for name in (self.name, self.terms_name):
            if self.client.has_collection(name):
                self.client.drop_collection(name)

    def _create(self) -> None:
        from pymilvus import DataType

        c = self.client
        if not c.has_collection(self.name):
            schema = c.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("dense", DataType.FLOAT_VECTOR, dim=self.dim)
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_field("length", DataType.INT64)
            schema.add_field(  # the sparse keys again: Lite cannot read a sparse field back
                "terms", DataType.ARRAY, element_type=DataType.INT64, max_capacity=MAX_TERMS
            )
            schema.add_field("document_id", DataType.VARCHAR, max_length=TEXT_LENGTH)
            for field in ("language", "trip", "kind"):
                schema.add_field(field, DataType.VARCHAR, max_length=TEXT_LENGTH)
            schema.add_field("year", DataType.INT64)
            schema.add_field(
                "themes",
                DataType.ARRAY,
                element_type=DataType.VARCHAR,
                max_capacity=MAX_THEMES,
                max_length=TEXT_LENGTH,
            )
            index = c.prepare_index_params()
            index.add_index("dense", index_type="AUTOINDEX", metric_type="IP")
            index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
            c.create_collection(
                self.name, schema=schema, index_params=index, consistency_level="Strong"
            )
        if not c.has_collection(self.terms_name):
            schema = c.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("df", DataType.INT64)
            schema.add_field("note", DataType.VARCHAR, max_length=TEXT_LENGTH)
            schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field
            index = c.prepare_index_params()
            index.add_index("v", index_type="AUTOINDEX", metric_type="IP")
            c.create_collection(
                self.terms_name, schema=schema, index_params=index, consistency_level="Strong"
            )

    def _meta_rows(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        ids = list(ids)
        for start in range(0, len(ids), BATCH):
            rows = self.client.query(
                self.terms_name,
                filter=f"id in {ids[start : start + BATCH]}",
                output_fields=["id", "df", "note"],
            )
            found.update((int(r["id"]), r) for r in rows)
        return found

    def _read_state(self) -> str | None:
        row = self._meta_rows([STATE_ID]).get(STATE_ID)
        return row["note"] if row else None

    # staging (the legs)

    def stage(
        self, ids: np.ndarray, part: str, values: Sequence[Any], fields: Sequence[PassageFields]
    ) -> None:
        for i, value, field in zip(ids, values, fields, strict=True):
            row = self._staged.setdefault(int(i), {})
            row[part], row["fields"] = value, field
            self._removed.discard(int(i))

    def stage_removal(self, ids: np.ndarray) -> None:
        for i in ids:
            self._staged.pop(int(i), None)
            self._removed.add(int(i))

    def discard(self) -> None:
        self._staged.clear()
        self._removed.clear()

    # commit

    def commit(self, state: str) -> None:
        if self._staged or self._removed:
            self._write()
        if state != self._state:
            self._put_meta({STATE_ID: (0, state)})
            self._state = state

    def _write(self) -> None:
        staged, removed = self._staged, self._removed
        self._staged, self._removed = {}, set()
        self._complete(staged)
        touched = sorted(set(staged) | removed)
        old = self._rows(touched, ["id", "terms", "length"])
        meta = self._meta_rows([COUNT_ID, LENGTH_ID])
        count = int(meta[COUNT_ID]["df"]) if COUNT_ID in meta else 0
        total = int(meta[LENGTH_ID]["df"]) if LENGTH_ID in meta else 0
        df: Counter[int] = Counter()
        for row in old:
            df.subtract(dict.fromkeys(row["terms"], 1))
            count, total = count - 1, total - int(row["length"])
        rows = []
        for i, part in staged.items():
            counts = passage_terms(part["text"])
            length = int(sum(counts.values()))
            count, total = count + 1, total + length
            df.update(dict.fromkeys(list(counts)[:MAX_TERMS], 1))
            rows.append(self._row(i, part, counts, length, total / max(count, 1)))
        gone = sorted(removed - set(staged))
        for start in range(0, len(gone), BATCH):
            self.client.delete(self.name, ids=gone[start : start + BATCH])
        for start in range(0, len(rows), BATCH):
            self.client.upsert(self.name, rows[start : start + BATCH])
        self._update_df(df)
        self._put_meta({COUNT_ID: (max(count, 0), ""), LENGTH_ID: (max(total, 0), "")})

    def _complete(self, staged: dict[int, dict[str, Any]]) -> None:
        """Fill the parts one leg did not stage from SQLite (drop rows SQLite lacks)."""
        db = self.store.reader
        lacking_text = np.asarray([i for i, p in staged.items() if "text" not in p], np.int64)
        texts = {row.id: row for row in self.store.passage_rows(db, lacking_text)}
        lacking_vector = [i for i, p in staged.items() if "vector" not in p]
        vectors = self.store.vectors_of(db, lacking_vector, self.dim)
        for i in list(staged):
            part = staged[i]
            if "text" not in part:
                if i not in texts:
                    del staged[i]
                    continue
                part["text"], part["fields"] = texts[i].text, texts[i].fields
            if "vector" not in part:
                if i not in vectors:
                    del staged[i]
                    continue
                part["vector"] = vectors[i]

    def _row(
        self, i: int, part: dict[str, Any], counts: Counter[int], length: int, average: float
    ) -> dict[str, Any]:
        f: PassageFields = part["fields"]
        norm = K1 * (1 - B + B * length / max(average, 1.0))
        return {
            "id": i,
            "dense": np.asarray(part["vector"], np.float32).tolist(),
            "sparse": {h: tf * (K1 + 1) / (tf + norm) for h, tf in counts.items()},
            "length": length,
            "terms": list(counts)[:MAX_TERMS],
            "document_id": f.document_id,
            "language": f.language or "",
            "trip": f.trip or "",
            "kind": f.kind or "",
            "year": NO_YEAR if f.year is None else int(f.year),
            "themes": list(f.themes)[:MAX_THEMES],
        }

    def _update_df(self, delta: Counter[int]) -> None:
        changed = {h: d for h, d in delta.items() if d}
        if not changed:
            return
        current = self._meta_rows(list(changed))
        upserts, deletes = [], []
        for h, d in changed.items():
            df = (int(current[h]["df"]) if h in current else 0) + d
            if df > 0:
                upserts.append({"id": h, "df": df, "note": "", "v": [1.0, 0.0]})
            elif h in current:
                deletes.append(h)
        for start in range(0, len(upserts), BATCH):
            self.client.upsert(self.terms_name, upserts[start : start + BATCH])
        for start in range(0, len(deletes), BATCH):
            self.client.delete(self.terms_name, ids=deletes[start : start + BATCH])

    def _put_meta(self, values: dict[int, tuple[int, str]]) -> None:
        rows = [
            {"id": i, "df": df, "note": note, "v": [1.0, 0.0]} for i, (df, note) in values.items()
        ]
        self.client.upsert(self.terms_name, rows)

    def _rows(self, ids: Sequence[int], fields: list[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), BATCH):
            batch = [int(i) for i in ids[start : start + BATCH]]
            found += self.client.query(self.name, filter=f"id in {batch}", output_fields=fields)
        return found

    # reading

    def state(self) -> str | None:
        return self._state

    def ids(self) -> np.ndarray:
        found: list[int] = []
        iterator = self.client.query_iterator(
            self.name, batch_size=BATCH, filter="id >= 0", output_fields=["id"]
        )
        while batch := iterator.next():
            found += [int(r["id"]) for r in batch]
        iterator.close()
        return np.unique(np.asarray(found, np.int64))

    def reset(self) -> None:
        self.discard()
        self._drop()
        self._create()
        self._state = None

    def search(
        self,
        field: str,
        data: Any,
        k: int,
        filters: Filters | None,
        excluded: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        if k <= 0:
            return []
        hits = self.client.search(
            self.name,
            data=[data],
            anns_field=field,
            limit=min(k, MAX_LIMIT),
            filter=filter_expression(filters, excluded),
            search_params={"metric_type": "IP"},
        )
        return [(int(h["id"]), float(h["distance"])) for h in hits[0]]

    def df(self, hashes: Sequence[int]) -> dict[int, int]:
        return {i: int(r["df"]) for i, r in self._meta_rows(hashes).items() if i >= 0}

    def count(self) -> int:
        row = self._meta_rows([COUNT_ID]).get(COUNT_ID)
        return int(row["df"]) if row else 0

    def flush(self) -> None:
        self.client.flush(self.name)
        self.client.flush(self.terms_name)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.client.close()
