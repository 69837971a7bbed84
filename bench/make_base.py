"""A knowledge base of N passages for the load and memory benchmarks, built in a minute.

Run: .venv/bin/python bench/make_base.py bench/out/load-20k [--passages 20000]

Passages are real French text (sentences of the PIAF paragraphs, shuffled into passages
of 5, grouped 10 to a document, spread over the four trips); their vectors are random
unit vectors stored under the name of the default model (`multilingual-e5-small`,
384 dims), so `kb serve` opens it with the real e5-small encoder for queries. Encoding
20,000 passages and their sentences for real would take hours on 2 cores, and what a
search costs does not depend on the values of the vectors: FAISS scans them all, FTS5
ranks the real text, snippets score the stored sentence vectors.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb import KINDS, Chunk, Document, Encoder, KnowledgeBase  # noqa: E402
from kb.embed import normalise  # noqa: E402

PIAF = ROOT.parent / "shared" / "bench" / "external" / "piaf-v1.1" / "corpus.jsonl"
TRIPS = [
    ("2022-copenhague", "Copenhague 2022", "2022-05-17"),
    ("2024-bruxelles", "Bruxelles 2024", "2024-10-01"),
    ("2025-barcelone", "Barcelone 2025", "2025-06-10"),
    ("2026-bologne", "Bologne 2026", "2026-03-10"),
]
PER_PASSAGE, PER_DOCUMENT, BATCH = 5, 10, 100


class RandomEncoder(Encoder):
    """Random unit vectors under the default model's name and size."""

    name = "multilingual-e5-small"
    dim = 384

    def __init__(self, seed: int = 0) -> None:
        self._rng = np.random.default_rng(seed)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_passages(texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return normalise(self._rng.standard_normal((len(texts), self.dim), dtype=np.float32))


def sentences() -> list[tuple[str, str]]:
    """(title, sentence) of every PIAF paragraph."""
    found = []
    with open(PIAF, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            for sentence in re.split(r"(?<=[.!?])\s+", row["text"]):
                if len(sentence) > 30:
                    found.append((row["title"], sentence.strip()))
    return found


def documents(
    passages: int,
    seed: int = 0,
    sizes: Sequence[int] = (PER_DOCUMENT,),
    first: int = 0,
    rng: random.Random | None = None,
    pool: list[tuple[str, str]] | None = None,
) -> list[Document]:
    """Documents holding `passages` passages in all, numbered from `first`, each of a
    size drawn from `sizes` (the last one cut to what is left)."""
    rng = rng or random.Random(seed)
    pool = pool or sentences()
    out = []
    left, number = passages, first
    while left > 0:
        size = min(left, rng.choice(sizes))
        title = rng.choice(pool)[0]
        slug, name, date = TRIPS[number % len(TRIPS)]
        chunks = [
            Chunk(
                " ".join(s for _, s in rng.sample(pool, PER_PASSAGE)),
                (f"Partie {position + 1}",),
                position=position,
            )
            for position in range(size)
        ]
        out.append(
            Document(
                id=f"{slug}--synthetique-{number:06d}",
                title=f"{title} ({number})",
                kind=KINDS[number % len(KINDS)],
                language="fr",
                trip=slug,
                trip_name=name,
                date=date,
                themes=[],
                chunks=chunks,
            )
        )
        left -= size
        number += 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("--passages", type=int, default=20_000)
    args = parser.parse_args()
    docs = documents(args.passages)
    with KnowledgeBase(args.home, encoder=RandomEncoder()) as kb:
        for start in range(0, len(docs), BATCH):
            kb.add(docs[start : start + BATCH])
        figures = kb.stats()
    print(f"{figures.documents} documents, {figures.chunks} passages in {args.home}")


if __name__ == "__main__":
    main()
