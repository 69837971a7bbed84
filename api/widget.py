"""The embeddable search: `/widget.js`, the `/embed` iframe page and `/embed-demo`.

`/widget.js` defines the `<savoir-faire-search>` custom element that partner sites load
with one script tag; it calls `GET /api/search` across origins (the CORS allow-list is
`settings.cors_origins`). `/embed` is the same search as a page to put in an iframe, for
sites that forbid third-party scripts: its results are rendered on the server and it
carries its own CSP, whose `frame-ancestors` comes from `settings.frame_ancestors`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import MAX_VALUE_CHARS, get_kb, get_settings
from api.highlight import segments
from api.i18n import Translator, pick_language
from api.templating import STATIC_DIR, templates
from kb import Filters, InvalidInput, KBError, KnowledgeBase, SearchResponse, Settings

router = APIRouter(include_in_schema=False)

ASSET_CACHE = "public, max-age=3600"
EMBED_LIMIT = 5
EMBED_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}"
)

# Strings of the embed and demo pages that the site's catalogue (api/i18n.py) lacks.
WIDGET_STRINGS: dict[str, dict[str, str]] = {
    "fr": {
        "embed_title": "Recherche Savoir-faire",
        "unavailable": "Recherche indisponible",
        "invalid": "Requête invalide : {message}",
        "open_hint": "Les documents s'ouvrent dans un nouvel onglet.",
        "demo_title": "Intégrer la recherche Savoir-faire sur votre site",
        "copy_label": "Copier",
        "copied": "Copié",
        "copy_failed": "Copie impossible : sélectionnez le texte puis Ctrl+C",
    },
    "en": {
        "embed_title": "Savoir-faire search",
        "unavailable": "Search unavailable",
        "invalid": "Invalid query: {message}",
        "open_hint": "Documents open in a new tab.",
        "demo_title": "Put the Savoir-faire search on your website",
        "copy_label": "Copy",
        "copied": "Copied",
        "copy_failed": "Could not copy: select the text, then Ctrl+C",
    },
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    etag: str
    media_type: str


@cache
def load_asset(name: str, media_type: str) -> Asset:
    """A static file of the widget, read once, with a content-hash ETag."""
    body = (STATIC_DIR / name).read_bytes()
    return Asset(body, '"' + hashlib.sha256(body).hexdigest()[:20] + '"', media_type)


def serve_asset(request: Request, asset: Asset, headers: dict[str, str]) -> Response:
    headers = {"Cache-Control": ASSET_CACHE, "ETag": asset.etag, **headers}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.get("/widget.js", name="widget_js")
def widget_js(request: Request) -> Response:
    """The custom element. Any site may load it (it holds no data), hence CORS `*`."""
    return serve_asset(
        request,
        load_asset("widget.js", "application/javascript; charset=utf-8"),
        {
            "Access-Control-Allow-Origin": "*",
            # Host pages with Cross-Origin-Embedder-Policy must still be able to load it.
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )


@router.get("/embed.css", name="embed_css")
def embed_css(request: Request) -> Response:
    return serve_asset(request, load_asset("embed.css", "text/css; charset=utf-8"), {})


@router.get("/embed-demo.js", name="embed_demo_js")
def embed_demo_js(request: Request) -> Response:
    return serve_asset(
        request, load_asset("embed-demo.js", "application/javascript; charset=utf-8"), {}
    )


def frame_ancestors(settings: Settings) -> str:
    """The CSP source list of the sites allowed to frame /embed; `'none'` if empty.

    Entries holding a separator (`;`, `,`, whitespace) are dropped rather than allowed
    to rewrite the policy.
    """
    sources = [
        s for s in settings.frame_ancestors
        if s and not any(c in s for c in ";,") and s == "".join(s.split())
    ]
    return " ".join(sources) or "'none'"


def document_url(base: str, doc_id: str, position: int | None) -> str:
    """The document page, at the passage when known (same form as widget.js builds)."""
    url = f"{base}/documents/{quote(doc_id, safe='')}"
    return url if position is None else f"{url}#passage-{position}"


@router.get("/embed", response_class=HTMLResponse, name="embed")
def embed(
    request: Request,
    kb: Annotated[KnowledgeBase, Depends(get_kb)],
    settings: Annotated[Settings, Depends(get_settings)],
    q: str = "",
    trip: Annotated[str, Query(max_length=MAX_VALUE_CHARS)] = "",
    theme: Annotated[str, Query(max_length=MAX_VALUE_CHARS)] = "",
    limit: int = EMBED_LIMIT,
) -> HTMLResponse:
    """The search as an iframe page: results rendered here, the widget enhances them."""
    lang = pick_language(request)
    words = WIDGET_STRINGS[lang]
    query = q.strip()
    limit = max(1, min(limit, settings.max_limit))
    response: SearchResponse | None = None
    error = ""
    if query:
        try:
            response = kb.search(query, Filters.from_values(trip=trip, theme=theme), limit=limit)
        except InvalidInput as exc:
            error = words["invalid"].format(message=exc)
        except KBError:
            error = words["unavailable"]
    base = str(request.base_url).rstrip("/")
    results = [
        {
            "result": r,
            "url": document_url(base, r.document.id, r.passage.position),
            "snippet": segments(r.snippet.text, r.snippet.highlights),
            "excerpts": [
                segments(p.snippet.text, p.snippet.highlights) for p in r.passages if p.snippet
            ],
        }
        for r in (response.results if response else [])
    ]
    page = templates.TemplateResponse(
        request,
        "embed.html",
        {
            "lang": lang,
            "t": Translator(lang),
            "words": words,
            "q": query,
            "trip": trip,
            "theme": theme,
            "limit": limit,
            "response": response,
            "results": results,
            "error": error,
        },
    )
    page.headers["Content-Security-Policy"] = EMBED_CSP.format(
        ancestors=frame_ancestors(settings)
    )
    return page


@router.get("/embed-demo", response_class=HTMLResponse, name="embed_demo")
def embed_demo(request: Request) -> HTMLResponse:
    """How to embed: the two lines (with a copy button), the widget live, the options."""
    lang = pick_language(request)
    script_url = str(request.url_for("widget_js"))
    embed_url = str(request.url_for("embed"))
    origin = str(request.base_url).rstrip("/")
    snippet = (
        f'<script src="{script_url}" defer></script>\n'
        f'<savoir-faire-search lang="{lang}"></savoir-faire-search>'
    )
    iframe = (
        f'<iframe src="{embed_url}?lang={lang}" title="{WIDGET_STRINGS[lang]["embed_title"]}"'
        ' width="100%" height="480"></iframe>'
    )
    return templates.TemplateResponse(
        request,
        "embed_demo.html",
        {
            "lang": lang,
            "t": Translator(lang),
            "words": WIDGET_STRINGS[lang],
            "snippet": snippet,
            "iframe": iframe,
            "origin": origin,
        },
    )
