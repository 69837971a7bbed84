"""The application factory: routers, middleware and the one error handler."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope, Send

from api import (
    insights,
    pages,
    pages_transfer,
    routes_documents,
    routes_search,
    routes_transfer,
    widget,
)
from api.errors import error_response, install_error_handler
from api.limits import Limits, document_limits, parse_networks
from api.schemas import HealthOut, StatsOut
from api.security import BodySizeLimit, ReadOnlyCORS, SecurityHeaders, check_write_configuration
from api.templating import STATIC_DIR
from kb import KnowledgeBase, Settings

DESCRIPTION = (
    "Search the good practices of Toulouse Métropole Impact's study trips. "
    "Reads are open; writes (upload, delete) need `Authorization: Bearer <API key>`. "
    'Every error is `{"error": {"code": "...", "message": "..."}}`.'
)


def create_app(kb: KnowledgeBase, settings: Settings) -> FastAPI:
    """The web app over `kb`.

    Raises `api.security.InsecureConfiguration` when writes are enabled
    (`settings.read_only` is false) and no API key is configured.
    """
    key_checker = check_write_configuration(settings)
    app = FastAPI(
        title="Savoir-faire",
        description=DESCRIPTION,
        version="1.0",
        docs_url=None,  # Swagger UI needs inline scripts the CSP forbids
        redoc_url=None,
    )
    # Searches come first: uploads are embedded beside them, in a low-priority process.
    kb.embed_beside_searches()
    app.state.kb = kb
    app.state.settings = settings
    app.state.key_checker = key_checker

    app.include_router(routes_search.build_router(settings))
    app.include_router(routes_documents.build_router(settings))
    app.include_router(_service_router())
    app.include_router(routes_transfer.build_router(settings))
    app.include_router(pages.router)
    app.include_router(pages_transfer.router)
    app.include_router(insights.router)
    app.include_router(widget.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    install_error_handler(app, pages.render_error)
    _install_limits(app, settings)
    # Added last = outermost: headers on every response, 413 before anything reads a body.
    app.add_middleware(BodySizeLimit, limit=settings.max_upload_bytes)
    if settings.cors_origins:
        app.add_middleware(ReadOnlyCORS, origins=list(settings.cors_origins))
    app.add_middleware(SecurityHeaders)
    return app


def _service_router() -> APIRouter:
    router = APIRouter(prefix="/api", tags=["service"])

    @router.get("/health", response_model=HealthOut)
    def health(request: Request) -> HealthOut:
        """Liveness: the app answers."""
        return HealthOut(read_only=request.app.state.settings.read_only)

    @router.get("/stats", response_model=StatsOut)
    def stats(request: Request) -> StatsOut:
        """Counts of documents and passages, the model, per trip, kind and language."""
        return StatsOut.model_validate(request.app.state.kb.stats())

    return router


def _install_limits(app: FastAPI, settings: Settings) -> None:
    """The rate limit and the in-flight bound on the read routes (`api.limits`); their
    429 and 503 answers are in the one error shape and in the OpenAPI schema."""

    async def reject(
        scope: Scope, send: Send, status: int, code: str, message: str, retry: int
    ) -> None:
        request = Request(scope)
        headers = {"Retry-After": str(retry)}
        response = error_response(request, status, code, message, headers, pages.render_error)
        await response(scope, request.receive, send)

    app.add_middleware(
        Limits,
        reject=reject,
        rate=settings.rate_limit,
        burst=settings.rate_burst,
        trusted_proxies=parse_networks(settings.trusted_proxies),
        max_in_flight=settings.max_in_flight,
        max_queued=settings.max_queued,
        queue_timeout_s=settings.queue_timeout_s,
        request_timeout_s=settings.request_timeout_s,
    )
    base_openapi = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            document_limits(base_openapi())  # FastAPI keeps it in app.openapi_schema
        return app.openapi_schema

    app.openapi = openapi
