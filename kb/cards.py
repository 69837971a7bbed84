"""Practice cards: the fields of the field's reference databases, read from sections.

A practice sheet becomes a card with the fields of the Interreg Europe and URBACT
good-practice databases. The fields are read from the document's own structure, the
heading path of its passages, so a card can be (re)built from what the knowledge base
stores, without the original file:

- a section whose heading is a known name of a field (in French, English, Italian,
  Spanish or Catalan, with synonyms: "Contexte", "Le contexte", "Background",
  "Contesto", "Resultados", "Conditions de transfert", "Transferability", …) gives
  that field its text; sub-sections are kept under their own heading;
- a paragraph that starts with such a name and a colon ("Contexte : …") starts a field
  too, for sheets written without headings;
- place and period come from a section when there is one, else from the trip
  (city and country, its dates), marked as such;
- a field found nowhere stays empty: the pages say "non précisé", nothing is guessed.

Every practice sheet gets a card; another document gets one when at least three
fields are found among its sections, one of them its context or its conditions for
transfer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from kb.types import Chunk, Document

CARD_VERSION = 1
"""Bumped when extraction changes: stored cards of an older version are rebuilt."""

NOT_STATED = {"fr": "non précisé", "en": "not stated"}


@dataclass(frozen=True)
class CardFieldSpec:
    name: str
    label_fr: str
    label_en: str
    synonyms: tuple[str, ...]


def _spec(name: str, fr: str, en: str, synonyms: str) -> CardFieldSpec:
    return CardFieldSpec(name, fr, en, tuple(s.strip() for s in synonyms.split("|")))


# Synonyms are written folded (no accents, lower case, no leading article); a heading
# matches a synonym when it is that synonym or starts with it as whole words.
FIELD_SPECS: tuple[CardFieldSpec, ...] = (
    _spec("place", "Lieu", "Place",
          "lieu|lieux|localisation|territoire|place|location|where|luogo|dove|"
          "lugar|ubicacion|donde|lloc|ubicacio"),
    _spec("period", "Période", "Period",
          "periode|dates|calendrier|duree|period|timescale|timeframe|timeline|"
          "periodo|durata|calendario|fechas|duracion|durada"),
    _spec("context", "Contexte", "Context",
          "contexte|enjeux|situation de depart|context|background|problem addressed|"
          "contesto|contexto|antecedentes|antecedents"),
    _spec("description", "Description", "Description",
          "description|descriptif|la pratique|en quoi consiste|fonctionnement|"
          "detailed description|how it works|the practice|descrizione|come funziona|"
          "la pratica|descripcion|como funciona|la practica|descripcio|com funciona"),
    _spec("results", "Résultats", "Results",
          "resultats|resultats obtenus|impacts|impact|effets|evidence of success|results|"
          "outcomes|achievements|risultati|esiti|impatto|resultados|impacto|assoliments"),
    _spec("resources", "Ressources et coûts", "Resources and costs",
          "ressources|moyens|couts|cout|budget|resources|resources needed|costs|cost|"
          "risorse|costi|recursos|costes|costos|presupuesto|pressupost"),
    _spec("transfer", "Conditions de transfert", "Conditions for transfer",
          "conditions de transfert|transfert|transferabilite|potentiel de transfert|"
          "transposition|conditions for transfer|transferability|transfer|"
          "potential for transfer|potential for learning or transfer|"
          "condizioni di trasferimento|trasferibilita|trasferimento|"
          "condiciones de transferencia|transferibilidad|transferencia|"
          "condicions de transferencia|transferibilitat"),
    _spec("lessons", "Difficultés et enseignements", "Difficulties and lessons",
          "difficultes|enseignements|lecons|lecons apprises|points de vigilance|limites|"
          "freins|difficulties|challenges|lessons|lessons learned|lessons learnt|limits|"
          "pitfalls|difficolta|criticita|lezioni apprese|insegnamenti|limiti|"
          "dificultades|lecciones aprendidas|retos|dificultats|llicons apreses|reptes"),
    _spec("contact", "Contact", "Contact",
          "contact|contacts|personne ressource|personnes ressources|interlocuteur|"
          "contact person|contatti|contatto|referente|contacto|contactos|contacte|contactes"),
)
FIELDS: tuple[str, ...] = tuple(spec.name for spec in FIELD_SPECS)
SECTION_FIELDS = ("context", "description", "results", "resources", "transfer", "lessons")
MIN_FIELDS_OUTSIDE_SHEETS = 3

_ARTICLES = re.compile(r"^(?:l'|l’|le |la |les |the |il |lo |gli |i |el |los |las |els |un |une )")
_NUMBERING = re.compile(r"^(?:[0-9]+|[ivx]+|[a-h])[.)]\s+|^[0-9]+\s+")
_LABEL = re.compile(r"^\**([^\n:：*]{2,60}?)\**\s*[:：]\**\s*(.*)$", re.DOTALL)
_TITLE_PREFIX = re.compile(
    r"(?:fiches? pratiques?|fiche|practice sheet|good practice|scheda(?: di)? buona pratica|"
    r"scheda|ficha(?: de buena practica)?|fitxa(?: de bona practica)?)"
)
_TITLE_SEPARATOR = re.compile(r"\s+[-–—]\s+|\s*:\s+")
_SYNONYMS = sorted(
    ((synonym, spec.name) for spec in FIELD_SPECS for synonym in spec.synonyms),
    key=lambda item: -len(item[0]),
)


def fold(text: str) -> str:
    """Lower case, accents removed, spaces collapsed: how headings are compared."""
    text = text.replace("’", "'")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(folded.lower().split())


def heading_field(heading: str) -> str | None:
    """The card field a section heading names, or None."""
    text = fold(heading)
    text = _NUMBERING.sub("", text)
    text = _ARTICLES.sub("", text).strip(" :.-–—")
    for synonym, name in _SYNONYMS:
        if text == synonym or (
            text.startswith(synonym) and not text[len(synonym)].isalnum()
        ):
            return name
    return None


def label_field(label: str) -> str | None:
    """The field an inline label names ("Contexte" in "Contexte : …"): whole match only."""
    text = _ARTICLES.sub("", fold(label)).strip(" :.-–—")
    return next((name for synonym, name in _SYNONYMS if text == synonym), None)


@dataclass
class CardField:
    """One field of a card: its text, the page it starts on, and where it came from:
    `section` (a heading), `label` (an inline "Name :"), or `trip` (the trip's metadata)."""

    text: str
    page: int | None = None
    origin: str = "section"


@dataclass
class PracticeCard:
    """A practice as a card. `fields` holds the fields found (see `FIELDS`); a field
    absent from it is not stated by the document."""

    document_id: str
    title: str
    fields: dict[str, CardField] = field(default_factory=dict)
    document_title: str = ""
    kind: str = "other"
    language: str | None = None
    trip: str | None = None
    trip_name: str | None = None
    themes: list[str] = field(default_factory=list)
    organisations: list[str] = field(default_factory=list)
    source: str | None = None
    page: int | None = None
    date: str | None = None

    @property
    def not_stated(self) -> list[str]:
        return [name for name in FIELDS if name not in self.fields]


def card_title(title: str) -> str:
    """A sheet's title without its "Fiche pratique –" / "Practice sheet –" prefix."""
    separator = _TITLE_SEPARATOR.search(title)
    if separator and _TITLE_PREFIX.fullmatch(fold(title[: separator.start()])):
        return title[separator.end() :].strip() or title
    return title


def extract_fields(chunks: Sequence[Chunk]) -> dict[str, CardField]:
    """The fields found in a document's sections and inline labels."""
    parts: dict[str, list[str]] = {}
    pages: dict[str, int | None] = {}
    origins: dict[str, str] = {}
    inline: str | None = None
    previous_path: tuple[str, ...] | None = None
    for chunk in chunks:
        path = tuple(chunk.heading_path)
        if path != previous_path:
            inline = None
        name, depth = None, -1
        for level in range(len(path) - 1, -1, -1):  # the deepest heading naming a field
            name = heading_field(path[level])
            if name:
                depth = level
                break
        if name is not None:
            sub = " › ".join(path[depth + 1 :])
            text = chunk.text.strip()
            if sub and path != previous_path:
                text = f"{sub}\n{text}"
            _append(parts, pages, origins, name, text, chunk.page, "section")
        else:
            for paragraph in re.split(r"\n\s*\n", chunk.text):
                match = _LABEL.match(paragraph.strip())
                labelled = label_field(match.group(1)) if match else None
                if labelled is not None and labelled not in parts:
                    inline = labelled
                    paragraph = match.group(2)
                if inline is not None and paragraph.strip():
                    _append(parts, pages, origins, inline, paragraph.strip(), chunk.page, "label")
        previous_path = path
    return {
        name: CardField("\n\n".join(texts), pages[name], origins[name])
        for name, texts in parts.items()
        if any(texts)
    }


def _append(parts, pages, origins, name, text, page, origin) -> None:  # noqa: ANN001
    if name not in parts:
        parts[name], pages[name], origins[name] = [], page, origin
    if text:
        parts[name].append(text)


def extract_card(document: Document) -> PracticeCard | None:
    """The card of a document (with its chunks), or None when it does not describe a
    practice (see the module docstring)."""
    fields = extract_fields(document.chunks)
    found = [name for name in SECTION_FIELDS if name in fields]
    if document.kind != "practice-sheet" and not (
        len(found) >= MIN_FIELDS_OUTSIDE_SHEETS and ("context" in found or "transfer" in found)
    ):
        return None
    pages = [c.page for c in document.chunks if c.page is not None]
    return PracticeCard(
        document_id=document.id,
        title=card_title(document.title),
        fields=fields,
        page=min(pages) if pages else None,
    )


def complete(
    card: PracticeCard, document: Document, trip_dates: tuple[str | None, str | None] | None
) -> PracticeCard:
    """The card with its document's metadata, and place and period from the trip when
    its sections do not state them."""
    card.document_title = document.title
    card.kind = document.kind
    card.language = document.language
    card.trip, card.trip_name = document.trip, document.trip_name
    card.themes, card.organisations = document.themes, document.organisations
    card.source, card.date = document.source, document.date
    if "place" not in card.fields and (document.city or document.country):
        place = ", ".join(p for p in (document.city, document.country) if p)
        card.fields["place"] = CardField(place, None, "trip")
    if "period" not in card.fields and trip_dates and any(trip_dates):
        start, end = trip_dates
        period = f"{start} → {end}" if start and end and start != end else start or end
        card.fields["period"] = CardField(str(period), None, "trip")
    card.fields = {name: card.fields[name] for name in FIELDS if name in card.fields}
    return card


def field_label(name: str, lang: str = "fr") -> str:
    spec = next(s for s in FIELD_SPECS if s.name == name)
    return spec.label_en if lang == "en" else spec.label_fr
