"""Rows held in blocks of fixed size: an array that grows without ever being copied.

One array grown by doubling copies all its rows at each doubling: at 100,000 vectors
of 384 floats that is 150 MB written to fresh memory in one write, over a second here.
In blocks, growing writes the new rows into the last block's room or into new blocks;
the rows held stay where they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

BLOCK = 16_384
"""Rows a block holds (12.6 MB of 384-dimension int16 vectors; a block's unused room
is never touched, so it costs no memory)."""


@dataclass(frozen=True)
class Blocks:
    """The first `count` rows of `blocks`, each block BLOCK rows, the last one with room.
    Growing writes into that room: a view taken earlier keeps its count and sees nothing
    change. Only the latest view may be grown."""

    blocks: tuple[np.ndarray, ...]
    count: int
    shape: tuple[int, ...]
    """The shape of a row."""
    dtype: np.dtype

    @classmethod
    def of(cls, rows: np.ndarray) -> Blocks:
        rows = np.asarray(rows)
        return cls((), 0, rows.shape[1:], rows.dtype).appended(rows)

    @classmethod
    def read(cls, source: BinaryIO, rows: int, shape: tuple[int, ...], dtype: type) -> Blocks:
        """`rows` rows read from a raw binary file straight into their blocks."""
        dtype = np.dtype(dtype)
        blocks = []
        for first in range(0, rows, BLOCK):
            block = np.empty((BLOCK, *shape), dtype=dtype)
            target, done = memoryview(block[: min(BLOCK, rows - first)]).cast("B"), 0
            while done < len(target):
                read = source.readinto(target[done:])
                if not read:
                    raise ValueError(f"the file ends before its {rows} rows")
                done += read
            blocks.append(block)
        return cls(tuple(blocks), rows, shape, dtype)

    def __len__(self) -> int:
        return self.count

    def appended(self, rows: np.ndarray) -> Blocks:
        """These rows followed by `rows`."""
        blocks, count, done = list(self.blocks), self.count, 0
        while done < len(rows):
            if count == len(blocks) * BLOCK:
                blocks.append(np.empty((BLOCK, *self.shape), dtype=self.dtype))
            at = count - (len(blocks) - 1) * BLOCK
            take = min(BLOCK - at, len(rows) - done)
            blocks[-1][at : at + take] = rows[done : done + take]
            done += take
            count += take
        return Blocks(tuple(blocks), count, self.shape, self.dtype)

    def scores(self, positions: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """`rows[positions] @ vector`, in the order of `positions` (each under `count`),
        block by block: no gathered copy of the rows (faster than gathering them from
        one array: each block's rows stay in cache)."""
        positions = np.asarray(positions, dtype=np.int64)
        if len(self.blocks) == 1:
            return self.blocks[0][positions] @ vector
        which, at = np.divmod(positions, BLOCK)
        order = np.argsort(which, kind="stable")
        bounds = np.searchsorted(which[order], np.arange(len(self.blocks) + 1)).tolist()
        out = np.empty(len(positions), dtype=np.result_type(self.dtype, vector.dtype))
        for block, low, high in zip(self.blocks, bounds[:-1], bounds[1:], strict=True):
            if high > low:
                chosen = order[low:high]
                out[chosen] = block[at[chosen]] @ vector
        return out

    def parts(self, start: int = 0) -> Iterator[np.ndarray]:
        """The rows from `start` on, as contiguous pieces in order (views, no copy)."""
        for number, block in enumerate(self.blocks):
            first = number * BLOCK
            low, high = max(start, first), min(self.count, first + BLOCK)
            if low < high:
                yield block[low - first : high - first]

    def array(self) -> np.ndarray:
        """Every row in one array (a copy)."""
        pieces = list(self.parts())
        if not pieces:
            return np.zeros((0, *self.shape), dtype=self.dtype)
        return np.concatenate(pieces)
