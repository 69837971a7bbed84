"""The lexical leg alone: FTS5's bm25() against the in-memory index, on one base.

Run: OMP_NUM_THREADS=1 .venv/bin/python bench/lexical.py bench/out/load-100k [--queries 80]

Opens the in-memory leg (from `lexical.idx`, or caught up from SQLite when the file is
missing or behind), then runs the first PIAF questions through both legs in this one
process: p50 / p95 milliseconds, whether both rank the same passages with the same
scores, the open time and the resident memory the index adds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb.backend import catch_up  # noqa: E402
from kb.bm25 import MemoryLexical  # noqa: E402
from kb.embedded import LEXICAL_NAME  # noqa: E402
from kb.fts import FtsLexical  # noqa: E402
from kb.lexicon import lexicon_at  # noqa: E402
from kb.query import AnalysedQuery  # noqa: E402
from kb.settings import Settings  # noqa: E402
from kb.store import Store  # noqa: E402

QUERIES = ROOT.parent / "shared" / "bench" / "external" / "piaf-v1.1" / "queries.jsonl"


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("--queries", type=int, default=80)
    parser.add_argument("--k", type=int, default=50)
    options = parser.parse_args()
    store = Store(options.home / "kb.sqlite")
    table = FtsLexical(store)
    before, started = rss_mb(), time.perf_counter()
    memory = MemoryLexical(store, options.home / LEXICAL_NAME, table)
    print(f"opened in {time.perf_counter() - started:.3f} s (state {memory.state()})")
    if memory.state() != store.state():
        started = time.perf_counter()
        with store.snapshot() as db:
            catch_up(memory, store, db, store.state(db), 0)
        memory.flush()
        print(f"caught up from SQLite in {time.perf_counter() - started:.1f} s, saved")
    print(f"{len(memory)} passages, index adds {rss_mb() - before:.0f} MB resident")
    lexicon = lexicon_at(Settings().dictionaries)
    with QUERIES.open(encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for line in lines][: options.queries]
    timings: dict[str, list[float]] = {"fts": [], "memory": []}
    differ, worst = 0, 0.0
    for text in texts:
        query = AnalysedQuery.of(text, lexicon)
        with store.snapshot():
            found = {}
            for name, leg in (("fts", table), ("memory", memory)):
                started = time.perf_counter()
                found[name] = leg.search(query, options.k)
                timings[name].append(1000 * (time.perf_counter() - started))
        by_fts, by_memory = found["fts"], found["memory"]
        for (_, x), (_, y) in zip(by_fts, by_memory, strict=False):
            worst = max(worst, abs(x - y) / max(abs(x), 1e-12))
        last = by_fts[-1][1] if by_fts else 0.0  # ties at the cut may fall either way
        if len(by_fts) != len(by_memory) or {i for i, x in by_fts if x > last} != {
            i for i, y in by_memory if y > last
        }:
            differ += 1
    for name, ms in timings.items():
        print(f"{name}: p50 {np.percentile(ms, 50):.2f} ms, p95 {np.percentile(ms, 95):.2f} ms")
    print(f"{len(texts)} queries, {differ} with other passages (ties at the cut aside)")
    print(f"worst relative score gap, rank by rank: {worst:.1e}")
    print(f"resident {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
