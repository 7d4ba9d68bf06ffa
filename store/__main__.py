"""``python -m store``: back up and restore the case store (logic in :mod:`store.backup`).

::

    python -m store backup --out FILE [--db URL]
    python -m store restore FILE [--db URL] [--force]

``--db`` defaults to the configured store. Errors print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from core.errors import GridCommandError

Out = Callable[[str], None]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m store``."""
    parser = argparse.ArgumentParser(prog="python -m store", description="Grid Command store: backup and restore")
    sub = parser.add_subparsers(dest="command", required=True)
    db_help = ("store URL, e.g. sqlite:///data/gridcommand.db or postgresql+psycopg://... "
               "(default: DATABASE_URL / gridcommand.toml / the embedded file)")

    back = sub.add_parser("backup", help="write a backup of the store (safe while it is in use)")
    back.add_argument("--out", type=Path, required=True, metavar="FILE", help="the backup file to write")
    back.add_argument("--db", default=None, metavar="URL", help=db_help)

    rest = sub.add_parser("restore", help="restore a backup into the store")
    rest.add_argument("file", type=Path, metavar="FILE", help="a file written by `python -m store backup`")
    rest.add_argument("--db", default=None, metavar="URL", help=db_help)
    rest.add_argument("--force", action="store_true", help="replace a store that holds cases")
    return parser


def _shown(url: str | None) -> str:
    from store import db

    try:
        return make_url(url or db.default_url()).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return str(url)


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def _run(args: argparse.Namespace, out: Out) -> int:
    from store import backup

    if args.command == "backup":
        summary = backup.backup(args.out, args.db)
        out(f"backup of {_shown(args.db)} written to {args.out} ({_size(args.out)}): {summary.cases} cases, "
            f"{summary.events} events, revision {summary.revision}")
    else:
        summary = backup.restore(args.file, args.db, force=args.force)
        out(f"restored {args.file} into {_shown(args.db)}: {summary.cases} cases, {summary.events} events, "
            f"revision {summary.revision}")
    return 0


def main(argv: Sequence[str] | None = None, *, out: Out = print) -> int:
    """Run the command line; returns the exit status (0 ok, 2 error with one line on stderr)."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args, out)
    except GridCommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
    except OperationalError as exc:
        print(f"error: {_shown(args.db)}: database unavailable or locked: {str(exc.orig).splitlines()[0]}",
              file=sys.stderr)
    except (SQLAlchemyError, sqlite3.Error) as exc:
        print(f"error: {_shown(args.db)}: database error: {str(exc).splitlines()[0]}", file=sys.stderr)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
