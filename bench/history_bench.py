"""History at city scale: generate N cases into PostGIS, then time the page queries on them.

1. ``generate-history`` of ``--cases`` (default 10,000,000) cases over 24 months (COPY);
2. min / median / max over ``--runs`` of the app's own functions: the KPI table per grid for one
   month (``metrics.kpi.kpi_table``), per community for one year, and the command map's data for
   the last 24 hours (``metrics.command.load_map_data``: per-grid counts, the open cases, today's
   count, through ``cases.queries``); target < 1 s each;
3. ``EXPLAIN (ANALYZE, BUFFERS)`` of every SQL statement those functions sent (captured from the
   engine, run again with the same parameters).

Usage::

    .venv/bin/python bench/history_bench.py [--small] [--cases 10000000] [--postgis URL] [--runs 5]
        [--now 2026-12-06T23:00] [--reuse]

Without ``--postgis`` a throwaway server is started through ``tests/system.py``. ``--reuse``
skips the generation when the store already holds at least ``--cases`` cases (the same ``--now``
must then be given). Speed goals are reported, not asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.system starts the throwaway server

from cases.history import generate_history
from cases.queries import CaseFilter, district_scope
from core import clock
from metrics.command import load_map_data
from metrics.kpi import kpi_table
from store import db

TARGET_S = 1.0


def _month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def page_queries(engine: Engine, now: datetime) -> dict[str, Callable[[], Any]]:
    """The three page reads, each a call of the app's own function."""
    month = _month_start(now)
    last_month = clock.add_months(month, -1)

    def map_24h() -> Any:
        with db.session_factory(engine)() as session:
            return load_map_data(session, district_scope("bench"), CaseFilter(since=now - timedelta(hours=24)), now=now)

    return {
        f"KPI per grid, {last_month:%Y-%m}": lambda: kpi_table(engine, by="grid", since=last_month, until=month,
                                                               now=now),
        f"KPI per community, {clock.add_months(month, -12):%Y-%m}..{last_month:%Y-%m}": lambda: kpi_table(
            engine, by="community", since=clock.add_months(month, -12), until=month, now=now),
        "command map, last 24 h": map_24h,
    }


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (with parameters) the engine runs inside the block."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def explain(engine: Engine, statement: str, parameters: Any) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of one captured statement."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
        lines = [row[0] for row in cursor.fetchall()]
        raw.rollback()
    finally:
        raw.close()
    return "\n".join(lines)


def time_queries(engine: Engine, now: datetime, runs: int) -> dict[str, list[float]]:
    """Seconds of each page query per run (one untimed warm-up run first)."""
    figures: dict[str, list[float]] = {}
    for name, call in page_queries(engine, now).items():
        call()
        figures[name] = []
        for _ in range(runs):
            start = time.perf_counter()
            call()
            figures[name].append(time.perf_counter() - start)
        times = figures[name]
        verdict = "ok" if statistics.median(times) < TARGET_S else "OVER TARGET"
        print(f"{name:<40} min {min(times):.3f} s  median {statistics.median(times):.3f} s  "
              f"max {max(times):.3f} s  ({runs} runs; target < {TARGET_S:.0f} s: {verdict})", flush=True)
    return figures


def explain_all(engine: Engine, now: datetime) -> None:
    """Print the plans of every statement each page query sends."""
    for name, call in page_queries(engine, now).items():
        with captured(engine) as seen:
            call()
        for i, (statement, parameters) in enumerate(s for s in seen if s[0].lstrip().upper().startswith("SELECT")):
            print(f"\n--- {name}: statement {i + 1}\n{statement}\n--- plan\n{explain(engine, statement, parameters)}")


def _store_facts(engine: Engine) -> str:
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM cases")).scalar()
        size = conn.execute(text(  # a partitioned table's size is its partitions'
            "SELECT pg_size_pretty(sum(pg_total_relation_size(relid))) || ' in ' || count(*) FILTER (WHERE isleaf) "
            "|| ' partitions' FROM pg_partition_tree('cases')")).scalar()
        settings = conn.execute(text(
            "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) FROM pg_settings "
            "WHERE name IN ('shared_buffers', 'work_mem', 'max_parallel_workers_per_gather', 'jit', "
            "'random_page_cost', 'effective_cache_size')")).scalar()
    return f"{count:,} cases, cases table with indexes {size}; {settings}"


def run(url: str, args: argparse.Namespace) -> None:
    """Generate (unless reused), then time and explain."""
    engine = db.make_engine(url)
    db.upgrade(engine)
    now = datetime.fromisoformat(args.now) if args.now else clock.now()
    with engine.connect() as conn:
        have = conn.execute(text("SELECT count(*) FROM cases")).scalar() or 0
    if not (args.reuse and have >= args.cases):
        print(generate_history(engine, cases=args.cases, seed=args.seed, months=24, now=now).summary(), flush=True)
    print(f"store: {_store_facts(engine)}; now = {now:%Y-%m-%d %H:%M}", flush=True)
    time_queries(engine, now, args.runs)
    if not args.no_explain:
        explain_all(engine, now)
    engine.dispose()


def main() -> int:
    """Parse the arguments, start a server when none is given, run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="100,000 cases, 3 runs")
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument("--postgis", default=None, metavar="URL", help="postgresql+psycopg://... (default: throwaway)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--now", default=None, help="end of the history, ISO time (default now)")
    parser.add_argument("--reuse", action="store_true", help="keep the cases already in the store")
    parser.add_argument("--no-explain", action="store_true")
    args = parser.parse_args()
    if args.small:
        args.cases, args.runs = 100_000, 3
    with ExitStack() as stack:
        url = args.postgis
        if url is None:
            from tests import system

            url = stack.enter_context(system.postgis_server())
        run(url, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
