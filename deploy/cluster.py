"""``python -m deploy.cluster`` (``make run-cluster``): the dashboard scaled out on one machine.

Starts, in the foreground and in this order: a local PostgreSQL + PostGIS server (unless
``DATABASE_URL`` names one), the migration and demo seeding (``python -m cases seed-demo``), the
intake API (``python -m api serve``), N Streamlit processes on consecutive ports and nginx in front
of them (sticky sessions, WebSocket upgrade, ``/api/`` to the API). A dashboard or API process that
dies is started again (with a back-off; given up after 5 deaths within a minute); a dead nginx or
PostgreSQL ends the cluster. Ctrl-C or SIGTERM stops all of them, the last started first; a child
also ends if the launcher is killed outright.

Every option has an environment variable (``GRIDCOMMAND_CLUSTER_<OPTION>``); see ``deploy/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from core.pool import pool_limits
from deploy import nginx, postgres
from deploy.processes import Backoff, Child, Supervisor, as_postgres, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
#: Engines a dashboard process opens on the store (views._auth.engine_for: one per process), each
#: holding at most core.pool.pool_limits().most connections (GRIDCOMMAND_DB_POOL_SIZE + _MAX_OVERFLOW).
ENGINES_PER_APP = 1
#: Connections kept free for command lines, psql and the seeding (beyond PostgreSQL's reserved ones).
SPARE_CONNECTIONS = 20


class Stopped(Exception):
    """Raised by the signal handler: the operator asked the cluster to stop."""


@dataclass(frozen=True)
class Plan:
    """What to start, from the command line and the environment."""

    processes: int
    host: str
    port: int
    api_port: int
    app_port: int
    pg_port: int
    var_dir: Path
    seed: bool
    database_url: str | None
    ready_timeout: float

    @property
    def app_ports(self) -> list[int]:
        """The dashboard processes' ports."""
        return list(range(self.app_port, self.app_port + self.processes))

    def max_connections(self) -> int:
        """Connections the store must allow: every pool full at once, plus spares."""
        return (self.processes * ENGINES_PER_APP + 1) * pool_limits().most + SPARE_CONNECTIONS


def _env(name: str, default: str) -> str:
    return os.environ.get(f"GRIDCOMMAND_CLUSTER_{name}", default)


