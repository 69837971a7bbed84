"""Say what a file really is from its first bytes, whatever its name claims."""

from __future__ import annotations

import io
import zipfile

# (magic prefix, kind, description); kinds other than pdf/zip are never readable.
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image", "PNG image"),
    (b"\xff\xd8\xff", "image", "JPEG image"),
    (b"GIF87a", "image", "GIF image"),
    (b"GIF89a", "image", "GIF image"),
    (b"II*\x00", "image", "TIFF image"),
    (b"MM\x00*", "image", "TIFF image"),
    (b"BM", "image?", "BMP image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "binary", "legacy Office (.doc/.xls) file"),
    (b"{\\rtf", "binary", "RTF document"),
    (b"\x1f\x8b", "binary", "gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "binary", "7-Zip archive"),
    (b"Rar!", "binary", "RAR archive"),
    (b"\x7fELF", "binary", "executable"),
    (b"MZ", "binary?", "Windows executable"),
    (b"ID3", "binary", "MP3 audio"),
    (b"OggS", "binary", "Ogg media"),
)

_ZIP_KINDS: tuple[tuple[str, str, str], ...] = (
    ("word/document.xml", "docx", "Word document"),
    ("xl/workbook.xml", "zip", "Excel workbook"),
    ("ppt/presentation.xml", "zip", "PowerPoint presentation"),
    ("META-INF/container.xml", "zip", "EPUB book"),
)

_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<meta ", b"<title")


def sniff(data: bytes) -> tuple[str, str]:
    """Return (kind, description) for file content.

    kind is one of: empty, pdf, docx, zip, html, text, image, binary.
    """
    if not data:
        return "empty", "empty file"
    head = data[:2048]
    if head.startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        return "pdf", "PDF document"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _sniff_zip(data)
    if head[4:12] == b"ftypavif" or (head.startswith(b"RIFF") and head[8:12] == b"WEBP"):
        return "image", "WebP/AVIF image"
    for magic, kind, description in _MAGIC:
        if head.startswith(magic):
            if kind.endswith("?"):  # short magic: trust it only for non-text content
                if _looks_binary(head):
                    return kind[:-1], description
                break
            return kind, description
    if _looks_binary(data[:8192]):
        return "binary", "binary data"
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith(b"<?xml") and b"<svg" in lowered:
        return "image", "SVG image"
    if any(marker in lowered[:1024] for marker in _HTML_MARKERS):
        return "html", "HTML page"
    return "text", "plain text"


def _sniff_zip(data: bytes) -> tuple[str, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return "binary", "corrupt ZIP archive"
    for member, kind, description in _ZIP_KINDS:
        if member in names:
            return kind, description
    if "mimetype" in names and any(n == "content.xml" for n in names):
        return "zip", "OpenDocument file"
    return "zip", "ZIP archive"


def _looks_binary(sample: bytes) -> bool:
    """NUL bytes or many control characters: not text in any encoding we read."""
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13))
    return controls / len(sample) > 0.05
