"""Rows in blocks: growing never copies the rows held, and older views stay as they were."""

from __future__ import annotations

import numpy as np

from kb import blocks as blocks_module
from kb.blocks import Blocks


def test_rows_grow_across_blocks_without_copies(monkeypatch):
    monkeypatch.setattr(blocks_module, "BLOCK", 4)
    rows = np.arange(30, dtype=np.float32).reshape(15, 2)
    first = Blocks.of(rows[:6])
    assert len(first) == 6 and len(first.blocks) == 2
    grown = first.appended(rows[6:15])
    assert len(grown) == 15 and len(grown.blocks) == 4
    assert grown.blocks[0] is first.blocks[0] and grown.blocks[1] is first.blocks[1]
    assert np.array_equal(grown.array(), rows) and np.array_equal(first.array(), rows[:6])
    positions = np.array([14, 0, 5, 9, 3, 3])
    vector = np.array([1.0, -2.0], dtype=np.float32)
    assert np.array_equal(grown.scores(positions, vector), rows[positions] @ vector)
    assert np.array_equal(first.scores(np.array([5, 1]), vector), rows[[5, 1]] @ vector)
    assert np.array_equal(np.concatenate(list(grown.parts(7))), rows[7:])
    assert list(grown.parts(15)) == []
    empty = Blocks.of(np.zeros((0, 2), np.float32))
    assert len(empty) == 0 and empty.array().shape == (0, 2)
    assert np.array_equal(empty.appended(rows[:1]).array(), rows[:1])
