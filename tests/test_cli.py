"""The `kb` command line: the group and its settings, the document commands, the errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from cli_support import (
    FINANCING,
    INCLUSION,
    REUSE,
    error_line,
    kb,
    stdout_of,
    usage_error,
    write_corpus,
)
from fastapi.testclient import TestClient

from kb.embed import TinyEncoder


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A base ingested from the trip folder by `kb ingest`, once for the module."""
    root = tmp_path_factory.mktemp("cli")
    corpus = write_corpus(root / "corpus")
    result = kb(root / "kb", "ingest", str(corpus))
    assert "3 added" in stdout_of(result)
    return root


@pytest.fixture
def home(built, tmp_path):
    """A copy of the built base that a test may change."""
    return shutil.copytree(built / "kb", tmp_path / "kb")


def test_ingest_prepares_the_encoder_even_when_nothing_is_new(tmp_path, monkeypatch):
    corpus = write_corpus(tmp_path / "corpus")
    prepared = []
    monkeypatch.setattr(TinyEncoder, "prepare", lambda self: prepared.append(True))
    stdout_of(kb(tmp_path / "kb", "ingest", str(corpus)))
    assert stdout_of(kb(tmp_path / "kb", "ingest", str(corpus))).strip() == "3 unchanged"
    stdout_of(kb(tmp_path / "kb", "ingest", "--dry-run", str(corpus)))
    assert prepared == [True, True]  # a dry run writes nothing, converts nothing


