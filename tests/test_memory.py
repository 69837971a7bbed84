"""Freed memory goes back to the system at the end of an ingest run (glibc)."""

from __future__ import annotations

import numpy as np

from kb.memory import give_back_freed_memory


def resident_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def test_memory_freed_inside_the_heap_is_given_back():
    # 160 MB in blocks under the allocator's mmap threshold, then one block after them:
    # once the 160 MB are freed, the heap cannot shrink from its top, and keeps them.
    blocks = [np.ones(8_000) for _ in range(2_500)]
    pin = np.ones(8_000)
    blocks.clear()
    before = resident_mb()
    assert give_back_freed_memory()
    assert resident_mb() < before - 100
    assert pin.sum() == 8_000
