"""A synthetic city-scale history of cases, written in bulk (``python -m cases generate-history``).

Cases lie at points inside the hierarchy's grids (joined with :class:`geo.HierarchyIndex`, so every
code is the one the intake would give), are reported over the last ``months`` months in time order
and have run through the closed loop as far as ``now`` allows: every stamp of the lifecycle up to
the case's state is set, in order, and none after it; deadlines are those of
:func:`cases.deadlines.compute_deadlines` (vectorised over the working calendar); a small share
stalls at some step and stays open (overdue), some are voided, sent back, reworked or extended.
No case events are written (the KPIs and the maps read the cases only); ``version`` counts the
actions a case went through. PostgreSQL gets ``COPY``, SQLite one executemany per chunk, both in
:func:`store.rollup.deferred` (other writers wait): the KPI roll-up is folded in once, exactly.
Same seed, size, months, hierarchy, workers and ``now``: the same rows.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, select, text

from cases import calendar as working_calendar
from cases import deadlines, routing
from core import clock, constants
from core.errors import InputError
from core.progress import progress
from core.settings import load_settings
from metrics.kpi import settled_measures
from store import partitions, rollup
from store.models import Case, Worker

#: Shares of categories, sources and satisfaction ratings (ordered as the keys).
CATEGORY_SHARES = {"request": 0.55, "dispute": 0.15, "hazard": 0.20, "emergency": 0.10}
SOURCE_SHARES = {"hotline_12345": 0.50, "patrol": 0.20, "snapshot": 0.15, "video": 0.10, "superior": 0.05}
RATING_SHARES = {"satisfied": 0.70, "basically_satisfied": 0.22, "dissatisfied": 0.08}
#: Lifecycle stages in order; a case's state is the last one reached by ``now``.
STAGES = ("reported", "registered", "dispatched", "accepted", "on_site", "handled", "verified", "followed_up",
          "closed", "archived")
STALL_SHARE, VOID_SHARE, RETURN_SHARE = 0.015, 0.03, 0.3
REWORK_SHARE, EXTENSION_SHARE, DEPARTMENT_SHARE, SUPERVISED_SHARE = 0.06, 0.05, 0.12, 0.03
#: Closed cases older than this are archived three days after closing (as the demo does).
ARCHIVE_AFTER = timedelta(days=30)
CHUNK, POOL_PER_GRID = 250_000, 256
_DAY = 86_400.0
_NULL = np.array(None, dtype=object)
_HOURS = np.array([1, 1, 1, 1, 1, 2, 4, 7, 10, 11, 11, 10, 8, 9, 10, 10, 10, 9, 8, 7, 6, 4, 3, 2], dtype=float)
_NAMES = np.array([f"{s}{t}" for s in "王李张刘陈杨赵黄周吴" for t in ("先生", "女士")], dtype=object)


@dataclass(frozen=True)
class HistoryResult:
    """What :func:`generate_history` wrote."""

    rows: int
    seconds: float
    backend: str

    def summary(self) -> str:
        """One line: rows, seconds, rows/s."""
        rate = self.rows / self.seconds if self.seconds > 0 else float("inf")
        return f"generated {self.rows:,} cases into {self.backend} in {self.seconds:.1f} s ({rate:,.0f} rows/s)"


@dataclass(frozen=True)
class Places:
    """Points inside the grids with their joined codes, and per-grid weights and assignees."""

    lon: np.ndarray
    lat: np.ndarray
    codes: dict[str, np.ndarray]
    address: np.ndarray
    grid_start: np.ndarray
    grid_count: np.ndarray
    grid_weight: np.ndarray
    worker: np.ndarray


def _pick(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    keys = np.array(list(shares), dtype=object)
    p = np.array(list(shares.values()))
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


def place_pool(hierarchy: Path, workers: dict[str, str], seed: int) -> Places:
    """:data:`POOL_PER_GRID` random points inside each grid, joined onto ``hierarchy`` by the app's join.

    Grids get a lognormal weight (busy and quiet grids) and their worker (``workers`` by grid
    code, else a staff number ``WG`` + position).
    """
    from geo import HierarchyIndex, read_hierarchy
    from geo.join import CODE_COLUMNS

    layers = read_hierarchy(hierarchy)
    grids = layers["grids"].sort_values("code", ignore_index=True)
    if grids.empty:
        raise InputError(str(hierarchy), "the hierarchy has no grids", "build it with `python -m geo build`")
    index = HierarchyIndex.from_gpkg(hierarchy)
    rng = np.random.default_rng([seed, 1])
    bounds = grids.geometry.bounds.to_numpy()
    tries = POOL_PER_GRID * 4
    owner = np.repeat(np.arange(len(grids)), tries)
    lon = rng.uniform(bounds[owner, 0], bounds[owner, 2])
    lat = rng.uniform(bounds[owner, 1], bounds[owner, 3])
    res = index.join_arrays(lon, lat)
    joined = {CODE_COLUMNS[lv]: np.asarray(index.codes(lv, res[lv]).to_pylist(), dtype=object)
              for lv in ("streets", "communities", "grids", "buildings")}
    ok = res["status"] == constants.JOIN_STATUSES.index("ok")
    keep = (ok & (joined["grid_code"] == grids["code"].to_numpy()[owner])).reshape(len(grids), tries)
    rank = (np.cumsum(keep, axis=1) * keep).ravel()  # the first POOL_PER_GRID hits of each grid
    chosen = np.flatnonzero((rank >= 1) & (rank <= POOL_PER_GRID))
    count = np.bincount(owner[chosen], minlength=len(grids))
    address = np.array([f"{g}附近" for g in grids["name"].to_numpy()[owner[chosen]]], dtype=object)
    codes = grids["code"].astype(str).tolist()
    staff = np.array([workers.get(c, f"WG{i + 1:04d}") for i, c in enumerate(codes)], dtype=object)
    weight = rng.lognormal(0.0, 0.6, len(grids)) * (count > 0)
    return Places(lon=res["lon"][chosen], lat=res["lat"][chosen], codes={k: v[chosen] for k, v in joined.items()},
                  address=address, grid_start=np.concatenate([[0], np.cumsum(count)[:-1]]), grid_count=count,
                  grid_weight=weight / weight.sum(), worker=staff)


class WorkCalendar:
    """:func:`cases.calendar.add_working_days` over arrays of epoch seconds (naive local time)."""

    def __init__(self, first: float, last: float) -> None:
        cal = working_calendar.configured_calendar()
        self.day0 = int(first // _DAY) - 2
        days = np.arange(self.day0, int(last // _DAY) + 30)
        epoch = datetime(1970, 1, 1)
        self.working = np.array([cal.is_working_day((epoch + timedelta(days=int(d))).date()) for d in days])
        self.before = np.concatenate([[0], np.cumsum(self.working)[:-1]])
        self.workdays = days[self.working]

    def add(self, start: np.ndarray, days: np.ndarray) -> np.ndarray:
        """``start`` plus ``days`` working days, element-wise (NaN stays NaN)."""
        ok = ~np.isnan(start)
        out = np.full(start.shape, np.nan)
        t, span = start[ok], days[ok] * _DAY
        d = (t // _DAY).astype(np.int64) - self.day0
        w = self.before[d] * _DAY + np.where(self.working[d], t - (t // _DAY) * _DAY, 0.0) + span
        k = (w // _DAY).astype(np.int64)
        rest = w - k * _DAY
        midnight = (rest == 0) & (span > 0)  # ends exactly at a day's end: the midnight after that day
        out[ok] = np.where(midnight, (self.workdays[np.maximum(k - 1, 0)] + 1) * _DAY,
                           self.workdays[k] * _DAY + rest)
        return out


def _epoch(moment: datetime) -> float:
    return (moment - datetime(1970, 1, 1)).total_seconds()


def reported_times(n: int, now: datetime, months: int, seed: int) -> np.ndarray:
    """``n`` report times (epoch seconds, whole, sorted) over the last ``months`` months: more by
    day than by night, twice as many at the end of the period as at its start."""
    rng = np.random.default_rng([seed, 0])
    start, end = _epoch(clock.add_months(now, -months)), _epoch(now)
    t = start + (end - start) * (np.sqrt(1 + 3 * rng.random(n)) - 1)  # density rising from 1 to 2
    hour = rng.choice(24, size=n, p=_HOURS / _HOURS.sum())
    at_hour = np.floor(t / _DAY) * _DAY + hour * 3600.0 + rng.integers(0, 3600, n)
    return np.sort(np.floor(np.where((at_hour < start) | (at_hour >= end), t, at_hour)))



def _minutes(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    return np.floor(rng.uniform(lo, hi, n)) * 60.0


def _timeline(rng: np.random.Generator, rep: np.ndarray, cat: np.ndarray, prio: np.ndarray,
              cal: WorkCalendar) -> dict[str, np.ndarray]:
    """Every stage's time as if nothing stalls (epoch seconds), with the deadlines and rework times."""
    n = len(rep)
    sla = deadlines.sla_table()
    factor = np.vectorize(constants.PRIORITY_FACTORS.get, otypes=[float])(prio)
    per = {k: np.vectorize(lambda c, k=k: getattr(sla[c], k), otypes=[float])(cat)
           for k in ("respond_minutes", "arrive_minutes", "close_working_days")}
    t: dict[str, np.ndarray] = {"reported": rep, "registered": rep + _minutes(rng, 5, 60, n)}
    t["dispatched"] = t["registered"] + _minutes(rng, 5, 90, n)
    t["respond_due"] = t["dispatched"] + per["respond_minutes"] * factor * 60.0
    t["arrive_due"] = t["dispatched"] + per["arrive_minutes"] * factor * 60.0
    t["close_due"] = cal.add(t["dispatched"], per["close_working_days"] * factor)
    respond = t["respond_due"] - t["dispatched"]
    t["accepted"] = t["dispatched"] + np.floor(respond * rng.uniform(0.05, 1.15, n))
    arrive = np.floor((t["arrive_due"] - t["dispatched"]) * rng.lognormal(np.log(0.45), 0.5, n))
    t["on_site"] = np.maximum(t["accepted"] + 60.0, t["dispatched"] + arrive)
    close = t["close_due"] - t["dispatched"]
    t["handled_first"] = t["on_site"] + np.floor(close * 0.45 * rng.lognormal(np.log(0.5), 0.6, n)) + 600.0
    t["rework_at"] = t["handled_first"] + _minutes(rng, 60, 600, n)
    t["handled_again"] = t["rework_at"] + _minutes(rng, 240, 2880, n)
    reworked = rng.random(n) < REWORK_SHARE
    t["reworked"] = reworked.astype(float)
    t["handled"] = t["handled_first"]
    handled = np.where(reworked, t["handled_again"], t["handled_first"])
    t["verified"] = handled + _minutes(rng, 30, 600, n)
    t["followed_up"] = t["verified"] + _minutes(rng, 60, 1440, n)
    t["closed"] = t["followed_up"] + _minutes(rng, 10, 240, n)
    t["archived"] = t["closed"] + 3 * _DAY
    t["extension_at"] = t["accepted"] + 1800.0
    t["extension_decided"] = t["extension_at"] + 7200.0
    t["extended_close_due"] = t["close_due"] + np.floor(rng.uniform(2, 3, n)) * _DAY
    return t


