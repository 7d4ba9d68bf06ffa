"""Case-store benchmark: import throughput, KPI table over 1M cases, dispatch latency.

For the embedded SQLite store and for PostgreSQL + PostGIS (a throwaway server started through
``tests/system.py``), prints:

1. import throughput of a generated 100k-row 12345 hotline CSV (UTF-8 BOM, Chinese headers),
   including reading, the hierarchy join and routing (target >= 5,000 rows/s);
2. the full KPI table per grid over 1M cases bulk-generated with SQL (target < 2 s);
3. p50/p95 latency of one dispatch transition (read, check, write, event, commit) under 8
   concurrent writers (target p95 < 50 ms);
4. with ``--explain``, the query plans of the main page queries.

Usage::

    .venv/bin/python bench/cases_bench.py [--backends sqlite,postgis] [--rows 100000]
        [--cases 1000000] [--writers 8] [--explain]

Needs the demo district (``data/demo`` with ``hierarchy.gpkg`` and ``workers.csv``: ``make demo``).
Speed goals are reported, not asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.system starts the PostGIS server
from sqlalchemy import Engine, func, select, text

from cases import routing
from cases.lifecycle import transition
from core import constants
from core.settings import load_settings
from intake.files import import_file
from metrics import kpi
from store import db, partitions
from store.bulk import bulk_insert
from store.models import Case
from workforce.workers import load_workers

ROOT = Path(__file__).resolve().parent.parent
SUBS = [(cat, s.zh, s.key) for cat, subs in constants.SUBCATEGORIES.items() for s in subs]


def make_hotline_csv(path: Path, rows: int, hierarchy: Path, seed: int = 7) -> None:
    """A hotline export of ``rows`` orders at random points inside the demo district's grids."""
    import geo

    grids = geo.read_hierarchy(hierarchy)["grids"]
    rng = random.Random(seed)
    minx, miny, maxx, maxy = grids.total_bounds
    start = datetime(2026, 1, 1)
    records = []
    for i in range(rows):
        cat, sub_zh, _ = SUBS[rng.randrange(len(SUBS))]
        records.append({
            "工单编号": f"BENCH{i:08d}", "来源渠道": "12345热线", "一级分类": constants.CATEGORIES[cat].zh,
            "二级分类": sub_zh, "诉求内容": "测试工单", "事发地址": "锦川街道",
            "经度": f"{rng.uniform(minx, maxx):.6f}", "纬度": f"{rng.uniform(miny, maxy):.6f}",
            "诉求人": "王某", "联系电话": f"139{rng.randrange(10**8):08d}",
            "受理时间": (start + timedelta(seconds=rng.randrange(300 * 86400))).strftime("%Y-%m-%d %H:%M:%S"),
        })
    pd.DataFrame(records).to_csv(path, index=False, encoding="utf-8-sig")


def _series_sql(dialect: str, n: int) -> str:
    if dialect == "postgresql":
        return f"SELECT g AS n FROM generate_series(1, {n}) AS g"
    return f"WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {n}) SELECT n FROM c"


def _plus_minutes(dialect: str, base: str, minutes_sql: str) -> str:
    if dialect == "postgresql":
        return f"(TIMESTAMP '{base}' + ({minutes_sql}) * INTERVAL '1 minute')"
    return f"datetime('{base}', '+' || ({minutes_sql}) || ' minutes')"


