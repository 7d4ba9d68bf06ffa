"""Bulk writes inside a session's transaction: ``COPY`` on PostgreSQL, one executemany elsewhere."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows in the session's transaction.

    ``COPY ... FROM STDIN`` on PostgreSQL (psycopg), one executemany elsewhere. Every row must
    have the same keys.
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        names = list(rows[0])
        columns = ", ".join(f'"{name}"' for name in names)
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([row[name] for name in names])
        finally:
            cursor.close()
        return
    session.execute(insert(table), rows)