def _reached(rng: np.random.Generator, t: dict[str, np.ndarray], now: float) -> tuple[np.ndarray, np.ndarray]:
    """Per case the index of the last stage reached by ``now`` (stalls and archiving applied),
    and the stage a case stalls at (-1: none)."""
    n = len(t["reported"])
    stall = np.where(rng.random(n) < STALL_SHARE, rng.integers(0, STAGES.index("closed"), n), -1)
    reached = np.zeros(n, dtype=np.int64)
    going = np.ones(n, dtype=bool)
    for k, stage in enumerate(STAGES[1:], start=1):
        going &= (t[stage] <= now) & ((stall < 0) | (stall >= k))
        if stage == "archived":
            going &= t["closed"] < now - ARCHIVE_AFTER.total_seconds()
        reached += going
    return reached, stall


def _at(t: dict[str, np.ndarray], stage: str, on: np.ndarray) -> np.ndarray:
    return np.where(on, t[stage], np.nan)


def _lifecycle(rng: np.random.Generator, t: dict[str, np.ndarray], now: float) -> dict[str, Any]:
    """The lifecycle columns at ``now``: state, stamps, deadlines, rework, extension, flags."""
    n = len(t["reported"])
    idx, stall = _reached(rng, t, now)
    voided = rng.random(n) < VOID_SHARE
    voided_now = voided & (t["registered"] <= now)
    idx = np.where(voided, 0, idx)
    returned = (stall == STAGES.index("dispatched")) & (idx == 2) & (rng.random(n) < RETURN_SHARE) \
        & (t["accepted"] <= now)
    state = np.asarray(STAGES, dtype=object)[idx]
    col = {f"{s}_at": _at(t, s, idx >= k) for k, s in enumerate(STAGES[1:], start=1)}
    col["arrived_at"] = col.pop("on_site_at")
    col["accepted_at"] = np.where(returned, np.nan, col["accepted_at"])
    rework = (t["reworked"] > 0) & (idx >= 5) & (t["rework_at"] <= now) & (stall != 5)
    again = rework & (t["handled_again"] <= now)
    col["handled_at"] = np.where(again, t["handled_again"], _at(t, "handled_first", idx >= 5))
    state = np.where(rework & ~again & (idx == 5), "rework", state)
    state = np.where(voided_now, "voided", np.where(returned, "returned", state))
    dispatched = idx >= 2
    for name in ("respond_due", "arrive_due", "close_due"):
        col[name] = _at(t, name, dispatched)
    asked = (rng.random(n) < EXTENSION_SHARE) & (idx >= 3) & ~returned & (t["extension_at"] <= now)
    decided = asked & (t["extension_decided"] <= now)
    approve = rng.random(n) < 0.85
    col["extension_state"] = np.where(decided, np.where(approve, "approved", "refused"),
                                      np.where(asked, "requested", _NULL))
    col["extended_close_due"] = np.where(asked & ~(decided & ~approve), t["extended_close_due"], np.nan)
    col["supervised"] = (rng.random(n) < SUPERVISED_SHARE) & dispatched
    col["rework_count"] = rework.astype(np.int64)
    col["void_reason"] = np.where(voided_now, "重复工单，已合并办理", _NULL)
    col["state"], col["returned"] = state, returned
    col["version"] = 1 + idx + voided_now + returned + 2 * again + rework + asked + decided + col["supervised"]
    return col