def parse_plan(argv: list[str] | None = None) -> Plan:
    """The plan from ``argv`` over ``GRIDCOMMAND_CLUSTER_*`` over the defaults."""
    parser = argparse.ArgumentParser(prog="python -m deploy.cluster", description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--processes", type=int, default=int(_env("PROCESSES", "4")),
                        help="dashboard processes (default 4)")
    parser.add_argument("--host", default=_env("HOST", "127.0.0.1"), help="nginx listens here (127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(_env("PORT", "8080")), help="nginx port (8080)")
    parser.add_argument("--api-port", type=int, default=int(_env("API_PORT", "8502")), help="the API's port (8502)")
    parser.add_argument("--app-port", type=int, default=int(_env("APP_PORT", "8511")),
                        help="first dashboard port; the others follow (8511)")
    parser.add_argument("--pg-port", type=int, default=int(_env("PG_PORT", "0")),
                        help="local PostgreSQL port (default 0: a free one)")
    parser.add_argument("--var-dir", type=Path, default=Path(_env("VAR", str(ROOT / "var" / "cluster"))),
                        help="database, logs, nginx files (var/cluster)")
    parser.add_argument("--no-seed", dest="seed", action="store_false", help="migrate only, no demo data")
    parser.add_argument("--ready-timeout", type=float, default=float(_env("READY_TIMEOUT", "300")),
                        help="seconds for everything to answer its health check")
    args = parser.parse_args(argv)
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    if _env("SEED", "1") == "0":
        args.seed = False
    pg_port = args.pg_port or _free_port()
    return Plan(args.processes, args.host, args.port, args.api_port, args.app_port, pg_port,
                args.var_dir.resolve(), args.seed, os.environ.get("DATABASE_URL") or None, args.ready_timeout)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_taken(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def preflight(plan: Plan) -> list[str]:
    """What stops the cluster from starting (missing programs, taken ports, no demo district)."""
    problems = []
    if nginx.nginx_binary() is None:
        problems.append("nginx not found: apt-get install -y nginx (or set GRIDCOMMAND_NGINX)")
    if plan.database_url is None and (reason := postgres.postgis_missing()):
        problems.append(f"{reason}; or set DATABASE_URL to a PostGIS database")
    if plan.database_url is not None and not plan.database_url.startswith("postgresql"):
        problems.append(f"DATABASE_URL {plan.database_url!r} is not PostgreSQL: several processes need a server")
    if not (ROOT / "data" / "demo" / "hierarchy.gpkg").exists():
        problems.append("the demo district is missing: run `make demo` (make run-cluster does)")
    ports = {"nginx": [plan.port], "API": [plan.api_port], "dashboard": plan.app_ports}
    if plan.database_url is None:
        ports["PostgreSQL"] = [plan.pg_port]
    for name, numbers in ports.items():
        for port in numbers:
            if _port_taken(plan.host if name == "nginx" else "127.0.0.1", port):
                problems.append(f"{name} port {port} is in use: stop what holds it or pick another port")
    return problems


def start_store(sup: Supervisor, plan: Plan) -> str:
    """The store URL: ``DATABASE_URL``, else a local PostGIS server started here."""
    if plan.database_url:
        print(f"store: {plan.database_url} (DATABASE_URL; no local server)", flush=True)
        return plan.database_url
    server = postgres.LocalPostgis(plan.var_dir / "pg", plan.pg_port, plan.max_connections())
    server.init()
    sup.start("postgres", server.command(), stop_signal=signal.SIGINT, user=as_postgres())
    server.wait_ready()
    server.create_database()
    print(f"store: {server.url} (max_connections {plan.max_connections()}, data in {server.data})", flush=True)
    return server.url


def prepare_store(sup: Supervisor, plan: Plan, env: dict[str, str]) -> None:
    """Migrate the store and, unless ``--no-seed``, seed the demo (idempotent: a seeded store is kept)."""
    step = ["seed-demo"] if plan.seed else ["migrate"]
    print(f"store: python -m cases {step[0]} ...", flush=True)
    started = time.monotonic()
    sup.run(step[0], [sys.executable, "-m", "cases", *step], env=env, cwd=ROOT)
    print(f"store: {step[0]} done in {time.monotonic() - started:.0f} s", flush=True)


def start_services(sup: Supervisor, plan: Plan, env: dict[str, str]) -> None:
    """Start the API and the dashboard processes; wait for their health checks."""
    sup.start("api", [sys.executable, "-m", "api", "serve", "--host", "127.0.0.1", "--port", str(plan.api_port),
                      "--root-path", "/api"],
              env=env, cwd=ROOT, restartable=True)
    app_env = {**env, "GRIDCOMMAND_JOBS": "1", "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32)}
    for number, port in enumerate(plan.app_ports, start=1):
        sup.start(f"app{number}", [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.address",
                                   "127.0.0.1", "--server.port", str(port), "--server.headless", "true"],
                  env=app_env, cwd=ROOT, restartable=True)
    urls = {"api": f"http://127.0.0.1:{plan.api_port}/health"}
    urls |= {f"app{n}": f"http://127.0.0.1:{p}/_stcore/health" for n, p in enumerate(plan.app_ports, start=1)}
    wait_healthy(sup, urls, plan.ready_timeout)


def start_proxy(sup: Supervisor, plan: Plan) -> str:
    """Render, check and start nginx; its base URL once it answers through to both services."""
    binary = nginx.nginx_binary()
    assert binary is not None  # preflight checked it
    prefix = plan.var_dir / "nginx"
    text = nginx.render(listen=f"{plan.host}:{plan.port}", app_ports=plan.app_ports, api_port=plan.api_port,
                        prefix=prefix)
    config = nginx.write_config(text, prefix)
    nginx.check(binary, config, prefix)
    sup.start("nginx", nginx.command(binary, config, prefix), stop_signal=signal.SIGQUIT)
    shown = "127.0.0.1" if plan.host in ("0.0.0.0", "::") else plan.host
    base = f"http://{shown}:{plan.port}"
    wait_healthy(sup, {"nginx -> dashboard": f"{base}/_stcore/health", "nginx -> api": f"{base}/api/health"}, 30)
    return base


def write_state(sup: Supervisor, plan: Plan, base: str, url: str) -> Path:
    """``<var>/cluster.json``: the processes (name, pid, port, log, restarts so far) and URLs, for
    operators and tests; replaced whole (a reader never sees half a file)."""
    ports = {"api": plan.api_port, "nginx": plan.port, "postgres": plan.pg_port}
    ports |= {f"app{n}": p for n, p in enumerate(plan.app_ports, start=1)}
    state = {"launcher": os.getpid(), "proxy": base, "database_url": url,
             "processes": {c.name: {"pid": c.proc.pid, "port": ports.get(c.name), "log": str(c.log),
                                    "restarts": c.restarts} for c in sup.children}}
    path = plan.var_dir / "cluster.json"
    draft = path.with_suffix(".json.new")
    draft.write_text(json.dumps(state, indent=2), encoding="utf-8")
    draft.replace(path)
    return path


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _note_death(child: Child, backoff: Backoff) -> bool:
    """Report a dead child and plan its restart; False when the cluster cannot go on without it."""
    _say(f"*** {child.name} ended (exit {child.proc.returncode}); see {child.log}")
    if not child.restartable:
        return False
    delay = child.died(time.monotonic(), backoff)
    if delay is None:
        _say(f"*** {child.name} gave up: it died {backoff.limit} times within {backoff.window_s:.0f} s, so it is "
             f"not restarted again (the cluster goes on without it); see {child.log}")
    else:
        _say(f"    {child.name}: restarting in {delay:.0f} s")
    return True


def supervise(sup: Supervisor, save_state: Callable[[], object], backoff: Backoff | None = None) -> int:
    """Watch the children until a signal. A dead dashboard or API process is started again after
    ``backoff`` (nginx routes around a dashboard process meanwhile; ``save_state`` records its new
    pid); one that keeps dying is given up. A dead nginx or PostgreSQL, or every dashboard process
    given up, ends the cluster (exit 1)."""
    backoff = backoff or Backoff()
    while True:
        for child in sup.dead():
            if not child.handled and not _note_death(child, backoff):
                return 1
        apps = [c for c in sup.children if c.name.startswith("app")]
        if apps and all(c.given_up for c in apps):
            _say("*** every dashboard process was given up: stopping the cluster")
            return 1
        for child in sup.restart_due(time.monotonic()):
            sup.restart(child)
            _say(f"    {child.name} restarted (pid {child.proc.pid})")
            save_state()
        time.sleep(0.5)


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Stopped(signal.Signals(signum).name)


def run(plan: Plan) -> int:
    """Start everything, supervise until a signal, stop everything; the exit status."""
    problems = preflight(plan)
    if problems:
        print("cannot start the cluster:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    (plan.var_dir / "cluster.json").unlink(missing_ok=True)  # left by a launcher that was killed outright
    sup = Supervisor(plan.var_dir / "logs")
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        url = start_store(sup, plan)
        env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
        env.pop("GRIDCOMMAND_JOBS", None)
        prepare_store(sup, plan, env)
        start_services(sup, plan, env)
        base = start_proxy(sup, plan)
        state = write_state(sup, plan, base, url)
        print(f"\nGrid Command cluster: {base}/ ({plan.processes} dashboard processes, ports "
              f"{plan.app_ports[0]}-{plan.app_ports[-1]}), API {base}/api/ (direct http://127.0.0.1:{plan.api_port}),"
              f" store {url}\nprocesses and logs: {state}; Ctrl-C stops everything\n", flush=True)
        return supervise(sup, lambda: write_state(sup, plan, base, url))
    except Stopped as stop:
        print(f"\n{stop}: stopping the cluster ...", flush=True)
        return 0
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"*** cluster: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sup.stop_all()
        (plan.var_dir / "cluster.json").unlink(missing_ok=True)
        print("cluster stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the cluster."""
    return run(parse_plan(argv))


if __name__ == "__main__":
    raise SystemExit(main())
