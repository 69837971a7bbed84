"""The rate limit, the in-flight bound and the request time limit (api/limits.py)."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest
from api_support import auth, fill, make_app
from fastapi.testclient import TestClient

from api.limits import TokenBuckets, client_address, parse_networks
from kb import KnowledgeBase
from kb.embed import TinyEncoder


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_one_request_per_refill():
    clock = Clock()
    buckets = TokenBuckets(rate=2.0, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)
    assert buckets.take("b") == 0.0  # another client has its own bucket
    clock.now += 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0
    clock.now += 60  # refills up to the burst, never beyond
    assert [buckets.take("a") for _ in range(4)][-1] > 0


def test_buckets_forget_the_least_recently_seen_client_first():
    buckets = TokenBuckets(rate=1.0, burst=1, max_clients=2, clock=Clock())
    for key in ("a", "b", "a", "c"):
        buckets.take(key)
    assert len(buckets) == 2
    assert buckets.take("a") > 0  # remembered: "b" was forgotten, not "a"
    assert buckets.take("b") == 0.0


def scope(peer: str, forwarded: str | None = None) -> dict:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"type": "http", "client": (peer, 1234), "headers": headers}


def test_forwarded_for_is_believed_only_from_a_trusted_proxy():
    proxies = parse_networks(["10.0.0.0/8", "::1"])
    assert client_address(scope("203.0.113.9", "1.2.3.4")) == "203.0.113.9"
    assert client_address(scope("203.0.113.9", "1.2.3.4"), proxies) == "203.0.113.9"
    assert client_address(scope("10.0.0.2", "1.2.3.4"), proxies) == "1.2.3.4"
    # A client that writes its own X-Forwarded-For is still the address the proxy saw.
    assert client_address(scope("10.0.0.2", "6.6.6.6, 1.2.3.4, 10.0.0.7"), proxies) == "1.2.3.4"
    assert client_address(scope("::1", "2001:db8::5"), proxies) == "2001:db8::5"
    assert client_address(scope("10.0.0.2"), proxies) == "10.0.0.2"


def test_a_client_over_its_rate_gets_429_with_retry_after(kb):
    fill(kb)
    with TestClient(make_app(kb, rate_limit=0.5, rate_burst=3)) as client:
        codes = [client.get("/api/search", params={"q": "SCIC"}).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        refused = client.get("/api/facets")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "2"
        assert refused.json()["error"]["code"] == "rate_limited"
        page = client.get("/", params={"q": "SCIC"}, headers={"accept": "text/html"})
        assert page.status_code == 429 and page.headers["retry-after"]
        assert page.headers["content-type"].startswith("text/html")
        # Liveness, static assets and writes (which need a key) are not rate-limited.
        assert client.get("/api/health").status_code == 200
        assert client.get("/widget.js").status_code == 200
        assert client.delete("/api/documents/nothing-here", headers=auth()).status_code == 404


def test_each_client_address_has_its_own_bucket(kb):
    fill(kb)
    app = make_app(kb, rate_limit=0.5, rate_burst=2, trusted_proxies=["10.0.0.1"])

    async def run() -> dict[str, list[int]]:
        codes: dict[str, list[int]] = {}
        for peer, forwarded in (
            ("10.0.0.9", None),
            ("10.0.0.1", "1.1.1.1"),
            ("10.0.0.1", "2.2.2.2"),
        ):
            transport = httpx.ASGITransport(app, client=(peer, 5000))
            headers = {"x-forwarded-for": forwarded} if forwarded else {}
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                codes[forwarded or peer] = [
                    (await client.get("/api/facets", headers=headers)).status_code for _ in range(3)
                ]
        return codes

    assert asyncio.run(run()) == {
        "10.0.0.9": [200, 200, 429],
        "1.1.1.1": [200, 200, 429],
        "2.2.2.2": [200, 200, 429],
    }


class GatedEncoder(TinyEncoder):
    """The tiny encoder, whose queries wait for `gate` while it is closed."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def encode_queries(self, texts):  # noqa: ANN001, ANN201
        self.entered.set()
        assert self.gate.wait(10), "the test never opened the gate"
        return super().encode_queries(texts)