def simulate(rng: np.random.Generator, rep: np.ndarray, now: datetime, places: Places, cal: WorkCalendar,
             first_id: int, seed: int) -> pd.DataFrame:
    """The case rows (columns of ``cases`` without ``id``) of the report times ``rep``."""
    n = len(rep)
    cat = _pick(rng, CATEGORY_SHARES, n)
    sub = np.array([constants.SUBCATEGORIES[c][i % len(constants.SUBCATEGORIES[c])].key
                    for c, i in zip(cat, rng.integers(0, 60, n), strict=True)], dtype=object)
    urgent = rng.random(n)
    prio = np.where(cat == "emergency", np.where(urgent < 0.6, "urgent", "high"),
                    np.where(urgent < 0.02, "urgent", np.where(urgent < 0.12, "high", "normal")))
    grid = rng.choice(len(places.grid_weight), size=n, p=places.grid_weight)
    point = places.grid_start[grid] + rng.integers(0, 1 << 30, n) % np.maximum(places.grid_count[grid], 1)
    t = _timeline(rng, rep, cat, prio, cal)
    col = _lifecycle(rng, t, _epoch(now))
    frame = pd.DataFrame({"source": _pick(rng, SOURCE_SHARES, n),
                          "source_id": [f"GH{seed}-{i:09d}" for i in range(first_id, first_id + n)],
                          "category": cat, "subcategory": sub})
    labels = {s.key: s.zh for subs in constants.SUBCATEGORIES.values() for s in subs}
    frame["text"] = [f"{labels[s]}：群众反映，请尽快处理" for s in sub]
    frame["address"] = places.address[point]
    hotline = frame["source"].to_numpy() == "hotline_12345"
    frame["reporter_name"] = np.where(hotline, _NAMES[rng.integers(0, len(_NAMES), n)], _NULL)
    frame["reporter_phone"] = np.where(hotline, [f"138{x:08d}" for x in rng.integers(0, 10**8, n)], _NULL)
    frame["lon"], frame["lat"] = places.lon[point], places.lat[point]
    for name, codes in places.codes.items():
        frame[name] = codes[point]
    frame["join_status"], frame["priority"] = "ok", prio
    department = rng.random(n) < DEPARTMENT_SHARE
    depts = np.array(sorted(routing.load_rules(load_settings().routing_rules_path).departments), dtype=object)
    frame["assignee_kind"] = np.where(col["returned"], _NULL, np.where(department, "department", "worker"))
    frame["assignee_id"] = np.where(col["returned"], _NULL,
                                    np.where(department, depts[rng.integers(0, len(depts), n)], places.worker[grid]))
    frame["unrouted_reason"] = np.where(col["returned"], "sent back by " + places.worker[grid].astype(str)
                                        + ": 不属于本网格职责，请重新派单", _NULL)
    _arrival(rng, frame, col)
    rating = _pick(rng, RATING_SHARES, n)
    frame["satisfaction"] = np.where(np.isnan(col["followed_up_at"]), _NULL, rating)
    frame["escalation_level"] = 0
    for name in ("state", "supervised", "rework_count", "void_reason", "extension_state", "version"):
        frame[name] = col[name]
    for name in ("reported_at", "registered_at", "dispatched_at", "accepted_at", "arrived_at", "handled_at",
                 "verified_at", "followed_up_at", "closed_at", "archived_at", "respond_due", "arrive_due",
                 "close_due", "extended_close_due"):
        frame[name] = pd.to_datetime(rep if name == "reported_at" else col[name], unit="s")
    return frame


