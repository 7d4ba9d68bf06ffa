"""File import (CSV/XLSX/GeoJSON 12345 exports): a thin adapter on :func:`intake.pipeline.submit`.

The file is read into text cells (:mod:`intake.tables`), submitted as records of the ``file``
channel in one transaction, and the refused rows are written to a rejects CSV (UTF-8 with BOM,
opens in Excel/WPS) naming the row, the column, the reason and the fix, followed by the row's own
cells so it can be corrected and imported again. Re-importing a file adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cases import routing
from core.spreadsheet import write_table
from intake.pipeline import Submission, submit
from intake.tables import Table, read_table


@dataclass(frozen=True)
class ImportResult:
    """Outcome of one import: counts and the rejects file (None when nothing was rejected)."""

    rows: int
    added: int
    duplicates: int
    rejected: int
    unrouted: int
    rejects_path: Path | None


def _write_rejects(path: Path, table: Table, submission: Submission) -> None:
    records = []
    for outcome in submission.outcomes:
        if outcome.status != "rejected":
            continue
        found = outcome.problems
        record = {
            "row": table.row_labels[outcome.position],
            "column": "; ".join(dict.fromkeys(h for h, _, _ in found)),
            "reason": "; ".join(r for _, r, _ in found),
            "fix": "; ".join(dict.fromkeys(f for _, _, f in found)),
        }
        record.update({str(k): v for k, v in table.original.iloc[outcome.position].items()})
        records.append(record)
    write_table(pd.DataFrame(records), path, fmt="csv")


def import_file(
    target: Session | Engine,
    path: str | Path,
    *,
    hierarchy: Any = None,
    actor: str = "import",
    rejects_path: str | Path | None = None,
    source: str = "hotline_12345",
    coords: str = "wgs84",
    rules: routing.RuleSet | None = None,
    snap_m: float | None = None,
) -> ImportResult:
    """Import one export file as new cases in state ``reported``, routed.

    Parameters
    ----------
    target : Session or Engine
        A session (the caller commits; on error the caller must roll back) or an engine (one
        transaction, committed here, rolled back on any error).
    path : str or Path
        CSV (UTF-8/BOM/GBK), XLSX or GeoJSON with the columns of
        ``core.constants.CASE_IMPORT_HEADERS`` (Chinese or English headers).
    hierarchy : path, dict of layers, or join index, optional
        The grid hierarchy (``hierarchy.gpkg``); default the ``hierarchy_path`` setting.
    actor : str
        Written to each case's first event.
    rejects_path : str or Path, optional
        Where to write rejected rows; default ``<file stem>_rejects.csv`` beside the input.
        Written only when rows were rejected.
    source : str
        Source key for rows without a 来源渠道 value.
    coords : str
        Coordinate system of the file's points: ``wgs84`` (also CGCS2000), ``gcj02`` or ``bd09``.
    rules : RuleSet, optional
        Routing rules; default :func:`cases.routing.load_rules`.
    snap_m : float, optional
        Snap distance (m) for points just outside every grid; default the setting.

    Returns
    -------
    ImportResult
    """
    if isinstance(target, Engine):
        from store.db import session_factory

        with session_factory(target)() as session, session.begin():
            return import_file(session, path, hierarchy=hierarchy, actor=actor, rejects_path=rejects_path,
                               source=source, coords=coords, rules=rules, snap_m=snap_m)
    path = Path(path)
    table = read_table(path)
    submission = submit(target, table.frame, "file", hierarchy=hierarchy, actor=actor, default_source=source,
                        coords=coords, rules=rules, snap_m=snap_m, headers=table.headers,
                        note=f"imported from {path.name}", audit_detail={"file": path.name},
                        audit_target=("file", path.name))
    written = None
    if submission.count("rejected"):
        written = Path(rejects_path) if rejects_path else path.with_name(f"{path.stem}_rejects.csv")
        _write_rejects(written, table, submission)
    return ImportResult(rows=len(submission.outcomes), added=submission.count("added"),
                        duplicates=submission.count("duplicate"), rejected=submission.count("rejected"),
                        unrouted=submission.unrouted, rejects_path=written)
