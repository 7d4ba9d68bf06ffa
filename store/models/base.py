"""Declarative base of every table of the store (SQLAlchemy 2, typed).

Times are naive ``datetime`` values in the district's local time (China Standard Time, as
12345 exports write them). Locations are CGCS2000 geographic (EPSG:4490) longitude/latitude in
degrees, stored as floats on every backend. The schema itself is created by the Alembic
migrations in ``store/migrations``; the models must stay in step with them
(``tests/store/test_store.py`` checks that).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base of every store table."""


def table_of(model: type[Base]) -> Table:
    """The Core table of an ORM model (for bulk statements that skip the unit of work)."""
    return cast(Table, model.__table__)
