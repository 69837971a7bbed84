"""The HTML pages: search (`/`) and document (`/documents/{id}`).

Views only gather what the templates show; every piece of data reaches HTML through
jinja2's autoescape, highlights included (see `api.highlight`).
"""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from api.cards_view import browse_counts, card_view, mark_results
from api.deps import MAX_VALUE_CHARS, MAX_VALUES, get_kb, no_values
from api.highlight import segments, term_ranges
from api.i18n import Translator, pick_language
from api.templating import templates
from kb import (
    NO_TRIP,
    Document,
    FacetValue,
    Filters,
    InvalidInput,
    KBError,
    KnowledgeBase,
    SearchResult,
    Settings,
    TooLarge,
)

PAGE_SIZE = 10
MAX_PAGE = 1000
FACETS = (  # (facet key in responses, query parameter of the page, title key)
    ("trip", "trip", "facet_trip"),
    ("theme", "theme", "facet_theme"),
    ("kind", "kind", "facet_kind"),
    ("language", "language", "facet_language"),
)

router = APIRouter(tags=["pages"])


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


PAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    404: _html("No such document"),
    422: _html("Invalid parameters"),
}
Values = Annotated[
    list[Annotated[str, Query(max_length=MAX_VALUE_CHARS)]],
    Query(default_factory=no_values, max_length=MAX_VALUES),
]


class PageContext:
    """URL building and labels shared by the pages of one request."""

    def __init__(self, request: Request, kb: KnowledgeBase) -> None:
        self.request = request
        self.t = Translator(pick_language(request))
        self.explicit_lang = request.query_params.get("lang") in ("fr", "en")
        self._themes = {th.id: th for th in kb.themes()}

    def url(self, path: str, params: list[tuple[str, Any]] | None = None) -> str:
        params = [(k, v) for k, v in (params or []) if v not in (None, "")]
        if self.explicit_lang:
            params.append(("lang", self.t.lang))
        return path + ("?" + urlencode(params) if params else "")

    def switch_url(self) -> str:
        other = "en" if self.t.lang == "fr" else "fr"
        params = [(k, v) for k, v in self.request.query_params.multi_items() if k != "lang"]
        return self.request.url.path + "?" + urlencode([*params, ("lang", other)])

    def theme_label(self, theme_id: str) -> str:
        theme = self._themes.get(theme_id)
        if theme is None:
            return theme_id
        return theme.label_en if self.t.lang == "en" else theme.label_fr

    def label(self, facet: str, value: FacetValue) -> str:
        if facet == "kind":
            return self.t.kind(value.value)
        if facet == "language":
            return self.t.language(value.value)
        if facet == "theme":
            return self.theme_label(value.value)
        if facet == "trip" and value.value == NO_TRIP:
            return self.t("no_trip")
        return value.label or value.value

    def document_url(self, doc_id: str, position: int | None = None, q: str = "") -> str:
        url = self.url(f"/documents/{quote(doc_id, safe='')}", [("q", q)])
        return url + (f"#passage-{position}" if position is not None else "")

    def render(self, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        context.update(
            t=self.t,
            home_url=self.url("/"),
            nav_url=self.url,
            switch_url=self.switch_url(),
            kind_label=self.t.kind,
            theme_label=self.theme_label,
        )
        response = templates.TemplateResponse(
            self.request, name, context, status_code=status_code
        )
        response.headers["Vary"] = "Accept-Language"  # the language may come from it
        return response


def card(ctx: PageContext, result: SearchResult, q: str) -> dict[str, Any]:
    doc, passage = result.document, result.passage
    return {
        "url": ctx.document_url(doc.id, passage.position, q),
        "similar_url": ctx.document_url(doc.id) + "#similar",
        "doc": doc,
        "trip": doc.trip_name or doc.trip or ctx.t("no_trip"),
        "heading": passage.heading,
        "page": passage.page,
        "snippet": segments(result.snippet.text, result.snippet.highlights),
        "excerpts": [
            {
                "url": ctx.document_url(doc.id, p.position, q),
                "heading": p.heading,
                "snippet": segments(p.snippet.text, p.snippet.highlights),
            }
            for p in result.passages
            if p.snippet
        ],
    }


def facet_groups(
    ctx: PageContext, facets: dict[str, list[FacetValue]], chosen: dict[str, list[str]]
) -> list[dict[str, Any]]:
    groups = []
    for key, param, title in FACETS:
        values = list(facets.get(key, []))
        present = {v.value for v in values}
        values += [FacetValue(v, 0) for v in chosen[param] if v not in present]
        if not values:
            continue
        groups.append(
            {
                "param": param,
                "title": ctx.t(title),
                "values": [
                    {
                        "value": v.value,
                        "label": ctx.label(key, v),
                        "count": v.count,
                        "checked": v.value in chosen[param],
                        "id": f"f-{param}-{i}",
                    }
                    for i, v in enumerate(values)
                ],
            }
        )
    return groups


@router.get("/", response_class=HTMLResponse, summary="Search page", responses=PAGE_ERRORS)
def search_page(
    request: Request,
    kb: Annotated[KnowledgeBase, Depends(get_kb)],
    trip: Values,
    theme: Values,
    kind: Values,
    language: Values,
    q: Annotated[str, Query(max_length=2000)] = "",
    year: Annotated[str, Query(pattern=r"^(\d{4})?$", description="A year; empty: all.")] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> HTMLResponse:
    """The search page: works without JavaScript (a GET form).

    A question that cannot be used (too long, say) is explained on the page itself, with
    the form kept, rather than answered by an error page.
    """
    ctx = PageContext(request, kb)
    settings: Settings = request.app.state.settings
    chosen = {"trip": trip, "theme": theme, "kind": kind, "language": language}
    filters = Filters.from_values(
        trip=trip, theme=theme, kind=kind, language=language, year_from=year, year_to=year
    )
    q = q.strip()
    offset = (page - 1) * PAGE_SIZE
    cards: list[dict[str, Any]] = []
    documents: list[Document] = []
    error: str | None = None
    low_confidence = False
    total = 0
    took_ms = None
    facets = None
    if len(q) > settings.max_query_chars:
        error = ctx.t("query_too_long", n=settings.max_query_chars)
    elif q:
        try:
            response = kb.search(q, filters=filters, limit=PAGE_SIZE, offset=offset)
        except (InvalidInput, TooLarge) as exc:
            error = str(exc)
        else:
            cards = [card(ctx, r, q) for r in response.results]
            total, facets = response.total, response.facets
            mark_results(kb, cards, kb.log_search(q, response) if page == 1 else None)
            low_confidence, took_ms = response.low_confidence, response.took_ms
    else:
        documents, total = kb.documents(filters, limit=PAGE_SIZE, offset=offset)
    if facets is None:
        facets = kb.facets(filters)
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "lang")]
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return ctx.render(
        "search.html",
        q=q,
        error=error,
        cards=cards,
        documents=[(d, ctx.document_url(d.id)) for d in documents],
        total=total,
        took_ms=took_ms,
        low_confidence=low_confidence,
        groups=facet_groups(ctx, facets, chosen),
        years=[(v.value, v.count) for v in facets.get("year", [])],
        year=year,
        page=page,
        pages=pages,
        prev_url=ctx.url("/", [*params, ("page", page - 1)]) if page > 1 else None,
        next_url=ctx.url("/", [*params, ("page", page + 1)]) if page < pages else None,
        clear_url=ctx.url("/", [("q", q)]),
        browse=None if q else browse_counts(kb),
    )


