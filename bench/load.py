"""Load on the HTTP API: N concurrent clients running real queries, as a server sees them.

Run (it starts `kb serve` on a free port over KB_HOME, measures, stops it):

    .venv/bin/python bench/load.py --home kb-data                      # 8 clients, closed loop
    .venv/bin/python bench/load.py --home kb-data --rate 40 --distinct # open loop, 40 req/s
    .venv/bin/python bench/load.py --home kb-data --set KB_RATE_LIMIT=0 --set KB_MAX_IN_FLIGHT=0
    .venv/bin/python bench/load.py --home kb-data --upload corpus/2026-bologne  # while uploading
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000          # a server already up

Closed loop (default): each client sends its next query when the last one is answered,
which measures what the server sustains. Open loop (`--rate R`): R requests per second in
all, sent on time whatever the answers, which is how a crowd of widget users behaves.
`--distinct` gives each client its own address (X-Forwarded-For, the started server
trusts 127.0.0.1 as its proxy), so the per-client rate limit treats them apart; without
it every client is 127.0.0.1 and shares one bucket.

Prints requests, answers by status (200, 429, 503, other), transport errors, accepted
throughput, latency p50/p95/p99 of accepted searches and of refusals, and the server's
memory (resident at start, peak; and the peak of the processes it started, such as the
one that embeds uploads). `--upload` adds one writer that uploads the files one by one
while the clients search, checks that each acknowledged upload is found at once by a
search for its title (`searchable`) and reports the seconds spent uploading
(`upload_s`). The load generator runs on the same machine as the server: on 2 cores it
takes part of the CPU the server would have.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ROOT / "corpus" / "eval" / "queries.jsonl"
API_KEY = "bench-load-key-0123456789"


def read_queries(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of a process, in kB, from /proc."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            figures[name] = int(value.split()[0])
    return figures


def children(pid: int) -> list[int]:
    """The processes a process has started, from any of its threads (the server's
    embedding process, for uploads)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that has just ended
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


class Server:
    """`kb serve` in a subprocess, stopped on exit."""

    def __init__(self, home: Path, settings: dict[str, str], model: str | None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "KB_HOME": str(home),
            "KB_API_KEYS": json.dumps([API_KEY]),
            "KB_TRUSTED_PROXIES": '["127.0.0.1"]',
            "HF_HUB_OFFLINE": "1",
            **settings,
        }
        if model:
            env["KB_MODEL"] = model
        command = [str(Path(sys.executable).parent / "kb"), "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"kb serve exited: {self.process.stderr.read().decode()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit("kb serve did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def search_clients(
    url: str, queries: list[str], clients: int, requests: int, rate: float | None, distinct: bool
) -> tuple[list[tuple[int, float]], float]:
    """(status or -1 for a transport error, seconds) per request, and the wall time."""
    results: list[tuple[int, float]] = []
    next_query = itertools.cycle(queries)
    limits = httpx.Limits(max_connections=64 if rate else 1, max_keepalive_connections=64)
    pool = [
        httpx.AsyncClient(
            base_url=url,
            timeout=30,
            limits=limits,
            headers={"x-forwarded-for": f"198.51.100.{n + 1}"} if distinct else {},
        )
        for n in range(clients)
    ]

    async def one(client: httpx.AsyncClient, query: str) -> None:
        start = time.perf_counter()
        try:
            response = await client.get("/api/search", params={"q": query, "limit": 10})
            status = response.status_code
        except httpx.TransportError:
            status = -1
        results.append((status, time.perf_counter() - start))

    begin = time.perf_counter()
    if rate:  # open loop: on schedule, whatever the answers
        tasks = []
        for i in range(requests):
            delay = begin + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(pool[i % clients], next(next_query))))
        await asyncio.gather(*tasks)
    else:  # closed loop: each client waits for its answer
        counter = itertools.count()

        async def loop(client: httpx.AsyncClient) -> None:
            while next(counter) < requests:
                await one(client, next(next_query))

        await asyncio.gather(*(loop(c) for c in pool))
    wall = time.perf_counter() - begin
    for client in pool:
        await client.aclose()
    return results, wall


async def read(client: httpx.AsyncClient, path: str, params: dict | None = None) -> dict:
    """GET, waiting as told by Retry-After while the server is busy (429/503)."""
    while True:
        response = await client.get(path, params=params)
        if response.status_code not in (429, 503):
            response.raise_for_status()
            return response.json()
        await asyncio.sleep(float(response.headers.get("retry-after", "1")))


