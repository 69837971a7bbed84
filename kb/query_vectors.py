"""The vectors of recent queries, kept: a partner who pages through results, clicks a
facet or comes back to a search asks the same words again, and encoding them is most of
what a search costs (bench/README.md, "Scale")."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from kb.embed import Encoder

SIZE = 1024


class QueryVectors:
    """Query text → its vector, the last `size` distinct queries kept (least recently
    used out first); shared by the threads searching one knowledge base."""

    def __init__(self, encoder: Callable[[], Encoder], size: int = SIZE) -> None:
        self._encoder = encoder
        self._size = size
        self._kept: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, text: str) -> np.ndarray:
        with self._lock:
            vector = self._kept.get(text)
            if vector is not None:
                self._kept.move_to_end(text)
                return vector
        vector = self._encoder().encode_queries([text])[0]
        vector.setflags(write=False)  # shared by every search that asks it again
        with self._lock:
            self._kept[text] = vector
            if len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return vector

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
