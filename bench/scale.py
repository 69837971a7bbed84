"""Savoir-faire as the archive grows: ingest rate, search latency and memory, step by step.

Run: .venv/bin/python bench/scale.py                       # 10 steps of 10,000 passages
     .venv/bin/python bench/scale.py --steps 3 --step 2000  # a quick look

Each step adds `--step` passages of real French text (PIAF sentences recombined, see
bench/make_base.py) in documents of realistic sizes (1 to 40 passages, a trip report
being long and a practice sheet short), one `KnowledgeBase.add` per document as
`kb ingest` does, then ends the run as `kb ingest` does. Vectors come from a hashed
encoder (a unit vector drawn from the text's hash, 384 dimensions, under the default
model's name), so that embedding costs nothing and only Savoir-faire's own pipeline is
timed. After each step it measures, on 180 PIAF questions: hybrid, dense and lexical
search p50 / p95 (engine only: the query vector is known in advance), the dense leg's
recall@10 and @100 against exact search (hashed vectors are uniformly random
directions, the hardest case for an approximate index), resident memory (now and
peak) and the index files' size. After the last step, in a fresh process:
start-up (open and answer a first search), search p50 / p95 with the real query encoder
(the default model), that serving process's memory, and its first search after
another process added a document to the base, then removed it (three times each).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import make_base  # noqa: E402

from kb import Encoder, KnowledgeBase  # noqa: E402
from kb.embed import normalise  # noqa: E402

PIAF = ROOT.parent / "shared" / "bench" / "external" / "piaf-v1.1"
SIZES = (1, 2, 3, 5, 8, 12, 20, 40)
"""Passages per document, drawn uniformly: a mean of about 11."""
MODES = ("hybrid", "dense", "lexical")


class HashedEncoder(Encoder):
    """A unit vector drawn from each text's hash, under the default model's name."""

    name = "multilingual-e5-small"
    dim = 384

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_passages(texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
            out[row] = np.random.default_rng(seed).standard_normal(self.dim, dtype=np.float32)
        return normalise(out)


def questions(count: int) -> list[str]:
    with open(PIAF / "queries.jsonl", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    return texts[:count]


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * len(ordered)))]


def memory_mb() -> tuple[float, float]:
    """(resident now, resident peak) of this process in MB."""
    figures = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            figures[name] = int(value.split()[0]) / 1024
    return figures["VmRSS"], figures["VmHWM"]


def time_searches(kb: KnowledgeBase, texts: list[str], mode: str) -> tuple[float, float]:
    kb.search(texts[0], mode=mode)  # warm
    took = []
    for text in texts:
        started = time.perf_counter()
        kb.search(text, mode=mode)
        took.append((time.perf_counter() - started) * 1000)
    return percentiles(took)


def index_size_mb(home: Path) -> float:
    """The derived index files: FAISS's and the lexical leg's."""
    files = [*home.glob("index*"), *home.glob("lexical*")]
    return sum(p.stat().st_size for p in files if p.is_file()) / 1e6


def dense_recall(kb: KnowledgeBase, texts: list[str]) -> tuple[float, float]:
    """Recall@10 and @100 of the dense leg's candidates (a search asks for 100)
    against exact search over the same vectors."""
    dense = kb.backend.dense
    ids, vectors = dense.vectors()
    queries = HashedEncoder().encode_queries(texts)
    exact = ids[np.argsort(-(vectors @ queries.T), axis=0)[:100].T]
    found10 = found100 = 0
    for query, truth in zip(queries, exact, strict=True):
        hits = [i for i, _ in dense.search(query, 100)]
        found10 += len(set(hits[:10]) & set(truth[:10].tolist()))
        found100 += len(set(hits) & set(truth.tolist()))
    return found10 / (10 * len(texts)), found100 / (100 * len(texts))


SERVE = """
import json, sys, time
started = time.perf_counter()
sys.path.insert(0, {root!r})
from kb import KnowledgeBase
kb = KnowledgeBase({home!r})
texts = {texts!r}
kb.search(texts[0])
start_up = time.perf_counter() - started
took = []
for text in texts:
    t = time.perf_counter()
    kb.search(text)
    took.append((time.perf_counter() - t) * 1000)
