"""Exports of personal data: the caller's rows, masked like the screen, as CSV/XLSX, audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from access import audit
from access.scope import Scope
from core.errors import InputError
from core.spreadsheet import FORMATS, to_bytes


def audited_export(session: Session, scope: Scope, frame: pd.DataFrame, *, kind: str, fmt: str, now: datetime,
                   filters: dict[str, Any], ip: str | None) -> bytes:
    """``frame`` (already scoped and masked) as ``fmt`` bytes, with an ``export`` audit entry.

    Parameters
    ----------
    kind : str
        What is exported (``cases``, ``households``); the sheet name and the audit target.
    filters : dict
        The filters the rows were read with, recorded in the audit entry.

    Raises
    ------
    core.errors.PermissionDenied
        The role may not export.
    core.errors.InputError
        Unknown format.
    """
    scope.require("export")
    if fmt not in FORMATS:
        raise InputError("format", f"unknown export format {fmt!r}", f"use one of {', '.join(FORMATS)}")
    data = to_bytes(frame, fmt, sheet=kind)
    shown = {k: (v.isoformat() if isinstance(v, datetime) else list(v) if isinstance(v, (list, tuple, set)) else v)
             for k, v in filters.items() if v not in (None, "", [], ()) and k not in ("limit", "offset")}
    audit.record(session, actor=scope.username or scope.role, action="export", at=now, target_kind=kind,
                 detail={"format": fmt, "rows": len(frame), "masked": True, "filters": shown}, ip=ip)
    return data
