"""Readers on files generated here: each keeps the document's structure."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from ingest import read_document
from kb import Settings, UnsupportedDocument

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def make_pdf(sections: list[tuple[int, str, list[str]]], *, title: str = "",
             author: str = "", new_page_per_top: bool = True) -> bytes:
    """A PDF whose outline has one bookmark per (level, heading, paragraphs) section."""
    pdf = FPDF()
    pdf.add_font("DejaVu", "", FONT)
    pdf.set_font("DejaVu", size=11)
    if title:
        pdf.set_title(title)
    if author:
        pdf.set_author(author)
    pdf.add_page()
    for index, (level, heading, paragraphs) in enumerate(sections):
        if new_page_per_top and level == 0 and index:
            pdf.add_page()
        pdf.start_section(heading, level=level)
        pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    return bytes(pdf.output())


def image_only_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    return bytes(pdf.output())


def encrypt(data: bytes, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(*, title: str = "", author: str = "") -> bytes:
    document = docx.Document()
    if title:
        document.core_properties.title = title
    if author:
        document.core_properties.author = author
    document.add_heading("Atelier financement", level=1)
    document.add_paragraph("Les fonds propres sont rares pour une SCIC naissante.")
    document.add_heading("Titres participatifs", level=2)
    document.add_paragraph("Un outil de quasi-fonds propres adapté aux coopératives.")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, (("Outil", "Montant"), ("Prêt d'honneur", "15 000 €")),
                          strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    document.add_heading("Mesure d'impact", level=1)
    document.add_paragraph("Trois indicateurs suffisent pour commencer.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.fixture
def settings() -> Settings:
    return Settings()


# --------------------------------------------------------------------------- PDF


def test_pdf_keeps_pages_and_outline_headings(settings):
    data = make_pdf(
        [
            (0, "Journée 1", ["Visite du centre de réemploi de Nordhavn."]),
            (1, "Financement", ["Le fonds municipal finance les machines."]),
            (0, "Journée 2", ["Atelier sur la mesure d'impact social."]),
        ],
        title="Rapport Copenhague", author="Claire Dumas, Karim B",
    )
    parsed = read_document("rapport.pdf", data, settings)
    assert parsed.title == "Rapport Copenhague"
    assert parsed.properties["authors"] == ["Claire Dumas", "Karim B"]
    assert parsed.media_type == "application/pdf"
    found = {(b.heading_path, b.page): b.text for b in parsed.blocks}
    assert "Nordhavn" in found[(("Journée 1",), 1)]
    assert "fonds municipal" in found[(("Journée 1", "Financement"), 1)]
    assert "mesure d'impact" in found[(("Journée 2",), 2)]
    # the heading line itself is not repeated in the body text
    assert all(not b.text.startswith("Financement") for b in parsed.blocks)


def test_pdf_without_outline_keeps_page_numbers(settings):
    pdf = FPDF()
    pdf.add_font("DejaVu", "", FONT)
    pdf.set_font("DejaVu", size=11)
    for text in ("Première page.", "Deuxième page."):
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    parsed = read_document("notes.pdf", bytes(pdf.output()), settings)
    assert [(b.page, b.text) for b in parsed.blocks] == [(1, "Première page."),
                                                         (2, "Deuxième page.")]
    assert parsed.title == "notes"


def test_pdf_encrypted_with_empty_user_password_is_read(settings):
    data = encrypt(make_pdf([(0, "Contexte", ["Texte lisible."])]), user_password="")
    parsed = read_document("ouvert.pdf", data, settings)
    assert "Texte lisible." in parsed.blocks[0].text


def test_pdf_with_password_is_rejected(settings):
    data = encrypt(make_pdf([(0, "Contexte", ["Secret."])]), user_password="s3cret")
    with pytest.raises(UnsupportedDocument, match="password-protected"):
        read_document("secret.pdf", data, settings)


def test_pdf_without_text_layer_is_rejected(settings):
    with pytest.raises(UnsupportedDocument, match=r"no text layer \(scanned\?\)"):
        read_document("scan.pdf", image_only_pdf(), settings)


def test_pdf_page_bound_reads_the_first_pages_and_says_so():
    data = make_pdf([(0, f"Partie {i}", [f"Texte {i}."]) for i in range(1, 5)])
    parsed = read_document("long.pdf", data, Settings(max_pages=2))
    assert {b.page for b in parsed.blocks} == {1, 2}
    assert parsed.notes == ["only the first 2 of 4 pages read (max_pages)"]


def test_pdf_parse_time_limit_kills_the_parser():
    data = make_pdf([(0, "Contexte", ["Texte."])])
    with pytest.raises(UnsupportedDocument, match="timed out parsing PDF"):
        read_document("lent.pdf", data, Settings(parse_timeout_s=0.001))


# --------------------------------------------------------------------------- DOCX


def test_docx_headings_tables_and_core_properties(settings):
    parsed = read_document("atelier.docx", make_docx(title="Atelier SCIC", author="Nadia O"),
                           settings)
    assert parsed.title == "Atelier SCIC"
    assert parsed.properties["authors"] == ["Nadia O"]
    blocks = [(b.heading_path, b.text) for b in parsed.blocks]
    assert blocks == [
        (("Atelier financement",), "Les fonds propres sont rares pour une SCIC naissante."),
        (("Atelier financement", "Titres participatifs"),
         "Un outil de quasi-fonds propres adapté aux coopératives."),
        (("Atelier financement", "Titres participatifs"),
         "Outil | Montant\nPrêt d'honneur | 15 000 €"),
        (("Mesure d'impact",), "Trois indicateurs suffisent pour commencer."),
    ]


def test_docx_template_defaults_are_not_taken_as_metadata(settings):
    parsed = read_document("sans-titre.docx", make_docx(), settings)
    assert parsed.title == "sans-titre"
    assert "authors" not in parsed.properties  # python-docx's template says "python-docx"
    assert "date" not in parsed.properties


def test_docx_zip_bounds_are_checked_before_reading():
    with pytest.raises(Exception, match="max_decompressed_bytes"):
        read_document("atelier.docx", make_docx(), Settings(max_decompressed_bytes=1000))


def test_zip_that_is_not_a_docx_says_so(settings):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("photo.txt", "not a word document")
    with pytest.raises(UnsupportedDocument, match="not a DOCX: looks like a ZIP archive"):
        read_document("faux.docx", out.getvalue(), settings)


# --------------------------------------------------------------------------- Markdown


MARKDOWN = """---
title: Financer une SCIC
kind: workshop-notes
language: fr
themes: [funding]
authors: [Karim Benhaddou]
date: 2022-05-17
organisations: [Fonden Social Kapital Nord]
---
# Titre dans le corps

