"""`kb template`, `kb dossier` and `kb insights`: the after-trip routine from the shell."""

from __future__ import annotations

import json
import re

import docx
from cli_support import usage_error
from click.testing import CliRunner

from cli.main import main
from kb import CARD_FIELDS, KnowledgeBase


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_template_then_ingest_then_dossier(tmp_path, monkeypatch):
    home = str(tmp_path / "kb")
    trip = tmp_path / "2027-lyon"
    trip.mkdir()
    (trip / "trip.yaml").write_text("name: Lyon 2027\ncity: Lyon\ncountry: France\n")
    monkeypatch.chdir(trip)
    assert run("template", "practice-sheet", "--trip", "2027-lyon").exit_code == 0
    assert run("template", "practice-sheet").exit_code == 2  # never overwrites silently
    assert run("template", "workshop-notes", "--lang", "en").exit_code == 0
    sheet = (trip / "fiche-pratique.md").read_text(encoding="utf-8")
    assert "kind: practice-sheet" in sheet and "trip: 2027-lyon" in sheet
    # the writers replace each hint with text
    for name in ("fiche-pratique.md", "workshop-notes.md"):
        text = (trip / name).read_text(encoding="utf-8")
        filled = re.sub(r"<!-- (.*?) -->", lambda m: f"Notre texte : {m.group(1)}", text)
        (trip / name).write_text(
            filled.replace("Nom de la pratique (lieu)", "La recyclerie (Lyon)"), encoding="utf-8")

    ingested = run("--home", home, "--model", "tiny", "ingest", str(trip))
    assert ingested.exit_code == 0, ingested.output
    with KnowledgeBase(home, encoder="tiny") as kb:
        cards, _ = kb.practices()
    by_title = {card.title: card for card in cards}
    card = by_title["La recyclerie (Lyon)"]
    assert set(card.fields) == set(CARD_FIELDS)
    assert all(card.fields[name].origin == "section" for name in CARD_FIELDS)
    assert "Workshop: Name of the practice (place)" in by_title  # the notes make a card too

    out = tmp_path / "dossier.docx"
    result = run("--home", home, "--model", "tiny", "dossier", card.document_id, "-o", str(out))
    assert result.exit_code == 0, result.output
    headings = [p.text for p in docx.Document(out).paragraphs if p.style.name == "Heading 1"]
    assert headings == ["La recyclerie (Lyon)"]
    md = tmp_path / "dossier.md"
    assert run("--home", home, "--model", "tiny", "dossier", card.document_id, "-o",
               str(md), "--base-url", "https://kb.example").exit_code == 0
    assert f"<https://kb.example/documents/{card.document_id}>" in md.read_text()

    missing = run("--home", home, "--model", "tiny", "dossier", "nope", "-o", str(md))
    assert missing.exit_code == 1 and "'nope'" in missing.output


def test_insights_prints_and_exports_the_log(kb, tmp_path):
    from api_support import fill

    fill(kb)
    kb.log_search("financer une SCIC", kb.search("financer une SCIC"))
    home = str(kb.path)
    kb.close()
    csv_path = tmp_path / "log.csv"
    result = run("--home", home, "--model", "tiny", "insights", "--csv", str(csv_path))
    assert result.exit_code == 0 and "financer une scic" in result.output
    assert "financer une scic" in csv_path.read_text()
    figures = json.loads(run("--home", home, "--model", "tiny", "insights", "--json").output)
    assert figures["searches"] == 1 and figures["top"][0]["query"] == "financer une scic"


def test_transfer_commands_refuse_bad_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert "'minutes'" in usage_error(run("template", "minutes"))
    assert "Missing argument 'IDS...'" in usage_error(run("dossier"))
    assert not (tmp_path / "dossier.docx").exists()
    assert "'de'" in usage_error(run("template", "trip-report", "--lang", "de"))


def test_insights_on_an_empty_log(tmp_path):
    result = run("--home", str(tmp_path / "kb"), "--model", "tiny", "insights")
    assert result.exit_code == 0
    assert "0 searches, 0 distinct questions" in result.stdout
