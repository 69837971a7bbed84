"""Embedding beside searches: a server embeds uploaded passages in a child process.

`EmbeddingProcess` has the `encode_passages` of the encoder it names, run in a process of
its own, started on the first call, at the lowest CPU priority and on one thread, and
stopped after `idle_s` seconds without work. Measured on 2 cores (bench/README.md,
"Load, overload and memory"):

- in the server's own process, loading the passage model (importing torch, reading the
  XLM-R tokenizer) holds the interpreter lock for seconds, so searches stall behind the
  first upload whatever its thread's priority; in a child they do not wait on it;
- the server never holds torch and the model (about 0.9 GB): it stays near 0.2 GB, the
  child's memory is given back when it stops;
- one thread at the lowest priority: searches take a core whenever they need one, and an
  engine that splits each product over two threads would wait on the one they preempt.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from kb.embed import Encoder, make_encoder

IDLE_S = 300.0
"""Seconds without work after which the child process stops (loading the model again
takes a few seconds, in the child)."""
LOWEST_PRIORITY = 19
"""The child's nice value: the lowest CPU priority."""
PARENT_CHECK_S = 2.0
"""How often the child checks that the server still runs (it ends when it does not)."""


class EmbeddingProcess:
    """`make_encoder(model, query_prompt, passage_prompt).encode_passages` in a child process."""

    def __init__(
        self, model: str, query_prompt: str = "", passage_prompt: str = "", idle_s: float = IDLE_S
    ) -> None:
        self._encoder_args = (model, query_prompt, passage_prompt)
        self._idle_s = idle_s
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._busy = 0
        self._timer: threading.Timer | None = None

    @property
    def running(self) -> bool:
        """Whether the child process is started."""
        return self._pool is not None

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_child,
                    initargs=(os.getpid(),),
                )
            pool = self._pool
            self._busy += 1
        try:
            return pool.submit(_encode_passages, self._encoder_args, list(texts)).result()
        except BrokenProcessPool:  # the child died (killed, out of memory): the next call
            with self._lock:  # starts another
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False)
            raise
        finally:
            with self._lock:
                self._busy -= 1
                if not self._busy and self._pool is not None:
                    self._timer = threading.Timer(self._idle_s, self.stop_if_idle)
                    self._timer.daemon = True
                    self._timer.start()

    def stop_if_idle(self) -> None:
        """Stop the child process unless it is embedding (a later call starts a new one)."""
        with self._lock:
            if self._busy or self._pool is None:
                return
            pool, self._pool = self._pool, None
        pool.shutdown(wait=True)

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


# In the child process.

_encoders: dict[tuple[str, str, str], Encoder] = {}


def _start_child(parent: int) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the server stops the child.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(AttributeError, OSError):  # not a Unix: the server's priority
        os.nice(LOWEST_PRIORITY - os.nice(0))
    threading.Thread(target=_end_with, args=(parent,), daemon=True).start()


def _end_with(parent: int) -> None:
    """End the child when the server has gone (killed: its pool never said to stop)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def _encode_passages(encoder_args: tuple[str, str, str], texts: list[str]) -> np.ndarray:
    encoder = _encoders.get(encoder_args)
    if encoder is None:
        encoder = _encoders[encoder_args] = make_encoder(*encoder_args, queries=False)
        encoder.use_one_thread()
    return encoder.encode_passages(texts)
