"""The guard table ``case_keys`` of a partitioned ``cases`` (PostgreSQL; see :mod:`store.partitions`).

One row per case: ``id`` (the primary key the case's events, photos and API submissions
reference) and ``(source, source_id)`` (unique, ``uq_cases_source_source_id``: a work order is
stored once). Triggers on ``cases`` keep it exact, whatever writes the cases:

- after each INSERT or COPY statement, one ``INSERT ... SELECT`` of the new rows (a transition
  table: a bulk load of a million cases costs one statement, not a million trigger calls);
  a second copy of a work order fails there with the unique violation, as before;
- after each DELETE statement, one ``DELETE`` of their keys (cascading to events, photos and
  submissions, as the foreign keys on ``cases.id`` did);
- after an UPDATE that changes ``id``, ``source`` or ``source_id`` (the row trigger's ``WHEN``
  skips every other update, so dispatching pays nothing);
- after TRUNCATE of ``cases``, ``TRUNCATE case_keys CASCADE`` (a DELETE when the same TRUNCATE
  also names a referencing table, which PostgreSQL then holds open).

A case moving to another month's partition (its ``reported_at`` changed) is an UPDATE statement:
no INSERT or DELETE statement trigger fires, and its key stays.
"""

from __future__ import annotations

from sqlalchemy import Connection

TABLE_NAME = "case_keys"
UNIQUE_NAME = "uq_cases_source_source_id"
#: The non-unique index on ``cases`` that look-ups by work order use (the unique one is here).
LOOKUP_INDEX = "ix_cases_source_source_id"
#: trigger name -> (function name, trigger definition after ``ON cases``, function body).
_TRIGGERS: dict[str, tuple[str, str, str]] = {
    "trg_case_keys_insert": (
        "case_keys_add", "AFTER INSERT ON cases REFERENCING NEW TABLE AS new_cases FOR EACH STATEMENT",
        f"INSERT INTO {TABLE_NAME} (id, source, source_id) SELECT id, source, source_id FROM new_cases;"),
    "trg_case_keys_delete": (
        "case_keys_remove", "AFTER DELETE ON cases REFERENCING OLD TABLE AS old_cases FOR EACH STATEMENT",
        f"DELETE FROM {TABLE_NAME} k USING old_cases o WHERE k.id = o.id;"),
    "trg_case_keys_update": (
        "case_keys_change",
        "AFTER UPDATE OF id, source, source_id ON cases FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id "
        "OR OLD.source IS DISTINCT FROM NEW.source OR OLD.source_id IS DISTINCT FROM NEW.source_id)",
        f"UPDATE {TABLE_NAME} SET id = NEW.id, source = NEW.source, source_id = NEW.source_id WHERE id = OLD.id;"),
    "trg_case_keys_truncate": (
        "case_keys_clear", "AFTER TRUNCATE ON cases FOR EACH STATEMENT",
        # a TRUNCATE naming case_events as well holds it open: then delete (they are empty anyway)
        f"BEGIN TRUNCATE {TABLE_NAME} CASCADE; EXCEPTION WHEN object_in_use THEN DELETE FROM {TABLE_NAME}; END;"),
}
TRIGGER_NAMES = frozenset(_TRIGGERS)


def install(connection: Connection) -> None:
    """Create ``case_keys`` filled from ``cases``, and its triggers.

    Parameters
    ----------
    connection : Connection
        PostgreSQL, in a transaction; ``cases`` exists (partitioned or about to be).
    """
    connection.exec_driver_sql(
        f"CREATE TABLE {TABLE_NAME} (id integer PRIMARY KEY, source varchar(32) NOT NULL, "
        f"source_id varchar(64) NOT NULL, CONSTRAINT {UNIQUE_NAME} UNIQUE (source, source_id))")
    connection.exec_driver_sql(f"INSERT INTO {TABLE_NAME} SELECT id, source, source_id FROM cases")
    for trigger, (function, when, body) in _TRIGGERS.items():
        connection.exec_driver_sql(
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN {body} "
            "RETURN NULL; END $body$")
        connection.exec_driver_sql(f"CREATE TRIGGER {trigger} {when} EXECUTE FUNCTION {function}()")


def uninstall(connection: Connection) -> None:
    """Drop the triggers, their functions and ``case_keys`` (nothing may reference it any more)."""
    for trigger, (function, _when, _body) in _TRIGGERS.items():
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger} ON cases")
        connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}()")
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE_NAME}")