@pytest.fixture
def gated(tmp_path):
    encoder = GatedEncoder()
    base = fill(KnowledgeBase(tmp_path / "kb", encoder=encoder))
    encoder.gate.clear()
    yield base, encoder
    encoder.gate.set()
    base.close()


async def wait_for(event: threading.Event) -> None:
    assert await asyncio.to_thread(event.wait, 10)


def test_searches_beyond_the_bound_wait_then_get_503(gated):
    kb, encoder = gated
    app = make_app(kb, max_in_flight=1, queue_timeout_s=0.05, rate_limit=0)

    async def run() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            first = asyncio.create_task(client.get("/api/search", params={"q": "SCIC"}))
            await wait_for(encoder.entered)  # the first search holds the only slot
            second = await client.get("/api/search", params={"q": "insertion"})
            encoder.gate.set()
            third = await client.get("/api/search", params={"q": "insertion"})
            return await first, second, third

    first, second, third = asyncio.run(run())
    assert first.status_code == 200 and third.status_code == 200
    assert second.status_code == 503
    assert second.headers["retry-after"] == "1"
    assert second.json()["error"]["code"] == "overloaded"


def test_a_search_over_its_time_limit_gets_503_and_keeps_its_slot_until_done(gated):
    kb, encoder = gated
    app = make_app(kb, max_in_flight=1, queue_timeout_s=0.01, request_timeout_s=0.05, rate_limit=0)

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            slow = await client.get("/api/search", params={"q": "SCIC"})
            # The slow search still runs in its thread: its slot is not given away.
            meanwhile = await client.get("/api/facets")
            encoder.gate.set()
            for _ in range(1000):  # the slot comes back when the thread ends
                after = await client.get("/api/facets")
                if after.status_code == 200:
                    break
                await asyncio.sleep(0.01)
            return [slow, meanwhile, after]

    slow, meanwhile, after = asyncio.run(run())
    assert slow.status_code == 503 and slow.json()["error"]["code"] == "timeout"
    assert slow.headers["retry-after"] == "1"
    assert meanwhile.status_code == 503 and meanwhile.json()["error"]["code"] == "overloaded"
    assert after.status_code == 200


def test_the_schema_documents_429_and_503_on_read_routes_only(kb):
    paths = make_app(kb).openapi()["paths"]
    assert {"429", "503"} <= set(paths["/api/search"]["get"]["responses"])
    assert {"429", "503"} <= set(paths["/"]["get"]["responses"])
    assert "429" not in paths["/api/health"]["get"]["responses"]
    assert "429" not in paths["/api/documents"]["post"]["responses"]


def test_a_search_finding_the_queue_full_is_refused_at_once(gated):
    kb, encoder = gated
    app = make_app(kb, max_in_flight=1, max_queued=1, queue_timeout_s=5.0, rate_limit=0)

    async def run() -> tuple[list[int], float]:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            first = asyncio.create_task(client.get("/api/search", params={"q": "SCIC"}))
            await wait_for(encoder.entered)  # the first search holds the only slot
            queued = asyncio.create_task(client.get("/api/search", params={"q": "emploi"}))
            await asyncio.sleep(0.05)  # the second waits in the queue (5 s allowed)
            started = asyncio.get_running_loop().time()
            third = await client.get("/api/search", params={"q": "insertion"})
            waited = asyncio.get_running_loop().time() - started
            encoder.gate.set()
            return [
                (await first).status_code,
                (await queued).status_code,
                third.status_code,
            ], waited

    codes, waited = asyncio.run(run())
    assert codes == [200, 200, 503]
    assert waited < 2.0  # refused at once, not after the 5 s queue time
