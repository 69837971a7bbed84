"""Markdown with YAML front matter: headings become the heading path."""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from kb import UnsupportedDocument

from .parsed import Block, ParsedDocument
from .text import decode

FRONT_MATTER_KEYS = (
    "title", "kind", "language", "themes", "authors", "date", "organisations", "trip",
)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_PARSER = MarkdownIt("commonmark").enable("table")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Return (front matter, body). Front matter that is not a mapping is body text."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1) or "")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise UnsupportedDocument(f"invalid YAML front matter{where}") from None
    if not isinstance(meta, dict):
        return {}, text
    return meta, text[match.end():]


def read_markdown(name: str, data: bytes) -> ParsedDocument:
    text = decode(data)
    meta, body = split_front_matter(text)
    if not body.strip():
        raise UnsupportedDocument("no text")
    properties = {k: meta[k] for k in FRONT_MATTER_KEYS if meta.get(k) not in (None, "", [])}
    blocks, first_h1 = _blocks(_PARSER.parse(body))
    title = properties.pop("title", None) or first_h1 or PurePath(name).stem
    return ParsedDocument(
        title=str(title).strip(),
        blocks=blocks,
        media_type="text/markdown",
        properties=properties,
    )


def _blocks(tokens: list[Token]) -> tuple[list[Block], str | None]:
    """Walk the token stream once, keeping a stack of (level, heading)."""
    blocks: list[Block] = []
    stack: list[tuple[int, str]] = []
    first_h1: str | None = None
    seen_heading = False
    list_depth = 0
    row: list[str] = []
    table_rows: list[str] = []
    items: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        kind = tok.type
        if kind == "heading_open":
            level = int(tok.tag[1])
            heading = _inline_text(tokens[i + 1]).strip()
            i += 3
            if level == 1 and not seen_heading and first_h1 is None:
                first_h1 = heading  # the document title, not a section
                seen_heading = True
                continue
            seen_heading = True
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading))
            continue
        path = tuple(h for _, h in stack)
        if kind in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
            if list_depth == 0 and items:
                blocks.append(Block("\n".join(items), path))
                items = []
        elif kind == "inline" and tokens[i - 1].type == "paragraph_open":
            content = _inline_text(tok).strip()
            if content:
                if list_depth:
                    items.append("  " * (list_depth - 1) + "- " + content)
                else:
                    blocks.append(Block(content, path))
        elif kind == "inline" and tokens[i - 1].type in ("th_open", "td_open"):
            row.append(_inline_text(tok).strip())
        elif kind == "tr_close":
            if any(row):
                table_rows.append(" | ".join(row))
            row = []
        elif kind == "table_close":
            if table_rows:
                blocks.append(Block("\n".join(table_rows), path))
            table_rows = []
        elif kind in ("fence", "code_block", "html_block"):
            content = tok.content
            if kind == "html_block":  # comments are notes to the writer (kb template)
                content = _COMMENT.sub("", content)
            content = content.strip()
            if content:
                target = items if list_depth else None
                if target is not None:
                    target.append(content)
                else:
                    blocks.append(Block(content, path))
        i += 1
    return blocks, first_h1


def _inline_text(tok: Token) -> str:
    """Plain text of an inline token; raw HTML is kept as text (escaping is the UI's job)."""
    parts: list[str] = []
    for child in tok.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "image":
            parts.append(_inline_text(child) or child.content)
    return "".join(parts)
