"""Monthly partitions of ``cases`` on PostgreSQL (declarative range partitioning on ``reported_at``).

At city scale (tens of millions of work orders) the history is cut into one partition per month
of ``reported_at``: ``cases_y2026m12`` holds the cases reported in December 2026, and
``cases_default`` whatever falls outside the months created so far (an import of old orders, a
clock far off). Queries bounded by ``reported_at`` (the command map's last 24 h, a month's
list) read only their months; the partitioned indexes are the models' ones.

A partitioned table's unique keys must contain the partition key, so ``cases`` has the primary
key ``(id, reported_at)``, and the two keys the rest of the store relies on live in the guard
table ``case_keys`` (``id`` primary key: what ``case_events``, ``case_photos`` and
``api_submissions`` reference, with ``ON DELETE CASCADE``; ``(source, source_id)`` unique: the
intake's de-duplication, under its old constraint name ``uq_cases_source_source_id``).
Statement triggers on ``cases`` keep it in step (one set-based statement per INSERT, COPY or
DELETE, a row trigger only when an UPDATE changes a key; TRUNCATE empties it), see
:mod:`store.case_keys`.

:func:`ensure_months` creates missing months, moving their rows out of the default partition
first; the scheduled job ``case_partitions`` keeps the coming months ready and re-homes what
landed in the default partition (:func:`maintain`). SQLite is never partitioned.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from store import case_keys, rollup

PARENT = "cases"
DEFAULT_PARTITION = "cases_default"
#: Months kept ready before the current one (late reports) and after it.
MONTHS_BEHIND, MONTHS_AHEAD = 1, 3
#: How long the job waits for the lock that creating a partition takes on ``cases``.
LOCK_TIMEOUT_S = 5
#: ``cases_y2026m12``: the partition of one month.
NAME_PATTERN = re.compile(r"^cases_(y\d{4}m\d{2}|default)$")


def partition_name(month: date) -> str:
    """``cases_y2026m12`` for any day of December 2026."""
    return f"{PARENT}_y{month.year:04d}m{month.month:02d}"


def month_start(moment: date | datetime) -> date:
    """The first day of the month of ``moment``."""
    return date(moment.year, moment.month, 1)


def next_month(month: date) -> date:
    """The first day of the month after ``month``."""
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def add_months(month: date, count: int) -> date:
    """The first day of the month ``count`` months after (before, if negative) ``month``."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date | datetime, last: date | datetime) -> list[date]:
    """The first days of every month from ``first``'s to ``last``'s, both included."""
    out, month, end = [], month_start(first), month_start(last)
    while month <= end:
        out.append(month)
        month = next_month(month)
    return out


def is_partitioned(connection: Connection) -> bool:
    """Whether ``cases`` is a partitioned table (PostgreSQL after migration 0010)."""
    if connection.dialect.name != "postgresql":
        return False
    kind = connection.exec_driver_sql(
        "SELECT relkind FROM pg_class WHERE oid = to_regclass('public.cases')").scalar()
    return kind == "p"


def lookup_table(connection: Connection) -> sa.TableClause:
    """Where to find a case's id by work order (``id``, ``source``, ``source_id``): ``case_keys`` on
    a partitioned store (one unique index instead of one per month), ``cases`` elsewhere."""
    name = case_keys.TABLE_NAME if is_partitioned(connection) else PARENT
    return sa.table(name, sa.column("id"), sa.column("source"), sa.column("source_id"))


def names(connection: Connection) -> list[str]:
    """The names of the partitions of ``cases``, sorted (the default one last)."""
    rows = connection.exec_driver_sql(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'public.cases'::regclass").scalars()
    return sorted(rows, key=lambda name: (name == DEFAULT_PARTITION, name))


def ensure_months(connection: Connection, first: date | datetime, last: date | datetime) -> list[str]:
    """Create the partitions of the months from ``first`` to ``last`` that do not exist yet.

    Rows of such a month already in the default partition are moved into the new partition
    inside the same transaction (the roll-up does not count them twice: its trigger is held
    off on the default partition while they move).

    Parameters
    ----------
    connection : Connection
        PostgreSQL, in a transaction, ``cases`` partitioned (:func:`is_partitioned`).
    first, last : date or datetime
        Any moments of the first and last month (naive, the store's local time).

    Returns
    -------
    list of str
        The partitions created.
    """
    existing = set(names(connection))
    created = []
    for month in months_between(first, last):
        name = partition_name(month)
        if name not in existing:
            _create_month(connection, month, name)
            created.append(name)
    return created


def _create_month(connection: Connection, month: date, name: str) -> None:
    bounds = f"FROM ('{month.isoformat()}') TO ('{next_month(month).isoformat()}')"
    in_month = f"reported_at >= '{month.isoformat()}' AND reported_at < '{next_month(month).isoformat()}'"
    waiting = connection.exec_driver_sql(
        f"SELECT EXISTS (SELECT 1 FROM {DEFAULT_PARTITION} WHERE {in_month})").scalar()
    if not waiting:
        connection.exec_driver_sql(f"CREATE TABLE {name} PARTITION OF {PARENT} FOR VALUES {bounds}")
        return
    connection.exec_driver_sql(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS)")
    connection.exec_driver_sql(f"ALTER TABLE {DEFAULT_PARTITION} DISABLE TRIGGER {rollup.PG_TRIGGER}")
    connection.exec_driver_sql(
        f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE {in_month} RETURNING *) "
        f"INSERT INTO {name} SELECT * FROM moved")
    connection.exec_driver_sql(f"ALTER TABLE {DEFAULT_PARTITION} ENABLE TRIGGER {rollup.PG_TRIGGER}")
    connection.exec_driver_sql(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES {bounds}")


def default_months(connection: Connection) -> list[date]:
    """The months of the rows in the default partition (waiting for their own partition)."""
    rows = connection.exec_driver_sql(
        f"SELECT DISTINCT date_trunc('month', reported_at)::date FROM {DEFAULT_PARTITION} "
        "WHERE reported_at IS NOT NULL").scalars()
    return sorted(rows)


def maintain(connection: Connection, now: datetime) -> int:
    """Keep the months around ``now`` ready and re-home the default partition's rows; the number
    of partitions created (0 on SQLite or an unpartitioned store).

    The months from :data:`MONTHS_BEHIND` before ``now`` to :data:`MONTHS_AHEAD` after it are
    created; so is every month that has rows in the default partition.
    """
    if not is_partitioned(connection):
        return 0
    # creating a partition locks ``cases``: rather than queue every reader behind a long query
    # that holds it, give up after a few seconds (the next run tries again)
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_S}s'")
    month = month_start(now)
    created = ensure_months(connection, add_months(month, -MONTHS_BEHIND), add_months(month, MONTHS_AHEAD))
    for waiting in default_months(connection):
        created += ensure_months(connection, waiting, waiting)
    return len(created)


def outside_models(obj: Any, name: str | None, type_: str) -> bool:
    """Whether a schema object of a partitioned store is this module's, not the models'
    (for Alembic's comparison): the partitions, ``case_keys`` and its unique constraint, the
    look-up index, and the foreign keys of ``case_id`` columns (to ``case_keys`` here, to
    ``cases`` in the models)."""
    if type_ == "table":
        return bool(name == case_keys.TABLE_NAME or NAME_PATTERN.match(name or ""))
    if type_ == "index":
        return name == case_keys.LOOKUP_INDEX
    if type_ == "unique_constraint":
        return name == case_keys.UNIQUE_NAME
    if type_ == "foreign_key_constraint":
        return obj.referred_table.name in (PARENT, case_keys.TABLE_NAME)
    return False
