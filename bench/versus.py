"""Two versions of the search engine, timed side by side, question by question.

Run: .venv/bin/python bench/versus.py REV [BASE] [--hashed] [--queries 500] [--rounds 2]

    .venv/bin/python bench/versus.py HEAD~3                            # PIAF (relevance base)
    .venv/bin/python bench/versus.py HEAD~3 /tmp/scale60 --hashed --queries 180

This machine's speed moves by 2 to 2.5 times from one hour to the next: more than most
changes to the engine, so runs made one after the other cannot tell them apart. Here two
worker processes answer the same questions in turn: one runs the code of git revision
REV (its `kb/`, taken with `git archive`), the other the working tree, each on its own
copy of BASE. Which of them goes first changes at every question, so both see the same
moments of the machine. Each times its own searches, engine only: the query vectors are
computed once beforehand by the working tree's encoder (`--hashed`: drawn from the
question's hash, as `bench/scale.py` draws them, for bases of random vectors built by it or
`bench/make_base.py`). Prints each version's p50 / p95, their ratio, and how many
responses were the same (documents, their order, total, the 'no close match' flag).

BASE defaults to the PIAF base that `bench/relevance.py` builds (e5-small); questions
are the first PIAF questions. The first 20 are searched once by both, untimed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PIAF = ROOT.parent / "shared" / "bench" / "external" / "piaf-v1.1"
WARM_UP = 20
CALIBRATION = ("close_standing", "close_match", "match_margin")


def worker(code: str, home: str, job: str) -> None:
    """Answer 'i' lines on stdin with 'seconds digest' of question i's search."""
    sys.path.insert(0, code)
    import kb
    from kb import Encoder, KnowledgeBase

    if not Path(kb.__file__).resolve().is_relative_to(Path(code).resolve()):
        sys.exit(f"kb was imported from {kb.__file__}, not from {code}")

    spec = json.loads(Path(job).read_text(encoding="utf-8"))
    vectors = np.load(spec["vectors"])
    row = {text: i for i, text in enumerate(spec["texts"])}

    class Known(Encoder):
        name, dim = spec["name"], spec["dim"]

        def encode_queries(self, texts):
            return vectors[[row[t] for t in texts]]

        def encode_passages(self, texts):
            raise RuntimeError("this benchmark only searches")

    for key in CALIBRATION:
        setattr(Known, key, spec[key])
    kb = KnowledgeBase(home, encoder=Known())
    print("ready", flush=True)
    for line in sys.stdin:
        text = spec["texts"][int(line)]
        started = time.perf_counter()
        response = kb.search(text, limit=10, mode=spec["mode"])
        seconds = time.perf_counter() - started
        seen = [r.document.id for r in response.results]
        shown = json.dumps([seen, response.total, response.low_confidence])
        print(seconds, hashlib.blake2b(shown.encode(), digest_size=8).hexdigest(), flush=True)


def code_of(revision: str, into: Path) -> Path:
    """The `kb/` package of a git revision, extracted under `into`."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, "kb"], cwd=ROOT, capture_output=True
    )
    if archive.returncode:
        sys.exit(f"git archive {revision}: {archive.stderr.decode().strip()}")
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def query_vectors(texts: list[str], hashed: bool) -> tuple[np.ndarray, dict]:
    """The questions' vectors and the encoder's name, size and calibration."""
    sys.path.insert(0, str(ROOT))
    if hashed:
        sys.path.insert(0, str(ROOT / "bench"))
        from scale import HashedEncoder

        encoder = HashedEncoder()
    else:
        from kb import make_encoder

        encoder = make_encoder("e5-small")
    meta = {"name": encoder.name, "dim": encoder.dim}
    meta |= {key: getattr(encoder, key) for key in CALIBRATION}
    return np.asarray(encoder.encode_queries(texts), dtype=np.float32), meta


def start(code: Path, home: Path, job: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, __file__, "--worker", str(code), str(home), str(job)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    if process.stdout.readline().strip() != "ready":
        sys.exit(f"the worker on {code} did not start")
    return process


def ask(process: subprocess.Popen, i: int) -> tuple[float, str]:
    process.stdin.write(f"{i}\n")
    process.stdin.flush()
    seconds, digest = process.stdout.readline().split()
    return float(seconds), digest


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision")
    parser.add_argument("base", nargs="?", default=ROOT / "bench/out/e5-small/piaf", type=Path)
    parser.add_argument("--hashed", action="store_true", help="bases of random vectors")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--mode", default="hybrid", choices=["hybrid", "dense", "lexical"])
    options = parser.parse_args()
    if not (options.base / "kb.sqlite").exists():
        sys.exit(f"no knowledge base in {options.base} (bench/relevance.py builds the PIAF one)")
    with open(PIAF / "queries.jsonl", encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for line in lines if line.strip()][: options.queries]
    vectors, meta = query_vectors(texts, options.hashed)
    with tempfile.TemporaryDirectory(prefix="versus-") as scratch:
        work = Path(scratch)
        np.save(work / "vectors.npy", vectors)
        job = work / "job.json"
        spec = {**meta, "texts": texts, "vectors": str(work / "vectors.npy")}
        job.write_text(json.dumps(spec | {"mode": options.mode}), encoding="utf-8")
        codes = {options.revision: code_of(options.revision, work / "old"), "working tree": ROOT}
        workers = {}
        for n, (name, code) in enumerate(codes.items()):
            home = work / f"base-{n}"
            shutil.copytree(options.base, home, ignore=shutil.ignore_patterns("*.lock"))
            workers[name] = start(code, home, job)
        times: dict[str, list[float]] = {name: [] for name in workers}
        digests: dict[str, list[str]] = {name: [] for name in workers}
        order = list(workers)
        for round_ in range(options.rounds + 1):
            for i in range(WARM_UP if round_ == 0 else len(texts)):
                for name in order if i % 2 else order[::-1]:
                    seconds, digest = ask(workers[name], i)
                    if round_:
                        times[name].append(seconds)
                    if round_ == 1:
                        digests[name].append(digest)
        for process in workers.values():
            process.stdin.close()
            process.wait()
    figures = {n: (np.median(t) * 1000, np.percentile(t, 95) * 1000) for n, t in times.items()}
    print(f"{len(texts)} questions x {options.rounds}, {options.mode}, base {options.base}")
    print("| code | p50 ms | p95 ms |\n|---|---|---|")
    for name, (p50, p95) in figures.items():
        print(f"| {name} | {p50:.2f} | {p95:.2f} |")
    old, new = (figures[n][0] for n in order)
    same = sum(a == b for a, b in zip(*digests.values(), strict=True))
    print(f"\nworking tree / {options.revision}: p50 {new / old:.3f}")
    print(f"same responses: {same} of {len(texts)}")


if __name__ == "__main__":
    main()
