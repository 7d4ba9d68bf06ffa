"""Small building blocks of the read APIs (``cases.queries``, ``registry.queries``,
``workforce.queries``): paging, area filters, level columns, rows to frames.

Values reach SQL as bound parameters; arguments that are not column values (levels) are checked
against fixed allow-lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from core.errors import InputError

#: Hierarchy levels accepted by the ``by`` argument of the aggregates, and their column.
LEVELS: dict[str, str] = {"street": "street_code", "community": "community_code", "grid": "grid_code"}
#: The most rows any list returns.
MAX_ROWS = 100_000


def limit_rows(limit: int | None) -> int:
    """``limit`` as a row count in ``[0, MAX_ROWS]`` (None: :data:`MAX_ROWS`)."""
    if limit is None:
        return MAX_ROWS
    try:
        value = int(limit)
    except (TypeError, ValueError):
        raise InputError("limit", f"not a number: {limit!r}", "give a whole number of rows") from None
    return max(0, min(value, MAX_ROWS))


def offset_rows(offset: int | None) -> int:
    """``offset`` as a non-negative row count."""
    try:
        return max(0, int(offset or 0))
    except (TypeError, ValueError):
        raise InputError("offset", f"not a number: {offset!r}", "give a whole number of rows") from None


def area_filter(model: Any, area_code: str | None) -> ColumnElement[bool] | None:
    """Rows of one street, community or grid code (None without a code); narrows, never widens."""
    if not area_code:
        return None
    code = str(area_code)
    return or_(model.street_code == code, model.community_code == code, model.grid_code == code)


def like_pattern(text: str) -> str:
    r"""A LIKE pattern matching ``text`` literally anywhere (escape character ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def level_column(model: Any, by: str) -> Any:
    """The column of ``model`` for hierarchy level ``by`` (a key of :data:`LEVELS`)."""
    if by not in LEVELS:
        raise InputError("by", f"unknown level {by!r}", f"use one of {', '.join(LEVELS)}")
    return getattr(model, LEVELS[by])


def select_columns(model: Any, columns: tuple[str, ...]) -> Select[Any]:
    """A SELECT of plain columns (no ORM objects: tens of thousands of rows stay fast)."""
    return select(*(getattr(model, c) for c in columns))


def rows_frame(session: Session, query: Select[Any], columns: tuple[str, ...]) -> pd.DataFrame:
    """Run ``query`` and return its rows as a frame with ``columns``."""
    return pd.DataFrame([tuple(r) for r in session.execute(query)], columns=list(columns))


def objects_frame(rows: Iterable[Any], columns: tuple[str, ...]) -> pd.DataFrame:
    """ORM objects (or any objects) as a frame of their ``columns`` attributes."""
    data = [{c: getattr(r, c, None) for c in columns} for r in rows]
    return pd.DataFrame(data, columns=list(columns))
