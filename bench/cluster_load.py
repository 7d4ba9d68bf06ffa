"""Load test of the scaled-out deployment (``python -m deploy.cluster``): dashboard processes behind
nginx, simulated operators on them while the intake API takes a steady stream of requests, and one
dashboard process killed half-way.

    python bench/cluster_load.py [--small] [--processes 4] [--operators 40] [--seconds 120] [--api-rate 20]

Each operator keeps a cookie (the sticky-session cookie nginx sets) and loops: the page (``/``), one
of its scripts, the health check, then a WebSocket to ``/_stcore/stream`` that asks for a script run
(a Streamlit ``rerun_script``) and waits for ``script_finished`` (the sign-in page renders), then
thinks 2–6 s. The API clients POST Open311 requests at ``--api-rate`` per second through
``/api/``, each with its own Idempotency-Key, retried with the same key on a failure. At the end the
API-accepted case ids are looked up in the store: a missing id is a lost case.

The cluster is started here on free ports with its own PostGIS in a temporary folder (demo seeded)
and stopped at the end; bounded by ``--seconds`` plus start-up, and ``--max-seconds`` overall.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parent.parent


def free_port(consecutive: int = 1) -> int:
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if all(_free(port + i) for i in range(1, consecutive)):
            return port
    raise SystemExit("no free ports")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Stats:
    """Latencies and errors by kind, before and after the kill."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.error_samples: list[str] = []
        self.killed_at: float | None = None
        self.after_kill: dict[str, int] = defaultdict(int)
        self.connections: list[int] = []

    def ok(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if self.killed_at:
                self.after_kill[kind] += 1

    def error(self, kind: str, what: str) -> None:
        phase = "after kill" if self.killed_at else "before kill"
        with self.lock:
            self.errors[f"{kind} ({phase})"] += 1
            if len(self.error_samples) < 8:
                self.error_samples.append(f"{kind}: {what[:160]}")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def timed(stats: Stats, kind: str, call) -> object | None:
    started = time.perf_counter()
    try:
        result = call()
    except Exception as exc:
        stats.error(kind, f"{type(exc).__name__}: {exc}")
        return None
    stats.ok(kind, time.perf_counter() - started)
    return result


def rerun(base_ws: str, cookie: str, timeout: float) -> None:
    """One Streamlit script run over a fresh WebSocket, to its ``script_finished``."""
    msg = BackMsg()
    msg.rerun_script.query_string = ""
    msg.rerun_script.page_script_hash = ""
    headers = {"Cookie": f"gc_node={cookie}", "Origin": base_ws.replace("ws://", "http://")}
    with connect(f"{base_ws}/_stcore/stream", subprotocols=["streamlit"], open_timeout=timeout,
                 additional_headers=headers) as ws:
        ws.send(msg.SerializeToString())
        deadline = time.monotonic() + timeout
        while True:
            raw = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
            forward = ForwardMsg.FromString(raw if isinstance(raw, bytes) else raw.encode())
            if forward.WhichOneof("type") == "script_finished":
                return


def operator(n: int, base: str, script: str, stats: Stats, until: float, timeout: float) -> None:
    rng = random.Random(n)
    cookie = f"op{n}.{uuid.uuid4().hex}"  # gc_node = <process>.<browser key>: an unknown process, hashed on the key
    with httpx.Client(base_url=base, cookies={"gc_node": cookie}, timeout=timeout) as client:
        def get(path: str) -> None:
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {response.status_code}")

        while time.monotonic() < until:
            timed(stats, "page /", lambda: get("/"))
            timed(stats, "static script", lambda: get(script))
            timed(stats, "health", lambda: get("/_stcore/health"))
            timed(stats, "websocket run", lambda: rerun(base.replace("http://", "ws://"), cookie, timeout))
            time.sleep(rng.uniform(2.0, 6.0))


def api_client(base: str, key: str, tag: str, stats: Stats, accepted: dict[str, int], lock: threading.Lock,
               slots: list[float], spot: tuple[float, float], timeout: float) -> None:
    with httpx.Client(base_url=base, timeout=timeout) as client:
        while True:
            with lock:
                if not slots:
                    return
                at = slots.pop()
            time.sleep(max(0.0, at - time.monotonic()))
            idem = f"{tag}-{uuid.uuid4().hex[:16]}"
            form = {"api_key": key, "service_code": "request.municipal", "lat": f"{spot[1]:.7f}",
                    "long": f"{spot[0]:.7f}", "description": f"集群压测 {idem}"}

            def post(form: dict[str, str] = form, idem: str = idem) -> int:
                for attempt in range(6):
                    try:
                        answer = client.post("/api/open311/v2/requests.json", data=form,
                                             headers={"Idempotency-Key": idem})
                        if answer.status_code in (200, 201):
                            return int(answer.json()[0]["service_request_id"])
                        if answer.status_code not in (429, 502, 503, 504):
                            raise RuntimeError(f"HTTP {answer.status_code} {answer.text[:120]}")
                    except httpx.TransportError:
                        pass
                    time.sleep(0.1 * 2 ** attempt)
                raise RuntimeError("no answer after 6 tries")

            case_id = timed(stats, "api POST", post)
            if case_id is not None:
                with lock:
                    accepted[idem] = int(case_id)  # type: ignore[call-overload]


def start_cluster(args: argparse.Namespace, var: Path) -> tuple[subprocess.Popen[bytes], dict]:
    command = [sys.executable, "-m", "deploy.cluster", "-n", str(args.processes), "--port", str(free_port()),
               "--api-port", str(free_port()), "--app-port", str(free_port(args.processes)), "--var-dir", str(var)]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GRIDCOMMAND_JOBS")}
    log = (var / "launcher.log").open("wb")
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 300
    while not (var / "cluster.json").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the cluster did not start:\n" + (var / "launcher.log").read_text())
        time.sleep(0.5)
    return proc, json.loads((var / "cluster.json").read_text())


def make_key(url: str) -> str:
    env = {**os.environ, "DATABASE_URL": url}
    made = subprocess.run([sys.executable, "-m", "api", "keys", "add", "--channel", "cluster-bench", "--rate",
                           "1000000"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return made.stdout.strip().splitlines()[-1]


def demo_spot() -> tuple[float, float]:
    import geo
    from core.settings import load_settings

    grids = geo.read_hierarchy(load_settings().hierarchy_path)["grids"].to_crs("EPSG:4490")
    point = grids.geometry.iloc[len(grids) // 2].representative_point()
    return point.x, point.y


def killer(state: dict, stats: Stats, started: float, at: float) -> None:
    time.sleep(max(0.0, at - time.monotonic()))
    os.kill(state["processes"]["app1"]["pid"], signal.SIGKILL)
    stats.killed_at = time.monotonic()
    print(f"  killed app1 (pid {state['processes']['app1']['pid']}) at t={at - started:.0f} s", flush=True)


def watch_connections(url: str, stats: Stats, until: float) -> None:
    """Sample the store's open connections every 2 s (the peak is reported)."""
    engine = create_engine(url, poolclass=NullPool)
    while time.monotonic() < until:
        try:
            with engine.connect() as conn:
                stats.connections.append(int(conn.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")) or 0))
        except Exception as exc:
            stats.error("pg sample", str(exc))
        time.sleep(2.0)
    engine.dispose()


def stored(url: str, ids: list[int]) -> set[int]:
    from store.models import Case

    engine = create_engine(url)
    with engine.connect() as conn:
        found = set(conn.scalars(select(Case.id).where(Case.id.in_(ids))))
    engine.dispose()
    return found


def run_load(args: argparse.Namespace, state: dict) -> tuple[Stats, dict[str, int], float]:
    base = state["proxy"]
    index = httpx.get(f"{base}/", timeout=30).text
    script = "/" + re.search(r'src="\./(static/js/[^"]+\.js)"', index).group(1)  # type: ignore[union-attr]
    key, spot, stats = make_key(state["database_url"]), demo_spot(), Stats()
    started = time.monotonic()
    until = started + args.seconds
    slots = sorted((started + i / args.api_rate for i in range(int(args.seconds * args.api_rate))), reverse=True)
    accepted: dict[str, int] = {}
    lock = threading.Lock()
    threads = [threading.Thread(target=operator, args=(n, base, script, stats, until, args.timeout))
               for n in range(args.operators)]
    threads += [threading.Thread(target=api_client, args=(base, key, "cb", stats, accepted, lock, slots, spot,
                                                          args.timeout)) for _ in range(args.api_clients)]
    threads.append(threading.Thread(target=watch_connections, args=(state["database_url"], stats, until)))
    threads.append(threading.Thread(target=killer, args=(state, stats, started, started + args.seconds / 2)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, until + 3 * args.timeout + 30 - time.monotonic()))
    return stats, accepted, time.monotonic() - started


def report(args: argparse.Namespace, stats: Stats, accepted: dict[str, int], wall: float, url: str) -> bool:
    ids = sorted(set(accepted.values()))
    found = stored(url, ids) if ids else set()
    lost = len(ids) - len(found)
    print(f"cluster_load: {args.processes} dashboard processes behind nginx, {args.operators} operators, "
          f"API {args.api_rate}/s for {args.seconds:.0f} s (wall {wall:.0f} s), app1 killed half-way; "
          f"load average {os.getloadavg()[0]:.1f}")
    for kind, values in sorted(stats.latencies.items()):
        print(f"  {kind:<14} {len(values):>6} ok ({stats.after_kill[kind]:>5} after the kill)"
              f"   p50 {pct(values, 0.5):8.1f} ms   p95 {pct(values, 0.95):8.1f} ms"
              f"   max {max(values) * 1000:8.1f} ms")
    errors = dict(stats.errors)
    print(f"  errors: {errors or 'none'}")
    for sample in stats.error_samples:
        print(f"    e.g. {sample}")
    planned = int(args.seconds * args.api_rate)
    print(f"  API: {planned} requests planned, {len(ids)} accepted ({len(ids) / max(wall, 1):.1f}/s), "
          f"{len(found)} found in the store, lost cases {lost}")
    if stats.connections:
        print(f"  store connections (pg_stat_activity, every 2 s): peak {max(stats.connections)}, "
              f"median {sorted(stats.connections)[len(stats.connections) // 2]}")
    return lost == 0 and len(ids) == len(accepted)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="CI size: 16 operators, 40 s, API 10/s")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--operators", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--api-rate", type=float, default=20.0, help="API requests per second")
    parser.add_argument("--api-clients", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=20.0, help="per request / script run, s")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="the whole run, start-up included")
    args = parser.parse_args()
    if args.small:
        args.operators, args.seconds, args.api_rate = min(args.operators, 16), min(args.seconds, 40.0), 10.0
    var = Path(tempfile.mkdtemp(prefix="gc-cluster-load-"))
    var.chmod(0o755)
    alarm = threading.Timer(args.max_seconds, lambda: os.kill(os.getpid(), signal.SIGTERM))
    alarm.daemon = True
    alarm.start()
    proc = None
    try:
        started = time.monotonic()
        proc, state = start_cluster(args, var)
        print(f"  cluster up in {time.monotonic() - started:.0f} s at {state['proxy']}", flush=True)
        stats, accepted, wall = run_load(args, state)
        ok = report(args, stats, accepted, wall, state["database_url"])
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(var, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
