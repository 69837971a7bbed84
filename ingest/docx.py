"""DOCX with python-docx: heading styles → sections, tables → "cell | cell" rows.

The ZIP's declared sizes are checked before anything is inflated, so a small file
that would expand to hundreds of megabytes is refused at once with bounded memory
(zipfile never inflates a member past its declared size).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePath

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from kb import Settings, TooLarge, UnsupportedDocument

from .parsed import Block, ParsedDocument

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_HEADING = re.compile(r"^(?:heading|titre|überschrift|titolo|título)\s*(\d)$", re.I)
_TITLE = re.compile(r"^(?:title|titre)$", re.I)
_LIST = re.compile(r"^list|^liste", re.I)
_RATIO_FLOOR = 1_000_000  # small XML parts compress well; judge ratios on big members only
# python-docx's default template says this; it is not the document's own metadata
_TEMPLATE_AUTHOR = "python-docx"
_TEMPLATE_CREATED = "2013-12-23"


def check_zip(data: bytes, settings: Settings) -> None:
    """Refuse a ZIP whose declared sizes or compression ratios are over the bounds."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnsupportedDocument(f"not a DOCX: corrupt ZIP archive ({exc})") from None
    total = sum(m.file_size for m in members)
    if total > settings.max_decompressed_bytes:
        raise TooLarge(
            f"DOCX would decompress to {total:,} bytes "
            f"(max_decompressed_bytes={settings.max_decompressed_bytes:,})"
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_FLOOR and ratio > settings.max_compression_ratio:
            raise TooLarge(
                f"DOCX member {member.filename} has compression ratio {ratio:.0f} "
                f"(max_compression_ratio={settings.max_compression_ratio})"
            )


def read_docx(name: str, data: bytes, settings: Settings) -> ParsedDocument:
    check_zip(data, settings)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds on bad files
        raise UnsupportedDocument(f"corrupt DOCX: {type(exc).__name__}: {exc}"[:300]) from None
    blocks: list[Block] = []
    stack: list[tuple[int, str]] = []
    style_title: str | None = None
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        path = tuple(h for _, h in stack)
        if tag == "tbl":
            rows = _table_rows(Table(element, document))
            if rows:
                blocks.append(Block("\n".join(rows), path))
            continue
        if tag != "p":
            continue
        paragraph = Paragraph(element, document)
        text = paragraph.text.strip()
        if not text:
            continue
        style = _style_name(paragraph)
        heading = _HEADING.match(style)
        if _TITLE.match(style):
            if style_title is None and not blocks:
                style_title = text
                continue
            heading = None
        if heading:
            level = int(heading.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, text))
            continue
        if _LIST.match(style) and blocks and blocks[-1].heading_path == path \
                and blocks[-1].text.startswith("- "):
            blocks[-1].text += "\n- " + text  # consecutive list items form one block
        elif _LIST.match(style):
            blocks.append(Block("- " + text, path))
        else:
            blocks.append(Block(text, path))
    properties = _core_properties(document)
    title = properties.pop("title", None) or style_title or PurePath(name).stem
    return ParsedDocument(title=title, blocks=blocks, media_type=MEDIA_TYPE,
                          properties=properties)


def _style_name(paragraph: Paragraph) -> str:
    try:
        return (paragraph.style.name or "") if paragraph.style is not None else ""
    except (KeyError, ValueError):
        return ""


def _table_rows(table: Table) -> list[str]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if text and (not cells or cells[-1] != text):  # merged cells repeat
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def _core_properties(document: docx.document.Document) -> dict[str, object]:
    props = document.core_properties
    out: dict[str, object] = {}
    if props.title and props.title.strip():
        out["title"] = props.title.strip()
    author = (props.author or "").strip()
    if author and author != _TEMPLATE_AUTHOR:
        out["authors"] = [a.strip() for a in re.split(r"[,;]", author) if a.strip()]
    created = props.created.date().isoformat() if props.created else None
    if created and created != _TEMPLATE_CREATED:
        out["created"] = created  # the file's date: after the trip's (ingest.metadata)
    for key, target in (("subject", "kind"), ("keywords", "keywords"), ("language", "language")):
        value = (getattr(props, key, None) or "").strip()
        if value:
            out[target] = value
    return out
