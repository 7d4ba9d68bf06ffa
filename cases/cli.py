"""``python -m cases``: migrate, import, list, show, kpi, seed-demo, generate-history (and ``users``).

Every command takes ``--db URL`` (default the configured store). Errors print one line on
stderr and exit with status 2. Personal data is masked in every output.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from access import cli as users_cli
from cases import history_cli
from cases.terminal import case_detail, case_summary, minute, number, percent, show_lines, table, text_or_none
from core import constants
from core.errors import GridCommandError, InputError

Out = Callable[[str], None]


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=argparse.SUPPRESS, metavar="URL",
                        help="store URL, e.g. sqlite:///data/gridcommand.db or postgresql+psycopg://... "
                             "(default: DATABASE_URL / gridcommand.toml / the embedded file)")


def _when(text: str) -> datetime:
    """A date or ISO 8601 time; one with a zone is turned into the district's local time."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        msg = f"{text!r} is not a date; write 2026-11-16, '2026-11-16 09:30' or 2026-11-16T09:30+08:00"
        raise argparse.ArgumentTypeError(msg) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(constants.LOCAL_TIMEZONE)).replace(tzinfo=None)
    return moment


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m cases``."""
    parser = argparse.ArgumentParser(prog="python -m cases", description="Grid Command case store (案件库)")
    _db_option(parser)
    sub = parser.add_subparsers(dest="command", required=True)

    _db_option(sub.add_parser("migrate", help="create or upgrade the store's schema"))

    imp = sub.add_parser("import", help="import a 12345 export (CSV UTF-8/BOM/GBK, XLSX, GeoJSON)")
    _db_option(imp)
    imp.add_argument("file", type=Path)
    imp.add_argument("--hierarchy", type=Path, default=None, help="hierarchy.gpkg (default: the configured one)")
    imp.add_argument("--rejects", type=Path, default=None, help="rejects CSV (default: <file>_rejects.csv)")
    imp.add_argument("--source", default="hotline_12345", choices=list(constants.SOURCES),
                     help="source of rows without 来源渠道")
    imp.add_argument("--coords", default="wgs84", choices=list(constants.COORD_SYSTEMS))
    imp.add_argument("--routing", type=Path, default=None, help="routing rules TOML (default cases/routing.toml)")
    imp.add_argument("--actor", default="cli-import")

    lst = sub.add_parser("list", help="list cases, newest first")
    _db_option(lst)
    lst.add_argument("--state", action="append", choices=list(constants.STATES))
    lst.add_argument("--street")
    lst.add_argument("--community")
    lst.add_argument("--grid")
    lst.add_argument("--assignee")
    lst.add_argument("--category", choices=list(constants.CATEGORIES))
    lst.add_argument("--unrouted", action="store_true", help="only the unrouted queue")
    lst.add_argument("--limit", type=int, default=50)
    lst.add_argument("--json", action="store_true")

    show = sub.add_parser("show", help="one case with its timeline (personal data masked)")
    _db_option(show)
    show.add_argument("case_id", type=int)
    show.add_argument("--json", action="store_true")

    kpi = sub.add_parser("kpi", help="KPI table per area, worker or department")
    _db_option(kpi)
    kpi.add_argument("--by", default="grid",
                     choices=["district", "street", "community", "grid", "worker", "department"])
    kpi.add_argument("--since", type=_when, help="reported on or after (YYYY-MM-DD[ HH:MM])")
    kpi.add_argument("--until", type=_when, help="reported before")
    kpi.add_argument("--rank-by", default="score", help="score (composite, the default) or a rate")
    kpi.add_argument("--json", action="store_true")

    work = sub.add_parser("workload", help="open, overdue, closed this week, handling time and visits due")
    _db_option(work)
    work.add_argument("--by", default="worker", choices=["worker", "grid", "community"])
    work.add_argument("--out", type=Path, required=True, help="CSV to write")
    work.add_argument("--at", type=_when, default=None, help="time of evaluation (default now), e.g. 2026-11-20T12:00")

    seed = sub.add_parser("seed-demo", help="load the demo district's workers and cases (idempotent)")
    _db_option(seed)
    seed.add_argument("--demo-dir", type=Path, default=None, help="default: the configured demo_dir (data/demo)")
    seed.add_argument("--force", action="store_true", help="seed even when the store already has cases")

    users_cli.add_parser(sub)
    history_cli.add_parser(sub)
    return parser


def _engine(args: argparse.Namespace, *, create: bool) -> Engine:
    from store import db

    url = getattr(args, "db", None) or db.default_url()
    if not create:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
            raise InputError(url, "the store does not exist yet",
                             "run `python -m cases seed-demo` or `python -m cases import FILE` first")
    engine = db.make_engine(url)
    if not create and not db.is_migrated(engine):
        engine.dispose()
        raise InputError(url, "the store has no case tables", "run `python -m cases migrate` first")
    return engine


def _cmd_migrate(args: argparse.Namespace, out: Out) -> int:
    from store import db

    engine = _engine(args, create=True)
    try:
        db.upgrade(engine)
        out(f"store at revision {db.current_revision(engine)}")
    finally:
        engine.dispose()
    return 0


def _cmd_import(args: argparse.Namespace, out: Out) -> int:
    from cases import routing
    from intake.files import import_file
    from store import db

    rules = routing.load_rules(args.routing)
    engine = _engine(args, create=True)
    try:
        db.upgrade(engine)
        result = import_file(engine, args.file, hierarchy=args.hierarchy, actor=args.actor,
                                    rejects_path=args.rejects, source=args.source, coords=args.coords, rules=rules)
    finally:
        engine.dispose()
    out(f"{args.file}: {result.rows} rows, {result.added} added, {result.duplicates} duplicates, "
        f"{result.rejected} rejected, {result.unrouted} unrouted")
    if result.rejects_path:
        out(f"rejected rows and reasons: {result.rejects_path}")
    return 0


def _filter(args: argparse.Namespace) -> Any:
    from cases.queries import CaseFilter

    return CaseFilter(states=tuple(args.state or ()), category=args.category, assignee_id=args.assignee,
                      area_codes=tuple(c for c in (args.street, args.community, args.grid) if c),
                      unrouted=args.unrouted)


def _cmd_list(args: argparse.Namespace, out: Out) -> int:
    from access.database import read_session
    from cases import queries
    from core import clock

    flt = _filter(args)
    scope = queries.district_scope()
    engine = _engine(args, create=False)
    try:
        with read_session(engine) as session:
            frame = queries.list_cases(session, scope, flt, limit=args.limit)
            total = queries.total_cases(session, scope, flt)
    finally:
        engine.dispose()
    now = clock.now()
    summaries = [case_summary(queries.CaseView.from_row(row), now) for row in frame.to_dict("records")]
    if args.json:
        out(json.dumps({"total": total, "cases": summaries}, ensure_ascii=False))
        return 0
    table(["id", "order", "category", "state", "due", "grid", "assignee", "reported"],
           [[s["id"], s["source_id"], constants.CATEGORIES[s["category"]].zh, constants.STATES[s["state"]].zh,
             s["due"], s["grid_code"], s["assignee"] or f"未派单: {s['unrouted_reason'] or ''}".rstrip(": "),
             s["reported_at"]] for s in summaries], out)
    out(f"{len(summaries)} of {total} cases")
    return 0


def _cmd_show(args: argparse.Namespace, out: Out) -> int:
    from access.database import read_session
    from cases import queries
    from cases.notes import event_label
    from core import clock

    scope = queries.district_scope()
    engine = _engine(args, create=False)
    try:
        with read_session(engine) as session:
            c = queries.get_case(session, scope, args.case_id)
            events = queries.case_timeline(session, scope, c.id).to_dict("records")
    finally:
        engine.dispose()
    detail = case_detail(c, clock.now())
    detail["events"] = [{"seq": int(e["seq"]), "action": e["action"], "from_state": text_or_none(e["from_state"]),
                         "to_state": e["to_state"], "actor": e["actor"], "at": minute(e["at"]),
                         "note": text_or_none(e["note"])} for e in events]
    if args.json:
        out(json.dumps(detail, ensure_ascii=False))
        return 0
    out(f"案件 {c.id}  {constants.SOURCES[c.source].zh} {c.source_id}  [{constants.STATES[c.state].zh} / {c.state}]"
        f"  v{c.version}{'  督办' if c.supervised else ''}")
    for label, value in show_lines(c, detail):
        out(f"  {label}: {value if value not in (None, '') else '-'}")
    out("  时间线:")
    for e in detail["events"]:
        out(f"    {e['seq']:>3}  {e['at']}  {event_label(e['action'], 'zh')}({e['action']})  "
            f"{e['from_state'] or '-'} → {e['to_state']}"
            f"  by {e['actor']}{'  ' + e['note'] if e['note'] else ''}")
    return 0


def _cmd_kpi(args: argparse.Namespace, out: Out) -> int:
    from metrics import kpi
    from metrics.score import rank_text

    if args.rank_by != "score" and args.rank_by not in kpi.RATES:
        raise InputError("--rank-by", f"{args.rank_by!r} is not a rate",
                         f"use score or one of {', '.join(kpi.RATES)}")
    engine = _engine(args, create=False)
    try:
        report = kpi.kpi_table(engine, by=None if args.by == "district" else args.by, since=args.since,
                               until=args.until, rank_by=args.rank_by)
    finally:
        engine.dispose()
    if args.json:
        out(json.dumps(report.to_dict(), ensure_ascii=False))
        return 0
    cols = ["rank", "code", "score", "reported", "closed", "due", "closure_rate", "on_time_rate", "rework_rate",
            "extension_rate", "mean_handling_hours", "arrival_rate", "mean_arrival_minutes", "satisfaction_rate"]
    heads = ["名次", "编码", "综合得分", "受理", "结案", "应结", "结案率", "按期结案率", "返工率", "延期率", "处置h",
             "按时到场率", "到场min", "满意率"]

    def cells(r: dict[str, Any]) -> list[Any]:
        values = []
        for col in cols:
            v = r.get(col)
            if col == "rank":
                values.append(r["rank"] if r["rank"] == "合计" else rank_text(r))
            elif col.endswith("_rate") or col == "score":
                g = r.get(f"grade_{col}")
                values.append(percent(v) + ({"green": "", "yellow": " 黄", "red": " 红"}.get(g or "", "")))
            elif col.startswith("mean_"):
                values.append(number(v))
            else:
                values.append("-" if v is None else str(v))
        return values

    table(heads, [cells(r) for r in report.rows] + [cells({**report.total, "rank": "合计"})], out)
    window = f"{minute(args.since) or '…'} – {minute(args.until) or '…'}"
    out(f"by {args.by}, reported {window}, evaluated {minute(report.now)}; ranked by {args.rank_by}; "
        "formulas: python -m cases kpi --json")
    return 0


def _cmd_seed(args: argparse.Namespace, out: Out) -> int:
    from demo import seed

    engine = _engine(args, create=True)
    try:
        summary = seed.seed_demo(engine, demo_dir=args.demo_dir, force=args.force, log=out)
    finally:
        engine.dispose()
    out(summary)
    return 0


def _cmd_workload(args: argparse.Namespace, out: Out) -> int:
    from access.database import read_session
    from cases.queries import district_scope
    from core import clock
    from core.spreadsheet import write_table
    from metrics.workload import balance, workload_table

    at = args.at or clock.now()
    engine = _engine(args, create=False)
    try:
        with read_session(engine) as session:
            table = workload_table(session, district_scope(), by=args.by, at=at)
            workers = table if args.by == "worker" else workload_table(session, district_scope(), by="worker", at=at)
    finally:
        engine.dispose()
    write_table(table, args.out, fmt="csv")
    out(f"{args.out}: {len(table)} {args.by} rows at {at:%Y-%m-%d %H:%M}")
    out(balance(workers["open"]).line())
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Out], int]] = {
    "migrate": _cmd_migrate,
    "import": _cmd_import,
    "list": _cmd_list,
    "show": _cmd_show,
    "kpi": _cmd_kpi,
    "seed-demo": _cmd_seed,
    "workload": _cmd_workload,
}


def main(argv: Sequence[str] | None = None, *, out: Out = print) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 error with one line on stderr)."""
    args = build_parser().parse_args(argv)
    if args.command not in COMMANDS:
        return args.func(args)
    try:
        return COMMANDS[args.command](args, out)
    except GridCommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
    except OperationalError as exc:
        print(f"error: database unavailable or locked: {str(exc.orig).splitlines()[0]}", file=sys.stderr)
    except SQLAlchemyError as exc:
        print(f"error: database error: {str(exc).splitlines()[0]}", file=sys.stderr)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
    return 2
