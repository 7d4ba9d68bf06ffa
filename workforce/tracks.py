"""Loading workers' GPS fixes (tracks) from CSV: 工号, 时间, 经度, 纬度 (EPSG:4490, local time)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from access import audit
from core.csvfile import float_cell, read_csv_cells, row_label, time_cell
from core.errors import InputError
from store.models import WorkerTrack

TRACK_HEADERS = ("工号", "时间", "经度", "纬度")


def load_tracks(
    session: Session,
    path: Path,
    *,
    worker_grids: Mapping[str, str],
    parents: Mapping[str, tuple[str | None, str | None]],
    actor: str,
    now: datetime,
    shift: timedelta = timedelta(0),
) -> int:
    """Add the GPS fixes of ``path`` not yet in the store (same worker and time = same fix).

    Parameters
    ----------
    worker_grids : mapping
        Staff number (工号) → the worker's own grid code; the fix is filed under that grid
        (and its community and street) so it is visible to exactly the worker's chain.
    parents : mapping
        Grid code → (community code, street code).
    shift : timedelta
        Added to every time (the demo moves its one day of tracks to today).

    Returns
    -------
    int
        Fixes added.
    """
    frame = read_csv_cells(path, TRACK_HEADERS)
    existing = {tuple(r) for r in session.execute(select(WorkerTrack.worker_id, WorkerTrack.at))}
    rows = []
    for i, r in enumerate(frame.to_dict("records")):
        worker = r["工号"]
        grid = worker_grids.get(worker)
        if grid is None:
            raise InputError(str(path), f"工号 {worker!r} is not a grid worker with a grid",
                             "load the workers first or correct the staff number", where=row_label(i))
        at = time_cell(path, i, "时间", r["时间"]) + shift
        if (worker, at) in existing:
            continue
        existing.add((worker, at))
        community, street = parents.get(grid, (None, None))
        rows.append({
            "worker_id": worker, "at": at,
            "lon": float_cell(path, i, "经度", r["经度"], required=True),
            "lat": float_cell(path, i, "纬度", r["纬度"], required=True),
            "grid_code": grid, "community_code": community, "street_code": street,
        })
    if rows:
        session.execute(insert(WorkerTrack), rows)
    audit.record(session, actor=actor, action="import", at=now, target_kind="tracks",
                 detail={"file": Path(path).name, "rows": len(frame), "added": len(rows)})
    return len(rows)
