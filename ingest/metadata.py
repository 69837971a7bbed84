"""Document metadata: trip folders, themes taxonomy, ids, language and kind.

Precedence, highest first: what the caller passes (an upload form), the document's
own front matter or properties, its trip folder's `trip.yaml`, then detection. A date
the file carries only as file metadata (a PDF's or DOCX's creation date: often when it
was exported, not when the trip took place) counts after the trip's dates.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from pathlib import Path
from typing import Any

import yaml

from kb import KINDS, Chunk, Document, Theme, TripInfo

from .parsed import ParsedDocument

LANGUAGES = ("fr", "en", "it", "es", "de", "nl", "pt", "ca", "da")
TRIP_FILE = "trip.yaml"
THEMES_FILE = "themes.yaml"


Trip = TripInfo
"""A trip folder's `trip.yaml`; `slug` is the folder name (the knowledge base's type)."""


def slugify(text: str) -> str:
    """Accents folded, lowercase, only [a-z0-9.-], dashes collapsed: URL-safe and stable."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9.-]+", "-", folded.lower())
    slug = re.sub(r"-{2,}", "-", slug).strip("-.")
    return slug or "document"


def document_id(prefix: str, file_name: str) -> str:
    return f"{slugify(prefix)}--{slugify(file_name)}"


# --------------------------------------------------------------------------- files


def find_upwards(start: Path, name: str) -> Path | None:
    """The nearest `name` in `start` (a folder) or one of its ancestors."""
    for folder in (start, *start.parents):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