def bulk_cases(engine: Engine, n: int) -> float:
    """Insert ``n`` cases with SQL only (states spread, deadlines, outcomes); returns seconds."""
    dialect = engine.dialect.name
    with engine.begin() as conn:
        if partitions.is_partitioned(conn):  # their months' partitions first, as generate-history does
            partitions.ensure_months(conn, datetime(2026, 1, 1), datetime(2026, 10, 31))
        grids = conn.execute(text("SELECT grid_code, community_code FROM workers WHERE role = 'worker' "
                                  "AND grid_code IS NOT NULL ORDER BY grid_code")).all()
        conn.execute(text("CREATE TEMPORARY TABLE bench_grids (i INTEGER PRIMARY KEY, grid TEXT, community TEXT, "
                          "worker TEXT)"))
        workers = dict(conn.execute(text("SELECT grid_code, id FROM workers WHERE role='worker'")).all())
        conn.execute(text("INSERT INTO bench_grids VALUES (:i, :g, :c, :w)"),
                     [{"i": i, "g": g, "c": c, "w": workers[g]} for i, (g, c) in enumerate(grids)])
        k = len(grids)
        cats = sorted(constants.CATEGORIES)
        cat_sql = "CASE (s.n % 4) " + " ".join(f"WHEN {i} THEN '{c}'" for i, c in enumerate(cats)) + " END"
        states = ["archived", "closed", "closed", "archived", "dispatched", "accepted", "handled", "reported"]
        st_sql = "CASE (s.n % 8) " + " ".join(f"WHEN {i} THEN '{c}'" for i, c in enumerate(states)) + " END"
        rep = _plus_minutes(dialect, "2026-01-01 00:00:00", "s.n % 400000")
        disp = _plus_minutes(dialect, "2026-01-01 00:30:00", "s.n % 400000")
        due = _plus_minutes(dialect, "2026-01-08 00:00:00", "s.n % 400000")
        arrive_due = _plus_minutes(dialect, "2026-01-02 00:00:00", "s.n % 400000")
        done = _plus_minutes(dialect, "2026-01-03 00:00:00", "(s.n % 400000) + (s.n % 13) * 1000")
        arrived = _plus_minutes(dialect, "2026-01-01 01:00:00", "(s.n % 400000) + (s.n % 17) * 100")
        closed_cond = "(s.n % 8) IN (0, 1, 2, 3)"
        open_disp = "(s.n % 8) IN (0, 1, 2, 3, 4, 5, 6)"
        sql = f"""
        INSERT INTO cases (source, source_id, category, subcategory, text, lon, lat, street_code, community_code,
            grid_code, join_status, priority, state, assignee_kind, assignee_id, reported_at, registered_at,
            dispatched_at, accepted_at, arrived_at, handled_at, closed_at, respond_due, arrive_due, close_due,
            extension_state, extended_close_due, supervised, satisfaction, rework_count, version)
        SELECT 'video', 'GEN' || s.n, {cat_sql}, NULL, '', 116.6, 35.44, '370811004', g.community, g.grid, 'ok',
            'normal', {st_sql}, 'worker', g.worker, {rep},
            CASE WHEN {open_disp} THEN {disp} END, CASE WHEN {open_disp} THEN {disp} END,
            CASE WHEN {open_disp} THEN {disp} END, CASE WHEN {open_disp} THEN {arrived} END,
            CASE WHEN {closed_cond} OR (s.n % 8) = 6 THEN {done} END, CASE WHEN {closed_cond} THEN {done} END,
            {disp}, {arrive_due}, {due},
            CASE WHEN s.n % 50 = 0 THEN 'approved' END, CASE WHEN s.n % 50 = 0 THEN {due} END, FALSE,
            CASE WHEN {closed_cond} THEN CASE WHEN s.n % 20 = 0 THEN 'dissatisfied' ELSE 'satisfied' END END,
            CASE WHEN s.n % 30 = 0 THEN 1 ELSE 0 END, 1
        FROM ({_series_sql(dialect, n)}) AS s JOIN bench_grids AS g ON g.i = s.n % {k}
        """
        t0 = time.perf_counter()
        conn.execute(text(sql))
        elapsed = time.perf_counter() - t0
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return elapsed


def _load() -> str:
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


