"""Relevance of lexical, dense and hybrid search, measured with `kb eval`.

    .venv/bin/python bench/relevance.py [--model NAME] [--sets piaf,probe,corpus,nonsense]
        [--fusion F]

Builds (once, then reuses) a knowledge base per corpus under bench/out/<model>/ with
`kb ingest`, then runs `kb eval --json` for every mode and prints one table:
PIAF (500 real French questions), the English→French probe (30 of them translated),
the sample corpus dev set (corpus/eval/) and strings that nothing answers
(bench/nonsense.jsonl, searched on the sample corpus): nDCG@10, Recall@10, MRR@10, the
answer phrase in a top-3 snippet, the 'no close match' flag on off-topic and on answerable
questions, and nDCG@10 per kind of question.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIAF = ROOT.parent / "shared" / "bench" / "external" / "piaf-v1.1"
KB = [str(Path(sys.executable).with_name("kb"))]  # the console script `kb`

SETS = {
    # name: (knowledge base, corpus to ingest, queries, qrels, query field)
    "piaf": ("piaf", PIAF / "corpus.jsonl", PIAF / "queries.jsonl", PIAF / "qrels.tsv", "text"),
    "probe": ("piaf", PIAF / "corpus.jsonl", PIAF / "xling_probe_en.jsonl", None, "text_en"),
    "corpus": (
        "sample",
        ROOT / "corpus",
        ROOT / "corpus" / "eval" / "queries.jsonl",
        ROOT / "corpus" / "eval" / "qrels.tsv",
        "text",
    ),
    # strings typed at a search box that no document answers (letters, greetings,
    # placeholders, figures): only the 'no close match' flag and the count apply
    "nonsense": ("sample", ROOT / "corpus", ROOT / "bench" / "nonsense.jsonl", None, "text"),
}
MODES = ("lexical", "dense", "hybrid")


def kb(home: Path, model: str, *args: str, fusion: str = "score") -> str:
    command = [*KB, "--home", str(home), "--model", model, *args]
    env = {**os.environ, "KB_FUSION": fusion}
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    if done.returncode not in (0, 1) or (done.returncode == 1 and args[0] != "ingest"):
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="e5-small")
    parser.add_argument("--fusion", default="score", choices=["score", "rrf"])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    options = parser.parse_args()
    rows = []
    for name in options.sets.split(","):
        base, source, queries, qrels, field = SETS[name]
        home = options.out / options.model.replace("/", "_") / base
        started = time.perf_counter()
        kb(home, options.model, "ingest", str(source))
        print(
            f"# {name}: knowledge base ready in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
        for mode in MODES:
            args = [
                "eval",
                str(queries),
                *([str(qrels)] if qrels else []),
                "--mode",
                mode,
                "--field",
                field,
                "--json",
            ]
            figures = json.loads(kb(home, options.model, *args, fusion=options.fusion))
            rows.append((name, mode, figures))
    print(f"model: {options.model}, fusion: {options.fusion}\n")
    print(
        "| set | mode | queries | nDCG@10 | Recall@10 | MRR@10 | answer-visible@3 "
        "| off-topic flagged | answerable flagged | counted (answerable / off-topic) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, mode, f in rows:
        ranked = [
            f"{f[k]:.3f}" if f["queries"] else "–" for k in ("ndcg@10", "recall@10", "mrr@10")
        ]
        print(
            f"| {name} | {mode} | {f['queries']} | {' | '.join(ranked)} | "
            f"{share(f['answer_visible@3 %'])} | "
            f"{share(f['off_topic_flagged %'])} | {share(f['answerable_flagged %'])} | "
            f"{counts(f)} |"
        )
    kinds = sorted({k for _, _, f in rows for k in f["by_kind"] if k != "all"})
    if kinds:
        print("\nnDCG@10 per kind of question:\n")
        print(f"| set | mode | {' | '.join(kinds)} |")
        print(f"|---|---|{'---|' * len(kinds)}")
        for name, mode, f in rows:
            if len(f["by_kind"]) > 1:
                cells = [
                    f"{f['by_kind'][k]['ndcg@10']:.3f}" if k in f["by_kind"] else "–"
                    for k in kinds
                ]
                print(f"| {name} | {mode} | {' | '.join(cells)} |")


def share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} %"


def counts(figures: dict) -> str:
    """Mean documents counted per answerable and per off-topic query."""
    cells = [figures.get(name) for name in ("counted", "off_topic_counted")]
    return " / ".join("–" if c is None else f"{c:.1f}" for c in cells)


if __name__ == "__main__":
    main()
