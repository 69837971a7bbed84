"""Holding under load and abuse: a per-client rate limit and a bound on the work in flight.

    request ─▶ rate limit: a token bucket per client address ─▶ 429 + Retry-After
            ─▶ in-flight bound: `max_in_flight` at once; at most `max_queued` others
               wait, each up to `queue_timeout_s`, for a slot ─▶ else 503 + Retry-After
            ─▶ the route, within `request_timeout_s` ─▶ else 503 + Retry-After
            ─▶ the response

Both apply to the public read routes: every GET/HEAD except `/api/health` and the static
assets (writes need an API key and are bounded by the upload size). A request that
times out keeps its slot until its thread really ends: a search running in a worker
thread cannot be interrupted, and freeing its slot early would let work pile up.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

EXEMPT_PATHS = ("/api/health", "/static/", "/widget.js", "/embed.css", "/embed-demo.js")
LIMITED_METHODS = ("GET", "HEAD")
MAX_CLIENTS = 50_000
"""Buckets kept at most; the least recently seen client is forgotten first (it gets a
full bucket if it comes back, which only errs on the side of letting it in)."""

Reject = Callable[[Scope, Send, int, str, str, int], Awaitable[Any]]
"""Sends an error response: (scope, send, status, code, message, retry_after_s)."""


def is_limited(scope: Scope) -> bool:
    """Whether the rate limit and the in-flight bound apply to this request."""
    return (
        scope["type"] == "http"
        and scope["method"] in LIMITED_METHODS
        and not scope["path"].startswith(EXEMPT_PATHS)
    )


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or CIDR networks; ValueError names the first that is neither."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def _in(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(scope: Scope, trusted: tuple[Network, ...] = ()) -> str:
    """The client a request comes from.

    The connection's peer, unless that peer is a trusted proxy: then the rightmost
    address of `X-Forwarded-For` that is not itself a trusted proxy (what a client
    writes to the left of it can be forged; what the proxies append cannot).
    """
    peer = (scope.get("client") or ("unknown", 0))[0]
    if not trusted or not _in(peer, trusted):
        return peer
    forwarded = b",".join(
        value for name, value in scope.get("headers", ()) if name == b"x-forwarded-for"
    )
    hops = [hop.strip() for hop in forwarded.decode("latin-1").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _in(hop, trusted):
            return hop
    return hops[0] if hops else peer


class TokenBuckets:
    """One token bucket per client: `burst` tokens, refilled at `rate` per second.

    `take(key)` spends a token and returns 0.0, or returns the seconds until one is
    available. Used from the event loop only, so it needs no lock.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # oldest use first

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        now = self._clock()
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            del self._buckets[next(iter(self._buckets))]
        return wait


class Slots:
    """`size` slots handed out first come, first served; a waiter gives up after a time,
    and one that would find `max_waiting` (by default `size`) others already waiting is
    refused at once (under overload every accepted request would otherwise wait the whole
    queue time).

    Hand-written rather than `asyncio.Semaphore` + `wait_for`, whose timeout can lose a
    slot that was granted at the same moment (Python 3.11).
    """

    def __init__(self, size: int, max_waiting: int | None = None) -> None:
        self.size = size
        self.max_waiting = size if max_waiting is None else max_waiting
        self.free = size
        self._waiters: deque[asyncio.Future[bool]] = deque()

    @property
    def waiting(self) -> int:
        return sum(not f.done() for f in self._waiters)

    async def acquire(self, timeout: float) -> bool:
        """True with a slot held; False when none came free within `timeout` seconds."""
        if self.free > 0:  # free slots exist only while nobody waits
            self.free -= 1
            return True
        if self.waiting >= self.max_waiting:
            return False
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._waiters.append(future)
        expiry = loop.call_later(timeout, lambda: future.done() or future.set_result(False))
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled() and future.result():
                self.release()  # granted as we were cancelled: pass it on
            raise
        finally:
            expiry.cancel()
            if future in self._waiters:  # timed out or cancelled: granted ones are popped
                self._waiters.remove(future)

    def release(self) -> None:
        while self._waiters:
            future = self._waiters.popleft()
            if not future.done():
                future.set_result(True)  # the slot goes straight to the next waiter
                return
        self.free += 1


class Limits:
    """ASGI middleware: the rate limit, the in-flight bound and the request time limit."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        reject: Reject,
        rate: float,
        burst: int,
        trusted_proxies: tuple[Network, ...] = (),
        max_in_flight: int,
        max_queued: int | None = None,
        queue_timeout_s: float,
        request_timeout_s: float,
    ) -> None:
        self.app = app
        self.reject = reject
        self.buckets = TokenBuckets(rate, burst) if rate > 0 else None
        self.trusted = trusted_proxies
        self.slots = Slots(max_in_flight, max_queued) if max_in_flight > 0 else None
        self.queue_timeout_s = queue_timeout_s
        self.request_timeout_s = request_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not is_limited(scope):
            await self.app(scope, receive, send)
            return
        if self.buckets is not None:
            wait = self.buckets.take(client_address(scope, self.trusted))
            if wait > 0:
                await self.reject(
                    scope,
                    send,
                    429,
                    "rate_limited",
                    f"Too many requests from this address (at most {self.buckets.rate:g} per "
                    f"second, bursts of {self.buckets.burst}): retry in a moment.",
                    math.ceil(wait),
                )
                return
        if self.slots is not None and not await self.slots.acquire(self.queue_timeout_s):
            await self.reject(
                scope, send, 503, "overloaded", "The server is busy: retry in a moment.", 1
            )
            return
        await self._run(scope, receive, send)

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = abandoned = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if abandoned:
                return  # the client already has its 503
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        task.add_done_callback(self._finished)
        try:
            await asyncio.wait_for(asyncio.shield(task), self.request_timeout_s)
        except TimeoutError:
            abandoned = True
            if not started:
                await self.reject(
                    scope,
                    send,
                    503,
                    "timeout",
                    f"The request took longer than {self.request_timeout_s:g} s: retry later.",
                    max(1, math.ceil(self.request_timeout_s)),
                )

    def _finished(self, task: asyncio.Task[None]) -> None:
        if self.slots is not None:
            self.slots.release()
        if not task.cancelled():
            task.exception()  # retrieved here so that an abandoned task's error is not lost


LIMIT_RESPONSES = {
    "429": "Too many requests from this client: retry after `Retry-After` seconds",
    "503": "Busy or timed out: retry after `Retry-After` seconds",
}


def document_limits(schema: dict[str, Any]) -> None:
    """Add the 429 and 503 answers to every limited operation of an OpenAPI schema."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for path, operations in schema.get("paths", {}).items():
        # Pages answer their errors in HTML (see api.errors); the rest in JSON.
        content = error if path.startswith("/api") else {**error, "text/html": {"schema": {}}}
        for method, operation in operations.items():
            if is_limited({"type": "http", "method": method.upper(), "path": path}):
                responses = operation.setdefault("responses", {})
                for status, description in LIMIT_RESPONSES.items():
                    responses.setdefault(status, {"description": description, "content": content})
