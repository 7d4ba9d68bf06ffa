"""Daily KPI roll-up of the store, kept exact by triggers (SQLite and PostgreSQL).

SQLite scans a million cases and evaluates every indicator's expression per row in several
seconds, PostgreSQL ten million in a few; a roll-up turns the KPI table of a year into a read of
one row per day, area and assignee.
``kpi_daily`` holds, per reported day (``day``, 'YYYY-MM-DD') and key (street, community, grid,
assignee kind and id; ``''`` stands for none), the sum of each case's contributions that do not
depend on the time of evaluation (:func:`metrics.kpi.settled_measures`). Triggers on ``cases``
add a new row's contributions, subtract an old row's, and so follow every insert, update and
delete, whatever writes them (the lifecycle, intake, bulk SQL). The parts that do depend on
"now" (open cases past their deadline) are always counted live from the open cases, through
the partial index ``ix_cases_open_deadlines``.

On PostgreSQL, where dispatchers write concurrently, the trigger does not update ``kpi_daily``
(the dispatchers of one grid would queue on its row until each commit, and two reassignments in
opposite directions could deadlock): it appends the signed contributions to ``kpi_daily_delta``,
a table without a key, and the scheduled job ``kpi_fold`` moves that delta into ``kpi_daily``
(:func:`fold_delta`). Queries read both (:func:`source`), so they are exact between folds too.

The trigger bodies are generated from the same SQLAlchemy expressions as the direct query, so
the two paths cannot disagree; :func:`install` (re)creates table, triggers and contents and is
what a migration calls whenever the formulas change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

TABLE_NAME = "kpi_daily"
#: PostgreSQL: the contributions appended by the trigger, folded into ``kpi_daily`` by a job.
DELTA_NAME = "kpi_daily_delta"
#: PostgreSQL: the row trigger on ``cases`` and its function.
PG_TRIGGER = "trg_kpi_daily"
PG_FUNCTION = "kpi_daily_track"
#: PostgreSQL: TRUNCATE of ``cases`` (no row triggers) empties the roll-up through these.
PG_TRUNCATE_TRIGGER, PG_TRUNCATE_FUNCTION = "trg_kpi_daily_truncate", "kpi_daily_clear"
#: Key columns besides ``day``: the hierarchy codes and the assignee.
KEY_COLUMNS: tuple[str, ...] = ("street_code", "community_code", "grid_code", "assignee_kind", "assignee_id")
#: Columns of ``cases`` the roll-up reads (an UPDATE touching none of them fires no trigger).
_SOURCE_COLUMNS: tuple[str, ...] = (
    "reported_at", *KEY_COLUMNS, "category", "registered_at", "dispatched_at", "arrived_at", "handled_at",
    "closed_at", "arrive_due", "close_due", "extension_state", "extended_close_due", "rework_count", "satisfaction",
)
#: The open cases whose deadline may pass: what the live part of a KPI query reads (covering).
OPEN_INDEX = "ix_cases_open_deadlines"
OPEN_CONDITION = "dispatched_at IS NOT NULL AND (closed_at IS NULL OR arrived_at IS NULL)"
_OPEN_INDEX_COLUMNS: tuple[str, ...] = (
    "grid_code", "community_code", "street_code", "assignee_kind", "assignee_id", "reported_at", "category",
    "dispatched_at", "closed_at", "arrived_at", "close_due", "extension_state", "extended_close_due", "arrive_due",
)


def rollup_table(measures: tuple[str, ...], name: str = TABLE_NAME, *, keyed: bool = True) -> sa.Table:
    """The ``kpi_daily`` table, or with ``keyed=False`` a table of the same columns without a key
    (PostgreSQL's delta). Its own metadata: the models do not hold it."""
    metadata = sa.MetaData()
    return sa.Table(
        name, metadata,
        sa.Column("day", sa.String(10), primary_key=keyed),
        *(sa.Column(key, sa.String(64), primary_key=keyed) for key in KEY_COLUMNS),
        *(sa.Column(measure, sa.BigInteger, nullable=False, server_default="0") for measure in measures),
    )


def day_of(column: Any, dialect: str) -> Any:
    """The ``'YYYY-MM-DD'`` text of a timestamp column: the roll-up's ``day``."""
    if dialect == "postgresql":
        return sa.func.to_char(column, "YYYY-MM-DD")
    return sa.func.date(column)


def source(dialect: str, measures: tuple[str, ...]) -> Any:
    """What KPI queries read the settled sums from: ``kpi_daily``, plus on PostgreSQL the delta
    not folded in yet, as one selectable of the same columns."""
    table = rollup_table(measures)
    if dialect != "postgresql":
        return table
    delta = rollup_table(measures, DELTA_NAME, keyed=False)
    return sa.union_all(sa.select(*table.c), sa.select(*delta.c)).subquery(TABLE_NAME)


class _RowRef:
    """``NEW.x`` / ``OLD.x`` column references for trigger bodies."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return literal_column(f"{self._prefix}.{name}")


def _sql(expression: Any, dialect: Any) -> str:
    return str(expression.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _row_values(measures: dict[str, Any], row: str, sign: str, dialect: str) -> tuple[str, str]:
    """The column list and the VALUES of one trigger row's contributions (signed)."""
    ref = _RowRef(row)
    compiler = postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()
    keys = [_sql(day_of(ref.reported_at, dialect), compiler)] + [f"coalesce({row}.{k}, '')" for k in KEY_COLUMNS]
    values = [f"{sign}({_sql(expr(ref), compiler)})" for expr in measures.values()]
    return ", ".join(("day", *KEY_COLUMNS, *measures)), ", ".join(keys + values)


def _upsert(measures: dict[str, Any], row: str, sign: str) -> str:
    names, values = _row_values(measures, row, sign, "sqlite")
    updates = ", ".join(f"{m} = {m} + excluded.{m}" for m in measures)
    return (f"INSERT INTO {TABLE_NAME} ({names}) VALUES ({values}) "
            f"ON CONFLICT (day, {', '.join(KEY_COLUMNS)}) DO UPDATE SET {updates};")


def _append(measures: dict[str, Any], row: str, sign: str) -> str:
    names, values = _row_values(measures, row, sign, "postgresql")
    return f"INSERT INTO {DELTA_NAME} ({names}) VALUES ({values});"


def install(connection: Connection, measures: dict[str, Any]) -> None:
    """(Re)create the roll-up, its triggers and the open-deadline index, and fill it from ``cases``.

    Parameters
    ----------
    connection : Connection
        A SQLite or PostgreSQL connection inside a transaction (a migration's).
    measures : dict
        Name -> function of a column namespace returning the case's contribution (an integer
        SQL expression); :func:`metrics.kpi.settled_measures`.
    """
    uninstall(connection)
    table = rollup_table(tuple(measures))
    table.create(connection)
    if connection.dialect.name == "postgresql":
        _create_postgresql_trigger(connection, measures)
    else:
        _create_sqlite_triggers(connection, measures)
    connection.exec_driver_sql(f"DROP INDEX IF EXISTS {OPEN_INDEX}")
    connection.exec_driver_sql(
        f"CREATE INDEX {OPEN_INDEX} ON cases ({', '.join(_OPEN_INDEX_COLUMNS)}) "
        f"WHERE {OPEN_CONDITION}")
    fold_cases(connection, table, measures, after_id=None)


def _create_sqlite_triggers(connection: Connection, measures: dict[str, Any]) -> None:
    columns = ", ".join(_SOURCE_COLUMNS)
    connection.exec_driver_sql(
        f"CREATE TRIGGER trg_kpi_daily_insert AFTER INSERT ON cases BEGIN {_upsert(measures, 'NEW', '+')} END")
    connection.exec_driver_sql(
        f"CREATE TRIGGER trg_kpi_daily_delete AFTER DELETE ON cases BEGIN {_upsert(measures, 'OLD', '-')} END")
    connection.exec_driver_sql(
        f"CREATE TRIGGER trg_kpi_daily_update AFTER UPDATE OF {columns} ON cases BEGIN "
        f"{_upsert(measures, 'OLD', '-')} {_upsert(measures, 'NEW', '+')} END")


def _create_postgresql_trigger(connection: Connection, measures: dict[str, Any]) -> None:
    """The delta table and one row trigger appending to it: plain inserts into a table without a
    key, so two transactions never wait for each other (an upsert into ``kpi_daily`` would make
    the dispatchers of one grid queue on its row, and reassignments could deadlock)."""
    rollup_table(tuple(measures), DELTA_NAME, keyed=False).create(connection)
    body = (f"IF TG_OP <> 'INSERT' THEN {_append(measures, 'OLD', '-')} END IF; "
            f"IF TG_OP <> 'DELETE' THEN {_append(measures, 'NEW', '+')} END IF; RETURN NULL;")
    connection.exec_driver_sql(
        f"CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN {body} END $body$")
    connection.exec_driver_sql(
        f"CREATE TRIGGER {PG_TRIGGER} AFTER INSERT OR DELETE OR UPDATE OF {', '.join(_SOURCE_COLUMNS)} "
        f"ON cases FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()")
    connection.exec_driver_sql(
        f"CREATE FUNCTION {PG_TRUNCATE_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN "
        f"TRUNCATE {TABLE_NAME}, {DELTA_NAME}; RETURN NULL; END $body$")
    connection.exec_driver_sql(
        f"CREATE TRIGGER {PG_TRUNCATE_TRIGGER} AFTER TRUNCATE ON cases "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_TRUNCATE_FUNCTION}()")


def fold_delta(connection: Connection, measures: tuple[str, ...]) -> int:
    """Move PostgreSQL's delta into ``kpi_daily`` (one statement); the number of roll-up rows
    changed, 0 elsewhere. Rows appended meanwhile stay for the next fold; queries read both.

    Parameters
    ----------
    connection : Connection
        In a transaction; the scheduled job ``kpi_fold`` runs this once per interval.
    measures : tuple of str
        The measure columns (:func:`metrics.kpi.settled_measures`' names).
    """
    if connection.dialect.name != "postgresql":
        return 0
    keys = ", ".join(("day", *KEY_COLUMNS))
    sums = ", ".join(f"sum({m})" for m in measures)
    updates = ", ".join(f"{m} = {TABLE_NAME}.{m} + excluded.{m}" for m in measures)
    # grouped and ordered by key: two folds (never at once under the job's lease) would lock in one order
    result = connection.exec_driver_sql(
        f"WITH moved AS (DELETE FROM {DELTA_NAME} RETURNING *) "
        f"INSERT INTO {TABLE_NAME} ({keys}, {', '.join(measures)}) "
        f"SELECT {keys}, {sums} FROM moved GROUP BY {keys} ORDER BY {keys} "
        f"ON CONFLICT ({keys}) DO UPDATE SET {updates}")
    return int(result.rowcount or 0)


def fold_cases(connection: Connection, table: sa.Table, measures: dict[str, Any], *, after_id: int | None) -> None:
    """Add the cases with ``id > after_id`` (all when None) to the roll-up, grouped, in one statement."""
    dialect = connection.dialect.name
    cases = sa.table("cases", sa.column("id"), *(sa.column(name) for name in _SOURCE_COLUMNS))
    keys = [day_of(cases.c.reported_at, dialect).label("day"),
            *(sa.func.coalesce(cases.c[k], "").label(k) for k in KEY_COLUMNS)]
    rows = sa.select(*keys, *(sa.func.sum(expr(cases.c)).label(name) for name, expr in measures.items()))
    rows = rows.where(cases.c.id > (after_id or 0)).group_by(*keys)
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    fold = insert(table).from_select(["day", *KEY_COLUMNS, *measures], rows)
    fold = fold.on_conflict_do_update(index_elements=["day", *KEY_COLUMNS],
                                      set_={name: table.c[name] + fold.excluded[name] for name in measures})
    connection.execute(fold)


@contextmanager
def deferred(connection: Connection, measures: dict[str, Any], *, lock_writers: bool = False) -> Iterator[None]:
    """Bulk inserts of cases inside this block reach the roll-up in one grouped statement at its end.

    SQLite runs a row trigger at tens of microseconds per inserted row; an import of 100k rows
    would spend seconds in it. Inside the block the insert trigger is dropped (DDL is part of
    the transaction, so no other connection ever sees the store without it); on success the
    new cases are folded in and the trigger is put back. On an error the caller rolls back,
    which restores the trigger as well; it is put back here regardless, so a caller that
    commits anyway still keeps it. On PostgreSQL the trigger stays on unless ``lock_writers``.

    Parameters
    ----------
    connection : Connection
        The connection of the transaction that inserts.
    measures : dict
        As for :func:`install`.
    lock_writers : bool
        PostgreSQL only: fold the new cases in at the end instead of row by row, holding off
        every other writer of ``cases`` meanwhile (a bulk load into a store nobody uses).
    """
    if connection.dialect.name == "postgresql":
        with _deferred_postgresql(connection, measures, lock_writers=lock_writers):
            yield
        return
    trigger = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'trg_kpi_daily_insert'").scalar()
    if trigger is not None:
        # pysqlite opens its transaction before the first INSERT/UPDATE/DELETE only: a DROP
        # issued first would be committed on its own. This no-op write opens it.
        connection.exec_driver_sql(f"UPDATE {TABLE_NAME} SET reported = reported WHERE 0")
    raw = connection.connection.dbapi_connection
    if trigger is None or raw is None or not raw.in_transaction:
        yield
        return
    last = connection.exec_driver_sql("SELECT coalesce(max(id), 0) FROM cases").scalar()
    connection.exec_driver_sql("DROP TRIGGER trg_kpi_daily_insert")
    try:
        yield
        fold_cases(connection, rollup_table(tuple(measures)), measures, after_id=last)
    finally:
        connection.exec_driver_sql(trigger)


@contextmanager
def _deferred_postgresql(connection: Connection, measures: dict[str, Any], *, lock_writers: bool) -> Iterator[None]:
    """PostgreSQL's :func:`deferred`: with ``lock_writers`` the trigger is disabled inside the
    transaction (which takes a lock that holds off every other writer of ``cases``, so the cases
    with a higher id at the end are exactly this transaction's) and the new cases are folded in
    at the end; otherwise the row trigger stays on (tens of microseconds per row; no lock)."""
    if not lock_writers or not installed(connection):
        yield
        return
    connection.exec_driver_sql(f"ALTER TABLE cases DISABLE TRIGGER {PG_TRIGGER}")
    last = connection.exec_driver_sql("SELECT coalesce(max(id), 0) FROM cases").scalar()
    yield  # on an error the caller's rollback enables the trigger again (DDL is transactional)
    fold_cases(connection, rollup_table(tuple(measures)), measures, after_id=last)
    connection.exec_driver_sql(f"ALTER TABLE cases ENABLE TRIGGER {PG_TRIGGER}")


def installed(connection: Connection) -> bool:
    """Whether the store holds the roll-up (one migrated before it has none)."""
    if connection.dialect.name == "postgresql":
        probe = f"SELECT to_regclass('{TABLE_NAME}') IS NOT NULL"
    else:
        probe = f"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{TABLE_NAME}'"
    return bool(connection.exec_driver_sql(probe).scalar())


def uninstall(connection: Connection) -> None:
    """Drop the roll-up's triggers and tables (the open-deadline index stays)."""
    if connection.dialect.name == "postgresql":
        for trigger, function in ((PG_TRIGGER, PG_FUNCTION), (PG_TRUNCATE_TRIGGER, PG_TRUNCATE_FUNCTION)):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger} ON cases")
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}()")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {DELTA_NAME}")
    else:
        for op in ("insert", "update", "delete"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS trg_kpi_daily_{op}")
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE_NAME}")
