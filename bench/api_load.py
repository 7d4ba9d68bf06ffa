"""Load test of the intake API on loopback: N concurrent clients POST Open311 requests, each with its
own Idempotency-Key, retrying on time-outs and 503 with the same key (and re-sending a share of
requests on purpose, as a client that lost the answer would). Checks exactly one case per key and
none lost; prints p50/p95/max latency per request (first send to answer, retries included).

    python bench/api_load.py [--small] [--requests 5000] [--clients 8] [--postgis URL]

SQLite by default (a fresh store in a temporary folder); ``--postgis URL`` uses that database
(it is migrated; the bench's cases are recognised by their channel). The server is a real
``python -m api serve`` on a free 127.0.0.1 port, over the demo hierarchy (``make demo``). Bounded:
the request count, and ``--max-seconds`` for the whole run; it stops by itself.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import httpx
from sqlalchemy import func, select

from access.database import open_store, unit_of_work
from api.keys import add_key
from core import clock
from core.settings import load_settings
from store.models import ApiSubmission, Case

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def points(n: int, seed: int = 7) -> list[tuple[float, float]]:
    """Points inside the demo grids (EPSG:4490 degrees), a random grid each."""
    import geo

    grids = geo.read_hierarchy(load_settings().hierarchy_path)["grids"].to_crs("EPSG:4490")
    spots = [(p.x, p.y) for p in grids.geometry.representative_point()]
    rng = random.Random(seed)
    return [(x + rng.uniform(-2e-4, 2e-4), y + rng.uniform(-2e-4, 2e-4)) for x, y in (rng.choice(spots)
                                                                                       for _ in range(n))]


def start_server(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    out = log.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "api", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--quiet"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
        if proc.poll() is not None:
            break
    proc.terminate()
    raise SystemExit(f"the API server did not start; see {log}")


class Run:
    """Shared state of the client threads."""

    def __init__(self, args: argparse.Namespace, key: str, base: str, tag: str) -> None:
        self.args, self.key, self.base, self.tag = args, key, base, tag
        self.spots = points(args.requests)
        self.next = 0
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.answers: dict[int, str] = {}
        self.retries = self.resends = self.failed = 0
        self.deadline = time.monotonic() + args.max_seconds

    def take(self) -> int | None:
        with self.lock:
            if self.next >= self.args.requests or time.monotonic() > self.deadline:
                return None
            self.next += 1
            return self.next - 1

    def form(self, i: int) -> dict[str, str]:
        lon, lat = self.spots[i]
        return {"api_key": self.key, "service_code": "request.municipal", "lat": f"{lat:.7f}", "long": f"{lon:.7f}",
                "description": f"压测 {i}"}

    def connect(self) -> http.client.HTTPConnection:
        host, port = self.base.removeprefix("http://").split(":")
        return http.client.HTTPConnection(host, int(port), timeout=self.args.timeout)

    def post(self, conn: list[http.client.HTTPConnection], i: int) -> tuple[int, bytes] | None:
        """One try (a keep-alive connection per client; a new one after a time-out); None on failure."""
        body = urllib.parse.urlencode(self.form(i)).encode("ascii")
        headers = {"Idempotency-Key": f"{self.tag}-{i}", "Content-Type": "application/x-www-form-urlencoded"}
        try:
            conn[0].request("POST", "/open311/v2/requests.json", body=body, headers=headers)
            response = conn[0].getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            conn[0].close()
            conn[0] = self.connect()
            return None

    def send(self, conn: list[http.client.HTTPConnection], i: int) -> str | None:
        """POST request ``i`` until it is answered (same key on every try); its id, or None."""
        for attempt in range(self.args.retries + 1):
            answer = self.post(conn, i)
            if answer is not None and answer[0] in (200, 201):
                return str(json.loads(answer[1])[0]["service_request_id"])
            with self.lock:
                self.retries += 1
            if answer is not None and answer[0] not in (429, 503):
                print(f"request {i}: {answer[0]} {answer[1][:200]!r}", file=sys.stderr)
                return None
            time.sleep(min(0.05 * 2 ** attempt, 1.0))
        return None

    def client_loop(self, seed: int) -> None:
        rng = random.Random(seed)
        client = [self.connect()]
        try:
            while (i := self.take()) is not None:
                started = time.perf_counter()
                answer = self.send(client, i)
                elapsed = time.perf_counter() - started
                again = self.send(client, i) if answer and rng.random() < self.args.resend else None
                with self.lock:
                    self.latencies.append(elapsed)
                    if answer is None:
                        self.failed += 1
                    else:
                        self.answers[i] = answer
                    if again is not None:
                        self.resends += 1
                        if again != answer:
                            print(f"request {i}: resend answered {again}, first {answer}", file=sys.stderr)
                            self.failed += 1
        finally:
            client[0].close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count(url: str, channel: str) -> tuple[int, int]:
    engine = open_store(url)
    with unit_of_work(engine) as session:
        cases = session.scalar(select(func.count()).select_from(Case).where(Case.source_id.like(f"{channel}:%")))
        keys = session.scalar(select(func.count(func.distinct(ApiSubmission.idempotency_key)))
                              .where(ApiSubmission.channel == channel))
    engine.dispose()
    return int(cases or 0), int(keys or 0)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="CI size: 400 requests")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--postgis", metavar="URL", default=None, help="postgresql+psycopg://... (default SQLite)")
    parser.add_argument("--timeout", type=float, default=5.0, help="client time-out per try, s")
    parser.add_argument("--retries", type=int, default=6)
    parser.add_argument("--resend", type=float, default=0.05, help="share of requests sent twice on purpose")
    parser.add_argument("--max-seconds", type=float, default=900.0)
    args = parser.parse_args()
    if args.small:
        args.requests = min(args.requests, 400)
    folder = Path(tempfile.mkdtemp(prefix="gc-api-load-"))
    url = args.postgis or f"sqlite:///{folder / 'load.db'}"
    channel = f"load{uuid.uuid4().hex[:8]}"
    engine = open_store(url)
    with unit_of_work(engine) as session:
        _, key = add_key(session, channel, actor="bench", now=clock.now(), rate_per_minute=10_000_000)
    engine.dispose()
    port = free_port()
    server = start_server(url, port, folder / "server.log")
    backend = "PostGIS" if args.postgis else "SQLite"
    try:
        run = Run(args, key, f"http://127.0.0.1:{port}", channel)
        threads = [threading.Thread(target=run.client_loop, args=(n,)) for n in range(args.clients)]
        cpu_before = cpu_seconds(server.pid)  # start-up (hierarchy, migration) left out
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        server_cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait(timeout=30)
    cases, keys = count(url, channel)
    sent = len(run.latencies)
    client_cpu = sum(os.times()[:2])
    ok = cases == keys == len(run.answers) == args.requests and run.failed == 0 and len(set(run.answers.values())) \
        == cases
    print(f"api_load [{backend}] {args.clients} clients, {sent} requests in {wall:.1f} s = {sent / wall:.0f}/s; "
          f"latency p50 {pct(run.latencies, 0.50):.1f} ms, p95 {pct(run.latencies, 0.95):.1f} ms, "
          f"max {max(run.latencies) * 1000:.1f} ms; retries {run.retries}, deliberate re-sends {run.resends}; "
          f"cases created {cases} for {keys} idempotency keys ({args.requests} requests): "
          f"{'exactly one case per key, none lost' if ok else 'MISMATCH'}; "
          f"server CPU {server_cpu * 1000 / max(sent, 1):.1f} ms per request, "
          f"clients' {client_cpu * 1000 / max(sent, 1):.1f} ms; "
          f"load average {os.getloadavg()[0]:.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