async def uploader(url: str, files: list[Path]) -> dict[str, float]:
    """Uploads `files` one by one; each acknowledged one must be found by its title.
    Returns the count per outcome and `upload_s`, the seconds spent in upload requests."""
    outcome: Counter[str] = Counter()
    headers = {"Authorization": f"Bearer {API_KEY}"}
    busy = 0.0
    async with httpx.AsyncClient(base_url=url, timeout=300, headers=headers) as client:
        for path in files:
            start = time.perf_counter()
            response = await client.post(
                "/api/documents", files=[("files", (path.name, path.read_bytes()))]
            )
            busy += time.perf_counter() - start
            if response.status_code != 200:
                outcome["upload_failed"] += 1
                continue
            for item in response.json()["outcomes"]:
                if item["status"] not in ("added", "updated"):
                    outcome[item["status"]] += 1
                    continue
                outcome["uploaded"] += 1
                doc_id = item["document_id"]
                doc = await read(client, f"/api/documents/{doc_id}")
                found = await read(client, "/api/search", {"q": doc["title"], "limit": 50})
                ids = [r["document"]["id"] for r in found["results"]]
                outcome["searchable" if doc_id in ids else "not_searchable"] += 1
    return {**outcome, "upload_s": round(busy, 1)}


def report(results: list[tuple[int, float]], wall: float) -> dict[str, object]:
    statuses = Counter(status for status, _ in results)
    accepted = [s * 1000 for status, s in results if status == 200]
    refused = [s * 1000 for status, s in results if status in (429, 503)]

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "requests": len(results),
        "200": statuses[200],
        "429": statuses[429],
        "503": statuses[503],
        "other": sum(n for s, n in statuses.items() if s not in (200, 429, 503, -1)),
        "transport_errors": statuses[-1],
        "wall_s": round(wall, 2),
        "accepted_per_s": round(len(accepted) / wall, 1) if wall else None,
        "p50_ms": ms(percentile(accepted, 0.50)),
        "p95_ms": ms(percentile(accepted, 0.95)),
        "p99_ms": ms(percentile(accepted, 0.99)),
        "refused_p50_ms": ms(percentile(refused, 0.50)),
        "mean_ms": ms(statistics.fmean(accepted)) if accepted else None,
    }


def files_under(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.name != "trip.yaml")
        else:
            found.append(path)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--home", type=Path, help="Knowledge base to serve (starts kb serve).")
    where.add_argument("--url", help="A server already running.")
    parser.add_argument("--model", help="KB_MODEL for the started server.")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400, help="Searches in all.")
    parser.add_argument("--rate", type=float, help="Open loop: requests per second in all.")
    parser.add_argument("--distinct", action="store_true", help="One address per client.")
    parser.add_argument("--queries", type=Path, default=QUERIES, help="JSON lines with text.")
    parser.add_argument("--warmup", type=int, default=20, help="Searches before measuring.")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KB_NAME=VALUE",
        help="A setting of the started server (repeatable).",
    )
    parser.add_argument("--upload", nargs="+", type=Path, help="Files or folders to upload.")
    parser.add_argument("--json", action="store_true", help="Print JSON.")
    args = parser.parse_args()

    queries = read_queries(args.queries)
    server = None
    url = args.url
    if args.home:
        settings = dict(item.split("=", 1) for item in args.set)
        server = Server(args.home, settings, args.model)
        server.wait_ready()
        url = server.url
    try:
        # Warm-up: the model loads on the first search; one client, never rate-limited.
        warm = [("x-forwarded-for", "192.0.2.1")]
        for query in queries[: args.warmup]:
            httpx.get(f"{url}/api/search", params={"q": query}, headers=warm, timeout=120)
        idle = memory_kb(server.process.pid) if server else {}

        async def run() -> tuple[list[tuple[int, float]], float, dict[str, float] | None]:
            searches = search_clients(
                url, queries, args.clients, args.requests, args.rate, args.distinct
            )
            if not args.upload:
                results, wall = await searches
                return results, wall, None
            (results, wall), uploads = await asyncio.gather(
                searches, uploader(url, files_under(args.upload))
            )
            return results, wall, uploads

        results, wall, uploads = asyncio.run(run())
        figures = report(results, wall)
        figures.update(
            clients=args.clients,
            rate=args.rate,
            distinct=args.distinct,
            settings=args.set,
        )
        if uploads is not None:
            figures["uploads"] = uploads
        if server:
            peak = memory_kb(server.process.pid)
            figures["server_rss_idle_mb"] = round(idle["VmRSS"] / 1024)
            figures["server_rss_peak_mb"] = round(peak["VmHWM"] / 1024)
            started = [memory_kb(child) for child in children(server.process.pid)]
            figures["children_rss_peak_mb"] = round(sum(m["VmHWM"] for m in started) / 1024)
    finally:
        if server:
            server.stop()
    if args.json:
        print(json.dumps(figures))
        return
    for name, value in figures.items():
        print(f"{name:>20}: {value}")


if __name__ == "__main__":
    main()
