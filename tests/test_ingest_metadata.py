"""Metadata a new user meets: which date counts, kinds in Italian, Spanish and Catalan."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from fpdf import FPDF
from test_ingest_readers import FONT

from cli.main import main
from ingest import ingest_paths
from ingest.metadata import detect_kind
from kb import Filters

TRIP = "name: Bruxelles 2024\ncity: Bruxelles\nstart: 2024-10-01\nend: 2024-10-04\n"


def pdf_made_on(day: dt.datetime, text: str) -> bytes:
    pdf = FPDF()
    pdf.add_font("DejaVu", "", FONT)
    pdf.set_font("DejaVu", size=11)
    pdf.set_creation_date(day)
    pdf.add_page()
    pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


@pytest.fixture
def trip(tmp_path: Path) -> Path:
    folder = tmp_path / "2024-bruxelles"
    folder.mkdir()
    (folder / "trip.yaml").write_text(TRIP, encoding="utf-8")
    return folder


def test_the_trip_dates_come_before_the_file_creation_date(kb, trip, tmp_path):
    exported = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    (trip / "rapport.pdf").write_bytes(pdf_made_on(exported, "Le plaidoyer européen."))
    (trip / "atelier.md").write_text(
        "---\ndate: 2024-10-03\n---\n# Atelier plaidoyer\n\nLes réseaux européens.\n",
        encoding="utf-8",
    )
    loose = tmp_path / "hors-voyage"
    loose.mkdir()
    (loose / "note.pdf").write_bytes(pdf_made_on(exported, "Une note sans voyage."))
    ingest_paths(kb, [trip, loose])
    assert kb.document("2024-bruxelles--rapport.pdf").date == "2024-10-01"  # the trip's
    assert kb.document("2024-bruxelles--atelier.md").date == "2024-10-03"  # its own
    assert kb.document("hors-voyage--note.pdf").date == "2026-11-30"  # only the file's
    sources = {d.id: d.date_source for d in kb.documents()[0]}
    assert sources == {
        "2024-bruxelles--rapport.pdf": "trip",
        "2024-bruxelles--atelier.md": "document",
        "hors-voyage--note.pdf": "file",
    }
    shown = CliRunner().invoke(
        main, ["--home", str(kb.path), "--model", "tiny", "show", "hors-voyage--note.pdf"]
    )
    assert "2026-11-30 (the file's creation date)" in shown.stdout
    found, _ = kb.documents(Filters(year_from=2024, year_to=2024))
    assert {d.id for d in found} == {"2024-bruxelles--rapport.pdf", "2024-bruxelles--atelier.md"}


@pytest.mark.parametrize(
    ("title", "headings", "kind"),
    [
        ("Scheda buona pratica – l'emporio solidale", [], "practice-sheet"),
        ("Buone pratiche di Torino", [], "practice-sheet"),
        ("L'emporio", ["Contesto", "Trasferibilità"], "practice-sheet"),
        ("Relazione del viaggio a Bologna", [], "trip-report"),
        ("Appunti del laboratorio", [], "workshop-notes"),
        ("Diario di job shadowing", [], "job-shadowing-diary"),
        ("Ficha de buena práctica: Coop57", [], "practice-sheet"),
        ("Informe de la visita a Barcelona", [], "trip-report"),
        ("Notas del taller", [], "workshop-notes"),
        ("La cooperativa", ["Contexto", "Transferibilidad"], "practice-sheet"),
        ("Fitxa de bona pràctica", [], "practice-sheet"),
        ("Bones pràctiques dels ateneus", [], "practice-sheet"),
        ("Memòria del viatge", [], "trip-report"),
        ("Apunts del taller", [], "workshop-notes"),
        ("Diari de bord", [], "job-shadowing-diary"),
        ("El mercat", [], "other"),
    ],
)
def test_kinds_in_italian_spanish_and_catalan(title, headings, kind):
    assert detect_kind(title, headings, []) == kind


def test_a_base_made_before_date_sources_opens_and_gains_the_column(tmp_path):
    import sqlite3

    from kb import Chunk, Document, KnowledgeBase

    with KnowledgeBase(tmp_path / "kb", encoder="tiny") as kb:
        kb.add([Document(id="a", title="A", date="2024-01-02", chunks=[Chunk("texte")])])
    db = sqlite3.connect(tmp_path / "kb" / "kb.sqlite")
    db.execute("ALTER TABLE documents DROP COLUMN date_source")
    db.commit()
    db.close()
    with KnowledgeBase(tmp_path / "kb", encoder="tiny") as kb:
        document = kb.document("a")
    assert (document.date, document.date_source) == ("2024-01-02", None)