def outline(ctx: PageContext, doc: Document, q: str) -> list[dict[str, Any]]:
    """The document as a flat list of headings (where the heading path changes) and passages."""
    items: list[dict[str, Any]] = []
    previous: tuple[str, ...] = ()
    pdf = doc.media_type == "application/pdf"
    file_url = f"/api/documents/{quote(doc.id, safe='')}/file"
    for chunk in doc.chunks:
        path = tuple(chunk.heading_path)
        if path != previous:
            common = 0
            while common < min(len(path), len(previous)) and path[common] == previous[common]:
                common += 1
            for level in range(common, len(path)):
                items.append({"heading": path[level], "level": min(level + 2, 6)})
            previous = path
        items.append(
            {
                "position": chunk.position,
                "page": chunk.page,
                "page_url": f"{file_url}#page={chunk.page}" if pdf and chunk.page else None,
                "segments": segments(chunk.text, term_ranges(chunk.text, q) if q else []),
            }
        )
    return items


@router.get(
    "/documents/{doc_id}",
    response_class=HTMLResponse,
    summary="Document page",
    responses=PAGE_ERRORS,
)
def document_page(
    request: Request,
    kb: Annotated[KnowledgeBase, Depends(get_kb)],
    doc_id: Annotated[str, Path(min_length=1, max_length=300)],
    q: Annotated[str, Query(max_length=2000)] = "",
    qid: Annotated[int | None, Query(ge=1, description="The logged search it was opened from.")]
    = None,
) -> HTMLResponse:
    """A document by sections, its practice card first when it has one; `#passage-N`
    targets a passage, `?q=` marks its words."""
    ctx = PageContext(request, kb)
    doc = kb.document(doc_id)
    if qid is not None:
        kb.log_opened(qid, doc_id)
    practice = kb.practice(doc_id)
    try:
        similar = kb.similar(doc_id, limit=5)
    except KBError:
        similar = []
    q = q.strip()
    return ctx.render(
        "document.html",
        doc=doc,
        q=q,
        items=outline(ctx, doc, q),
        file_url=f"/api/documents/{quote(doc.id, safe='')}/file" if doc.sha256 else None,
        similar=[
            {
                "url": ctx.document_url(r.document.id, r.passage.position),
                "doc": r.document,
                "trip": r.document.trip_name or r.document.trip or "",
                "heading": r.passage.heading,
            }
            for r in similar
        ],
        back_url=ctx.url("/", [("q", q)]),
        practice=card_view(ctx, practice) if practice else None,
    )


def render_error(request: Request, status: int, message: str) -> HTMLResponse:
    """The HTML variant of the one error shape, for page routes."""
    ctx = PageContext(request, request.app.state.kb)
    if status == 404:
        message = ctx.t("not_found")
    return ctx.render("error.html", status_code=status, status=status, message=message)