def bench_import(engine: Engine, csv_path: Path, hierarchy: Path, rows: int) -> None:
    t0, c0 = time.perf_counter(), time.process_time()
    result = import_file(engine, csv_path, hierarchy=hierarchy, actor="bench")
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"  import {rows:,} rows: {elapsed:.2f} s wall = {result.added / elapsed:,.0f} rows/s; "
          f"this process's CPU {cpu:.2f} s = {result.added / cpu:,.0f} rows/s per busy core "
          f"(added {result.added:,}, rejected {result.rejected}, unrouted {result.unrouted}; "
          f"incl. reading the file and hierarchy, join, routing, dedupe, one transaction; {_load()}) "
          "[target >= 5,000 rows/s]")
    t0 = time.perf_counter()
    again = import_file(engine, csv_path, hierarchy=hierarchy, actor="bench")
    print(f"  re-import (all duplicates): {time.perf_counter() - t0:.2f} s, added {again.added}")


def bench_kpi(engine: Engine) -> None:
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(Case)).scalar()
    times, cpus = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        report = kpi.kpi_table(engine, by="grid", now=datetime(2026, 12, 1))
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    cpu = f", this process's CPU median {statistics.median(cpus):.2f} s" if engine.dialect.name == "sqlite" else ""
    print(f"  KPI table per grid over {n:,} cases: median {statistics.median(times):.2f} s wall "
          f"(runs {', '.join(f'{t:.2f}' for t in times)}{cpu}; {len(report.rows)} grids; {_load()}) [target < 2 s]")
    t0 = time.perf_counter()
    kpi.kpi_table(engine, by="community", since=datetime(2026, 3, 1), until=datetime(2026, 4, 1),
                  now=datetime(2026, 12, 1))
    print(f"  KPI per community, one month window: {time.perf_counter() - t0:.2f} s")


def bench_dispatch(engine: Engine, writers: int, per_writer: int = 60) -> None:
    factory = db.session_factory(engine)
    with factory() as s, s.begin():
        worker = s.scalar(text("SELECT id FROM workers WHERE role = 'worker' AND active ORDER BY id LIMIT 1"))
        base = s.scalar(select(func.max(Case.id))) or 0
        now = datetime(2026, 12, 1, 9)
        rows = [{"source": "patrol", "source_id": f"LAT{base}-{i}", "category": "request", "text": "",
                 "priority": "normal", "state": "registered", "reported_at": now, "registered_at": now,
                 "grid_code": None, "assignee_kind": "worker", "assignee_id": worker, "supervised": False,
                 "rework_count": 0, "version": 1} for i in range(writers * per_writer)]
        bulk_insert(s, Case.__table__, rows)
        ids = list(s.scalars(select(Case.id).where(Case.source_id.like(f"LAT{base}-%")).order_by(Case.id)))
    sla = None  # as a page would: SLAs from the settings on every dispatch
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(writers)
    errors: list[Exception] = []

    def writer(k: int) -> None:
        mine = ids[k::writers]
        barrier.wait()
        for case_id in mine:
            t0 = time.perf_counter()
            try:
                with factory() as s, s.begin():
                    transition(s, case_id, "dispatch", actor=f"bench{k}", sla=sla)
            except Exception as exc:
                errors.append(exc)
                continue
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(writers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100)
    print(f"  dispatch under {writers} concurrent writers: {len(latencies)} transitions in {wall:.2f} s, "
          f"p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms, max {max(latencies):.1f} ms, errors {len(errors)} "
          f"({_load()}) [target p95 < 50 ms]")
    if errors:
        print(f"    first error: {errors[0]}")


