"""What Alembic's comparison of the store with the models leaves out (``env.py`` and the tests).

The models describe the tables every backend shares. Some objects are managed by the migrations
outside them: the KPI roll-up (:mod:`store.rollup`) everywhere, and on a PostgreSQL store
partitioned by month the partitions, ``case_keys`` and the foreign keys pointing at it
(:mod:`store.partitions`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from store import partitions, rollup

#: Objects the migrations manage outside the models on every backend: the KPI roll-up.
_UNMODELLED = {("table", rollup.TABLE_NAME), ("table", rollup.DELTA_NAME), ("index", rollup.OPEN_INDEX)}

IncludeObject = Callable[[Any, "str | None", str, bool, Any], bool]


def include_object(connection: Connection) -> IncludeObject:
    """Alembic's ``include_object`` hook for the store behind ``connection``: False for the
    objects above, True for everything the models describe."""
    partitioned = partitions.is_partitioned(connection)

    def include(obj: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
        if (type_, name) in _UNMODELLED:
            return False
        return not (partitioned and partitions.outside_models(obj, name, type_))

    return include
