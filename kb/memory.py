"""Giving freed memory back to the system once an ingest run ends.

Ingesting builds and drops many large arrays (index parts, postings, batches of
vectors). The C allocator keeps what they freed for later use, so a process that has
ingested 100,000 passages holds hundreds of megabytes it no longer uses. glibc's
`malloc_trim` returns them; elsewhere (another C library, another system) nothing is
done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache


@cache
def _trim():  # noqa: ANN202 - a C function, or None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None


def give_back_freed_memory() -> bool:
    """Return the memory the allocator holds freed to the system; whether it could."""
    trim = _trim()
    if trim is None:
        return False
    trim(0)
    return True
