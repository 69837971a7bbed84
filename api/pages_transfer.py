"""The pages to browse and transfer: trips (`/voyages`), the practice gallery
(`/pratiques`) and the transfer dossier (`/dossier`).

Trips and the gallery work without JavaScript (GET forms and links); the dossier lives
in the browser's localStorage, so building it needs `static/dossier.js`, while a
`/dossier?id=…` address renders, prints and exports without it.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from api.cards_view import card_view, trip_view
from api.deps import MAX_VALUE_CHARS, get_kb, no_values
from api.pages import PAGE_ERRORS, PageContext, Values
from kb import Filters, KnowledgeBase

GALLERY_PAGE = 24
MAX_DOSSIER = 100

router = APIRouter(tags=["pages"])


def _choices(
    ctx: PageContext, counts: Counter[str], chosen: list[str], param: str, label: Any
) -> list[dict[str, Any]]:
    return [
        {
            "value": value,
            "label": label(value),
            "count": n,
            "checked": value in chosen,
            "id": f"p-{param}-{i}",
        }
        for i, (value, n) in enumerate(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    ]


@router.get("/pratiques", response_class=HTMLResponse, summary="Practice gallery",
            responses=PAGE_ERRORS)
def practices_page(
    request: Request,
    kb: Annotated[KnowledgeBase, Depends(get_kb)],
    trip: Values,
    theme: Values,
    language: Values,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> HTMLResponse:
    """Every practice as a card, filtered by trip, theme and language (a GET form)."""
    ctx = PageContext(request, kb)
    everything, _ = kb.practices()
    trips = {c.trip: c.trip_name or c.trip for c in everything if c.trip}
    groups = [
        ("trip", ctx.t("facet_trip"), Counter(c.trip for c in everything if c.trip),
         trip, lambda v: trips.get(v, v)),
        ("theme", ctx.t("facet_theme"), Counter(t for c in everything for t in c.themes),
         theme, ctx.theme_label),
        ("language", ctx.t("facet_language"),
         Counter(c.language for c in everything if c.language), language, ctx.t.language),
    ]
    filters = Filters.from_values(trip=trip, theme=theme, language=language)
    cards, total = kb.practices(filters, limit=GALLERY_PAGE, offset=(page - 1) * GALLERY_PAGE)
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "lang")]
    pages = max(1, math.ceil(total / GALLERY_PAGE))
    return ctx.render(
        "practices.html",
        cards=[card_view(ctx, c) for c in cards],
        total=total,
        groups=[
            {"param": p, "title": title, "values": _choices(ctx, counts, chosen, p, label)}
            for p, title, counts, chosen, label in groups
            if counts
        ],
        page=page,
        pages=pages,
        prev_url=ctx.url("/pratiques", [*params, ("page", page - 1)]) if page > 1 else None,
        next_url=ctx.url("/pratiques", [*params, ("page", page + 1)]) if page < pages else None,
        clear_url=ctx.url("/pratiques"),
    )


@router.get("/voyages", response_class=HTMLResponse, summary="Trips", responses=PAGE_ERRORS)
def trips_page(request: Request, kb: Annotated[KnowledgeBase, Depends(get_kb)]) -> HTMLResponse:
    """Every trip: place, dates, organisations visited, documents by kind, themes."""
    ctx = PageContext(request, kb)
    return ctx.render("trips.html", trips=[trip_view(ctx, o) for o in kb.trips()])


@router.get("/voyages/{slug}", response_class=HTMLResponse, summary="One trip",
            responses=PAGE_ERRORS)
def trip_page(
    request: Request,
    kb: Annotated[KnowledgeBase, Depends(get_kb)],
    slug: Annotated[str, Path(min_length=1, max_length=MAX_VALUE_CHARS)],
) -> HTMLResponse:
    """One trip: its practices as cards, then all its documents by kind."""
    ctx = PageContext(request, kb)
    overview = kb.trip(slug)
    documents, _ = kb.documents(Filters(trip=(slug,)))
    cards, _ = kb.practices(Filters(trip=(slug,)))
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for d in documents:
        by_kind.setdefault(ctx.t.kind(d.kind), []).append(
            {"title": d.title, "url": ctx.document_url(d.id), "date": d.date,
             "language": ctx.t.language(d.language)}
        )
    return ctx.render(
        "trip.html",
        trip=trip_view(ctx, overview),
        trips_url=ctx.url("/voyages"),
        cards=[card_view(ctx, c) for c in cards],
        documents=sorted(by_kind.items()),
    )


@router.get("/dossier", response_class=HTMLResponse, summary="Transfer dossier",
            responses=PAGE_ERRORS)
def dossier_page(
    request: Request,
    kb: Annotated[KnowledgeBase, Depends(get_kb)],
    id: Annotated[
        list[Annotated[str, Query(max_length=300)]],
        Query(default_factory=no_values, max_length=MAX_DOSSIER),
    ],
) -> HTMLResponse:
    """The practices of `?id=…` (the browser's dossier, put there by dossier.js), with
    their DOCX and Markdown exports; 404, naming them, when some ids are not practices
    (the others are still shown, and dossier.js drops the unknown ones)."""
    ctx = PageContext(request, kb)
    ids = [i for i in dict.fromkeys(id) if i]
    cards = kb.practice_cards(ids, missing_ok=True) if ids else []
    unknown = sorted(set(ids) - {c.document_id for c in cards})
    query = urlencode([("id", c.document_id) for c in cards] + [("lang", ctx.t.lang)])
    return ctx.render(
        "dossier.html",
        status_code=404 if unknown else 200,
        cards=[card_view(ctx, c) for c in cards],
        unknown=unknown,
        docx_url=f"/api/dossier?{query}&format=docx",
        md_url=f"/api/dossier?{query}&format=md",
    )
