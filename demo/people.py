"""Load the four-visit registry, visits and GPS tracks from CSV, and seed the demo accounts.

``python -m cases seed-demo`` calls :func:`seed_people` after the demo cases are in. The CSV
readers accept UTF-8 (with or without BOM) and GBK/GB18030, with the Chinese headers written
by ``data/make_demo.py`` (a real registry export uses the same ones):

- ``households.csv``: 户编号, 户主姓名, 身份证号, 联系电话, 类别, 楼栋编码, 网格编码, 经度, 纬度
- ``visits.csv``: 走访编号, 户编号, 工号, 走访时间, 经度, 纬度, 走访结果
- ``tracks.csv``: 工号, 时间, 经度, 纬度

Coordinates are CGCS2000 longitude/latitude (EPSG:4490). Each loader runs inside the caller's
transaction (all rows or none), skips rows already loaded (same id; for tracks the same worker
and time) so a second run adds nothing, and raises a one-line :class:`~core.errors.InputError`
naming the file, the row and the fix on the first bad row.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from pyproj import Transformer
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from access import accounts, audit
from core import constants
from core.errors import InputError
from store.models import Household, User, Visit, WorkerTrack

HOUSEHOLD_HEADERS = ("户编号", "户主姓名", "身份证号", "联系电话", "类别", "楼栋编码", "网格编码", "经度", "纬度")
VISIT_HEADERS = ("走访编号", "户编号", "工号", "走访时间", "经度", "纬度", "走访结果")
TRACK_HEADERS = ("工号", "时间", "经度", "纬度")

#: grid code -> (community code, street code)
GridParents = Mapping[str, tuple[str | None, str | None]]


@dataclass(frozen=True)
class DemoAccount:
    """A demo account created by ``make run`` (documented in the README)."""

    username: str
    password: str
    role: str
    display_name: str


#: Demo accounts, one per role. The chief gets the community of the first grid worker, the
#: worker that worker's grid; the passwords are public: never use them in production.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", "Admin#2026", "admin", "系统管理员"),
    DemoAccount("commander", "Command#2026", "commander", "指挥中心值班员"),
    DemoAccount("chief", "Chief#2026", "chief", "网格长"),
    DemoAccount("worker", "Worker#2026", "worker", "网格员"),
    DemoAccount("leader", "Leader#2026", "leader", "街道领导"),
)


# -- reading -----------------------------------------------------------------------------------
def read_table(path: Path, headers: tuple[str, ...]) -> pd.DataFrame:
    """Read a CSV (UTF-8, UTF-8 with BOM or GBK) as text, checking that ``headers`` are present."""
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "file not found", "generate it with `python data/make_demo.py --out data/demo`")
    frame = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            frame = pd.read_csv(path, dtype=str, encoding=encoding, keep_default_na=False)
            break
        except UnicodeDecodeError:
            continue
        except pd.errors.ParserError as exc:
            raise InputError(str(path), f"not a readable CSV ({exc})", "save it again as CSV") from exc
    if frame is None:
        raise InputError(str(path), "neither UTF-8 nor GBK text", "save it as CSV in UTF-8 or GBK")
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [h for h in headers if h not in frame.columns]
    if missing:
        raise InputError(str(path), f"missing column(s) {', '.join(missing)}",
                         f"use the headers {', '.join(headers)}")
    return frame.map(lambda v: v.strip() if isinstance(v, str) else v)


def _row(i: int) -> str:
    return f"row {i + 2}"  # header is line 1


def _new_records(frame: pd.DataFrame, path: Path, id_column: str, existing: set[str], *,
                 noun: str) -> Iterator[tuple[int, dict[str, str]]]:
    """``(row index, record)`` of the rows whose ``id_column`` is not in the store yet; a blank
    or repeated id is an :class:`InputError` naming the row."""
    seen: set[str] = set()
    for i, r in enumerate(frame.to_dict("records")):
        ident = r[id_column]
        if not ident:
            raise InputError(str(path), f"{id_column} is empty", f"give every {noun} an id", where=_row(i))
        if ident in seen:
            raise InputError(str(path), f"{id_column} {ident} appears twice", f"keep one row per {noun}",
                             where=_row(i))
        seen.add(ident)
        if ident not in existing:
            yield i, r


def _float(path: Path, i: int, column: str, value: str, *, required: bool) -> float | None:
    if value == "":
        if required:
            raise InputError(str(path), f"{column} is empty", "fill in the coordinate (EPSG:4490 degrees)",
                             where=_row(i))
        return None
    try:
        number = float(value)
    except ValueError:
        raise InputError(str(path), f"{column} is not a number: {value!r}", "write decimal degrees",
                         where=_row(i)) from None
    limit = 180 if column == "经度" else 90
    if not math.isfinite(number) or abs(number) > limit:
        raise InputError(str(path), f"{column} {value} is out of range", "write decimal degrees (EPSG:4490)",
                         where=_row(i))
    return number


def _time(path: Path, i: int, column: str, value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.replace("/", "-"))
    except ValueError:
        raise InputError(str(path), f"{column} is not a date-time: {value!r}", "write YYYY-MM-DD HH:MM:SS",
                         where=_row(i)) from None


_CATEGORY_KEYS = {**{k: k for k in constants.VISIT_CATEGORIES},
                  **{v.zh: k for k, v in constants.VISIT_CATEGORIES.items()}}


def add_months(when: datetime, months: int) -> datetime:
    """``when`` moved by whole calendar months (the day clamped to the month's length)."""
    if not months:
        return when
    index = when.year * 12 + when.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_month = datetime(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return when.replace(year=year, month=month, day=min(when.day, last_day))


def demo_shifts(visits: pd.DataFrame, tracks: pd.DataFrame, now: datetime) -> tuple[int, timedelta]:
    """How far to move the demo's visits (whole months) and tracks (whole days) so they look live.

    The newest visit month becomes the month before ``now`` (a complete period for coverage);
    the tracks' day becomes today, or yesterday when ``now`` is before the day's first fix.
    """
    month_shift = 0
    times = pd.to_datetime(visits["走访时间"], errors="coerce").dropna()
    if len(times):
        newest = times.max()
        month_shift = (now.year * 12 + now.month - 1) - (newest.year * 12 + newest.month)
    shift = timedelta(0)
    fixes = pd.to_datetime(tracks["时间"], errors="coerce").dropna()
    if len(fixes):
        first = fixes.min().to_pydatetime()
        day = now.date() if now.time() >= first.time() else (now - timedelta(days=1)).date()
        shift = datetime.combine(day, first.time()) - first
    return max(month_shift, 0), max(shift, timedelta(0))


def grid_parents(hierarchy_path: Path) -> dict[str, tuple[str | None, str | None]]:
    """Grid code → (community code, street code) from ``hierarchy.gpkg`` (``python -m geo build``)."""
    import pyogrio

    path = Path(hierarchy_path)
    if not path.exists():
        raise InputError(str(path), "hierarchy file not found", "run `python -m geo build ... --out` first")
    layers = {str(n) for n, *_ in pyogrio.list_layers(path)}

    def parents(level: str) -> dict[str, str | None]:
        if level not in layers:
            return {}
        frame = pyogrio.read_dataframe(path, layer=level, read_geometry=False, columns=["code", "parent_code"])
        return {str(c): (str(p) if p else None) for c, p in zip(frame["code"], frame["parent_code"], strict=True)}

    grid_to_comm = parents("grids")
    comm_to_street = parents("communities")
    return {g: (c, comm_to_street.get(c) if c else None) for g, c in grid_to_comm.items()}


# -- loaders -----------------------------------------------------------------------------------
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
    frame = read_table(path, HOUSEHOLD_HEADERS)
    existing = set(session.scalars(select(Household.id)))
    rows = []
    for i, r in _new_records(frame, path, "户编号", existing, noun="household"):
        hid = r["户编号"]
        category = _CATEGORY_KEYS.get(r["类别"])
        if category is None:
            allowed = ", ".join(v.zh for v in constants.VISIT_CATEGORIES.values())
            raise InputError(str(path), f"类别 {r['类别']!r} is not a four-visit category", f"use one of {allowed}",
                             where=_row(i))
        grid = r["网格编码"]
        if grid not in parents:
            raise InputError(str(path), f"网格编码 {grid!r} is not a grid of the hierarchy",
                             "correct the code or rebuild hierarchy.gpkg", where=_row(i))
        community, street = parents[grid]
        if not r["户主姓名"]:
            raise InputError(str(path), "户主姓名 is empty", "fill in the head of household", where=_row(i))
        rows.append({
            "id": hid, "head_name": r["户主姓名"], "id_number": r["身份证号"] or None,
            "phone": r["联系电话"] or None, "category": category, "building_code": r["楼栋编码"] or None,
            "grid_code": grid, "community_code": community, "street_code": street,
            "lon": _float(path, i, "经度", r["经度"], required=True),
            "lat": _float(path, i, "纬度", r["纬度"], required=True),
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
    frame = read_table(path, VISIT_HEADERS)
    existing = set(session.scalars(select(Visit.id)))
    households = {h.id: h for h in session.scalars(select(Household))}
    to_metric = Transformer.from_crs(constants.STORAGE_CRS, metric_crs, always_xy=True)
    rows = []
    for i, r in _new_records(frame, path, "走访编号", existing, noun="visit"):
        vid = r["走访编号"]
        household = households.get(r["户编号"])
        if household is None:
            raise InputError(str(path), f"户编号 {r['户编号']!r} is not in the household registry",
                             "load households.csv first or correct the id", where=_row(i))
        if not r["工号"]:
            raise InputError(str(path), "工号 is empty", "fill in the worker's staff number", where=_row(i))
        lon = _float(path, i, "经度", r["经度"], required=False)
        lat = _float(path, i, "纬度", r["纬度"], required=False)
        distance = None
        if lon is not None and lat is not None and household.lon is not None and household.lat is not None:
            (x1, x2), (y1, y2) = to_metric.transform([lon, household.lon], [lat, household.lat])
            distance = round(math.hypot(x2 - x1, y2 - y1), 1)
        rows.append({
            "id": vid, "household_id": household.id, "worker_id": r["工号"],
            "at": add_months(_time(path, i, "走访时间", r["走访时间"]), month_shift), "lon": lon, "lat": lat,
            "outcome": r["走访结果"], "distance_m": distance,
            "on_site": distance is not None and distance <= on_site_m,
            "grid_code": household.grid_code, "community_code": household.community_code,
            "street_code": household.street_code,
        })
    if rows:
        session.execute(insert(Visit), rows)
    audit.record(session, actor=actor, action="import", at=now, target_kind="visits",
                 detail={"file": Path(path).name, "rows": len(frame), "added": len(rows)})
    return len(rows)


def load_tracks(
    session: Session,
    path: Path,
    *,
    worker_grids: Mapping[str, str],
    parents: GridParents,
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
    frame = read_table(path, TRACK_HEADERS)
    existing = {tuple(r) for r in session.execute(select(WorkerTrack.worker_id, WorkerTrack.at))}
    rows = []
    for i, r in enumerate(frame.to_dict("records")):
        worker = r["工号"]
        grid = worker_grids.get(worker)
        if grid is None:
            raise InputError(str(path), f"工号 {worker!r} is not a grid worker with a grid",
                             "load the workers first or correct the staff number", where=_row(i))
        at = _time(path, i, "时间", r["时间"]) + shift
        if (worker, at) in existing:
            continue
        existing.add((worker, at))
        community, street = parents.get(grid, (None, None))
        rows.append({
            "worker_id": worker, "at": at,
            "lon": _float(path, i, "经度", r["经度"], required=True),
            "lat": _float(path, i, "纬度", r["纬度"], required=True),
            "grid_code": grid, "community_code": community, "street_code": street,
        })
    if rows:
        session.execute(insert(WorkerTrack), rows)
    audit.record(session, actor=actor, action="import", at=now, target_kind="tracks",
                 detail={"file": Path(path).name, "rows": len(frame), "added": len(rows)})
    return len(rows)


# -- demo accounts -----------------------------------------------------------------------------
def seed_demo_accounts(
    session: Session, *, worker_id: str, grid_code: str, community_code: str, chief_id: str | None, now: datetime
) -> list[str]:
    """Create the :data:`DEMO_ACCOUNTS` that do not exist yet; returns the names created."""
    created = []
    areas = {"chief": [community_code], "worker": [grid_code]}
    links = {"worker": worker_id, "chief": chief_id}
    for account in DEMO_ACCOUNTS:
        if accounts.get_user(session, account.username) is not None:
            continue
        accounts.add_user(session, username=account.username, password=account.password, role=account.role,
                          actor="seed-demo", now=now, area_codes=areas.get(account.role, ()),
                          display_name=account.display_name, worker_id=links.get(account.role))
        created.append(account.username)
    return created


def seed_people(session: Session, demo_dir: Path, *, hierarchy_path: Path, now: datetime,
                metric_crs: str = constants.DEFAULT_METRIC_CRS) -> dict[str, int]:
    """Seed demo accounts, households, visits and tracks (idempotent). Called by ``seed-demo``.

    Visits are moved by whole months so the newest month of visits is the month before ``now``;
    the one day of tracks is moved to today (see :func:`demo_shifts`).

    Parameters
    ----------
    session : Session
        Commit afterwards; everything is one transaction.
    demo_dir : Path
        Folder written by ``data/make_demo.py`` (``households.csv``, ``visits.csv``,
        ``tracks.csv``, ``workers.csv``).
    hierarchy_path : Path
        ``hierarchy.gpkg`` for the grid → community → street codes.
    now : datetime
        Local time for audit entries.

    Returns
    -------
    dict
        Rows added per table, ``accounts`` for the accounts created.
    """
    demo_dir = Path(demo_dir)
    parents = grid_parents(hierarchy_path)
    workers = read_table(demo_dir / "workers.csv", ("工号", "网格编码", "社区编码"))
    worker_grids = {w: g for w, g in zip(workers["工号"], workers["网格编码"], strict=True) if g}
    first = workers[workers["网格编码"] != ""].iloc[0]
    community = first["社区编码"] or (parents.get(first["网格编码"], (None, None))[0] or "")
    chiefs = workers[(workers["网格编码"] == "") & (workers["社区编码"] == community)]
    created = seed_demo_accounts(
        session, worker_id=first["工号"], grid_code=first["网格编码"], community_code=community,
        chief_id=chiefs["工号"].iloc[0] if len(chiefs) else None, now=now,
    )
    added = {"accounts": len(created)}
    visits = read_table(demo_dir / "visits.csv", VISIT_HEADERS)
    tracks = read_table(demo_dir / "tracks.csv", TRACK_HEADERS)
    month_shift, track_shift = demo_shifts(visits, tracks, now)
    added["households"] = load_households(session, demo_dir / "households.csv", parents=parents,
                                          actor="seed-demo", now=now)
    added["visits"] = load_visits(session, demo_dir / "visits.csv", actor="seed-demo", now=now,
                                  metric_crs=metric_crs, month_shift=month_shift)
    added["worker_tracks"] = 0
    if session.scalar(select(WorkerTrack.id).limit(1)) is None:  # tracks move with the day: load once
        added["worker_tracks"] = load_tracks(session, demo_dir / "tracks.csv", worker_grids=worker_grids,
                                             parents=parents, actor="seed-demo", now=now, shift=track_shift)
    return added


def demo_account_rows(session: Session) -> list[dict[str, str]]:
    """The demo accounts as README rows: user, password, role, area."""
    rows = []
    for account in DEMO_ACCOUNTS:
        user = session.scalar(select(User).where(User.username == account.username))
        rows.append({"username": account.username, "password": account.password, "role": account.role,
                     "area": (user.area_codes if user else "") or "whole district"})
    return rows
