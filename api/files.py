"""Serving an original file: a safe Content-Disposition that keeps the UTF-8 name."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

INLINE_TYPES = frozenset({"application/pdf"})
_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()+,-]")


def safe_name(name: str) -> str:
    """The last path component, without control characters; never empty."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name.lstrip(".") or "document"


def ascii_fallback(name: str) -> str:
    """An ASCII-only version of `name` for old clients: accents dropped, the rest `_`."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _UNSAFE.sub("_", plain).strip() or "document"


def content_disposition(name: str, media_type: str) -> str:
    """`inline` for PDFs (so `#page=N` works), `attachment` for everything else."""
    name = safe_name(name)
    disposition = "inline" if media_type in INLINE_TYPES else "attachment"
    return (
        f'{disposition}; filename="{ascii_fallback(name)}"; '
        f"filename*=UTF-8''{quote(name, safe='')}"
    )


FILE_CSP_HEADER = {"Content-Security-Policy": "default-src 'none'; object-src 'self'; "
                   "frame-ancestors 'self'"}
