"""``python -m reports``: the leaders' weekly, monthly or quarterly report as PDF or PPTX.

::

    python -m reports weekly|monthly|quarterly [--period 2026-W27|2026-11|2026-Q4] [--area CODE]
                      --out FILE.pdf|FILE.pptx [--at "YYYY-MM-DD HH:MM"] [--measure M] [--lang zh|en]

``--period`` defaults to the last complete week, month or quarter; ``--area`` (a street, community
or grid code) to the whole district; ``--at`` (the time of evaluation) to now. Prints the file,
its title and the headline figures. Exit 0, or 2 with a one-line error on stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from access.database import open_store, read_session
from cases.queries import district_scope
from core import clock
from core.errors import GridCommandError, InputError
from core.settings import load_settings
from geo import read_hierarchy
from metrics.briefing import MAP_MEASURES
from metrics.periods import last_complete, parse_period
from reports.make import format_of, make_report
from reports.wording import REPORT_KINDS
from store import db


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m reports``."""
    parser = argparse.ArgumentParser(prog="python -m reports", description="Leaders' reports (周报/月报/季报)")
    parser.add_argument("kind", choices=list(REPORT_KINDS), help="weekly, monthly or quarterly")
    parser.add_argument("--period", default=None,
                        help="2026-W27 (weekly), 2026-11 (monthly), 2026-Q4 (quarterly); default the last complete one")
    parser.add_argument("--area", default=None, help="a street, community or grid code (default: the district)")
    parser.add_argument("--out", type=Path, required=True, help="FILE.pdf (A4) or FILE.pptx (16:9)")
    parser.add_argument("--at", default=None, help='time of evaluation, "YYYY-MM-DD HH:MM" (default: now)')
    parser.add_argument("--measure", default="on_time_rate", choices=list(MAP_MEASURES), help="what colours the map")
    parser.add_argument("--lang", default="zh", choices=["zh", "en"], help="language of the report")
    parser.add_argument("--hierarchy", type=Path, default=None, help="hierarchy.gpkg (default: the configured one)")
    return parser


def _when(text: str | None) -> datetime:
    if not text:
        return clock.now()
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError("--at", f"not a time: {text!r}", 'write it as "YYYY-MM-DD HH:MM"') from None


def _store(url: str) -> Engine:
    """The case store, read as it is (a report never creates or migrates one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        raise InputError(url, "the store does not exist yet", "run `python -m cases seed-demo` or import cases first")
    engine = open_store(url, migrate=False)
    if not db.is_migrated(engine):
        engine.dispose()
        raise InputError(url, "the store has no case tables", "run `python -m cases migrate` first")
    return engine


def _run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    settings = load_settings()
    fmt = format_of(args.out)
    kind = REPORT_KINDS[args.kind]
    now = _when(args.at)
    period = parse_period(args.period, kind) if args.period else last_complete(kind, now)
    path = Path(args.hierarchy or settings.hierarchy_path)
    if not path.is_file():
        raise InputError(str(path), "hierarchy file not found",
                         "build it with `python -m geo build ...` or pass --hierarchy")
    hierarchy = dict(read_hierarchy(path))
    engine = _store(settings.database_url)
    with read_session(engine) as session:
        report = make_report(session, district_scope("reports-cli"), period, fmt=fmt, now=now, hierarchy=hierarchy,
                             metric_crs=settings.metric_crs, area=args.area, measure=args.measure, lang=args.lang)
    engine.dispose()
    args.out.write_bytes(report.data)
    figures = " · ".join(f"{row.label} {row.value}" for row in report.content.headline)
    print(f"{args.out}: {report.content.title} ({report.content.subtitle}), {len(report.data) / 1024:,.0f} KB, "
          f"{time.perf_counter() - started:.1f} s")
    print(figures)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; 0 ok, 2 with a one-line error on stderr."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except (GridCommandError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    return 2
