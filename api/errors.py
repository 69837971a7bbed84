"""The one exception handler: domain and HTTP errors become one JSON error shape.

    {"error": {"code": "not_found", "message": "..."}}

Pages (paths outside `/api`) get the same status with a small HTML error page instead.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

from kb import (
    InvalidInput,
    KBError,
    ModelMismatch,
    NotFound,
    TooLarge,
    Unauthorized,
    UnsupportedDocument,
)

# Order matters: the first class that matches wins.
DOMAIN_STATUS: list[tuple[type[KBError], int, str]] = [
    (NotFound, 404, "not_found"),
    (InvalidInput, 400, "invalid_input"),
    (TooLarge, 413, "too_large"),
    (UnsupportedDocument, 415, "unsupported_document"),
    (ModelMismatch, 503, "model_mismatch"),
    (Unauthorized, 401, "unauthorized"),
    (KBError, 400, "error"),
]

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
}


class APIError(Exception):
    """An error raised by the web layer itself (auth, read-only mode, bounds)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def json_error(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def classify(exc: Exception) -> tuple[int, str, str, dict | None]:
    """(status, code, message, headers) for any error the app reports on purpose."""
    if isinstance(exc, APIError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return exc.status, exc.code, exc.message, headers
    if isinstance(exc, RequestValidationError):
        return 422, "validation_error", _validation_message(exc), None
    if isinstance(exc, HTTPException):
        code = HTTP_CODES.get(exc.status_code, "http_error")
        return exc.status_code, code, str(exc.detail), getattr(exc, "headers", None)
    for cls, status, code in DOMAIN_STATUS:
        if isinstance(exc, cls):
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            return status, code, str(exc) or code.replace("_", " "), headers
    raise exc  # pragma: no cover - only registered for the classes above


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "body"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg", ""))
    return "; ".join(parts) or "invalid request"


def install_error_handler(app: FastAPI, render_page_error) -> None:
    """Register the one handler for domain, validation, HTTP and web-layer errors.

    `render_page_error(request, status, message)` renders the HTML variant for pages.
    """

    async def handle(request: Request, exc: Exception) -> Response:
        status, code, message, headers = classify(exc)
        if status == 405:
            headers = {"Allow": ", ".join(allowed_methods(request))}
        return error_response(request, status, code, message, headers, render_page_error)

    for cls in (KBError, APIError, RequestValidationError, HTTPException):
        app.add_exception_handler(cls, handle)


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    headers: dict | None,
    render_page_error,
) -> Response:
    """The one error shape: an HTML page for page routes, JSON everywhere else."""
    if not request.url.path.startswith("/api") and _wants_html(request):
        page = render_page_error(request, status, message)
        page.headers.update(headers or {})
        return page
    return json_error(status, code, message, headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route offers for this path (Starlette names only the first)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def _wants_html(request: Request) -> bool:
    path = request.url.path
    return path == "/" or path.startswith(
        ("/documents", "/pratiques", "/voyages", "/dossier", "/insights")
    )
