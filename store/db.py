"""Engine, migrations and sessions of the case store.

The same code serves the embedded SQLite file (default ``data/gridcommand.db``, WAL mode) and
PostgreSQL + PostGIS (``postgresql+psycopg://...``). Schema changes only go through the Alembic
migrations in ``store/migrations``, run programmatically by :func:`upgrade`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import InputError
from core.pool import pool_limits
from core.settings import load_settings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Milliseconds a SQLite writer waits for another writer's lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 15_000
#: Page cache per SQLite connection, KiB (bulk imports touch many index pages).
SQLITE_CACHE_KIB = 65_536


def default_url() -> str:
    """The configured store URL (``DATABASE_URL`` or ``gridcommand.toml``, else the embedded file)."""
    return load_settings().database_url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


#: One write lock per SQLite file and process: writers queue on it instead of SQLite's
#: sleep-and-retry busy handler (which stretches latency to tens of milliseconds under load).
_WRITE_LOCKS: dict[str, threading.RLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()
_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _write_lock(database: str) -> threading.RLock:
    key = str(Path(database).expanduser().resolve())
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.RLock())


def _serialise_sqlite_writers(engine: Engine, database: str) -> None:
    """Take the process's write lock at a transaction's first write; release it at its end."""
    lock = _write_lock(database)

    def before_execute(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        if not conn.info.get("gc_write_lock") and statement.lstrip()[:7].upper().startswith(_WRITE_VERBS):
            # bounded: a writer that never ends its transaction cannot hang the others; past the
            # timeout SQLite's own busy handler decides (and reports "database is locked")
            if lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
                conn.info["gc_write_lock"] = True

    def release(dbapi_connection: Any, connection_record: Any) -> None:
        if connection_record.info.pop("gc_write_lock", False):
            lock.release()

    def release_on_reset(dbapi_connection: Any, connection_record: Any, reset_state: Any) -> None:
        release(dbapi_connection, connection_record)

    def release_conn(conn: Any, *args: Any) -> None:
        if conn.info.pop("gc_write_lock", False):
            lock.release()

    event.listen(engine, "before_cursor_execute", before_execute)
    event.listen(engine, "commit", release_conn)
    event.listen(engine, "rollback", release_conn)
    event.listen(engine.pool, "reset", release_on_reset)
    event.listen(engine.pool, "checkin", release)


def make_engine(url: str | None = None, *, echo: bool = False) -> Engine:
    """Create the engine of the case store.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL, e.g. ``sqlite:///data/gridcommand.db`` or
        ``postgresql+psycopg://user@host:5432/gridcommand``; default :func:`default_url`.
        For SQLite the parent folder is created; WAL, foreign keys and a busy timeout are set.
    echo : bool
        Log SQL statements.

    Returns
    -------
    sqlalchemy.Engine
    """
    url = url or default_url()
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InputError("--db", f"not a database URL: {url!r}",
                         "use sqlite:///path/to/file.db or postgresql+psycopg://user@host/db") from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        if database and database != ":memory:":
            _serialise_sqlite_writers(engine, database)
        return engine
    if parsed.get_backend_name() == "postgresql":
        # no server-side prepared statements: their generic plans turned the intake's
        # "source_id IN (2,000 ids)" look-ups into sequential scans (seconds each)
        connect_args = {"prepare_threshold": None} if parsed.get_driver_name() == "psycopg" else {}
        limits = pool_limits()  # sized per process for a cluster (core/pool.py)
        return create_engine(parsed, echo=echo, pool_pre_ping=True, pool_size=limits.size,
                             max_overflow=limits.overflow, connect_args=connect_args)
    msg = f"unsupported database backend {parsed.get_backend_name()!r} in {url!r}"
    raise InputError("--db", msg, "use SQLite (sqlite:///...) or PostgreSQL (postgresql+psycopg://...)")


def _as_engine(engine_or_url: Engine | str | None) -> tuple[Engine, bool]:
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    return make_engine(engine_or_url), True


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine_or_url: Engine | str | None = None, *, revision: str = "head") -> None:
    """Migrate the store to ``revision`` (default the newest), creating it if needed.

    Parameters
    ----------
    engine_or_url : Engine or str, optional
        The store; default the configured URL.
    revision : str
        Alembic revision to reach.
    """
    from alembic import command

    engine, owned = _as_engine(engine_or_url)
    try:
        config = _alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except OperationalError as exc:
        raise InputError(str(engine.url), f"cannot open or migrate the store ({exc.orig})",
                         "check the URL, that the server runs and that you may write to it") from exc
    finally:
        if owned:
            engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The store's Alembic revision, or ``None`` before the first migration."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_migrated(engine: Engine) -> bool:
    """Whether the store has the case tables."""
    return inspect(engine).has_table("cases")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine`` (objects stay readable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    factory = session_factory(engine)
    with factory() as session, session.begin():
        yield session
