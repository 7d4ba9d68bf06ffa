"""Loading the four-visit registry and its visits from the demo district's CSV files (the loaders
``python -m cases seed-demo`` uses).

These loaders trust their files: ``load_households`` does not check the ID numbers (the demo's
fake people carry a wrong GB 11643 check digit on purpose, so that no number can be a real
person's) and stops at the first bad row. The spreadsheets communities keep go through
:func:`registry.roster_import.import_roster` (``python -m registry import``), which checks every
row, matches persons by ID number and refuses a wrong check digit.

Headers (UTF-8 with or without BOM, or GBK; as ``data/make_demo.py`` writes them):

- households: 户编号, 户主姓名, 身份证号, 联系电话, 类别, 楼栋编码, 网格编码, 经度, 纬度
- visits: 走访编号, 户编号, 工号, 走访时间, 经度, 纬度, 走访结果

Coordinates are CGCS2000 longitude/latitude (EPSG:4490). Each loader runs inside the caller's
transaction (all rows or none), skips rows already loaded (same id) so a second run adds nothing,
and raises a one-line :class:`~core.errors.InputError` naming the file, the row and the fix on
the first bad row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from access import audit
from core import constants
from core.clock import add_months
from core.csvfile import float_cell, new_records, read_csv_cells, row_label, time_cell
from core.errors import InputError
from registry.visits import VisitPlace, measure_visit
from store.models import Household, Visit

HOUSEHOLD_HEADERS = ("户编号", "户主姓名", "身份证号", "联系电话", "类别", "楼栋编码", "网格编码", "经度", "纬度")
VISIT_HEADERS = ("走访编号", "户编号", "工号", "走访时间", "经度", "纬度", "走访结果")
#: grid code -> (community code, street code)
GridParents = Mapping[str, tuple[str | None, str | None]]
_CATEGORY_KEYS = {**{k: k for k in constants.VISIT_CATEGORIES},
                  **{v.zh: k for k, v in constants.VISIT_CATEGORIES.items()}}


def load_households(session: Session, path: Path, *, parents: GridParents, actor: str, now: datetime) -> int:
    """Add the households of ``path`` (see module doc) that are not in the store yet.

    Parameters
    ----------
    session : Session
    path : Path
        ``households.csv``.
    parents : mapping
        Grid code → (community code, street code), e.g. :func:`grid_parents`.
    actor : str
        Who imports (audited as ``import``).
    now : datetime
        Local time for the audit entry.

    Returns
    -------
    int
        Households added.
    """
    frame = read_csv_cells(path, HOUSEHOLD_HEADERS)
    existing = set(session.scalars(select(Household.id)))
    rows = []
    for i, r in new_records(frame, path, "户编号", existing, noun="household"):
        hid = r["户编号"]
        category = _CATEGORY_KEYS.get(r["类别"])
        if category is None:
            allowed = ", ".join(v.zh for v in constants.VISIT_CATEGORIES.values())
            raise InputError(str(path), f"类别 {r['类别']!r} is not a four-visit category", f"use one of {allowed}",
                             where=row_label(i))
        grid = r["网格编码"]
        if grid not in parents:
            raise InputError(str(path), f"网格编码 {grid!r} is not a grid of the hierarchy",
                             "correct the code or rebuild hierarchy.gpkg", where=row_label(i))
        community, street = parents[grid]
        if not r["户主姓名"]:
            raise InputError(str(path), "户主姓名 is empty", "fill in the head of household", where=row_label(i))
        rows.append({
            "id": hid, "household_no": hid, "head_name": r["户主姓名"], "id_number": r["身份证号"] or None,
            "phone": r["联系电话"] or None, "category": category, "building_code": r["楼栋编码"] or None,
            "grid_code": grid, "community_code": community, "street_code": street,
            "lon": float_cell(path, i, "经度", r["经度"], required=True),
            "lat": float_cell(path, i, "纬度", r["纬度"], required=True),
        })
    if rows:
        session.execute(insert(Household), rows)
    audit.record(session, actor=actor, action="import", at=now, target_kind="households",
                 detail={"file": Path(path).name, "rows": len(frame), "added": len(rows)})
    return len(rows)


def load_visits(
    session: Session,
    path: Path,
    *,
    actor: str,
    now: datetime,
    metric_crs: str = constants.DEFAULT_METRIC_CRS,
    on_site_m: float = constants.VISIT_ON_SITE_M,
    month_shift: int = 0,
) -> int:
    """Add the visits of ``path`` not yet in the store, measuring each one's distance to its household.

    The distance between the visit's GPS fix and the household's location is measured in
    ``metric_crs`` (metres); ``on_site`` is ``distance_m <= on_site_m``. A visit without a fix
    has no distance and is not on site. Households must be loaded first. ``month_shift`` moves
    every visit by whole calendar months (the demo uses it to bring its visits up to date).

    Returns
    -------
    int
        Visits added.
    """
    frame = read_csv_cells(path, VISIT_HEADERS)
    existing = set(session.scalars(select(Visit.id)))
    households = {h.id: h for h in session.scalars(select(Household))}
    rows = []
    for i, r in new_records(frame, path, "走访编号", existing, noun="visit"):
        vid = r["走访编号"]
        household = households.get(r["户编号"])
        if household is None:
            raise InputError(str(path), f"户编号 {r['户编号']!r} is not in the household registry",
                             "load households.csv first or correct the id", where=row_label(i))
        if not r["工号"]:
            raise InputError(str(path), "工号 is empty", "fill in the worker's staff number", where=row_label(i))
        lon = float_cell(path, i, "经度", r["经度"], required=False)
        lat = float_cell(path, i, "纬度", r["纬度"], required=False)
        place = measure_visit(VisitPlace(lon, lat), VisitPlace(household.lon, household.lat), metric_crs=metric_crs,
                              on_site_m=on_site_m)
        rows.append({
            "id": vid, "household_id": household.id, "worker_id": r["工号"],
            "at": add_months(time_cell(path, i, "走访时间", r["走访时间"]), month_shift), "lon": lon, "lat": lat,
            "outcome": r["走访结果"], "distance_m": place.distance_m, "on_site": place.on_site,
            "grid_code": household.grid_code, "community_code": household.community_code,
            "street_code": household.street_code,
        })
    if rows:
        session.execute(insert(Visit), rows)
    audit.record(session, actor=actor, action="import", at=now, target_kind="visits",
                 detail={"file": Path(path).name, "rows": len(frame), "added": len(rows)})
    return len(rows)
