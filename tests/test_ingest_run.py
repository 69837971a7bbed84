"""The ingest run over folders and uploads: outcomes, metadata, re-runs, pruning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_ingest_readers import make_docx, make_pdf

from ingest import IngestReport, ingest_paths, ingest_upload
from kb import Filters

TRIP = """name: "Voyage d'étude à Copenhague"
city: Copenhague
country: Danemark
start: 2022-05-16
end: 2022-05-20
organisations: [Center for Socialøkonomi]
"""

THEMES = """- id: funding
  label_fr: Financement
  label_en: Funding
  description: Fonds propres, titres participatifs, prêts d'honneur, finance solidaire.
- id: circular-economy
  label_fr: Économie circulaire
  label_en: Circular economy
  description: Réemploi, réparation, recyclage des matériaux de construction.
"""

ATELIER = """---
title: Financer une SCIC sans fonds propres
themes: [funding]
authors: [Karim Benhaddou]
---
# Financer une SCIC

## Titres participatifs

Les titres participatifs apportent des quasi-fonds propres aux coopératives.
"""


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    trip = root / "2022-copenhague"
    trip.mkdir(parents=True)
    (root / "themes.yaml").write_text(THEMES, encoding="utf-8")
    (root / "README.md").write_text("# Le corpus\n\nÀ ne pas indexer.\n", encoding="utf-8")
    (root / "build.py").write_text("print('build')\n", encoding="utf-8")
    (root / "sources").mkdir()
    (root / "sources" / "brouillon.md").write_text("Brouillon.\n", encoding="utf-8")
    (root / "eval").mkdir()
    (root / "eval" / "queries.md").write_text("Requêtes.\n", encoding="utf-8")
    (trip / ".cache.md").write_text("caché\n", encoding="utf-8")
    (trip / "trip.yaml").write_text(TRIP, encoding="utf-8")
    (trip / "atelier-financement.md").write_text(ATELIER, encoding="utf-8")
    (trip / "Notes réemploi.txt").write_text(
        "Notes de visite du centre de réemploi\n\nLe centre revend des briques nettoyées "
        "et des fenêtres de récupération aux artisans.\n", encoding="utf-8")
    (trip / "rapport.pdf").write_bytes(make_pdf(
        [(0, "Journée 1", ["Le fonds municipal finance le réemploi des matériaux."])],
        title="Rapport du voyage à Copenhague",
    ))
    (trip / "atelier-reseau.docx").write_bytes(make_docx(title="Atelier réseau"))
    return root


def statuses(report: IngestReport) -> dict[str, str]:
    return {o.name: o.status for o in report.outcomes}


def test_folder_walk_adds_documents_with_trip_metadata(kb, corpus):
    report = ingest_paths(kb, [corpus])
    assert statuses(report) == {
        "2022-copenhague/Notes réemploi.txt": "added",
        "2022-copenhague/atelier-financement.md": "added",
        "2022-copenhague/atelier-reseau.docx": "added",
        "2022-copenhague/rapport.pdf": "added",
    }
    assert report.counts() == {"added": 4, "updated": 0, "unchanged": 0, "duplicate": 0,
                               "rejected": 0, "removed": 0}
    doc = kb.document("2022-copenhague--atelier-financement.md")
    assert doc.title == "Financer une SCIC sans fonds propres"
    assert (doc.trip, doc.trip_name, doc.city, doc.country) == (
        "2022-copenhague", "Voyage d'étude à Copenhague", "Copenhague", "Danemark")
    assert doc.date == "2022-05-16"  # the trip's start: the file gives no date
    assert doc.organisations == ["Center for Socialøkonomi"]
    assert doc.authors == ["Karim Benhaddou"]
    assert (doc.themes, doc.themes_detected) == (["funding"], False)
    assert (doc.kind, doc.kind_detected) == ("workshop-notes", True)
    assert doc.language == "fr"
    assert doc.source == "atelier-financement.md"
    assert doc.path == str((corpus / "2022-copenhague" / "atelier-financement.md").resolve())
    assert doc.media_type == "text/markdown"
    assert doc.chunks[0].heading_path == ("Titres participatifs",)
    content, media_type, source = kb.original(doc.id)
    assert content == (corpus / "2022-copenhague" / "atelier-financement.md").read_bytes()
    assert (media_type, source) == ("text/markdown", "atelier-financement.md")


def test_taxonomy_is_loaded_and_themes_detected_when_not_given(kb, corpus):
    ingest_paths(kb, [corpus])
    assert [t.id for t in kb.themes()] == ["funding", "circular-economy"]
    notes = kb.document("2022-copenhague--notes-reemploi.txt")
    assert notes.themes_detected and notes.themes
    assert notes.title == "Notes de visite du centre de réemploi"
    pdf = kb.document("2022-copenhague--rapport.pdf")
    assert (pdf.kind, pdf.title) == ("trip-report", "Rapport du voyage à Copenhague")
    assert pdf.chunks[0].page == 1


def test_second_run_skips_unchanged_files_without_parsing(kb, corpus, monkeypatch):
    ingest_paths(kb, [corpus])
    monkeypatch.setattr("ingest.run.read_document", pytest.fail)  # must not be called
    report = ingest_paths(kb, [corpus])
    assert set(statuses(report).values()) == {"unchanged"}


def test_changed_file_replaces_its_document(kb, corpus):
    ingest_paths(kb, [corpus])
    path = corpus / "2022-copenhague" / "atelier-financement.md"
    path.write_text(ATELIER.replace("quasi-fonds propres", "capitaux patients"),
                    encoding="utf-8")
    report = ingest_paths(kb, [path])
    assert statuses(report) == {"atelier-financement.md": "updated"}
    doc = kb.document("2022-copenhague--atelier-financement.md")
    assert "capitaux patients" in doc.chunks[0].text
    assert kb.stats().documents == 4


def test_same_content_under_another_name_is_a_duplicate(kb, corpus):
    ingest_paths(kb, [corpus])
    trip = corpus / "2022-copenhague"
    (trip / "copie atelier.md").write_bytes((trip / "atelier-financement.md").read_bytes())
    report = ingest_paths(kb, [corpus])
    outcome = report.outcome("2022-copenhague/copie atelier.md")
    assert outcome.status == "duplicate"
    assert outcome.reason == "same content as 2022-copenhague--atelier-financement.md"
    assert kb.stats().documents == 4


def test_prune_removes_documents_whose_file_is_gone(kb, corpus):
    ingest_paths(kb, [corpus])
    (corpus / "2022-copenhague" / "rapport.pdf").unlink()
    assert "removed" not in statuses(ingest_paths(kb, [corpus])).values()
    report = ingest_paths(kb, [corpus], prune=True)
    assert report.outcome("rapport.pdf").status == "removed"
    assert report.outcome("rapport.pdf").document_id == "2022-copenhague--rapport.pdf"
    assert kb.stats().documents == 3


def test_dry_run_reports_but_writes_nothing(kb, corpus):
    report = ingest_paths(kb, [corpus], dry_run=True)
    assert report.dry_run
    assert report.counts()["added"] == 4
    assert all(o.chunks > 0 for o in report.outcomes)
    assert kb.stats().documents == 0
    assert kb.themes() == []


def test_progress_is_called_per_file_with_chunks_done(kb, corpus):
    calls: list[tuple[str, int]] = []
    report = ingest_paths(kb, [corpus], progress=lambda name, done: calls.append((name, done)))
    assert [name for name, _ in calls] == [o.name for o in report.outcomes]
    assert calls[-1][1] == report.chunks == kb.stats().chunks


def test_folder_without_trip_uses_its_name_as_id_prefix(kb, tmp_path):
    folder = tmp_path / "Divers à trier"
    folder.mkdir()
    (folder / "Fiche pratique – l'épicerie (Bologne).md").write_text(
        "# Fiche pratique\n\n## Contexte\n\nUne épicerie solidaire.\n"
        "\n## Conditions de transfert\n\nUn local et des bénévoles.\n", encoding="utf-8")
    report = ingest_paths(kb, [folder])
    doc_id = "divers-a-trier--fiche-pratique-l-epicerie-bologne-.md"
    assert report.outcomes[0].document_id == doc_id
    doc = kb.document(doc_id)
    assert doc.source == "Fiche pratique – l'épicerie (Bologne).md"
    assert (doc.trip, doc.kind) == (None, "practice-sheet")


def test_missing_path_is_reported(kb, tmp_path):
    report = ingest_paths(kb, [tmp_path / "absent"])
    assert report.rejected[0].reason == "no such file or folder"


def test_jsonl_passages_are_documents_and_unchanged_on_rerun(kb, tmp_path):
    lines = [{"_id": f"p{i:05d}", "title": "Sport",
              "text": f"Le passage {i} parle des dépenses sportives des ménages."}
             for i in range(150)]
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
                    + "\nnot json\n", encoding="utf-8")
    report = ingest_paths(kb, [path])
    outcome = report.outcome("corpus.jsonl")
    assert outcome.status == "added"
    assert outcome.reason == "150 passages; 1 lines skipped (line 151: invalid JSON)"
    doc = kb.document("p00042")
    assert (doc.title, doc.source, doc.language) == ("Sport", "corpus.jsonl", "fr")
    assert doc.chunks[0].text == lines[42]["text"]
    assert ingest_paths(kb, [path]).outcome("corpus.jsonl").status == "unchanged"
    # a new version drops a passage: it goes, the others are replaced
    path.write_text("\n".join(json.dumps(line) for line in lines[:100]), encoding="utf-8")
    assert ingest_paths(kb, [path]).outcome("corpus.jsonl").status == "updated"
    assert kb.stats().documents == 100


def test_upload_uses_form_metadata_and_known_trip(kb, corpus):
    ingest_paths(kb, [corpus])
    upload = ("C:\\Users\\moi\\Mes notes (v2).md", "# Notes\n\nVisite d'un repair café.\n")
    report = ingest_upload(
        kb, [(upload[0], upload[1].encode())],
        metadata={"title": "Notes repair café", "trip": "2022-copenhague",
                  "kind": "workshop-notes", "themes": ["circular-economy"], "language": "fr"},
    )
    outcome = report.outcomes[0]
    assert (outcome.status, outcome.document_id) == ("added", "upload--mes-notes-v2-.md")
    doc = kb.document("upload--mes-notes-v2-.md")
    assert (doc.title, doc.kind, doc.kind_detected) == ("Notes repair café", "workshop-notes",
                                                        False)
    assert (doc.trip, doc.city, doc.themes) == ("2022-copenhague", "Copenhague",
                                                ["circular-economy"])
    assert doc.source == "Mes notes (v2).md" and doc.path is None
    hits = kb.search("repair café", Filters(trip=("2022-copenhague",)))
    assert doc.id in {r.document.id for r in hits.results}


def test_upload_rejects_each_bad_file_and_keeps_the_good(kb):
    report = ingest_upload(kb, [("vide.txt", b""), ("faux.pdf", b"<html><body>x</body></html>"),
                                ("bon.txt", b"Un texte valable sur la finance solidaire.")])
    assert [(o.status, o.reason) for o in report.outcomes] == [
        ("rejected", "empty file"),
        ("rejected", "not a PDF: looks like an HTML page"),
        ("added", None),
    ]


@pytest.mark.parametrize(
    ("title", "headings", "hints", "kind"),
    [
        ("Fiche pratique – le réemploi", [], [], "practice-sheet"),
        ("Le réemploi", ["Contexte", "Conditions de transfert"], [], "practice-sheet"),
        ("Notas del taller", [], [], "workshop-notes"),
        ("Rapport du voyage à Bologne", [], [], "trip-report"),
        ("Restitution du voyage d'étude à Turin", [], [], "trip-report"),
        ("Synthèse de la mission à Bruxelles", [], [], "trip-report"),
        ("Study visit summary – Copenhagen", [], [], "trip-report"),
        ("Sintesi della visita a Torino", [], [], "trip-report"),
        ("Síntesis del viaje a Barcelona", [], [], "trip-report"),
        ("Semaine à Vienne", [], ["jobshadowing"], "job-shadowing-diary"),
        ("Sport", [], [], "other"),
    ],
)
def test_kind_heuristic(title, headings, hints, kind):
    from ingest.metadata import detect_kind

    assert detect_kind(title, headings, hints) == kind