def test_ingest_reports_adds_updates_rejections_and_prunes(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    home = tmp_path / "kb"
    first = stdout_of(kb(home, "ingest", str(corpus)))
    assert "2022-copenhague/atelier-financement.md" in first and "3 added" in first
    assert stdout_of(kb(home, "ingest", str(corpus))).strip() == "3 unchanged"

    note = corpus / "2025-barcelone" / "inclusion.md"
    note.write_text(note.read_text().replace("procurement clauses", "social clauses"))
    dry = stdout_of(kb(home, "ingest", "--dry-run", str(corpus)))
    assert "dry run, nothing written: 1 updated, 2 unchanged" in dry
    assert "updated" in stdout_of(kb(home, "ingest", str(corpus)))

    (corpus / "2022-copenhague" / "scan.pdf").write_bytes(b"%PDF-1.4 not really")
    rejected = kb(home, "ingest", str(corpus))
    assert rejected.exit_code == 1
    assert "rejected" in rejected.stdout and "scan.pdf" in rejected.stdout

    (corpus / "2022-copenhague" / "scan.pdf").unlink()
    (corpus / "2022-copenhague" / "fiche-reemploi.md").unlink()
    assert "1 removed" in stdout_of(kb(home, "ingest", "--prune", str(corpus)))
    assert json.loads(stdout_of(kb(home, "stats", "--json")))["documents"] == 2


def test_list_filters_and_prints_a_table_or_json(home):
    listed = json.loads(stdout_of(kb(home, "list", "--json", "--kind", "practice-sheet")))
    assert listed["total"] == 1 and [d["id"] for d in listed["documents"]] == [REUSE]
    trips = ("--trip", "2022-copenhague", "--trip", "2025-barcelone")
    both = json.loads(stdout_of(kb(home, "list", "--json", *trips)))
    assert both["total"] == 3
    recent = json.loads(stdout_of(kb(home, "list", "--json", "--year-from", "2025")))
    assert [d["id"] for d in recent["documents"]] == [INCLUSION]
    table = stdout_of(kb(home, "list", "--lang", "en"))
    assert "1 documents" in table and "Social" in table and "Financer" not in table


def test_show_prints_metadata_and_passages(home):
    shown = stdout_of(kb(home, "show", FINANCING))
    assert "Financer une SCIC" in shown and "Copenhague 2022" in shown
    assert "Le prêt patient" in shown and "fonds propres" in shown
    document = json.loads(stdout_of(kb(home, "show", "--json", FINANCING)))
    assert document["trip"] == "2022-copenhague" and document["themes"] == ["funding"]
    assert document["chunks"][0]["heading_path"] == ["Le prêt patient"]


def test_remove_deletes_the_document(home):
    assert stdout_of(kb(home, "remove", REUSE)).strip() == f"removed {REUSE}"
    assert error_line(kb(home, "show", REUSE)) == f"no document {REUSE!r}"
    assert json.loads(stdout_of(kb(home, "stats", "--json")))["documents"] == 2


def test_stats_and_reindex(home):
    stats = stdout_of(kb(home, "stats"))
    assert "3 documents, 3 passages, model tiny (64 dims)" in stats and "2022-copenhague" in stats
    assert stdout_of(kb(home, "reindex")).strip() == "reindexed 3 passages with tiny"
    assert json.loads(stdout_of(kb(home, "stats", "--json")))["chunks"] == 3


def test_serve_hands_uvicorn_an_app_over_the_base(home, monkeypatch):
    import uvicorn

    seen = {}

    def run(app, **options):
        seen.update(options)
        seen["stats"] = TestClient(app).get("/api/stats").json()
        app.state.kb.close()

    monkeypatch.setattr(uvicorn, "run", run)
    assert "no API key is set" in error_line(kb(home, "serve"))
    assert seen == {}
    settings = {"KB_MAX_CONNECTIONS": "64", "KB_READ_ONLY": "true"}
    stdout_of(kb(home, "serve", "--port", "8123", env=settings))
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8123
    assert seen["limit_concurrency"] == 64
    assert seen["stats"]["documents"] == 3


def test_home_option_overrides_kb_home(home, tmp_path):
    elsewhere = tmp_path / "empty"
    stats = json.loads(stdout_of(kb(elsewhere, "--home", str(home), "stats", "--json")))
    assert stats["documents"] == 3
    assert not elsewhere.exists()


def test_bad_input_is_one_line_and_a_non_zero_exit(home, tmp_path):
    assert error_line(kb(home, "show", "nope")) == "no document 'nope'"
    assert error_line(kb(home, "remove", "nope")) == "no document 'nope'"
    assert error_line(kb(home, "search", "   ")) == "the query is empty"
    assert "limit must be between" in error_line(kb(home, "search", "SCIC", "--limit", "0"))
    missing = tmp_path / "nowhere"
    assert str(missing) in usage_error(kb(home, "ingest", str(missing)))
    assert "--year-from" in usage_error(kb(home, "list", "--year-from", "soon"))
    assert "'sideways'" in usage_error(kb(home, "search", "SCIC", "--mode", "sideways"))
    assert "No such command 'serch'" in usage_error(kb(home, "serch", "SCIC"))
    bad = kb(home, "stats", env={"KB_PORT": "eighty"})
    assert bad.exit_code == 2
    assert bad.stderr.splitlines() == [
        "error: KB_PORT='eighty' is not valid: Input should be a valid integer, unable to "
        "parse string as an integer"
    ]


def test_python_dash_m_cli_is_the_kb_command(home):
    done = subprocess.run(
        [sys.executable, "-m", "cli", "--home", str(home), "--model", "tiny", "stats", "--json"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["documents"] == 3
    usage = subprocess.run(
        [sys.executable, "-m", "cli", "--help"], capture_output=True, text=True, timeout=120
    )
    assert usage.stdout.startswith("Usage: kb ")


def test_backup_check_and_restore(home, tmp_path):
    saves = tmp_path / "saves"
    saves.mkdir()
    assert "backed up 3 documents, 3 passages to" in stdout_of(kb(home, "backup", str(saves)))
    (copy,) = saves.glob("kb-*.sqlite")
    assert "already exists" in error_line(kb(home, "backup", str(copy)))
    assert json.loads(stdout_of(kb(home, "check", "--repair", "--json"))) == {
        "repaired": [], "problems": []
    }
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    assert "is not a knowledge base backup" in error_line(kb(home, "restore", "--force", str(junk)))
    assert "--force" in error_line(kb(home, "restore", str(copy)))
    restored = " ".join(stdout_of(kb(tmp_path / "new", "restore", str(copy))).split())  # unwrap
    assert f"restored 3 documents, 3 passages into {tmp_path / 'new'}" in restored
    assert stdout_of(kb(tmp_path / "new", "check")).strip() == "ok"
    assert "no knowledge base in" in error_line(kb(tmp_path / "none", "backup", str(saves)))
