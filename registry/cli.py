"""``python -m registry``: the key-population registry from the command line.

::

    python -m registry import FILE.csv|FILE.xlsx [--db URL] [--hierarchy H.gpkg]
    python -m registry coverage --period YYYY-MM --by grid|community|street|worker|category --out FILE.csv
                                [--category KEY] [--db URL]
    python -m registry plan --period YYYY-MM [--worker 工号] [--status overdue|due|visited|verified]
                            --out FILE.csv [--db URL]
    python -m registry visits FILE.csv [--db URL]   # 走访编号, 户编号, 工号, 走访时间, 经度, 纬度, 走访结果

``import`` writes ``FILE.rejects.csv`` beside the input (the refused rows: row number, problem,
reason, fix, the row's cells; only the header when none) and exits 0 when every row was
accepted, 1 when some were refused (the others are imported), 2 when the file cannot be read or
the store not written (nothing changed). The command line acts for the whole district; names,
phones and ID numbers are masked in what it prints and writes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from access.database import open_store, read_session, unit_of_work
from access.masking import mask_id
from access.scope import Scope
from core import clock
from core.errors import GridCommandError
from core.settings import load_settings
from core.spreadsheet import write_table
from metrics.coverage import BY, coverage_table
from registry.groups import registry_groups
from registry.imports import load_visits
from registry.places import Places
from registry.plans import visit_plan
from registry.roster_import import RosterImport, import_roster, rejects_frame
from registry.schedule import STATUSES

Out = Callable[[str], None]
#: Exit statuses of ``import``.
ALL_ACCEPTED, SOME_REJECTED, UNREADABLE = 0, 1, 2


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=None, metavar="URL",
                        help="store URL (default: DATABASE_URL / gridcommand.toml / the embedded file)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m registry``."""
    parser = argparse.ArgumentParser(prog="python -m registry", description="Key populations (一键可知) and visits")
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="import or update persons from a registry spreadsheet (CSV, XLSX)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--hierarchy", type=Path, default=None, help="hierarchy.gpkg (default: the configured one)")
    imp.add_argument("--actor", default="cli-import")
    _db_option(imp)
    cov = sub.add_parser("coverage", help="planned, visited and verified persons of a month")
    cov.add_argument("--period", required=True, help="month, e.g. 2026-11")
    cov.add_argument("--by", default="grid", choices=list(BY))
    cov.add_argument("--category", default=None, help="one group's key (default: all)")
    cov.add_argument("--out", type=Path, required=True, help="CSV to write")
    _db_option(cov)
    plan = sub.add_parser("plan", help="who is due a visit in a month, by when (masked)")
    plan.add_argument("--period", required=True, help="month, e.g. 2026-11")
    plan.add_argument("--worker", default=None, help="one worker's staff number (工号)")
    plan.add_argument("--status", default=None, choices=list(STATUSES))
    plan.add_argument("--out", type=Path, required=True, help="CSV to write")
    _db_option(plan)
    visits = sub.add_parser("visits", help="import visits made on paper or in another system (CSV)")
    visits.add_argument("file", type=Path)
    visits.add_argument("--actor", default="cli-import")
    _db_option(visits)
    return parser


def rejects_path(path: Path) -> Path:
    """``FILE.rejects.csv`` beside ``FILE.csv`` or ``FILE.xlsx``."""
    return path.with_name(f"{path.stem}.rejects.csv")


def _report(result: RosterImport, written: Path, out: Out) -> None:
    out(f"{result.roster.path.name}: {result.rows} rows: {result.added} added, {result.updated} updated "
        f"({len(result.moves)} moved between grids), {result.unchanged} unchanged, {len(result.rejects)} rejected "
        f"-> {written}")
    for move in result.moves:
        out(f"moved: row {move.row} {move.person_id} {mask_id(move.id_number)} grid {move.from_grid or '—'} "
            f"-> {move.to_grid}")


def _cmd_import(args: argparse.Namespace, out: Out) -> int:
    settings = load_settings()
    places = Places.from_gpkg(args.hierarchy or settings.hierarchy_path)
    engine = open_store(args.db)
    try:
        with unit_of_work(engine) as session:
            result = import_roster(session, args.file, places=places, groups=registry_groups(settings.registry),
                                   actor=args.actor, now=clock.now())
    finally:
        engine.dispose()
    written = write_table(rejects_frame(result), rejects_path(args.file), fmt="csv")
    _report(result, written, out)
    return SOME_REJECTED if result.rejects else ALL_ACCEPTED


def _cmd_coverage(args: argparse.Namespace, out: Out) -> int:
    engine = open_store(args.db)
    try:
        with read_session(engine) as session:
            table = coverage_table(session, Scope("admin", username="cli"), args.period, by=args.by,
                                   category=args.category)
    finally:
        engine.dispose()
    write_table(table, args.out, fmt="csv")
    planned, visited, verified = (int(table[c].sum()) for c in ("planned", "visited", "verified"))
    out(f"{args.out}: {len(table)} rows by {args.by} for {args.period}: planned {planned}, visited {visited}, "
        f"verified {verified}, suspicious {int(table['suspicious'].sum())}, overdue {int(table['overdue'].sum())}")
    return 0


def _cmd_plan(args: argparse.Namespace, out: Out) -> int:
    engine = open_store(args.db)
    try:
        with read_session(engine) as session:
            plan = visit_plan(session, Scope("admin", username="cli"), args.period, worker_id=args.worker,
                              status=args.status)
    finally:
        engine.dispose()
    write_table(plan, args.out, fmt="csv")
    counts = plan["status"].value_counts()
    out(f"{args.out}: {len(plan)} persons planned in {args.period}: "
        + ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES))
    return 0


def _cmd_visits(args: argparse.Namespace, out: Out) -> int:
    settings = load_settings()
    engine = open_store(args.db)
    try:
        with unit_of_work(engine) as session:
            added = load_visits(session, args.file, actor=args.actor, now=clock.now(), metric_crs=settings.metric_crs,
                                on_site_m=settings.registry.on_site_m)
    finally:
        engine.dispose()
    out(f"{args.file.name}: {added} visits added (the others were in the store already)")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Out], int]] = {
    "import": _cmd_import, "coverage": _cmd_coverage, "plan": _cmd_plan, "visits": _cmd_visits}


def main(argv: Sequence[str] | None = None, *, out: Out = print) -> int:
    """Run the command line; the exit status (2 with one line on stderr for any error)."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, out)
    except GridCommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
    except SQLAlchemyError as exc:
        print(f"error: database error, nothing changed: {str(exc).splitlines()[0]}", file=sys.stderr)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
    return UNREADABLE
