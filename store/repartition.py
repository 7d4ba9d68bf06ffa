"""Turn ``cases`` into a table partitioned by month and back (PostgreSQL; migration 0010).

Both ways rebuild the table under its own name in the migration's transaction: the indexes and
triggers on ``cases`` (the models' indexes, the PostGIS geometry trigger, the KPI roll-up's
triggers and partial index, whatever later migrations add) are read from the catalogue, dropped,
and created again on the new table, so nothing has to be listed twice; the foreign keys of the
tables that reference a case are pointed at ``case_keys`` (partitioned) or ``cases`` (plain).
The rows are copied once (minutes at ten million cases). See :mod:`store.partitions`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from store import case_keys, partitions

_FORMER = "cases_before_rebuild"


@dataclass(frozen=True)
class _Attached:
    """What hangs on ``cases``: index and trigger definitions, the referencing foreign keys
    (table, name, definition) and the id sequence."""

    indexes: list[str]
    triggers: list[str]
    foreign_keys: list[tuple[str, str, str]]
    sequence: str


def _attached(connection: Connection) -> _Attached:
    indexes = connection.exec_driver_sql(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = 'public.cases'::regclass "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)")
    triggers = connection.exec_driver_sql(
        "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
        "WHERE tgrelid = 'public.cases'::regclass AND NOT tgisinternal")
    keys = connection.exec_driver_sql(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conparentid = 0 "
        "AND confrelid IN ('public.cases'::regclass, coalesce(to_regclass('public.case_keys'), 0))")
    sequence = connection.exec_driver_sql("SELECT pg_get_serial_sequence('public.cases', 'id')").scalar()
    return _Attached(
        indexes=[sql for name, sql in indexes if name != case_keys.LOOKUP_INDEX],
        triggers=[sql for name, sql in triggers if name not in case_keys.TRIGGER_NAMES],
        foreign_keys=[(table, name, sql) for table, name, sql in keys],
        sequence=str(sequence))


def _detach(connection: Connection, attached: _Attached) -> None:
    """Drop the referencing foreign keys, the triggers, indexes and keys of ``cases``, and rename
    it out of the way (its sequence stays, owned by nobody until the new table takes it)."""
    for table, name, _sql in attached.foreign_keys:
        connection.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    case_keys.uninstall(connection)
    for name in connection.exec_driver_sql(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'public.cases'::regclass AND NOT tgisinternal").scalars():
        connection.exec_driver_sql(f'DROP TRIGGER "{name}" ON cases')
    for name in connection.exec_driver_sql(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'public.cases'::regclass AND contype IN ('p', 'u')"
    ).scalars():
        connection.exec_driver_sql(f'ALTER TABLE cases DROP CONSTRAINT "{name}"')
    for name in connection.exec_driver_sql(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'public.cases'::regclass").scalars():
        connection.exec_driver_sql(f"DROP INDEX {name}")
    connection.exec_driver_sql(f"ALTER SEQUENCE {attached.sequence} OWNED BY NONE")
    connection.exec_driver_sql(f"ALTER TABLE cases RENAME TO {_FORMER}")


def _reattach(connection: Connection, attached: _Attached) -> None:
    """Move the rows over, drop the former table, and put indexes and triggers back."""
    connection.exec_driver_sql(f"INSERT INTO cases SELECT * FROM {_FORMER}")
    connection.exec_driver_sql(f"ALTER SEQUENCE {attached.sequence} OWNED BY cases.id")
    connection.exec_driver_sql(f"DROP TABLE {_FORMER}")
    for sql in attached.indexes:
        connection.exec_driver_sql(sql)
    for sql in attached.triggers:
        connection.exec_driver_sql(sql)


def _refer(connection: Connection, attached: _Attached, referenced: str) -> None:
    """Point the foreign keys of the tables that reference a case at ``referenced(id)``."""
    for table, name, sql in attached.foreign_keys:
        sql = re.sub(r"REFERENCES \S+\(id\)", f"REFERENCES {referenced}(id)", sql)
        connection.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {sql}')


def partition_by_month(connection: Connection, now: datetime) -> None:
    """Make ``cases`` a table partitioned by month of ``reported_at``, with ``case_keys``.

    Parameters
    ----------
    connection : Connection
        PostgreSQL, in a transaction; ``cases`` a plain table.
    now : datetime
        The months of the stored cases and :data:`store.partitions.MONTHS_BEHIND` before to
        :data:`store.partitions.MONTHS_AHEAD` after ``now``'s month get their partitions.
    """
    attached = _attached(connection)
    _detach(connection, attached)
    connection.exec_driver_sql(
        f"CREATE TABLE cases (LIKE {_FORMER} INCLUDING DEFAULTS) PARTITION BY RANGE (reported_at)")
    connection.exec_driver_sql(f"CREATE TABLE {partitions.DEFAULT_PARTITION} PARTITION OF cases DEFAULT")
    month = partitions.month_start(now)
    first, last = connection.exec_driver_sql(f"SELECT min(reported_at), max(reported_at) FROM {_FORMER}").one()
    partitions.ensure_months(
        connection, min(partitions.month_start(first or now), partitions.add_months(month, -partitions.MONTHS_BEHIND)),
        max(partitions.month_start(last or now), partitions.add_months(month, partitions.MONTHS_AHEAD)))
    _reattach(connection, attached)
    connection.exec_driver_sql("ALTER TABLE cases ADD CONSTRAINT cases_pkey PRIMARY KEY (id, reported_at)")
    connection.exec_driver_sql(f"CREATE INDEX {case_keys.LOOKUP_INDEX} ON cases (source, source_id)")
    case_keys.install(connection)
    _refer(connection, attached, case_keys.TABLE_NAME)


def merge_partitions(connection: Connection) -> None:
    """Make a partitioned ``cases`` one plain table again (the downgrade of migration 0010)."""
    attached = _attached(connection)
    _detach(connection, attached)
    connection.exec_driver_sql(f"CREATE TABLE cases (LIKE {_FORMER} INCLUDING DEFAULTS)")
    _reattach(connection, attached)
    connection.exec_driver_sql("ALTER TABLE cases ADD CONSTRAINT cases_pkey PRIMARY KEY (id)")
    connection.exec_driver_sql(
        f"ALTER TABLE cases ADD CONSTRAINT {case_keys.UNIQUE_NAME} UNIQUE (source, source_id)")
    _refer(connection, attached, "cases")
