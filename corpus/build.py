"""Rebuild the binary documents (PDF and DOCX) of the sample corpus from their sources.

Each source is ``corpus/sources/<trip>/<name>.md``: YAML front matter (``title``,
``authors``, ``date``, ``format`` = pdf or docx, plus ``kind``, ``language``,
``themes``, ``organisations``) followed by a small Markdown subset: ``#``/``##``/``###``
headings, paragraphs, ``- `` bullet lists and pipe tables. The output is written to
``corpus/<trip>/<name>.pdf`` or ``corpus/<trip>/<name>.docx``.

Builds are deterministic: fixed creation dates (the document date at 09:00 UTC) and
fixed ZIP timestamps, so running the script twice gives byte-identical files.

Usage::

    .venv/bin/python corpus/build.py            # build everything
    .venv/bin/python corpus/build.py --check    # build, then verify the outputs
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import re
import sys
import zipfile
from pathlib import Path

import yaml

CORPUS = Path(__file__).resolve().parent
SOURCES = CORPUS / "sources"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
PUBLISHER = "Toulouse Métropole Impact"
FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


# --------------------------------------------------------------------------- parsing


def read_source(path: Path) -> tuple[dict, list[tuple]]:
    text = path.read_text(encoding="utf-8")
    meta: dict = {}
    if text.startswith("---\n"):
        end = text.index("\n---\n", 4)
        meta = yaml.safe_load(text[4:end]) or {}
        text = text[end + 5 :]
    return meta, parse_blocks(text)


def parse_blocks(text: str) -> list[tuple]:
    """Return a list of blocks: ("h", level, text), ("p", text), ("ul", [items]),
    ("table", [rows])."""
    blocks: list[tuple] = []
    lines = text.splitlines()
    i = 0
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(("p", " ".join(s.strip() for s in para)))
            para.clear()

    while i < len(lines):
        line = lines[i].rstrip()
        m = re.match(r"^(#{1,3})\s+(.*)$", line)
        if m:
            flush()
            blocks.append(("h", len(m.group(1)), m.group(2).strip()))
            i += 1
        elif line.startswith("- "):
            flush()
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(lines[i][2:].strip())
                i += 1
            blocks.append(("ul", items))
        elif line.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
                    rows.append(cells)
                i += 1
            blocks.append(("table", rows))
        elif not line.strip():
            flush()
            i += 1
        else:
            para.append(line)
            i += 1
    flush()
    return blocks


def plain(s: str) -> str:
    return s.replace("**", "")


def doc_datetime(meta: dict) -> dt.datetime:
    d = meta.get("date")
    if isinstance(d, str):
        d = dt.date.fromisoformat(d)
    return dt.datetime(d.year, d.month, d.day, 9, 0, 0, tzinfo=dt.UTC)


def authors_str(meta: dict) -> str:
    a = meta.get("authors") or []
    return ", ".join(a) if isinstance(a, list) else str(a)


# --------------------------------------------------------------------------- PDF


def build_pdf(meta: dict, blocks: list[tuple], out: Path) -> None:
    from fpdf import FPDF

    title = meta["title"]

    class Doc(FPDF):
        def header(self) -> None:
            if self.page_no() > 1:
                self.set_font("DejaVu", "", 8)
                self.set_text_color(110, 110, 110)
                self.cell(0, 6, f"{PUBLISHER} — {title}", align="L")
                self.ln(10)
                self.set_text_color(0, 0, 0)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("DejaVu", "", 8)
            self.set_text_color(110, 110, 110)
            self.cell(0, 10, f"Page {self.page_no()} / {{nb}}", align="C")
            self.set_text_color(0, 0, 0)

    pdf = Doc(format="A4")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.add_font("DejaVu", "I", str(FONT_DIR / "DejaVuSans-Oblique.ttf"))
    pdf.set_title(title)
    pdf.set_author(authors_str(meta))
    pdf.set_subject(str(meta.get("kind", "")))
    pdf.set_keywords(", ".join(meta.get("themes") or []))
    pdf.set_creator(PUBLISHER)
    pdf.set_producer("fpdf2")
    pdf.set_lang(meta.get("language", "fr"))
    pdf.set_creation_date(doc_datetime(meta))
    pdf.alias_nb_pages()
    pdf.add_page()

    # Trip reports get one top section per page; other documents break only when the
    # current page is already well filled.
    break_all = meta.get("kind") == "trip-report"
    seen_h2 = False
    first_h1 = True
    for block in blocks:
        kind = block[0]
        if kind == "h":
            level, text = block[1], plain(block[2])
            if level == 1:
                pdf.start_section(text, level=0)
                pdf.set_font("DejaVu", "B", 18)
                pdf.multi_cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
                if first_h1:
                    pdf.set_font("DejaVu", "I", 9)
                    sub = f"{authors_str(meta)} — {doc_datetime(meta).date().isoformat()}"
                    pdf.multi_cell(0, 6, sub, new_x="LMARGIN", new_y="NEXT")
                    first_h1 = False
                pdf.ln(4)
            elif level == 2:
                if seen_h2 and (break_all or pdf.get_y() > pdf.h * 0.55):
                    pdf.add_page()
                seen_h2 = True
                pdf.ln(2)
                pdf.start_section(text, level=1)
                pdf.set_font("DejaVu", "B", 14)
                pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
                pdf.ln(2)
            else:
                if pdf.get_y() > pdf.h - 50:
                    pdf.add_page()
                pdf.ln(1)
                pdf.start_section(text, level=2)
                pdf.set_font("DejaVu", "B", 11.5)
                pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
                pdf.ln(1)
        elif kind == "p":
            pdf.set_font("DejaVu", "", 10.5)
            pdf.multi_cell(0, 5.6, plain(block[1]), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2.5)
        elif kind == "ul":
            pdf.set_font("DejaVu", "", 10.5)
            for item in block[1]:
                pdf.set_x(pdf.l_margin + 4)
                pdf.multi_cell(0, 5.6, "• " + plain(item), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(0.8)
            pdf.ln(2)
        elif kind == "table":
            pdf.set_font("DejaVu", "", 9)
            with pdf.table(first_row_as_headings=True, line_height=5) as table:
                for r in block[1]:
                    row = table.row()
                    for c in r:
                        row.cell(plain(c))
            pdf.ln(3)
    out.write_bytes(bytes(pdf.output()))


# --------------------------------------------------------------------------- DOCX


def add_runs(paragraph, text: str) -> None:
    for i, part in enumerate(re.split(r"\*\*", text)):
        if part:
            paragraph.add_run(part).bold = i % 2 == 1


def build_docx(meta: dict, blocks: list[tuple], out: Path) -> None:
    import docx
    from docx.shared import Pt

    d = docx.Document()
    d.styles["Normal"].font.name = "Calibri"
    d.styles["Normal"].font.size = Pt(11)
    when = doc_datetime(meta).replace(tzinfo=None)
    cp = d.core_properties
    cp.title = meta["title"]
    cp.author = authors_str(meta)
    cp.last_modified_by = authors_str(meta)
    cp.created = when
    cp.modified = when
    cp.last_printed = when
    cp.revision = 1
    cp.language = meta.get("language", "fr")
    cp.subject = str(meta.get("kind", ""))
    cp.keywords = ", ".join(meta.get("themes") or [])
    cp.category = str(meta.get("kind", ""))
    cp.comments = PUBLISHER
    cp.identifier = out.stem

    for block in blocks:
        kind = block[0]
        if kind == "h":
            d.add_heading(plain(block[2]), level=block[1])
        elif kind == "p":
            add_runs(d.add_paragraph(), block[1])
        elif kind == "ul":
            for item in block[1]:
                add_runs(d.add_paragraph(style="List Bullet"), item)
        elif kind == "table":
            rows = block[1]
            t = d.add_table(rows=len(rows), cols=len(rows[0]))
            t.style = "Table Grid"
            for ri, r in enumerate(rows):
                for ci, c in enumerate(r):
                    cell = t.cell(ri, ci)
                    cell.text = ""
                    run = cell.paragraphs[0].add_run(plain(c))
                    run.bold = ri == 0
            d.add_paragraph()

    buf = io.BytesIO()
    d.save(buf)
    # Rewrite the ZIP container with fixed timestamps and a stable member order so that
    # the file is byte-identical between builds.
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    outbuf = io.BytesIO()
    with zipfile.ZipFile(outbuf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, src.read(info.filename))
    out.write_bytes(outbuf.getvalue())


# --------------------------------------------------------------------------- checks


def check_pdf(path: Path) -> list[str]:
    from pypdf import PdfReader

    problems = []
    r = PdfReader(str(path))
    for i, page in enumerate(r.pages, 1):
        if len((page.extract_text() or "").strip()) < 20:
            problems.append(f"{path.name}: page {i} has no text")
    if not r.outline:
        problems.append(f"{path.name}: no outline")
    if not (r.metadata and r.metadata.title and r.metadata.author):
        problems.append(f"{path.name}: missing title/author metadata")
    return problems


def check_docx(path: Path) -> list[str]:
    import docx

    problems = []
    d = docx.Document(str(path))
    styles = {p.style.name for p in d.paragraphs}
    if not any(s.startswith("Heading") for s in styles):
        problems.append(f"{path.name}: no heading styles")
    cp = d.core_properties
    if not (cp.title and cp.author and cp.created):
        problems.append(f"{path.name}: missing core properties")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="verify the built files")
    args = ap.parse_args(argv)
    if not (FONT_DIR / "DejaVuSans.ttf").exists():
        print(
            f"DejaVuSans not found in {FONT_DIR}: apt-get install fonts-dejavu-core",
            file=sys.stderr,
        )
        return 1
    problems: list[str] = []
    for src in sorted(SOURCES.glob("*/*.md")):
        meta, blocks = read_source(src)
        fmt = meta.get("format", "pdf")
        trip_dir = CORPUS / src.parent.name
        out = trip_dir / f"{src.stem}.{fmt}"
        if fmt == "pdf":
            build_pdf(meta, blocks, out)
        elif fmt == "docx":
            build_docx(meta, blocks, out)
        else:
            raise SystemExit(f"{src}: unknown format {fmt!r}")
        print(f"built {out.relative_to(CORPUS)}")
        if args.check:
            problems += check_pdf(out) if fmt == "pdf" else check_docx(out)
    for p in problems:
        print("PROBLEM:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
