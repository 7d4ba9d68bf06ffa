"""Loading households, visits and tracks from CSV (distance to the household, on-site flag,
idempotence, one-line errors) and seeding the demo accounts, on SQLite and PostGIS."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from pyproj import Geod
from sqlalchemy import func, select

from access import accounts
from access.scope import Scope
from core.clock import add_months
from core.errors import InputError
from core.settings import Settings
from demo.people import DEMO_ACCOUNTS, demo_shifts, seed_people
from geo.areas import grid_parents
from metrics.coverage import visit_coverage
from registry.imports import load_households, load_visits
from store.models import Household, User, Visit, WorkerTrack
from tests.fixtures.world import C1, G1, G2, STREET, T0, audit_marker, audit_since
from workforce.queries import worker_positions
from workforce.tracks import load_tracks

PARENTS = {G1: (C1, STREET), G2: (C1, STREET)}
HH_HEADER = "户编号,户主姓名,身份证号,联系电话,类别,楼栋编码,网格编码,经度,纬度"
LON, LAT = 116.5870, 35.4150
GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid


def _write(path: Path, lines: list[str], encoding: str = "utf-8-sig") -> Path:
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def _offset(lon: float, lat: float, metres: float) -> tuple[float, float]:
    lon2, lat2, _ = GEOD.fwd(lon, lat, 45.0, metres)
    return round(lon2, 7), round(lat2, 7)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    near = _offset(LON, LAT, 30.0)
    far = _offset(LON, LAT, 300.0)
    return {
        # GBK, as registries exported from office software often are
        "households": _write(tmp_path / "households.csv", [
            HH_HEADER,
            f"HH1,张三明,370811195001011234,13811112222,空巢老人,{G1}0001,{G1},{LON},{LAT}",
            f"HH2,李四,370811196002022345,13933334444,困难家庭,{G2}0001,{G2},{LON + 0.01},{LAT}",
        ], encoding="gbk"),
        "visits": _write(tmp_path / "visits.csv", [
            "走访编号,户编号,工号,走访时间,经度,纬度,走访结果",
            f"V1,HH1,W001,2026-11-02 10:00:00,{near[0]},{near[1]},情况稳定",
            f"V2,HH1,W001,2026-11-20 10:00:00,{far[0]},{far[1]},情况稳定",
            "V3,HH2,W002,2026-11-03 09:30:00,,,未遇本人，已电话联系",
        ]),
        "tracks": _write(tmp_path / "tracks.csv", [
            "工号,时间,经度,纬度",
            f"W001,2026-11-02 09:55:00,{LON},{LAT}",
            f"W001,2026-11-02 10:00:00,{near[0]},{near[1]}",
            f"W002,2026-11-02 10:00:00,{LON + 0.01},{LAT}",
        ]),
    }


def _load_all(session, files):
    n_h = load_households(session, files["households"], parents=PARENTS, actor="test", now=T0)
    n_v = load_visits(session, files["visits"], actor="test", now=T0)
    n_t = load_tracks(session, files["tracks"], worker_grids={"W001": G1, "W002": G2}, parents=PARENTS,
                      actor="test", now=T0)
    return n_h, n_v, n_t


def test_load_measures_distance_and_is_idempotent(people_store, files):
    with people_store.Session() as session, session.begin():
        marker = audit_marker(session)
        assert _load_all(session, files) == (2, 3, 3)
        v1, v2, v3 = (session.get(Visit, v) for v in ("V1", "V2", "V3"))
        # distances measured in EPSG:4548 agree with the geodesic within a few centimetres
        assert v1.distance_m == pytest.approx(30.0, abs=0.2) and v1.on_site
        assert v2.distance_m == pytest.approx(300.0, abs=0.5) and not v2.on_site
        assert v3.distance_m is None and not v3.on_site and v3.lon is None
        assert (v1.grid_code, v1.community_code, v1.street_code) == (G1, C1, STREET)
        h1 = session.get(Household, "HH1")
        assert h1.head_name == "张三明" and h1.category == "empty_nest" and h1.street_code == STREET
        track = session.scalars(select(WorkerTrack).where(WorkerTrack.worker_id == "W002")).one()
        assert track.grid_code == G2
        entries = audit_since(session, marker)
        assert [(e.action, e.target_kind, e.detail["added"]) for e in entries] == [
            ("import", "households", 2), ("import", "visits", 3), ("import", "tracks", 3)]
    with people_store.Session() as session, session.begin():
        assert _load_all(session, files) == (0, 0, 0)
        assert session.scalar(select(func.count()).select_from(Visit)) == 3


@pytest.mark.parametrize(
    ("kind", "line", "match"),
    [
        ("households", f"HH9,王五,,,低保户,,{G1},{LON},{LAT}", r"row 4: 类别 '低保户' is not a four-visit category"),
        ("households", f"HH9,王五,,,困难家庭,,999,{LON},{LAT}", r"row 4: 网格编码 '999' is not a grid"),
        ("households", f"HH9,王五,,,困难家庭,,{G1},east,{LAT}", r"row 4: 经度 is not a number"),
        ("households", f"HH9,王五,,,困难家庭,,{G1},{LON},95", r"row 4: 纬度 95 is out of range"),
        ("households", f"HH1,王五,,,困难家庭,,{G1},{LON},{LAT}", r"row 4: 户编号 HH1 appears twice"),
        ("visits", "V9,HH404,W001,2026-11-02 10:00:00,,,x", r"row 5: 户编号 'HH404' is not in the household"),
        ("visits", "V9,HH1,W001,yesterday,,,x", r"row 5: 走访时间 is not a date-time"),
        ("tracks", f"W404,2026-11-02 10:00:00,{LON},{LAT}", r"row 5: 工号 'W404' is not a grid worker"),
    ],
)
def test_bad_rows_give_one_line_errors_and_load_nothing(people_store, files, kind, line, match):
    path = files[kind]
    encoding = "gbk" if kind == "households" else "utf-8-sig"
    path.write_text(path.read_text(encoding=encoding) + line + "\n", encoding=encoding)
    with pytest.raises(InputError, match=match) as info:
        with people_store.Session() as session, session.begin():
            _load_all(session, files)
    message = str(info.value)
    assert "\n" not in message and path.name in message and "Fix:" in message
    with people_store.Session() as session:
        assert session.scalar(select(func.count()).select_from(Household)) == 0


def test_missing_columns_are_named(people_store, tmp_path):
    bad = _write(tmp_path / "households.csv", ["户编号,姓名", "HH1,张三"])
    with people_store.Session() as session, session.begin():
        with pytest.raises(InputError, match="missing column.*户主姓名.*身份证号"):
            load_households(session, bad, parents=PARENTS, actor="t", now=T0)


@pytest.fixture(scope="module")
def demo_with_hierarchy(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    built = demo_dir / "hierarchy.gpkg"
    if built.exists():
        return demo_dir, built
    out = tmp_path_factory.mktemp("hierarchy") / "hierarchy.gpkg"
    subprocess.run(
        [sys.executable, "-m", "geo", "build", "--streets", str(demo_dir / "streets.shp"),
         "--communities", str(demo_dir / "communities.shp"), "--grids", str(demo_dir / "grids.shp"),
         "--buildings", str(demo_dir / "buildings.shp"), "--out", str(out)],
        check=True, capture_output=True, cwd=Path(__file__).resolve().parents[2],
    )
    return demo_dir, out


@pytest.mark.slow
def test_seed_demo_district(people_store, demo_with_hierarchy):
    demo, hierarchy = demo_with_hierarchy
    parents = grid_parents(hierarchy)
    with people_store.Session() as session, session.begin():
        added = seed_people(session, demo, hierarchy_path=hierarchy, now=T0)
    n_households = sum(1 for _ in (demo / "households.csv").open(encoding="utf-8-sig")) - 1
    n_visits = sum(1 for _ in (demo / "visits.csv").open(encoding="utf-8-sig")) - 1
    assert added["accounts"] == len(DEMO_ACCOUNTS)
    assert added["households"] == n_households and added["visits"] == n_visits
    assert added["worker_tracks"] > 0
    assert 2 * 40 <= added["team_members"] <= 3 * 40  # two or three helpers in each of the first 40 grids
    settings = replace(Settings(), lockout_failures=5)
    with people_store.Session() as session, session.begin():
        assert seed_people(session, demo, hierarchy_path=hierarchy, now=T0) == {
            "accounts": 0, "households": 0, "visits": 0, "team_members": 0, "worker_tracks": 0}
        for account in DEMO_ACCOUNTS:
            result = accounts.authenticate(session, account.username, account.password, T0, settings=settings)
            assert result.ok and result.user.role == account.role
        worker = session.scalars(select(User).where(User.username == "worker")).one()
        chief = session.scalars(select(User).where(User.username == "chief")).one()
        grid = worker.area_code_list[0]
        assert grid in parents and parents[grid][0] == chief.area_code_list[0]
        # every visit is filed under its household's grid, community and street
        bad = session.scalar(select(func.count()).select_from(Visit).join(Household, Household.id == Visit.household_id)
                             .where((Visit.grid_code != Household.grid_code) | (Visit.street_code.is_(None))))
        assert bad == 0
        on_site = session.scalar(select(func.count()).select_from(Visit).where(Visit.on_site.is_(True)))
        assert 0.5 * n_visits < on_site < n_visits  # the demo holds some "paper visits" far from the household
        assert Scope.for_user(worker).allows(grid_code=grid)
        # the demo's visits end in the month before "now", its tracks are today's
        coverage = visit_coverage(session, Scope("admin"), f"{T0.year}-{T0.month - 1:02d}", by="street")
        assert len(coverage) == 1 and 0.8 < coverage["coverage"].iloc[0] <= 1.0
        assert coverage["credible_coverage"].iloc[0] < coverage["coverage"].iloc[0]
        assert visit_coverage(session, Scope("admin"), f"{T0.year}-{T0.month:02d}")["visits"].sum() == 0
        newest_fix = session.scalar(select(func.max(WorkerTrack.at)))
        assert newest_fix.date() == T0.date()
        positions = worker_positions(session, Scope.for_user(worker), at=T0)
        assert positions["grid_code"].tolist() == [grid]


def test_add_months_and_demo_shifts():
    import pandas as pd

    assert add_months(datetime(2026, 5, 31, 10), 1) == datetime(2026, 6, 30, 10)
    assert add_months(datetime(2026, 12, 15), 2) == datetime(2027, 2, 15)
    assert add_months(datetime(2024, 1, 31), 1) == datetime(2024, 2, 29)
    visits = pd.DataFrame({"走访时间": ["2026-04-03 10:00:00", "2026-06-28 16:00:00"]})
    tracks = pd.DataFrame({"时间": ["2026-06-30 08:01:00", "2026-06-30 17:20:00"]})
    months, shift = demo_shifts(visits, tracks, datetime(2026, 11, 22, 9, 0))
    assert months == 4  # June -> October, the month before November
    assert datetime(2026, 6, 30, 8, 1) + shift == datetime(2026, 11, 22, 8, 1)
    _, early = demo_shifts(visits, tracks, datetime(2026, 11, 22, 7, 0))
    assert datetime(2026, 6, 30, 8, 1) + early == datetime(2026, 11, 21, 8, 1)