def _arrival(rng: np.random.Generator, frame: pd.DataFrame, col: dict[str, Any]) -> None:
    """Arrival position (within ~60 m of the case; 3 % within ~300 m) and its distance in metres."""
    n = len(frame)
    on = ~np.isnan(col["arrived_at"])
    reach = np.where(rng.random(n) < 0.03, 300.0, 60.0)
    dx, dy = rng.uniform(-1, 1, n) * reach, rng.uniform(-1, 1, n) * reach
    lat = frame["lat"].to_numpy(dtype=float)
    lon = frame["lon"].to_numpy(dtype=float) + dx / (111_320.0 * np.cos(np.radians(lat)))
    frame["arrival_lon"], frame["arrival_lat"] = np.where(on, lon, np.nan), np.where(on, lat + dy / 111_320.0, np.nan)
    frame["arrival_distance_m"] = np.where(on, np.round(np.hypot(dx, dy), 1), np.nan)


def _copy_postgres(connection: Connection, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S")
    names = ", ".join(f'"{name}"' for name in frame.columns)
    with (connection.connection.dbapi_connection.cursor() as cursor,  # type: ignore[union-attr]
          cursor.copy(f"COPY cases ({names}) FROM STDIN WITH (FORMAT csv)") as copy):
        copy.write(buffer.getvalue())


def _insert_sqlite(connection: Connection, frame: pd.DataFrame) -> None:
    out = frame.astype(object).where(frame.notna(), None)
    for name in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[name]):  # SQLAlchemy's SQLite DateTime text
            text_ = frame[name].dt.strftime("%Y-%m-%d %H:%M:%S.000000")
            out[name] = text_.astype(object).where(frame[name].notna(), None)
    out["supervised"] = frame["supervised"].astype(int)
    statement = f"INSERT INTO cases ({', '.join(frame.columns)}) VALUES ({', '.join('?' * len(frame.columns))})"
    connection.exec_driver_sql(statement, list(out.itertuples(index=False, name=None)))