status = dict(line.split(':', 1) for line in open('/proc/self/status') if ':' in line)
after = {{"added": [], "removed": []}}
for round in range(3):
    for change in ("added", "removed"):
        subprocess.run([sys.executable, "-c", WRITE.format(change=change, round=round)], check=True)
        t = time.perf_counter()
        kb.search(texts[round])
        after[change].append((time.perf_counter() - t) * 1000)
print(json.dumps({{"start_up_s": start_up, "took": took, "model": kb.model_name,
    "rss_mb": int(status['VmRSS'].split()[0]) / 1024,
    "peak_mb": int(status['VmHWM'].split()[0]) / 1024, "after": after}}))
"""
WRITE = """
import sys
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
from kb import Chunk, Document, KnowledgeBase
from scale import HashedEncoder
with KnowledgeBase({home!r}, encoder=HashedEncoder()) as kb:
    if "{{change}}" == "added":
        kb.add([Document(id="late-{{round}}", title="Tard", chunks=[Chunk("Une ressourcerie.")])])
    else:
        kb.remove("late-{{round}}")
"""


def serve(home: Path, texts: list[str]) -> dict:
    """Open the base in a fresh process with the default encoder and search."""
    write = WRITE.format(root=str(ROOT), bench=str(ROOT / "bench"), home=str(home))
    code = f"WRITE = {write!r}\nimport subprocess\n" + SERVE.format(
        root=str(ROOT), home=str(home), texts=texts
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=ROOT / "bench" / "out" / "scale")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--step", type=int, default=10_000, help="passages added per step")
    parser.add_argument(
        "--queries", type=int, default=180, help="distinct PIAF questions timed per figure"
    )
    parser.add_argument("--no-serve", action="store_true", help="skip the real-encoder run")
    args = parser.parse_args()
    if args.home.exists() and any(args.home.iterdir()):
        sys.exit(f"{args.home} is not empty: give a new --home or remove it")
    rng = random.Random(0)
    pool = make_base.sentences()
    texts = questions(args.queries)
    rows = []
    number = 0
    print(
        "| passages | add step | rate /s | hybrid p50 / p95 ms | dense p50 / p95 ms "
        "| lexical p50 / p95 ms | dense recall@10 / @100 | RSS / peak MB | index MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    with KnowledgeBase(args.home, encoder=HashedEncoder()) as kb:
        for _ in range(args.steps):
            documents = make_base.documents(
                args.step, sizes=SIZES, first=number, rng=rng, pool=pool
            )
            number += len(documents)
            started = time.perf_counter()
            for document in documents:
                kb.add([document])
            kb.flush()
            took = time.perf_counter() - started
            timings = {mode: time_searches(kb, texts, mode) for mode in MODES}
            recall = dense_recall(kb, texts)
            rss, peak = memory_mb()
            passages = kb.stats().chunks
            row = {
                "passages": passages,
                "add_s": round(took, 1),
                "rate": round(args.step / took),
                **{f"{m}_ms": [round(v, 1) for v in timings[m]] for m in MODES},
                "recall": [round(v, 3) for v in recall],
                "rss_mb": round(rss),
                "peak_mb": round(peak),
                "index_mb": round(index_size_mb(args.home), 1),
            }
            rows.append(row)
            print(
                f"| {passages:,} | {took:.1f} s | {row['rate']} | "
                + " | ".join("{:.1f} / {:.1f}".format(*timings[m]) for m in MODES)
                + " | {:.3f} / {:.3f}".format(*recall)
                + f" | {rss:.0f} / {peak:.0f} | {row['index_mb']} |",
                flush=True,
            )
    first, last = rows[0]["rate"], rows[-1]["rate"]
    print(f"\nlast step's rate / first step's: {last / first:.0%}")
    if not args.no_serve:
        served = serve(args.home, texts)
        p50, p95 = percentiles(served["took"])
        print(
            f"fresh process, model {served['model']}: start-up (open + first search) "
            f"{served['start_up_s']:.1f} s; hybrid search with query encoding p50 {p50:.1f} ms, "
            f"p95 {p95:.1f} ms; RSS {served['rss_mb']:.0f} MB (peak {served['peak_mb']:.0f} MB)"
        )
        added, removed = (served["after"][k] for k in ("added", "removed"))
        print(
            "first search after another process added a document: "
            + ", ".join(f"{t:.0f}" for t in added)
            + " ms; after it removed one: "
            + ", ".join(f"{t:.0f}" for t in removed)
            + " ms"
        )


if __name__ == "__main__":
    main()
