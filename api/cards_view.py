"""What the pages show of a practice card and of a trip (plain dicts for templates)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from kb import CARD_FIELDS, KnowledgeBase, PracticeCard, TripOverview, field_label

EXCERPT_CHARS = 240


def trip_url(ctx: Any, slug: str) -> str:
    return ctx.url(f"/voyages/{quote(slug, safe='')}")


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def card_view(ctx: Any, card: PracticeCard) -> dict[str, Any]:
    """A card for the templates: every field in order, "non précisé" where not stated."""
    lang = ctx.t.lang
    fields = []
    for name in CARD_FIELDS:
        found = card.fields.get(name)
        note = ""
        if found is not None and found.page:
            note = ctx.t("field_page", page=found.page)
        elif found is not None and found.origin == "trip":
            note = ctx.t("from_trip")
        fields.append(
            {
                "name": name,
                "label": field_label(name, lang),
                "paragraphs": [p.strip() for p in found.text.split("\n\n")] if found else [],
                "note": note,
            }
        )
    summary = card.fields.get("context") or card.fields.get("description")
    place = card.fields.get("place")
    return {
        "id": card.document_id,
        "title": card.title,
        "url": ctx.document_url(card.document_id),
        "trip": card.trip_name or card.trip or "",
        "trip_url": trip_url(ctx, card.trip) if card.trip else None,
        "place": place.text if place else "",
        "themes": [ctx.theme_label(t) for t in card.themes],
        "language": ctx.t.language(card.language),
        "excerpt": excerpt(summary.text) if summary else "",
        "fields": fields,
        "document_title": card.document_title,
        "source": card.source,
        "page": card.page,
    }


def trip_view(ctx: Any, overview: TripOverview) -> dict[str, Any]:
    info = overview.trip
    dates = " → ".join(d for d in (info.start, info.end) if d)
    return {
        "slug": info.slug,
        "title": overview.title,
        "url": trip_url(ctx, info.slug),
        "place": ", ".join(p for p in (info.city, info.country) if p),
        "dates": dates,
        "organisations": info.organisations,
        "documents": overview.documents,
        "practices": overview.practices,
        "by_kind": [(ctx.t.kind(k), n) for k, n in sorted(overview.by_kind.items())],
        "themes": [(ctx.theme_label(t), n) for t, n in overview.themes],
        "search_url": ctx.url("/", [("trip", info.slug)]),
        "practices_url": ctx.url("/pratiques", [("trip", info.slug)]),
    }


def browse_counts(kb: KnowledgeBase) -> dict[str, int]:
    """What the home page offers to browse: trips and practices."""
    return {"trips": len(kb.trips()), "practices": kb.practices(limit=1)[1]}


def mark_results(kb: KnowledgeBase, cards: list[dict[str, Any]], qid: int | None) -> None:
    """Mark the search results that are practices (they get "Ajouter au dossier") and
    make their links say which logged search they were opened from."""
    ids = [c["doc"].id for c in cards]
    practices = {p.document_id for p in kb.practice_cards(ids, missing_ok=True)}
    for c in cards:
        c["practice"] = c["doc"].id in practices
        if qid is not None:
            c["url"] = _with_query_id(c["url"], qid)
            for excerpt in c.get("excerpts", []):
                excerpt["url"] = _with_query_id(excerpt["url"], qid)


def _with_query_id(link: str, qid: int) -> str:
    url, hash_, fragment = link.partition("#")
    return f"{url}{'&' if '?' in url else '?'}qid={qid}{hash_}{fragment}"