@functools.lru_cache(maxsize=256)
def _load_trip(trip_file: Path, mtime: float) -> Trip:
    data = yaml.safe_load(trip_file.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        data = {}
    return Trip(
        slug=slugify(trip_file.parent.name),
        name=_str(data.get("name")),
        city=_str(data.get("city")),
        country=_str(data.get("country")),
        start=iso_date(data.get("start")),
        end=iso_date(data.get("end")),
        organisations=as_list(data.get("organisations")),
    )


def trip_for(folder: Path) -> Trip | None:
    """The trip of the nearest ancestor folder holding `trip.yaml` (None outside trips).

    A trip.yaml that cannot be read gives a trip with only its slug, so the documents
    are still grouped under it.
    """
    trip_file = find_upwards(folder.resolve(), TRIP_FILE)
    if trip_file is None:
        return None
    try:
        return _load_trip(trip_file, trip_file.stat().st_mtime)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return Trip(slug=slugify(trip_file.parent.name))


def load_themes(themes_file: Path) -> list[Theme]:
    """Read a taxonomy: a YAML list of {id, label_fr, label_en, description}."""
    data = yaml.safe_load(themes_file.read_text(encoding="utf-8")) or []
    if not isinstance(data, list):
        raise ValueError(f"{themes_file.name}: expected a list of themes")
    themes = []
    for entry in data:
        if not isinstance(entry, dict) or not entry.get("id"):
            raise ValueError(f"{themes_file.name}: every theme needs an id")
        themes.append(Theme(
            id=str(entry["id"]),
            label_fr=str(entry.get("label_fr") or entry["id"]),
            label_en=str(entry.get("label_en") or entry.get("label_fr") or entry["id"]),
            description=" ".join(str(entry.get("description") or "").split()),
        ))
    return themes


# --------------------------------------------------------------------------- values


def _str(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def as_list(value: Any) -> list[str]:
    """A YAML list, or a comma/semicolon separated string, as a list of strings."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else re.split(r"[,;]", str(value))
    return [str(item).strip() for item in items if str(item).strip()]


def iso_date(value: Any) -> str | None:
    """YYYY-MM-DD (or YYYY-MM, YYYY) from a date, datetime or string; else None."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None:
        return None
    text = str(value).strip()
    match = re.match(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", text)
    if match:
        return "-".join(part for part in match.groups() if part)
    match = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", text)  # French order: 17/05/2022
    if match:
        day, month, year = match.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return None


def language_code(value: Any) -> str | None:
    code = str(value or "").strip().lower().replace("_", "-").split("-")[0]
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


# --------------------------------------------------------------------------- detection


@functools.cache
def _identifier():  # noqa: ANN202 - py3langid has no public type for it
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect_language(text: str) -> str | None:
    sample = text[:4000]
    if sum(ch.isalpha() for ch in sample) < 12:
        return None
    language, _ = _identifier().classify(sample)
    return str(language)


# Matched on accent-folded, lowercased names; French and English, then Italian, Spanish
# and Catalan (the partners' trips: Bologna, Turin, Barcelona).
_KIND_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("practice-sheet", re.compile(
        r"\bfiches?[ -]pratiques?\b|\bpractice[ -]sheets?\b|\bfiche\b|\bfichas?\b"
        r"|\bsched[ae]\b|\bfitx(a|es)\b"  # it scheda/schede, es ficha, ca fitxa/fitxes
        r"|\bbuon[ae] pratic(a|he)\b|\bbuenas? practicas?\b|\bbon(a|es) practiques?\b"
        r"|\bgood practices?\b|\bbonnes? pratiques?\b")),
    ("job-shadowing-diary", re.compile(
        r"\bjournal\b|\bdiary\b|\bjob[ -]?shadowing\b|\bcarnet de bord\b"
        r"|\bdiari[oa]?\b|\bquaderno di bordo\b|\bcuaderno de bitacora\b")),
    ("workshop-notes", re.compile(
        r"\bateliers?\b|\bworkshops?\b|\bnotes?\b|\btaller(es|s)?\b|\bnotas\b"
        r"|\bappunti\b|\bapuntes\b|\bapunts\b|\blaboratori[oa]?\b|\bseminari[os]?\b")),
    ("trip-report", re.compile(
        r"\brapports?\b|\bcomptes?[ -]rendus?\b|\breports?\b|\bbilan\b|\bretours?\b"
        r"|\binformes?\b|\brelazion[ei]\b|\bresoconto\b|\brapporto\b|\bmemori[ae]\b"
        r"|\bcronaca\b|\bcronica\b"
        r"|\brestitutions?\b|\bsyntheses?\b|\bsummary\b|\bsintesis?\b|\bdebrief(ing)?\b")),
)
_CONTEXT = ("contexte", "context", "contesto")  # fr, en/es/ca (contexto, context), it
_TRANSFER = ("transfert", "transfer", "trasferib", "trasferiment")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def detect_kind(title: str, headings: list[str], hints: list[str]) -> str:
    """A transparent heuristic on the title, the file and folder names, then headings.

    Practice sheets are also recognised by their sections (Contexte + Conditions de
    transfert / Transférabilité); anything in a job-shadowing trip is a diary.
    """
    names = _fold(" ".join([title, *hints]).replace("_", " "))
    folded_headings = {_fold(h) for h in headings}
    if any(c in h for h in folded_headings for c in _CONTEXT) and any(
        t in h for h in folded_headings for t in _TRANSFER
    ):
        return "practice-sheet"
    for kind, pattern in _KIND_RULES:
        if pattern.search(names):
            return kind
    return "other"


# --------------------------------------------------------------------------- document


def _date(props: dict[str, Any], trip: Trip | None) -> tuple[str | None, str | None]:
    """The document's date and where it came from: its own, its trip's, its file's."""
    for source, value in (
        ("document", props.get("date")),
        ("trip", trip.start if trip else None),
        ("file", props.get("created")),
    ):
        date = iso_date(value)
        if date:
            return date, source
    return None, None


def build_document(
    parsed: ParsedDocument,
    chunks: list[Chunk],
    *,
    doc_id: str,
    source: str,
    path: str | None,
    data: bytes | None,
    sha256: str,
    trip: Trip | None,
    overrides: dict[str, Any] | None = None,
    theme_ids: frozenset[str] = frozenset(),
    hints: tuple[str, ...] = (),
) -> Document:
    """Merge overrides > the document's properties > trip > detection into a Document."""
    props: dict[str, Any] = dict(parsed.properties)
    for key, value in (overrides or {}).items():
        if value not in (None, "", [], ()):
            props[key] = value
    title = str(props.get("title") or parsed.title or Path(source).stem).strip()
    themes = as_list(props.get("themes"))
    if not themes and theme_ids:  # PDF/DOCX keywords count only when they are theme ids
        themes = [k for k in as_list(props.get("keywords")) if k in theme_ids]
    language = language_code(props.get("language"))
    if language is None:
        language = detect_language(title + "\n" + "\n".join(c.text for c in chunks[:20]))
    kind = str(props.get("kind") or "").strip().lower()
    kind_detected = kind not in KINDS
    if kind_detected:
        trip_hint = (trip.slug,) if trip and "shadowing" in trip.slug else ()
        kind = detect_kind(title, parsed.headings(), [*hints, *trip_hint])
    organisations = as_list(props.get("organisations")) or list(trip.organisations if trip else ())
    date, date_source = _date(props, trip)
    return Document(
        id=doc_id,
        title=title,
        chunks=chunks,
        kind=kind,
        kind_detected=kind_detected,
        language=language,
        trip=slugify(str(props["trip"])) if props.get("trip") else (trip.slug if trip else None),
        trip_name=trip.name if trip else None,
        city=trip.city if trip else None,
        country=trip.country if trip else None,
        date=date,
        date_source=date_source,
        themes=themes,
        organisations=organisations,
        authors=as_list(props.get("authors")),
        source=source,
        path=path,
        sha256=sha256,
        media_type=parsed.media_type,
        original=data,
    )