Introduction du document,
sur deux lignes.

## Atelier 2

### Financement

- titres participatifs
- prêts d'honneur

| Outil | Montant |
|-------|---------|
| Prêt  | 15 000  |

## Suite
Texte final.
"""


def test_markdown_front_matter_and_heading_path(settings):
    parsed = read_document("atelier.md", MARKDOWN.encode(), settings)
    assert parsed.title == "Financer une SCIC"
    assert parsed.properties["themes"] == ["funding"]
    assert parsed.properties["kind"] == "workshop-notes"
    assert [(b.heading_path, b.text) for b in parsed.blocks] == [
        ((), "Introduction du document, sur deux lignes."),
        (("Atelier 2", "Financement"), "- titres participatifs\n- prêts d'honneur"),
        (("Atelier 2", "Financement"), "Outil | Montant\nPrêt | 15 000"),
        (("Suite",), "Texte final."),
    ]


def test_markdown_title_falls_back_to_h1_then_file_stem(settings):
    assert read_document("a.md", b"# Premier titre\n\nTexte.", settings).title == "Premier titre"
    assert read_document("notes-visite.md", b"Texte seul.", settings).title == "notes-visite"


def test_markdown_invalid_front_matter_is_rejected_with_the_line(settings):
    data = b"---\ntitle: [unclosed\n---\nTexte.\n"
    with pytest.raises(UnsupportedDocument, match="invalid YAML front matter"):
        read_document("cassé.md", data, settings)


def test_markdown_script_in_title_is_kept_as_text(settings):
    data = b"# Atelier <script>alert(1)</script>\n\nCorps <b>gras</b>.\n"
    parsed = read_document("xss.md", data, settings)
    assert parsed.title == "Atelier <script>alert(1)</script>"
    assert parsed.blocks[0].text == "Corps <b>gras</b>."


# --------------------------------------------------------------------------- text


def test_text_cp1252_decodes_accents_quotes_and_oe(settings):
    text = "Compte rendu\r\n\r\nL’œuvre de l’économie sociale à Bruxelles : « réemploi ».\r\n"
    parsed = read_document("notes.txt", text.encode("cp1252"), settings)
    assert parsed.title == "Compte rendu"
    assert parsed.blocks[0].text == "L’œuvre de l’économie sociale à Bruxelles : « réemploi »."


def test_text_utf8_bom_and_numbered_headings(settings):
    text = "\ufeffNotes de visite\n\n1. Contexte\n\nUne EFT à Bruxelles,\nfondée en 1991.\n"
    parsed = read_document("notes.txt", text.encode("utf-8"), settings)
    assert parsed.title == "Notes de visite"
    assert [(b.heading_path, b.text) for b in parsed.blocks] == [
        (("1. Contexte",), "Une EFT à Bruxelles, fondée en 1991."),
    ]


# --------------------------------------------------------------------------- HTML


PAGE = """<!doctype html><html lang="fr-FR"><head><title>Retour de Barcelone – Site</title>
<meta name="author" content="Camille Bories"><style>p{color:red}</style></head>
<body><header><nav><a href="/">Accueil</a></nav></header>
<div class="cookie-consent">Nous utilisons des cookies.</div>
<main><h1>Retour de Barcelone</h1><p>Une foire <b>construite</b> par le réseau.</p>
<h2>Le mercat social</h2><p>Un marché toute l'année.</p><ul><li>XES</li><li>Coop57</li></ul>
<form><input name="q"><button>Chercher</button></form><script>track()</script></main>
<aside>À lire aussi</aside><footer>© Toulouse Métropole Impact</footer></body></html>"""


def test_html_main_content_headings_and_title(settings):
    parsed = read_document("retour.html", PAGE.encode(), settings)
    assert parsed.title == "Retour de Barcelone"
    assert parsed.properties == {"language": "fr", "authors": ["Camille Bories"]}
    assert [(b.heading_path, b.text) for b in parsed.blocks] == [
        ((), "Une foire construite par le réseau."),
        (("Le mercat social",), "Un marché toute l'année."),
        (("Le mercat social",), "- XES"),
        (("Le mercat social",), "- Coop57"),
    ]


# --------------------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("rapport.pdf", PAGE.encode(), "not a PDF: looks like an HTML page"),
        ("rapport.pdf", b"juste du texte", "not a PDF: looks like plain text"),
        ("atelier.docx", b"juste du texte", "not a DOCX: looks like plain text"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(64), "unsupported: PNG image"),
        ("notes.md", b"\x89PNG\r\n\x1a\n" + bytes(64), "not a text file: looks like a PNG image"),
        ("data.bin", bytes(range(256)) * 8, "unsupported: binary data"),
        ("notes.txt", bytes(range(256)) * 8, "not a text file: looks like binary data"),
        ("tableur.csv", b"a;b\n1;2\n", r"unsupported file type \(.csv\)"),
        ("vide.md", b"", "empty file"),
        ("blanc.txt", b" \n\t\r\n  ", "no text"),
        ("blanc.md", b"---\ntitle: x\n---\n   \n", "no text"),
    ],
)
def test_content_is_sniffed_whatever_the_name_says(settings, name, data, reason):
    with pytest.raises(UnsupportedDocument, match=reason):
        read_document(name, data, settings)
