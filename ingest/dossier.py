"""The transfer dossier: practice cards written out as DOCX (python-docx) or Markdown.

A dossier has a cover page, a table of contents, then one section per practice: its
card, field by field ("non précisé" where the sheet says nothing), and the citation of
its source — document, file, page and link to the document page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from urllib.parse import quote

from docx import Document as DocxDocument
from docx.enum.text import WD_BREAK
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from kb import CARD_FIELDS, NOT_STATED, PracticeCard, field_label

MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "md": "text/markdown; charset=utf-8",
}

STRINGS = {
    "fr": {
        "title": "Dossier de transfert",
        "subtitle": "Bonnes pratiques des voyages d'étude — Toulouse Métropole Impact",
        "made": "Constitué le {day} avec Savoir-faire — {n} pratique(s)",
        "contents": "Sommaire",
        "source": "Source",
        "page": "p. {page}",
        "trip": "Voyage",
        "themes": "Thèmes",
        "from_trip": "d'après le voyage",
    },
    "en": {
        "title": "Transfer dossier",
        "subtitle": "Good practices from the study trips — Toulouse Métropole Impact",
        "made": "Put together on {day} with Savoir-faire — {n} practice(s)",
        "contents": "Contents",
        "source": "Source",
        "page": "p. {page}",
        "trip": "Trip",
        "themes": "Themes",
        "from_trip": "from the trip",
    },
}


def document_link(base_url: str, doc_id: str) -> str:
    return f"{base_url.rstrip('/')}/documents/{quote(doc_id, safe='')}"


def citation(card: PracticeCard, base_url: str, lang: str = "fr") -> tuple[str, str]:
    """(citation text, link) of a card's source document."""
    s = STRINGS[_lang(lang)]
    parts = [f"« {card.document_title} »"]
    if card.source:
        parts.append(card.source)
    if card.page:
        parts.append(s["page"].format(page=card.page))
    if card.trip_name or card.trip:
        parts.append(card.trip_name or card.trip or "")
    return ", ".join(parts), document_link(base_url, card.document_id)


def _lang(lang: str) -> str:
    return lang if lang in STRINGS else "fr"


def _field_rows(card: PracticeCard, lang: str) -> list[tuple[str, str | None, str]]:
    """(label, text or None when not stated, note) per field, in card order."""
    s = STRINGS[lang]
    rows = []
    for name in CARD_FIELDS:
        found = card.fields.get(name)
        note = ""
        if found is not None and found.page:
            note = s["page"].format(page=found.page)
        elif found is not None and found.origin == "trip":
            note = s["from_trip"]
        rows.append((field_label(name, lang), found.text if found else None, note))
    return rows


# ----------------------------------------------------------------------------- Markdown


def to_markdown(cards: Sequence[PracticeCard], base_url: str, lang: str = "fr") -> str:
    lang = _lang(lang)
    s = STRINGS[lang]
    lines = [
        f"# {s['title']}",
        "",
        s["subtitle"],
        "",
        s["made"].format(day=date.today().isoformat(), n=len(cards)),
        "",
        f"## {s['contents']}",
        "",
    ]
    lines += [f"{i}. {card.title}" for i, card in enumerate(cards, 1)]
    for card in cards:
        lines += ["", f"## {card.title}", ""]
        if card.trip_name or card.trip:
            lines.append(f"**{s['trip']}** : {card.trip_name or card.trip}  ")
        if card.themes:
            lines.append(f"**{s['themes']}** : {', '.join(card.themes)}")
        for label, text, note in _field_rows(card, lang):
            suffix = f" ({note})" if note else ""
            lines += ["", f"### {label}{suffix}", "", text or f"*{NOT_STATED[lang]}*"]
        text, link = citation(card, base_url, lang)
        lines += ["", f"> {s['source']} : {text} — <{link}>"]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- DOCX


def _hyperlink(paragraph, url: str, text: str) -> None:  # noqa: ANN001 - python-docx types
    """A clickable link (python-docx has no API for it: the run is built in XML)."""
    rel = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    style = OxmlElement("w:rStyle")
    style.set(qn("w:val"), "Hyperlink")
    props.append(style)
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    props.append(underline)
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), "0B5CAD")
    props.append(colour)
    run.append(props)
    node = OxmlElement("w:t")
    node.text = text
    run.append(node)
    link.append(run)
    paragraph._p.append(link)


def _toc_field(paragraph) -> None:  # noqa: ANN001
    """A Word table-of-contents field (page numbers filled in when Word updates fields)."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), 'TOC \\o "1-1" \\h \\z \\u')
    paragraph._p.append(field)


def to_docx(cards: Sequence[PracticeCard], base_url: str, lang: str = "fr") -> bytes:
    lang = _lang(lang)
    s = STRINGS[lang]
    doc = DocxDocument()
    doc.core_properties.title = s["title"]
    doc.core_properties.language = lang
    doc.styles["Normal"].font.size = Pt(11)

    # cover page
    for _ in range(6):
        doc.add_paragraph()
    doc.add_paragraph(s["title"], style="Title")
    doc.add_paragraph(s["subtitle"], style="Subtitle")
    doc.add_paragraph(s["made"].format(day=date.today().isoformat(), n=len(cards)))
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    # table of contents: the practices listed, and a Word field that adds page numbers
    doc.add_paragraph(s["contents"], style="TOC Heading")
    for i, card in enumerate(cards, 1):
        doc.add_paragraph(f"{i}. {card.title}")
    _toc_field(doc.add_paragraph())

    for card in cards:
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        doc.add_heading(card.title, level=1)
        meta = []
        if card.trip_name or card.trip:
            meta.append(f"{s['trip']} : {card.trip_name or card.trip}")
        if card.themes:
            meta.append(f"{s['themes']} : {', '.join(card.themes)}")
        if meta:
            doc.add_paragraph(" — ".join(meta))
        for label, text, note in _field_rows(card, lang):
            heading = doc.add_heading(label, level=2)
            if note:
                heading.add_run(f"  {note}").font.size = Pt(9)
            if text is None:
                run = doc.add_paragraph().add_run(NOT_STATED[lang])
                run.italic = True
                run.font.color.rgb = RGBColor(0x66, 0x66, 0x66)
                continue
            for part in text.split("\n\n"):
                doc.add_paragraph(part.strip())
        text, link = citation(card, base_url, lang)
        source = doc.add_paragraph(style="Quote")
        source.add_run(f"{s['source']} : {text} — ")
        _hyperlink(source, link, link)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def write(cards: Sequence[PracticeCard], fmt: str, base_url: str, lang: str = "fr") -> bytes:
    """The dossier as `docx` or `md` bytes."""
    if fmt == "docx":
        return to_docx(cards, base_url, lang)
    return to_markdown(cards, base_url, lang).encode("utf-8")
