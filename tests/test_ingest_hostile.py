"""Hostile and odd files: one clear outcome each, and the knowledge base stays intact."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest
from test_ingest_readers import PAGE, encrypt, image_only_pdf, make_docx, make_pdf

from ingest import ingest_paths
from kb import KnowledgeBase, Settings

GOOD = """---
title: Financer une SCIC sans fonds propres
---
Les titres participatifs apportent des quasi-fonds propres aux coopératives.
"""


def zip_bomb(path: Path, inflated: int = 500 * 1024 * 1024) -> None:
    """A DOCX-shaped ZIP whose document.xml inflates to `inflated` bytes of zeros.

    Written in 1 MiB pieces so that making it needs no more memory than that.
    """
    piece = bytes(1024 * 1024)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(inflated // len(piece)):
                member.write(piece)


@pytest.fixture
def stocked(kb: KnowledgeBase, tmp_path: Path) -> KnowledgeBase:
    """A knowledge base that already holds one searchable document."""
    good = tmp_path / "deja"
    good.mkdir()
    (good / "atelier-financement.md").write_text(GOOD, encoding="utf-8")
    assert ingest_paths(kb, [good]).counts()["added"] == 1
    return kb


def search_ids(kb: KnowledgeBase, query: str) -> list[str]:
    return [r.document.id for r in kb.search(query).results]


def test_every_hostile_file_gets_one_clear_outcome(stocked, tmp_path, monkeypatch):
    kb = stocked
    before = search_ids(kb, "titres participatifs")
    assert before == ["deja--atelier-financement.md"]
    stats_before = kb.stats()

    folder = tmp_path / "depot"
    folder.mkdir()
    good_pdf = make_pdf([(0, "Contexte", ["Un texte lisible sur le réemploi."])])
    files: dict[str, bytes] = {
        "chiffre.pdf": encrypt(good_pdf, user_password="s3cret"),
        "scan.pdf": image_only_pdf(),
        "tronque.pdf": good_pdf[: len(good_pdf) // 2],
        "page-web.pdf": PAGE.encode(),
        "faux.docx": b"Ceci est du texte, pas un document Word.\n",
        "archive.docx": _plain_zip(),
        "casse.docx": make_docx()[:300],
        "vide.txt": b"",
        "blanc.md": b"   \n\t\n",
        "aleatoire.bin": os.urandom(4096),
        "aleatoire.txt": bytes(range(256)) * 16,
        "photo.png": b"\x89PNG\r\n\x1a\n" + os.urandom(256),
        "script.md": b"# Atelier <script>alert(1)</script>\n\nTexte de l'atelier.\n",
        "copie.md": GOOD.encode(),
        "notes-cp1252.txt": "Notes\r\n\r\nL’œuvre coopérative à Bruxelles.\r\n".encode("cp1252"),
        "Compte rendu d'atelier (version 2) – été.md": b"Un compte rendu valable.\n",
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    zip_bomb(folder / "bombe.docx")

    # Inflating any ZIP member during this run would fail loudly.
    def no_inflating(*args, **kwargs):
        raise AssertionError("a ZIP member was inflated")

    monkeypatch.setattr(zipfile.ZipExtFile, "read", no_inflating)
    monkeypatch.setattr(zipfile.ZipExtFile, "read1", no_inflating)
    report = ingest_paths(kb, [folder])
    monkeypatch.undo()

    outcomes = {o.name: (o.status, o.reason) for o in report.outcomes}
    assert len(report.outcomes) == len(files) + 1
    assert outcomes["chiffre.pdf"] == ("rejected", "password-protected")
    assert outcomes["scan.pdf"] == ("rejected", "no text layer (scanned?)")
    assert outcomes["tronque.pdf"][0] == "rejected"
    assert outcomes["tronque.pdf"][1].startswith("corrupt PDF")
    assert outcomes["page-web.pdf"] == ("rejected", "not a PDF: looks like an HTML page")
    assert outcomes["faux.docx"] == ("rejected", "not a DOCX: looks like plain text")
    assert outcomes["archive.docx"] == ("rejected", "not a DOCX: looks like a ZIP archive")
    assert outcomes["casse.docx"] == ("rejected", "not a DOCX: looks like a corrupt ZIP archive")
    assert outcomes["bombe.docx"][0] == "rejected"
    assert "max_decompressed_bytes" in outcomes["bombe.docx"][1]
    assert outcomes["vide.txt"] == ("rejected", "empty file")
    assert outcomes["blanc.md"] == ("rejected", "no text")
    assert outcomes["aleatoire.bin"] == ("rejected", "unsupported: binary data")
    assert outcomes["aleatoire.txt"] == ("rejected", "not a text file: looks like binary data")
    assert outcomes["photo.png"] == ("rejected", "unsupported: PNG image")
    assert outcomes["copie.md"] == ("duplicate", "same content as deja--atelier-financement.md")
    for name in ("script.md", "notes-cp1252.txt", "Compte rendu d'atelier (version 2) – été.md"):
        assert outcomes[name] == ("added", None), name

    assert kb.document("depot--script.md").title == "Atelier <script>alert(1)</script>"
    cp1252 = kb.document("depot--notes-cp1252.txt")
    assert cp1252.chunks[0].text == "L’œuvre coopérative à Bruxelles."
    odd = kb.document("depot--compte-rendu-d-atelier-version-2-ete.md")
    assert odd.source == "Compte rendu d'atelier (version 2) – été.md"
    assert odd.kind == "workshop-notes"  # "atelier" is more specific than "compte rendu"

    # what was there is intact and still found; nothing half-added
    assert search_ids(kb, "titres participatifs")[0] == before[0]
    assert kb.stats().documents == stats_before.documents + 3
    assert len(kb.document(before[0]).chunks) == 1


def test_five_megabyte_single_line_is_truncated_and_chunked_within_bounds(tmp_path):
    settings = Settings(max_document_chars=100_000)
    line = ("économie sociale et solidaire " * 200_000).encode()
    assert len(line) > 5_000_000
    path = tmp_path / "une-ligne.txt"
    path.write_bytes(line)
    with KnowledgeBase(tmp_path / "kb", encoder="tiny", settings=settings) as kb:
        outcome = ingest_paths(kb, [path]).outcome("une-ligne.txt")
        chunks = kb.document(outcome.document_id).chunks
    assert outcome.status == "added"
    assert outcome.reason == "text truncated to 100,000 characters (max_document_chars)"
    assert sum(len(c.text) for c in chunks) <= 100_000
    assert max(len(c.text.split()) for c in chunks) <= settings.chunk_tokens


def test_size_bound_is_checked_before_reading(tmp_path, monkeypatch):
    kb = KnowledgeBase(tmp_path / "kb", encoder="tiny", settings=Settings(max_file_bytes=100))
    try:
        path = tmp_path / "gros.md"
        path.write_bytes(b"mot " * 100)
        monkeypatch.setattr(Path, "read_bytes", pytest.fail)
        report = ingest_paths(kb, [path])
    finally:
        kb.close()
    assert report.outcomes[0].status == "rejected"
    assert report.outcomes[0].reason == "too large: 400 bytes (max_file_bytes=100)"


def test_unexpected_reader_error_is_reported_and_the_run_goes_on(kb, tmp_path, monkeypatch):
    def boom(name, data):
        raise RuntimeError("parser exploded")

    monkeypatch.setattr("ingest.readers.read_html", boom)
    folder = tmp_path / "depot"
    folder.mkdir()
    (folder / "a.html").write_text("<html><body><p>Texte</p></body></html>")
    (folder / "b.md").write_text("Un autre texte valable.\n")
    report = ingest_paths(kb, [folder])
    assert [(o.name, o.status, o.reason) for o in report.outcomes] == [
        ("a.html", "rejected", "RuntimeError: parser exploded"),
        ("b.md", "added", None),
    ]
    assert [d.id for d in kb.documents()[0]] == ["depot--b.md"]


def test_unreadable_folder_content_does_not_stop_the_walk(kb, tmp_path):
    folder = tmp_path / "lien"
    folder.mkdir()
    (folder / "casse").symlink_to(tmp_path / "nulle-part.md")
    (folder / "ok.md").write_text("Texte valable.\n")
    report = ingest_paths(kb, [folder])
    assert [o.status for o in report.outcomes] == ["rejected", "added"]
    shutil.rmtree(folder)


def _plain_zip() -> bytes:
    import io

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "pas un document Word")
    return out.getvalue()
