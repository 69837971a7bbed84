"""Arrays that grow at their end without being copied each time."""

from __future__ import annotations

import numpy as np


def appended(head: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """`head` followed by `extra` (along the first axis). When `head` is the start of a
    larger array with room after it, `extra` goes into that room: views taken earlier
    end before it and see nothing change. Else it goes into a new array with as much
    room again, so that an array grown a little at a time is copied a logarithmic
    number of times, not at each step. Only the latest view may be grown."""
    room = head.base
    end = len(head) + len(extra)
    if not (
        isinstance(room, np.ndarray)
        and room.dtype == head.dtype
        and room.shape[1:] == head.shape[1:]
        and room.flags.writeable
        and room.flags.c_contiguous
        and len(room) >= end
        and head.ctypes.data == room.ctypes.data
    ):
        room = np.empty((max(end, 2 * len(head), 1024), *head.shape[1:]), dtype=head.dtype)
        room[: len(head)] = head
    room[len(head) : end] = extra
    return room[:end]
