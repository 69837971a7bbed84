"""Runs in a separate process (see pdf.py): PDF bytes on stdin → JSON on stdout.

Kept free of project imports so the child starts fast and a hostile PDF can only
hang or crash this process, which the parent kills after its time limit.
"""

from __future__ import annotations

import io
import json
import sys


def _outline(reader, items, level, out) -> None:  # noqa: ANN001
    for item in items:
        if isinstance(item, list):
            _outline(reader, item, level + 1, out)
            continue
        try:
            page = reader.get_destination_page_number(item)
        except Exception:  # noqa: BLE001 - a broken bookmark is skipped, not fatal
            continue
        title = str(getattr(item, "title", "") or "").strip()
        if title and page is not None and page >= 0:
            out.append([level, title, page])


def _info(reader) -> dict:  # noqa: ANN001
    info: dict[str, object] = {}
    try:
        meta = reader.metadata
        if meta is not None:
            for key, attr in (("title", "title"), ("author", "author"),
                              ("subject", "subject"), ("keywords", "keywords")):
                value = getattr(meta, attr, None)
                if value:
                    info[key] = str(value)
            created = meta.creation_date
            if created is not None:
                info["created"] = created.date().isoformat()
        lang = reader.trailer["/Root"].get("/Lang")
        if lang:
            info["language"] = str(lang)
    except Exception:  # noqa: BLE001 - properties are optional
        pass
    return info


def parse(data: bytes, max_pages: int) -> dict:
    from pypdf import PasswordType, PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                    return {"error": "password-protected"}
            except Exception:  # noqa: BLE001 - unsupported cipher or wrong password
                return {"error": "password-protected"}
        total = len(reader.pages)
    except Exception as exc:  # noqa: BLE001
        return {"error": f"corrupt PDF: {type(exc).__name__}: {exc}"[:300]}
    pages = []
    for number in range(min(total, max_pages)):
        try:
            pages.append(reader.pages[number].extract_text() or "")
        except Exception:  # noqa: BLE001 - an unreadable page is an empty page
            pages.append("")
    outline: list[list] = []
    try:
        _outline(reader, reader.outline, 0, outline)
    except Exception:  # noqa: BLE001
        outline = []
    return {"pages": pages, "total_pages": total, "outline": outline, "info": _info(reader)}


def main() -> None:
    max_pages = int(sys.argv[1])
    try:  # a memory bound for the child: a PDF bomb fails here, not in the host
        import resource

        limit = 4 * 1024**3
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
    try:
        result = parse(sys.stdin.buffer.read(), max_pages)
    except MemoryError:
        result = {"error": "PDF needs too much memory to parse"}
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
