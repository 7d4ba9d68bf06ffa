"""Daily KPI roll-up of the embedded (SQLite) store, kept exact by triggers.

SQLite scans a million cases and evaluates every indicator's expression per row in several
seconds; a roll-up turns the full KPI table into a read of one row per day, area and assignee.
``kpi_daily`` holds, per reported day (``day``, 'YYYY-MM-DD') and key (street, community, grid,
assignee kind and id; ``''`` stands for none), the sum of each case's contributions that do not
depend on the time of evaluation (:func:`metrics.kpi.settled_measures`). Triggers on ``cases``
add a new row's contributions, subtract an old row's, and so follow every insert, update and
delete, whatever writes them (the lifecycle, intake, bulk SQL). The parts that do depend on
"now" (open cases past their deadline) are always counted live from the open cases, through
the partial index ``ix_cases_open_deadlines``.

PostgreSQL aggregates a million cases directly in well under a second (parallel scan), so it
has no roll-up and no triggers: no row locks shared between concurrent dispatchers.

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
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

TABLE_NAME = "kpi_daily"
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


def rollup_table(measures: tuple[str, ...]) -> sa.Table:
    """The ``kpi_daily`` table (its own metadata: it exists on SQLite stores only)."""
    metadata = sa.MetaData()
    return sa.Table(
        TABLE_NAME, metadata,
        sa.Column("day", sa.String(10), primary_key=True),
        *(sa.Column(name, sa.String(64), primary_key=True) for name in KEY_COLUMNS),
        *(sa.Column(name, sa.BigInteger, nullable=False, server_default="0") for name in measures),
    )


class _RowRef:
    """``NEW.x`` / ``OLD.x`` column references for trigger bodies."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return literal_column(f"{self._prefix}.{name}")


def _sql(expression: Any) -> str:
    return str(expression.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))


def _upsert(measures: dict[str, Any], row: str, sign: str) -> str:
    ref = _RowRef(row)
    keys = [f"date({row}.reported_at)"] + [f"coalesce({row}.{k}, '')" for k in KEY_COLUMNS]
    values = [f"{sign}({_sql(expr(ref))})" for expr in measures.values()]
    names = ", ".join(("day", *KEY_COLUMNS, *measures))
    updates = ", ".join(f"{m} = {m} + excluded.{m}" for m in measures)
    return (f"INSERT INTO {TABLE_NAME} ({names}) VALUES ({', '.join(keys + values)}) "
            f"ON CONFLICT (day, {', '.join(KEY_COLUMNS)}) DO UPDATE SET {updates};")


def install(connection: Connection, measures: dict[str, Any]) -> None:
    """(Re)create ``kpi_daily``, its triggers and the open-deadline index, and fill it from ``cases``.

    Parameters
    ----------
    connection : Connection
        A SQLite connection inside a transaction (a migration's); other dialects are left alone.
    measures : dict
        Name -> function of a column namespace returning the case's contribution (an integer
        SQL expression); :func:`metrics.kpi.settled_measures`.
    """
    if connection.dialect.name != "sqlite":
        return
    uninstall(connection)
    table = rollup_table(tuple(measures))
    table.create(connection)
    columns = ", ".join(_SOURCE_COLUMNS)
    connection.exec_driver_sql(
        f"CREATE TRIGGER trg_kpi_daily_insert AFTER INSERT ON cases BEGIN {_upsert(measures, 'NEW', '+')} END")
    connection.exec_driver_sql(
        f"CREATE TRIGGER trg_kpi_daily_delete AFTER DELETE ON cases BEGIN {_upsert(measures, 'OLD', '-')} END")
    connection.exec_driver_sql(
        f"CREATE TRIGGER trg_kpi_daily_update AFTER UPDATE OF {columns} ON cases BEGIN "
        f"{_upsert(measures, 'OLD', '-')} {_upsert(measures, 'NEW', '+')} END")
    connection.exec_driver_sql(f"DROP INDEX IF EXISTS {OPEN_INDEX}")
    connection.exec_driver_sql(
        f"CREATE INDEX {OPEN_INDEX} ON cases ({', '.join(_OPEN_INDEX_COLUMNS)}) "
        f"WHERE {OPEN_CONDITION}")
    _fold(connection, table, measures, after_id=None)


def _fold(connection: Connection, table: sa.Table, measures: dict[str, Any], *, after_id: int | None) -> None:
    """Add the cases with ``id > after_id`` (all when None) to the roll-up, grouped, in one statement."""
    cases = sa.table("cases", sa.column("id"), *(sa.column(name) for name in _SOURCE_COLUMNS))
    keys = [sa.func.date(cases.c.reported_at).label("day"),
            *(sa.func.coalesce(cases.c[k], "").label(k) for k in KEY_COLUMNS)]
    rows = sa.select(*keys, *(sa.func.sum(expr(cases.c)).label(name) for name, expr in measures.items()))
    rows = rows.where(cases.c.id > (after_id or 0)).group_by(*keys)
    fold = sqlite_insert(table).from_select(["day", *KEY_COLUMNS, *measures], rows)
    fold = fold.on_conflict_do_update(index_elements=["day", *KEY_COLUMNS],
                                      set_={name: table.c[name] + fold.excluded[name] for name in measures})
    connection.execute(fold)


@contextmanager
def deferred(connection: Connection, measures: dict[str, Any]) -> Iterator[None]:
    """Bulk inserts of cases inside this block reach the roll-up in one grouped statement at its end.

    SQLite runs a row trigger at tens of microseconds per inserted row; an import of 100k rows
    would spend seconds in it. Inside the block the insert trigger is dropped (DDL is part of
    the transaction, so no other connection ever sees the store without it); on success the
    new cases are folded in and the trigger is put back. On an error the caller rolls back,
    which restores the trigger as well; it is put back here regardless, so a caller that
    commits anyway still keeps it. Elsewhere (PostgreSQL, no roll-up) a plain block.

    Parameters
    ----------
    connection : Connection
        The connection of the transaction that inserts.
    measures : dict
        As for :func:`install`.
    """
    trigger = None
    if connection.dialect.name == "sqlite":
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
        _fold(connection, rollup_table(tuple(measures)), measures, after_id=last)
    finally:
        connection.exec_driver_sql(trigger)


def uninstall(connection: Connection) -> None:
    """Drop the roll-up's triggers and table (SQLite; the open-deadline index stays)."""
    if connection.dialect.name != "sqlite":
        return
    for op in ("insert", "update", "delete"):
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS trg_kpi_daily_{op}")
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE_NAME}")
