"""Killing `kb ingest` with SIGKILL mid-way and checking what it leaves behind.

Shared by tests/test_crash_safety.py (a few kills, in the suite) and bench/crash.py
(a long campaign, run on its own).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from kb import KnowledgeBase
from kb.maintenance import check

ROOT = Path(__file__).resolve().parents[1]
TRIP = "name: Bologne 2026\ncity: Bologne\ncountry: Italie\nstart: 2026-03-09\n"
THEMES = (
    "- id: funding\n  label_fr: Financement\n  label_en: Funding\n"
    "  description: financement fonds propres subventions prêts\n"
    "- id: food\n  label_fr: Alimentation durable\n  label_en: Sustainable food\n"
    "  description: alimentation circuits courts restauration collective agriculture\n"
)
WORDS = [
    "coopérative", "épicerie", "solidaire", "financement", "circuits", "courts", "cantine",
    "commune", "habitants", "bénévoles", "réseau", "atelier", "insertion", "emploi",
    "subvention", "fondation", "marché", "producteurs", "quartier", "tiers-lieu", "jardin",
    "partagé", "compost", "restauration", "collective", "achat", "public",
]
QUERIES = ("épicerie solidaire", "financement coopérative", "cantine producteurs")


def make_corpus(root: Path, documents: int = 24, seed: int = 7) -> Path:
    """A trip folder of Markdown documents, 3 to 6 sections each, and a themes file."""
    rng = random.Random(seed)
    trip = root / "2026-bologne"
    trip.mkdir(parents=True)
    (root / "themes.yaml").write_text(THEMES, encoding="utf-8")
    (trip / "trip.yaml").write_text(TRIP, encoding="utf-8")
    for number in range(documents):
        sections = []
        for section in range(rng.randint(3, 6)):
            paragraph = " ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 140)))
            sections.append(f"## Partie {section + 1}\n\n{paragraph.capitalize()}.\n")
        body = f"# Fiche {number:02d}\n\n" + "\n".join(sections)
        (trip / f"fiche-{number:02d}.md").write_text(body, encoding="utf-8")
    return root


KB = str(Path(sys.executable).parent / "kb")  # the console script, as a user runs it


def ingest_command(home: Path, corpus: Path, model: str) -> list[str]:
    return [KB, "--home", str(home), "--model", model, "ingest", str(corpus)]


def run_ingest(home: Path, corpus: Path, model: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own command line
        ingest_command(home, corpus, model), cwd=ROOT, capture_output=True, check=False
    )


def documents_stored(db_path: Path) -> int:
    if not db_path.exists():
        return 0
    db = sqlite3.connect(db_path, timeout=10)
    try:
        return db.execute("SELECT count(*) FROM documents").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0
    finally:
        db.close()


def kill_during_ingest(home: Path, corpus: Path, model: str, rng: random.Random,
                       total: int) -> str:
    """Start `kb ingest`, SIGKILL it at a random moment of its writes; how it was chosen.

    Half the kills wait until a random number of documents is stored (the kill then
    lands somewhere in the next document's embedding or transaction); the others wait
    a random fraction of a second from the start, startup and schema included.
    """
    process = subprocess.Popen(  # noqa: S603 - our own command line
        ingest_command(home, corpus, model), cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    db_path = home / "kb.sqlite"
    already = documents_stored(db_path)
    if rng.random() < 0.5 and already < total - 1:
        target = rng.randint(already + 1, total - 1)
        how = f"after {target} documents"
        while process.poll() is None and documents_stored(db_path) < target:
            time.sleep(0.005)
    else:
        delay = rng.uniform(0.0, 1.5)
        how = f"after {delay:.2f} s"
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(delay)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
        how += " (killed)"
    else:
        how += " (had finished)"
    process.wait()
    return how


def contents(home: Path) -> dict[str, object]:
    """Everything stored, per document, except ids and ingest times (which differ
    between two runs that store the same thing)."""
    db = sqlite3.connect(home / "kb.sqlite")
    db.row_factory = sqlite3.Row
    try:
        out: dict[str, object] = {}
        for doc in db.execute("SELECT * FROM documents ORDER BY id"):
            fields = dict(zip(doc.keys(), doc, strict=True))
            fields.pop("ingested_at")
            chunks = db.execute(
                "SELECT c.position, c.heading, c.page, c.text, c.vector, f.text AS indexed, "
                "s.vectors AS sentences FROM chunks c "
                "LEFT JOIN chunks_fts f ON f.rowid = c.id "
                "LEFT JOIN chunk_sentences s ON s.chunk_id = c.id "
                "WHERE c.document_id = ? ORDER BY c.position",
                (doc["id"],),
            ).fetchall()
            out[doc["id"]] = {
                **fields,
                "chunks": [
                    [r["position"], r["heading"], r["page"], r["text"], r["indexed"],
                     hashlib.sha256(r["vector"]).hexdigest(),
                     hashlib.sha256(r["sentences"] or b"").hexdigest()]
                    for r in chunks
                ],
            }
        return out
    finally:
        db.close()


def problems_after_kill(home: Path, reference: dict[str, object], before: dict[str, object],
                        model: str) -> list[str]:
    """What is wrong with a knowledge base left by a killed ingest (empty: nothing).

    Each stored document must equal the clean run's (all its passages, full-text entries
    and vectors: nothing half-stored); documents stored before this kill are still there;
    `kb check` finds nothing; searches answer.
    """
    if not (home / "kb.sqlite").exists():
        return []  # killed before it created anything
    problems = []
    db = sqlite3.connect(home / "kb.sqlite")
    verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
    db.close()
    if verdict != "ok":
        return [f"integrity_check: {verdict}"]
    now = contents(home)
    for doc_id, stored in now.items():
        if stored != reference.get(doc_id):
            problems.append(f"{doc_id} differs from the clean run's (half-stored?)")
    problems += [f"{doc_id} was lost" for doc_id in before if doc_id not in now]
    with KnowledgeBase(home, encoder=model) as kb:
        problems += [f"kb check: {p.area}: {p.message}" for p in check(kb)]
        for query in QUERIES:
            response = kb.search(query)
            if now and not response.results:
                problems.append(f"no result for {query!r}")
    return problems


def same_as(home: Path, reference_home: Path, model: str) -> list[str]:
    """Differences between two knowledge bases: contents and search results."""
    problems = []
    if contents(home) != contents(reference_home):
        problems.append("stored contents differ")
    with KnowledgeBase(home, encoder=model) as a, KnowledgeBase(reference_home, encoder=model) as b:
        for query in QUERIES:
            mine = [(r.document.id, r.passage.position) for r in a.search(query).results]
            theirs = [(r.document.id, r.passage.position) for r in b.search(query).results]
            if mine != theirs:
                problems.append(f"results for {query!r} differ")
    return problems


def campaign(workdir: Path, kills: int, model: str = "tiny", documents: int = 24,
             seed: int = 0, log=None) -> list[str]:  # noqa: ANN001
    """A clean run, then `kills` killed runs on another base, each checked (a base the
    killed runs completed is removed, so kills keep meeting writes), then a completing
    run that must equal the clean one. The problems found (empty: none)."""
    rng = random.Random(seed)
    corpus = make_corpus(workdir / "corpus", documents)
    clean, killed = workdir / "clean", workdir / "killed"
    done = run_ingest(clean, corpus, model)
    if done.returncode != 0:
        return [f"the clean run failed: {done.stderr.decode()[-500:]}"]
    reference = contents(clean)
    problems: list[str] = []
    for number in range(kills):
        before = contents(killed) if (killed / "kb.sqlite").exists() else {}
        how = kill_during_ingest(killed, corpus, model, rng, documents)
        found = problems_after_kill(killed, reference, before, model)
        stored = documents_stored(killed / "kb.sqlite")
        if log:
            log(json.dumps({"kill": number + 1, "how": how, "stored": stored,
                            "problems": found}))
        problems += [f"kill {number + 1} ({how}): {p}" for p in found]
        if stored == documents:  # complete: start again, so that the next kill meets writes
            shutil.rmtree(killed)
    done = run_ingest(killed, corpus, model)
    if done.returncode != 0:
        problems.append(f"the completing run failed: {done.stderr.decode()[-500:]}")
    problems += [f"after the completing run: {p}" for p in same_as(killed, clean, model)]
    return problems
