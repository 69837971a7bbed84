"""PDF with pypdf, parsed in a child process under a time limit.

Text is kept per page; bookmarks (the outline) give the headings: text on a page
after a bookmark belongs to it, and the bookmark's title is looked up in the page
text to split the page where the heading stands.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path, PurePath

from kb import Settings, UnsupportedDocument

from .parsed import Block, ParsedDocument
from .text import paragraphs

_WORKER = Path(__file__).with_name("_pdf_worker.py")
_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
_RUNS = re.compile(r"[ \t]{2,}")


def read_pdf(name: str, data: bytes, settings: Settings) -> ParsedDocument:
    result = _run_worker(data, settings)
    if "error" in result:
        raise UnsupportedDocument(result["error"])
    pages: list[str] = result["pages"]
    if not any(page.strip() for page in pages):
        raise UnsupportedDocument("no text layer (scanned?)")
    info = result.get("info", {})
    outline = result.get("outline", [])
    headings = {_DIGITS.sub("#", _SPACES.sub(" ", title).strip()) for _, title, _ in outline}
    pages = _drop_running_lines(pages, info.get("title", ""), headings)
    notes = []
    if result["total_pages"] > len(pages):
        notes.append(
            f"only the first {len(pages)} of {result['total_pages']} pages read (max_pages)"
        )
    blocks = _blocks(pages, outline)
    properties: dict[str, object] = {}
    if info.get("author"):
        properties["authors"] = [a.strip() for a in re.split(r"[,;]", info["author"]) if a.strip()]
    for key, target in (("created", "created"), ("subject", "kind"), ("keywords", "keywords"),
                        ("language", "language")):
        if info.get(key):
            properties[target] = info[key]
    return ParsedDocument(
        title=(info.get("title") or "").strip() or PurePath(name).stem,
        blocks=blocks,
        media_type="application/pdf",
        properties=properties,
        notes=notes,
    )


def _run_worker(data: bytes, settings: Settings) -> dict:
    try:
        done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
            [sys.executable, "-I", str(_WORKER), str(settings.max_pages)],
            input=data,
            capture_output=True,
            timeout=settings.parse_timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:  # run() has already killed the child
        raise UnsupportedDocument("timed out parsing PDF") from None
    if done.returncode != 0 or not done.stdout:
        raise UnsupportedDocument(f"could not parse PDF (parser exited with {done.returncode})")
    return json.loads(done.stdout)


def _drop_running_lines(pages: list[str], title: str, headings: set[str]) -> list[str]:
    """Remove page headers and footers.

    A running line is one of the first or last two lines of a page of five lines or
    more that comes back (digits aside) on at least two pages and half of them, or that
    repeats the document title on a page after the first; bookmarked headings never are.
    """
    if len(pages) < 2:
        return pages
    counts: Counter[str] = Counter()
    for page in pages:
        lines = [line.strip() for line in page.split("\n") if line.strip()]
        counts.update({_DIGITS.sub("#", line) for line in lines[:2] + lines[-2:]})
    running = {line for line, n in counts.items() if n >= max(2, 0.5 * len(pages))}
    title = _SPACES.sub(" ", title).strip().lower()

    def is_running(line: str, number: int) -> bool:
        line = line.strip()
        if _DIGITS.sub("#", _SPACES.sub(" ", line)) in headings:
            return False
        if _DIGITS.sub("#", line) in running:
            return True
        return number > 0 and len(title) > 10 and title in _SPACES.sub(" ", line).lower()

    cleaned = []
    for number, page in enumerate(pages):
        lines = [line for line in page.split("\n") if line.strip()]
        edges = {0, 1, len(lines) - 2, len(lines) - 1} if len(lines) >= 5 else set()
        cleaned.append("\n".join(
            line for i, line in enumerate(lines) if not (i in edges and is_running(line, number))
        ))
    return cleaned


def _blocks(pages: list[str], outline: list[list]) -> list[Block]:
    """Split each page at its bookmarks' headings and keep a heading stack across pages."""
    by_page: dict[int, list[tuple[int, str]]] = {}
    for level, title, page in outline:
        by_page.setdefault(int(page), []).append((int(level), _SPACES.sub(" ", title).strip()))
    # One top-level bookmark on the first page, above the others: the document title.
    top = min((int(level) for level, _, _ in outline), default=0)
    tops = [entry for entry in outline if int(entry[0]) == top]
    title_entry = tops[0] if len(tops) == 1 and int(tops[0][2]) == 0 and len(outline) > 1 else None
    blocks: list[Block] = []
    stack: list[tuple[int, str]] = []
    for number, text in enumerate(pages, start=1):
        rest = text
        for level, title in by_page.get(number - 1, []):
            before, after = _split_at_heading(rest, title)
            _add(blocks, before, stack, number)
            rest = after
            if title_entry is not None and [level, title] == [top, title_entry[1].strip()]:
                continue
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
        _add(blocks, rest, stack, number)
    return blocks


def _add(blocks: list[Block], text: str, stack: list[tuple[int, str]], page: int) -> None:
    path = tuple(title for _, title in stack)
    # justified PDF text comes out with runs of spaces
    blocks.extend(Block(_RUNS.sub(" ", p), path, page) for p in paragraphs(text))


def _split_at_heading(text: str, title: str) -> tuple[str, str]:
    """(text before the heading, text after it); heading not found → it starts here."""
    pattern = r"\s+".join(re.escape(word) for word in title.split())
    if pattern:
        match = re.search(pattern, text, re.IGNORECASE)
        if match:
            return text[: match.start()], text[match.end():]
    return "", text
