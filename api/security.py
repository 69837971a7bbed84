"""API keys, security headers, read-only CORS and the streamed upload-size bound."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable

from fastapi import Request
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import APIError, error_body
from kb import KBError, Settings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}
READ_PATHS = ("/api/search", "/api/documents", "/api/facets")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class InsecureConfiguration(KBError):
    """Writes are enabled but no API key is configured.

    A `KBError`, so that `kb serve` prints its one-line message and exits 1.
    """


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


class KeyChecker:
    """Compares a presented key with every configured key, in constant time."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._digests = [_digest(k) for k in keys if k]

    def __bool__(self) -> bool:
        return bool(self._digests)

    def matches(self, presented: str) -> bool:
        candidate = _digest(presented)
        found = False
        for digest in self._digests:  # no early exit: time does not tell which key
            found |= hmac.compare_digest(candidate, digest)
        return found


def check_write_configuration(settings: Settings) -> KeyChecker:
    """The key checker, or `InsecureConfiguration` when writes would be open to anyone."""
    checker = KeyChecker(settings.api_keys)
    if not settings.read_only and not checker:
        raise InsecureConfiguration(
            "Writes are enabled but no API key is set: set KB_API_KEYS (a JSON list, "
            "e.g. '[\"a-long-random-key\"]') or KB_READ_ONLY=true."
        )
    return checker


def require_writer(request: Request) -> None:
    """Dependency of every write route: 403 when read-only, 401 without a valid key."""
    settings: Settings = request.app.state.settings
    if settings.read_only:
        raise APIError(403, "forbidden", "This knowledge base is read-only.")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    checker: KeyChecker = request.app.state.key_checker
    if scheme.lower() != "bearer" or not token.strip() or not checker.matches(token.strip()):
        raise APIError(
            401, "unauthorized", "A valid API key is required (Authorization: Bearer …)."
        )


class SecurityHeaders:
    """Adds CSP, nosniff and Referrer-Policy to every response that lacks them.

    A route may set its own Content-Security-Policy (the widget's /embed page does, with
    its frame-ancestors); it is kept.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ReadOnlyCORS:
    """CORS for the read-only API only: GET (and its preflight) on READ_PATHS.

    Writes never get CORS headers, so a browser on another site cannot make them.
    """

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["GET"],
            allow_credentials=False,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD", "OPTIONS")
            and scope["path"].startswith(READ_PATHS)
        ):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class BodySizeLimit:
    """Bounds request bodies of write methods to `limit` bytes, counted while streaming.

    Content-Length is checked first; then the body is read chunk by chunk and reading
    stops at `limit + 1` bytes with a 413, before any route (and so any storage) runs.
    A body within the bound is replayed to the app unchanged.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._too_large(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.limit:
                await self._too_large(send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        buffered = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": buffered, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        body = json.dumps(
            error_body("too_large", f"The upload is larger than {self.limit} bytes.")
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
