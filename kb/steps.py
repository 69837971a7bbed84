"""Vectors held as small integers: each row in steps of its largest component.

A row keeps its own float32 scale (its largest component over the integer type's
largest value), so a row of any length keeps the type's full precision. The sentence
vectors are held in 8 bits (`kb.sentences`), the dense index's in 16 (`kb.quantised`).
"""

from __future__ import annotations

import numpy as np


def in_steps(vectors: np.ndarray, dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """(rows of the integer `dtype`, float32 scale per row); a zero row gets scale 1."""
    vectors = np.asarray(vectors, dtype=np.float32)
    scales = np.abs(vectors).max(axis=1, initial=0.0) / np.iinfo(dtype).max
    scales[scales == 0] = 1.0
    return np.round(vectors / scales[:, None]).astype(dtype), scales.astype(np.float32)
