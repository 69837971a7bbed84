"""Saved HTML pages: the main content only, headings h1-h6 kept as structure."""

from __future__ import annotations

import re
from pathlib import PurePath

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from kb import UnsupportedDocument

from .parsed import Block, ParsedDocument
from .text import decode

_DROP = (
    "script, style, noscript, template, nav, header, footer, aside, form, iframe, svg, "
    "button, select, textarea, dialog, [role=navigation], [role=banner], "
    "[role=contentinfo], [role=search], [aria-hidden=true], [hidden]"
)
_BANNER = re.compile(r"cookie|consent|gdpr|rgpd|tarteaucitron|didomi|onetrust", re.I)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCKS = frozenset((
    "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd",
    "blockquote", "pre", "figure", "figcaption", "address", "table", "tr", "details",
    "summary", "hr", "body", "center",
))
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")


def read_html(name: str, data: bytes) -> ParsedDocument:
    tree = HTMLParser(decode(data))
    title_node = tree.css_first("title")
    page_title = _clean(title_node.text()) if title_node else ""
    properties: dict[str, object] = {}
    html_node = tree.css_first("html")
    if html_node is not None and html_node.attributes.get("lang"):
        properties["language"] = str(html_node.attributes["lang"]).split("-")[0].lower()
    author = tree.css_first('meta[name="author"]')
    if author is not None and author.attributes.get("content"):
        properties["authors"] = [str(author.attributes["content"]).strip()]
    for node in tree.css(_DROP):
        node.decompose()
    for node in tree.css("[id], [class]"):
        marker = f"{node.attributes.get('id') or ''} {node.attributes.get('class') or ''}"
        if _BANNER.search(marker) and node.tag not in ("html", "body", "main", "article"):
            node.decompose()
    root = (
        tree.css_first("main") or tree.css_first("[role=main]") or tree.css_first("article")
        or tree.body or tree.root
    )
    if root is None:
        raise UnsupportedDocument("no text")
    blocks, first_h1 = _walk(root)
    if not blocks and not first_h1:
        raise UnsupportedDocument("no text")
    return ParsedDocument(
        title=first_h1 or page_title or PurePath(name).stem,
        blocks=blocks,
        media_type="text/html",
        properties=properties,
    )


def _walk(root: Node) -> tuple[list[Block], str | None]:
    """Iterative depth-first walk (deeply nested pages cannot exhaust the stack)."""
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    first_h1: str | None = None
    buffer: list[str] = []

    def flush() -> None:
        text = _clean("".join(buffer))
        buffer.clear()
        if text:
            blocks.append(Block(text, tuple(h for _, h in headings)))

    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        tag = node.tag
        if leaving:
            if tag in _BLOCKS:
                flush()
            continue
        if tag == "-text":
            buffer.append(node.text_content or "")
            continue
        if tag in _HEADINGS:
            flush()
            text = _clean(node.text(separator=" "))
            if not text:
                continue
            level = _HEADINGS[tag]
            if level == 1 and first_h1 is None and not headings and not blocks:
                first_h1 = text  # the page title, not a section
                continue
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, text))
            continue
        if tag == "tr":
            flush()
            cells = [_clean(c.text(separator=" ")) for c in node.css("th, td")]
            if any(cells):
                blocks.append(Block(" | ".join(cells), tuple(h for _, h in headings)))
            continue
        if tag == "br":
            buffer.append("\n")
            continue
        if tag == "pre":
            flush()
            text = (node.text() or "").strip()
            if text:
                blocks.append(Block(text, tuple(h for _, h in headings)))
            continue
        if tag in _BLOCKS:
            flush()
            if tag == "li":
                buffer.append("- ")
        stack.append((node, True))
        children = list(node.iter(include_text=True))
        stack.extend((child, False) for child in reversed(children))
    flush()
    return blocks, first_h1


def _clean(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)
