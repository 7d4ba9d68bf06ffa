"""Backups of the case store that restore (``python -m store backup|restore``, see :mod:`store.__main__`).

- SQLite: the online backup API (:meth:`sqlite3.Connection.backup`) copies the store in one step
  from one consistent snapshot while writers go on (WAL). The copy is a single self-contained file
  (rollback journal), passes ``PRAGMA integrity_check`` and only then replaces the output file.
  A restore copies the backup into the target through the same API: one transaction under the
  target's own locks, so open connections see the old store or the new one, never a mix.
- PostgreSQL: ``pg_dump --format=custom`` from an exported snapshot (the counts reported are those
  of the dump), restored by ``pg_restore --clean --if-exists --no-owner`` piped into ``psql`` in
  one transaction, committed only when both succeed (a failed restore leaves the target as it
  was). The tools are taken from ``PATH``, else from the newest ``/usr/lib/postgresql/<version>/bin``.

A restore refuses to replace a store that holds cases unless ``force`` is given, and refuses a
backup whose schema revision this code does not know (made by a newer version).
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from core.errors import InputError
from store import db, pg_programs

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
#: Where Debian installs the PostgreSQL programs when they are not on ``PATH``.
_NOT_A_BACKUP_FIX = "pass a file written by `python -m store backup --out FILE`"


@dataclass(frozen=True)
class Summary:
    """What a backup holds, or what a restore put in place.

    Attributes
    ----------
    backend : str
        ``sqlite`` or ``postgresql``.
    cases, events : int
        Rows of ``cases`` and ``case_events``.
    revision : str or None
        The Alembic revision of the schema.
    """

    backend: str
    cases: int
    events: int
    revision: str | None


def backup(out: Path | str, url: str | None = None) -> Summary:
    """Write a backup of the store at ``url`` to ``out``, safely while writers run.

    Parameters
    ----------
    out : Path or str
        The backup file; replaced atomically once the backup is complete and checked.
    url : str, optional
        The store; default :func:`store.db.default_url`.

    Returns
    -------
    Summary
        What the backup holds.

    Raises
    ------
    core.errors.InputError
        No such store, not a Grid Command store, or the backup could not be written.
    """
    parsed = _parse(url)
    out = Path(out).expanduser()
    if out.is_dir():
        raise InputError(str(out), "is a folder", "name a file, e.g. --out backups/gridcommand.backup")
    out.parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "sqlite":
        return _backup_sqlite(_sqlite_path(parsed), out)
    return _backup_postgresql(parsed, out)


def restore(path: Path | str, url: str | None = None, *, force: bool = False) -> Summary:
    """Restore the backup ``path`` into the store at ``url``.

    Parameters
    ----------
    path : Path or str
        A file written by :func:`backup` (a SQLite file or a ``pg_dump`` custom archive, matching
        the target's backend).
    url : str, optional
        The target store; default :func:`store.db.default_url`. A PostgreSQL database must exist.
    force : bool
        Replace a store that holds cases.

    Returns
    -------
    Summary
        What the restored store holds.

    Raises
    ------
    core.errors.InputError
        Missing, unreadable or foreign backup file, a backend mismatch, an unknown schema
        revision, or a target with cases and no ``force``.
    """
    parsed = _parse(url)
    path = Path(path).expanduser()
    kind = backup_kind(path)
    backend = parsed.get_backend_name()
    if kind != backend:
        raise InputError(str(path), f"is a {kind} backup but the target store is {backend}",
                         f"restore it into a {kind} store (--db), or take a backup of a {backend} store")
    if backend == "sqlite":
        return _restore_sqlite(path, _sqlite_path(parsed), force=force)
    return _restore_postgresql(path, parsed, force=force)


def backup_kind(path: Path) -> str:
    """``sqlite`` or ``postgresql``: the kind of backup file ``path``, from its first bytes.

    Raises
    ------
    core.errors.InputError
        The file is missing, unreadable or neither kind.
    """
    if not path.is_file():
        raise InputError(str(path), "no such backup file", f"check the path; {_NOT_A_BACKUP_FIX}")
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise InputError(str(path), "is not a Grid Command backup (neither a SQLite file nor a pg_dump archive)",
                     _NOT_A_BACKUP_FIX)


def _parse(url: str | None) -> URL:
    url = url or db.default_url()
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InputError("--db", f"not a database URL: {url!r}",
                         "use sqlite:///path/to/file.db or postgresql+psycopg://user@host/db") from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise InputError("--db", f"unsupported database backend {parsed.get_backend_name()!r}",
                         "use SQLite (sqlite:///...) or PostgreSQL (postgresql+psycopg://...)")
    return parsed


def _sqlite_path(parsed: URL) -> Path:
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        raise InputError("--db", f"{parsed} is not a SQLite file", "use sqlite:///path/to/file.db")
    return Path(database).expanduser()


def _summary(backend: str, scalar: Callable[[str], Any]) -> Summary:
    return Summary(backend, int(scalar("SELECT count(*) FROM cases")),
                   int(scalar("SELECT count(*) FROM case_events")),
                   scalar("SELECT max(version_num) FROM alembic_version"))


def _sqlite_scalar(conn: sqlite3.Connection) -> Callable[[str], Any]:
    return lambda sql: conn.execute(sql).fetchone()[0]


def _temp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _sqlite_checked(conn: sqlite3.Connection, name: str) -> Summary:
    """Integrity check, then what the SQLite store on ``conn`` holds (``name`` for messages)."""
    problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    if problems != ["ok"]:
        raise InputError(name, f"fails the SQLite integrity check ({problems[0]})",
                         "use another backup; keep this file for inspection")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"cases", "case_events", "alembic_version"} <= tables:
        raise InputError(name, "is not a Grid Command store (no case tables)", _NOT_A_BACKUP_FIX)
    return _summary("sqlite", _sqlite_scalar(conn))


def _backup_sqlite(source: Path, out: Path) -> Summary:
    if not source.is_file():
        raise InputError(str(source), "the store does not exist", "check --db / DATABASE_URL")
    if out.exists() and out.resolve() == source.resolve():
        raise InputError(str(out), "is the store itself", "write the backup to another file")
    tmp = _temp_beside(out)
    try:
        with closing(sqlite3.connect(source, timeout=db.SQLITE_BUSY_TIMEOUT_MS / 1000)) as src, \
                closing(sqlite3.connect(tmp)) as dst:
            src.backup(dst)  # one step: one consistent snapshot, writers go on meanwhile (WAL)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            summary = _sqlite_checked(dst, str(source))
        os.replace(tmp, out)
    except sqlite3.Error as exc:
        raise InputError(str(source), f"cannot back up the store ({exc})",
                         "check that it is a Grid Command SQLite store and the output folder is writable") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return summary


def _refuse_non_empty(cases: int, target: str, force: bool) -> None:
    if cases and not force:
        raise InputError(target, f"holds {cases} cases already; a restore would replace them",
                         "restore into an empty store, or pass --force to replace it "
                         "(back it up first with `python -m store backup`)")


def _restore_sqlite(path: Path, target: Path, *, force: bool) -> Summary:
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as src:
            backed_up = _sqlite_checked(src, str(path))
    except sqlite3.Error as exc:
        raise InputError(str(path), f"is not a readable SQLite backup ({exc})", _NOT_A_BACKUP_FIX) from exc
    _require_known_revision(backed_up.revision, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with closing(sqlite3.connect(target, timeout=db.SQLITE_BUSY_TIMEOUT_MS / 1000)) as dst:
            has_cases = dst.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cases'").fetchone()
            _refuse_non_empty(int(dst.execute("SELECT count(*) FROM cases").fetchone()[0]) if has_cases else 0,
                              str(target), force)
            with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as src:
                src.backup(dst)  # one transaction on the target, under its own locks
            dst.execute("PRAGMA journal_mode=WAL")
            return _sqlite_checked(dst, str(target))
    except sqlite3.Error as exc:
        raise InputError(str(target), f"cannot restore into the store ({exc})",
                         "check the path and that no other program keeps the store locked") from exc


def _require_known_revision(revision: str | None, path: Path) -> None:
    from alembic.script import ScriptDirectory

    known = {script.revision for script in ScriptDirectory(str(db.MIGRATIONS_DIR)).walk_revisions()}
    if revision not in known:
        raise InputError(str(path), f"has schema revision {revision!r}, which this version does not know",
                         "restore it with the Grid Command version that wrote it (or a newer one)")


def _libpq(parsed: URL) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and the environment that carries the password."""
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


@contextmanager
def _pg_connection(parsed: URL) -> Iterator[Connection]:
    engine = db.make_engine(parsed.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _pg_scalar(conn: Connection) -> Callable[[str], Any]:
    return lambda sql: conn.execute(text(sql)).scalar()


def _backup_postgresql(parsed: URL, out: Path) -> Summary:
    shown = parsed.render_as_string(hide_password=True)
    uri, env = _libpq(parsed)
    pg_dump = pg_programs.pg_tool("pg_dump")
    tmp = _temp_beside(out)
    try:
        with _pg_connection(parsed) as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                if not inspect(conn).has_table("cases"):
                    raise InputError(shown, "is not a Grid Command store (no case tables)", "check --db / DATABASE_URL")
                snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                summary = _summary("postgresql", _pg_scalar(conn))
                pg_programs.run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={tmp}",
                                 f"--dbname={uri}"], env=env, source=shown,
                                fix="check the URL, that the server runs and that pg_dump matches it")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return summary