def _grid_workers(connection: Connection) -> dict[str, str]:
    """Each grid's first active grid worker in the store (by staff number)."""
    w = Worker.__table__.c
    rows = connection.execute(select(w.grid_code, w.id).where(w.role == "worker", w.active.is_(True)).order_by(w.id))
    out: dict[str, str] = {}
    for grid, ident in rows:
        out.setdefault(str(grid), str(ident))
    return out


def generate_history(engine: Engine, *, cases: int, seed: int = 0, months: int = 24, hierarchy: Path | None = None,
                     now: datetime | None = None, chunk: int = CHUNK) -> HistoryResult:
    """Write ``cases`` synthetic cases (see the module docstring) in one transaction.

    Parameters
    ----------
    engine : Engine
        A migrated store (SQLite or PostgreSQL + psycopg).
    cases, seed, months : int
        How many cases, the random seed (also in every ``source_id``: ``GH<seed>-<n>``) and the
        months of history before ``now``.
    hierarchy : Path, optional
        ``hierarchy.gpkg``; default the configured one (the demo district).
    now, chunk
        The end of the history (default now) and the cases generated per step.

    Returns
    -------
    HistoryResult
    """
    if cases < 1 or months < 1 or seed < 0:
        raise InputError("generate-history", "--cases and --months must be positive, --seed not negative",
                         "e.g. --cases 100000 --months 24 --seed 0")
    now = (now or clock.now()).replace(microsecond=0)
    hierarchy = Path(hierarchy) if hierarchy else load_settings().hierarchy_path
    start = time.perf_counter()
    backend = engine.dialect.name
    with engine.begin() as connection:
        first = connection.execute(select(Case.id).where(Case.source.in_(list(constants.SOURCES)),
                                                         Case.source_id == f"GH{seed}-{0:09d}")).first()
        if first is not None:
            raise InputError(f"--seed {seed}", "the store already holds the history of this seed",
                             "pick another --seed, or generate into an empty store")
        places = place_pool(hierarchy, _grid_workers(connection), seed)
        rep = reported_times(cases, now, months, seed)
        cal = WorkCalendar(float(rep[0]), _epoch(now))
        if partitions.is_partitioned(connection):  # every month its partition before the COPY
            partitions.ensure_months(connection, pd.Timestamp(rep[0], unit="s").to_pydatetime(), now)
        deferred = rollup.deferred(connection, settled_measures(), lock_writers=True)
        with deferred, progress(cases, "generate-history", unit="cases") as bar:
            for i, lo in enumerate(range(0, cases, chunk)):
                rng = np.random.default_rng([seed, 2, i])
                frame = simulate(rng, rep[lo:lo + chunk], now, places, cal, lo, seed)
                (_copy_postgres if backend == "postgresql" else _insert_sqlite)(connection, frame)
                bar.update(len(frame))
    if backend == "postgresql":  # statistics, and the visibility map for index-only scans of open cases
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE) cases"))
    return HistoryResult(rows=cases, seconds=time.perf_counter() - start, backend=backend)
