"""``python -m cases generate-history``: a synthetic city-scale history in bulk (:mod:`cases.history`).

``--cases N [--db URL] [--seed S] [--months M] [--hierarchy P] [--now ISO-TIME]``; prints one
summary line (rows, seconds, rows/s). Bad arguments and store errors: one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from core.errors import GridCommandError, InputError


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``generate-history`` to a ``python -m cases`` sub-parser set; returns its parser.

    The values are checked by :func:`run` (one line on a mistake, not argparse's usage block).
    """
    cmd = subparsers.add_parser("generate-history", help="write a synthetic history of N cases (COPY on PostgreSQL)")
    cmd.add_argument("--db", default=argparse.SUPPRESS, metavar="URL", help="store URL (default: the configured store)")
    cmd.add_argument("--cases", default=None, metavar="N", help="how many cases, e.g. 10000000")
    cmd.add_argument("--seed", default="0", metavar="S", help="random seed (default 0)")
    cmd.add_argument("--months", default="24", metavar="M", help="months of history before now (default 24)")
    cmd.add_argument("--hierarchy", type=Path, default=None, help="hierarchy.gpkg (default: the configured one)")
    cmd.add_argument("--now", default=None, metavar="ISO-TIME", help="end of the history (default now)")
    cmd.set_defaults(func=run)
    return cmd


def _whole(name: str, value: str, *, least: int, example: str) -> int:
    try:
        number = int(str(value).replace("_", "").replace(",", ""))
    except ValueError:
        number = least - 1
    if number < least:
        raise InputError(name, f"{value!r} is not a whole number of at least {least}", f"write e.g. {name} {example}")
    return number


def run(args: argparse.Namespace, *, out: Callable[[str], None] = print) -> int:
    """Execute a parsed ``generate-history``; 0 with the summary line, 2 with one error line."""
    from sqlalchemy.exc import SQLAlchemyError

    from cases.history import generate_history
    from store import db

    try:
        if args.cases is None:
            raise InputError("--cases", "how many cases to generate is missing", "add e.g. --cases 100000")
        cases = _whole("--cases", args.cases, least=1, example="100000")
        seed = _whole("--seed", args.seed, least=0, example="0")
        months = _whole("--months", args.months, least=1, example="24")
        try:
            now = datetime.fromisoformat(args.now) if args.now else None
        except ValueError:
            raise InputError("--now", f"{args.now!r} is not a time", "write e.g. 2026-12-06T23:00") from None
        if args.hierarchy is not None and not Path(args.hierarchy).is_file():
            raise InputError(str(args.hierarchy), "hierarchy file not found", "give a hierarchy.gpkg")
        engine = db.make_engine(getattr(args, "db", None))
        try:
            db.upgrade(engine)
            result = generate_history(engine, cases=cases, seed=seed, months=months, hierarchy=args.hierarchy,
                                      now=now)
        finally:
            engine.dispose()
    except GridCommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"error: database error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    out(result.summary())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point (``python -m cases.history_cli generate-history ...``)."""
    parser = argparse.ArgumentParser(prog="python -m cases")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