def _pg_backup_revision(pg_restore: str, path: Path) -> str | None:
    """The Alembic revision stored in the pg_dump archive ``path`` (checked to be a store's)."""
    fix = _NOT_A_BACKUP_FIX
    listing = pg_programs.run([pg_restore, "--list", str(path)], env=None, source=str(path), fix=fix)
    if not re.search(r"\bTABLE public cases\b", listing) or "alembic_version" not in listing:
        raise InputError(str(path), "is not a Grid Command backup (no case tables)", fix)
    script = pg_programs.run([pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(path)],
                             env=None, source=str(path), fix=fix)
    rows = script.split("COPY public.alembic_version", 1)[-1].split("\n")[1:]
    return next((row.strip() for row in rows if row.strip() and row.strip() != "\\."), None)


def _restore_postgresql(path: Path, parsed: URL, *, force: bool) -> Summary:
    shown = parsed.render_as_string(hide_password=True)
    pg_restore = pg_programs.pg_tool("pg_restore")
    _require_known_revision(_pg_backup_revision(pg_restore, path), path)
    with _pg_connection(parsed) as conn:
        cases = int(conn.execute(text("SELECT count(*) FROM cases")).scalar_one()) \
            if inspect(conn).has_table("cases") else 0
    _refuse_non_empty(cases, shown, force)
    uri, env = _libpq(parsed)
    # pg_restore's own --clean cannot drop the constraints a month partition inherits: its script
    # goes through psql in one transaction that first drops the partitioned cases table itself (and
    # case_keys, which a backup made before the partitions would not know to drop)
    pg_programs.restore_script([pg_restore, "--clean", "--if-exists", "--no-owner", "--file=-", str(path)],
                               uri, env, first="DROP TABLE IF EXISTS public.cases, public.case_keys CASCADE",
                               source=str(path),
                               fix=f"nothing was changed in {shown}; check the database exists and you may write "
                                   "to it, or use another backup")
    with _pg_connection(parsed) as conn:
        return _summary("postgresql", _pg_scalar(conn))
