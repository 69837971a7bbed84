"""A kill -9 campaign against `kb ingest`, run on its own (the suite runs 4 kills).

Run: .venv/bin/python bench/crash.py [--kills 40] [--documents 24] [--model tiny] [--seed 1]

A clean run ingests a generated corpus into one base; then `kb ingest` is started again
and again on a second base and killed with SIGKILL at a random moment (after a random
number of stored documents, or a random fraction of a second from its start). After each
kill: SQLite integrity, every stored document equal to the clean run's (all passages,
full-text entries and vectors: none half-stored), no earlier document lost, `kb check`
clean, searches answer. Finally a completing run must equal the clean run (contents and
search results). Prints one JSON line per kill and the problems found; exit 1 if any.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from crash_support import campaign  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=40)
    parser.add_argument("--documents", type=int, default=24)
    parser.add_argument("--model", default="tiny")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kb-crash-") as folder:
        problems = campaign(
            Path(folder), args.kills, args.model, args.documents, args.seed, log=print
        )
    print(f"{args.kills} kills, {len(problems)} problems")
    for problem in problems:
        print(problem)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