EXPLAIN_QUERIES = {
    "open cases, newest first (command map list)":
        "SELECT * FROM cases WHERE state IN ('dispatched','accepted','on_site') ORDER BY reported_at DESC LIMIT 50",
    "one grid's cases (grid worker's list)":
        "SELECT * FROM cases WHERE grid_code = '370811004001001' ORDER BY reported_at DESC LIMIT 50",
    "a worker's open cases":
        "SELECT * FROM cases WHERE assignee_kind = 'worker' AND assignee_id = 'WG0001' "
        "AND state IN ('dispatched','accepted') ",
    "unrouted queue":
        "SELECT * FROM cases WHERE assignee_id IS NULL AND state IN ('reported','registered','returned') "
        "ORDER BY reported_at DESC LIMIT 50",
    "open cases per grid (choropleth)":
        "SELECT grid_code, count(*) FROM cases WHERE state IN ('dispatched','accepted','on_site','handled') "
        "AND grid_code IS NOT NULL GROUP BY grid_code",
    "one community in a month window":
        "SELECT count(*) FROM cases WHERE community_code = '370811004001' "
        "AND reported_at >= '2026-03-01' AND reported_at < '2026-04-01'",
    "a case's timeline": "SELECT * FROM case_events WHERE case_id = 12345 ORDER BY seq",
}
#: The KPI table's queries differ by backend (``metrics.kpi``): the SQLite roll-up and its live part.
EXPLAIN_BY_DIALECT = {
    "sqlite": {
        "KPI per grid: the daily roll-up":
            "SELECT grid_code, sum(reported), sum(closed) FROM kpi_daily WHERE grid_code != '' GROUP BY grid_code",
        "KPI per grid: open cases past a deadline (the live part)":
            "SELECT grid_code, community_code, street_code, assignee_kind, assignee_id, "
            "sum(closed_at IS NULL AND close_due <= '2026-12-01'), "
            "sum(arrived_at IS NULL AND arrive_due <= '2026-12-01') "
            "FROM cases INDEXED BY ix_cases_open_deadlines "
            "WHERE dispatched_at IS NOT NULL AND (closed_at IS NULL OR arrived_at IS NULL) "
            "GROUP BY grid_code, community_code, street_code, assignee_kind, assignee_id",
    },
    "postgresql": {
        "KPI per grid: one aggregate over the cases":
            "SELECT grid_code, count(*), count(closed_at), count(*) FILTER (WHERE closed_at <= close_due) "
            "FROM cases WHERE grid_code IS NOT NULL GROUP BY grid_code",
    },
}


def explain(engine: Engine) -> None:
    dialect = engine.dialect.name
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        for title, sql in {**EXPLAIN_QUERIES, **EXPLAIN_BY_DIALECT.get(dialect, {})}.items():
            print(f"  -- {title}\n     {sql}")
            for row in conn.execute(text(prefix + sql)):
                print("     " + (row[-1] if dialect == "sqlite" else row[0]))


def run_backend(name: str, url: str, args: argparse.Namespace, csv_path: Path, hierarchy: Path,
                demo_dir: Path) -> None:
    print(f"\n== {name}: {url.split('@')[-1]}")
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_factory(engine)() as s, s.begin():
        load_workers(s, demo_dir / "workers.csv")
        routing.sync_departments(s, routing.load_rules())
    bench_import(engine, csv_path, hierarchy, args.rows)
    missing = args.cases - args.rows
    if missing > 0:
        seconds = bulk_cases(engine, missing)
        print(f"  bulk-generated {missing:,} more cases with SQL in {seconds:.1f} s")
    bench_kpi(engine)
    bench_dispatch(engine, 1)
    bench_dispatch(engine, args.writers)
    if args.explain:
        explain(engine)
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgis")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--demo-dir", type=Path, default=None)
    args = parser.parse_args()
    demo_dir = args.demo_dir or load_settings().demo_dir
    hierarchy = demo_dir / "hierarchy.gpkg"
    if not hierarchy.exists():
        print(f"error: {hierarchy} missing; run `make demo` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="gc-bench-") as tmp, ExitStack() as stack:
        tmp_path = Path(tmp)
        csv_path = tmp_path / "hotline_100k.csv"
        t0 = time.perf_counter()
        make_hotline_csv(csv_path, args.rows, hierarchy)
        print(f"generated {args.rows:,}-row hotline CSV in {time.perf_counter() - t0:.1f} s "
              f"({csv_path.stat().st_size / 1e6:.1f} MB)")
        for backend in args.backends.split(","):
            if backend == "sqlite":
                url = f"sqlite:///{tmp_path / 'bench.db'}"
            elif backend == "postgis":
                from tests import system

                url = stack.enter_context(system.postgis_server())
            else:
                print(f"error: unknown backend {backend!r} (sqlite, postgis)", file=sys.stderr)
                return 2
            run_backend(backend, url, args, csv_path, hierarchy, demo_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
