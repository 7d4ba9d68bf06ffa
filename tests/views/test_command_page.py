"""The command map page through the router, with Streamlit's AppTest and a real SQLite store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from tests.layers.sample import js_text
from tests.views.pages import XSS, signed_in

ROOT = Path(__file__).resolve().parents[2]


def _command_page() -> AppTest:
    at = signed_in(AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)).run()
    at.switch_page("views/command_map.py").run()
    return at


def _component_args(at: AppTest) -> dict:
    nodes = at.get("component_instance")
    assert nodes, "the map component was not drawn"
    return json.loads(nodes[0].proto.json_args)


def test_tiles_list_and_map_follow_the_filter(store_config) -> None:
    at = _command_page()
    assert not at.exception, at.exception
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["在办"] == "3" and tiles["待到场"] == "0"
    args = _component_args(at)
    assert "gc-grid" in args["script"]  # the static hierarchy
    assert "var rows" in args["feature_group"] and "gc-unreached" in args["feature_group"]
    assert "/app/static/" in json.dumps(args["js_links"]) and "://" not in json.dumps(args["js_links"])
    # the XSS text is escaped on its way to the map (as the browser's JavaScript reads it)
    script = js_text(args["feature_group"])
    assert "<img src=x" not in script and "&lt;img src=x onerror=alert(1)&gt;" in script
    at.selectbox(key="cm_category").set_value("dispute").run()
    assert not at.exception, at.exception
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["在办"] == "1"
    feature_group = _component_args(at)["feature_group"]
    assert "gc-unreached" not in feature_group
    assert "T1" not in feature_group  # source ids never reach the map


def test_wall_mode_hides_the_list(store_config) -> None:
    at = _command_page()
    assert at.subheader and any(h.value == "案件列表" for h in at.subheader)
    at.toggle(key="wall_mode").set_value(True).run()
    assert not at.exception, at.exception
    assert not any(h.value == "案件列表" for h in at.subheader)


def test_new_emergency_raises_an_alert(store_config) -> None:
    from core import clock
    from store.db import make_engine
    from store.models import Case

    at = _command_page()
    assert not at.exception, at.exception
    assert len(at.toast) == 0  # emergencies already on the map when the page opened: no alert
    engine = make_engine(store_config)
    with Session(engine) as session, session.begin():
        first = session.get(Case, 1)
        session.execute(insert(Case), [{
            "source": "snapshot", "source_id": "NEW1", "category": "emergency",
            "text": "燃气泄漏 **速来** [x](javascript:alert(1))",
            "lon": first.lon, "lat": first.lat, "grid_code": first.grid_code, "state": "reported",
            "priority": "urgent", "reported_at": clock.now(), "version": 1, "rework_count": 0,
            "supervised": False}])
    engine.dispose()
    at.run()
    assert not at.exception, at.exception
    assert len(at.toast) == 1 and "新突发事件" in at.toast[0].value and "燃气泄漏" in at.toast[0].value
    assert any("燃气泄漏" in e.value for e in at.error)
    # markdown in the reporter's text is escaped, not rendered (no bold, no link)
    assert "\\*\\*速来\\*\\*" in at.toast[0].value and "\\[x\\]" in at.toast[0].value
    at.run()
    assert len(at.toast) == 0  # announced once


def test_english_labels(store_config) -> None:
    at = signed_in(AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)).run()
    at.radio(key="lang").set_value("en").run()
    at.switch_page("views/command_map.py").run()
    assert not at.exception, at.exception
    assert {m.label for m in at.metric} >= {"New today", "Open", "Overdue", "Arrivals pending"}
    assert at.title[0].value == "Command map"


def test_case_panel_shows_the_text_as_text_and_the_timeline(store_config) -> None:
    at = _command_page()
    at.session_state["selected_case"] = 1
    at.run()
    assert not at.exception, at.exception
    assert any(m.value.startswith("**#1 · 突发事件") for m in at.markdown)
    assert any(x.value == XSS for x in at.text)  # st.text: shown verbatim, never as HTML
    frames = [d for d in at.dataframe if "环节" in d.value.columns]
    assert frames, "no timeline table"


def test_page_file_run_without_the_router_shows_nothing(store_config) -> None:
    """Streamlit's pages-folder mode can run a page file directly on a fresh server."""
    at = AppTest.from_file(str(ROOT / "views" / "command_map.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.error and "登录" in at.error[0].value
    assert not at.get("component_instance") and not at.metric


# -- building outlines by zoom level ------------------------------------------------------------
def _add_buildings(gpkg: Path) -> dict[str, list[str]]:
    """Write two small buildings into each grid of the sample hierarchy file; returns the
    building codes per grid."""
    import geopandas as gpd
    from shapely.geometry import box

    from tests.layers.sample import sample_hierarchy

    grids = sample_hierarchy()["grids"].to_crs("EPSG:4548")
    rows, per_grid = [], {}
    for code, geom in zip(grids["code"], grids.geometry, strict=True):
        p = geom.representative_point()
        for k in range(2):
            bcode = f"{code}{k + 1:03d}"
            rows.append({"code": bcode, "name": f"{k + 1}号楼", "parent_code": code,
                         "geometry": box(p.x + 40 * k, p.y, p.x + 40 * k + 25, p.y + 15)})
            per_grid.setdefault(code, []).append(bcode)
    buildings = gpd.GeoDataFrame(rows, crs="EPSG:4548").to_crs("EPSG:4490")
    buildings.to_file(gpkg, layer="buildings", driver="GPKG")
    return per_grid


def _page_as(role: str, area: str = "") -> AppTest:
    from core import clock

    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.session_state["auth"] = {"user": {"username": role, "display_name": role, "role": role,
                                         "area_codes": area, "worker_id": None},
                                "last_activity": clock.now()}
    at.run()
    at.switch_page("views/command_map.py").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize(("role", "area", "grids_seen"), [
    ("commander", "", None),
    ("chief", "370811004001", {"370811004001001", "370811004001002", "370811004001003"}),
    ("worker", "370811004002003", {"370811004002003"}),
])
def test_buildings_of_the_scope_appear_from_zoom_15(store_config, tmp_path, role, area, grids_seen) -> None:
    per_grid = _add_buildings(tmp_path / "hierarchy.gpkg")
    at = _page_as(role, area)
    script = _component_args(at)["script"]
    # the zoom rule of the hierarchy page (layers.zoom): added at zoom >= 15, removed below
    assert "map.getZoom() >= 15" in script and "gcSyncZoom" in script
    layer = re.search(r"var layer = (feature_group_\w+);", script).group(1)
    assert f"{layer}.addTo(" not in script.split("gcSyncZoom")[0]  # not drawn when the map opens
    wanted = set(per_grid) if grids_seen is None else grids_seen
    for grid, codes in per_grid.items():
        for code in codes:
            assert (code in script) == (grid in wanted), (role, code)


def test_selected_grid_keeps_its_outline_and_buildings(store_config, tmp_path) -> None:
    per_grid = _add_buildings(tmp_path / "hierarchy.gpkg")
    at = _command_page()
    at.session_state["selected_grid"] = "370811004001002"
    at.run()
    assert not at.exception, at.exception
    feature_group = _component_args(at)["feature_group"]
    assert "gc-selected" in feature_group
    assert all(code in feature_group for code in per_grid["370811004001002"])
    assert not any(code in feature_group for code in per_grid["370811004001001"])


def test_payload_with_the_demo_buildings_stays_under_5_mb(demo_dir, tmp_path, monkeypatch) -> None:
    """The demo district (4,184 buildings, all sent for the zoom rule) on the command map."""
    import streamlit as st

    from store.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    config = tmp_path / "gridcommand.toml"
    config.write_text(f'demo_dir = "{demo_dir.as_posix()}"\n', encoding="utf-8")
    monkeypatch.setenv("GRIDCOMMAND_CONFIG", str(config))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        from geo import read_hierarchy

        buildings = read_hierarchy(demo_dir / "hierarchy.gpkg")["buildings"]
        at = _command_page()
        assert not at.exception, at.exception
        args = _component_args(at)
        payload = sum(len(str(args.get(k) or "").encode()) for k in ("script", "feature_group", "header", "html"))
        print(f"command map payload with {len(buildings)} buildings: {payload:,} bytes")
        assert str(buildings["code"].iloc[-1]) in args["script"]  # every building is there for the zoom rule
        assert payload < 5 * 1024 * 1024
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()


def _add_overdue_case(store_config) -> int:
    """A case dispatched two days ago whose respond deadline passed 3 hours ago, supervised once."""
    from datetime import timedelta

    from core import clock
    from store.db import make_engine
    from store.models import Case, CaseEvent

    now = clock.now()
    engine = make_engine(store_config)
    with Session(engine) as session, session.begin():
        first = session.get(Case, 1)
        case = Case(source="hotline_12345", source_id="LATE1", category="request", text="路灯不亮",
                    lon=first.lon, lat=first.lat, grid_code=first.grid_code, state="dispatched", priority="normal",
                    reported_at=now - timedelta(days=2), dispatched_at=now - timedelta(days=2),
                    respond_due=now - timedelta(hours=3), close_due=now + timedelta(days=3), version=3,
                    rework_count=0, supervised=True, assignee_kind="worker", assignee_id="W001")
        session.add(case)
        session.flush()
        session.add(CaseEvent(case_id=case.id, seq=1, action="supervise", from_state="dispatched",
                              to_state="dispatched", actor="leader", at=now - timedelta(hours=1), note="尽快处理"))
        case_id = case.id
    engine.dispose()
    return case_id


def test_deadline_filter_narrows_list_but_not_tiles(store_config) -> None:
    late = _add_overdue_case(store_config)
    at = _command_page()
    everything = next(d.value for d in at.dataframe if "剩余/超期" in d.value.columns)
    at.selectbox(key="cm_due").set_value("overdue").run()
    assert not at.exception, at.exception
    tiles = {m.label: m.value for m in at.metric}
    overdue = next(d.value for d in at.dataframe if "剩余/超期" in d.value.columns)
    assert overdue["#"].tolist() == [late] and tiles["超期"] == "1" and len(everything) == 5
    assert overdue["剩余/超期"].tolist() == ["已超期 3 小时"]
    assert any(c.value.startswith("共 1 件") for c in at.caption)
    assert tiles["在办"] == "4"  # the tiles still count every open case of the filter


def test_case_panel_shows_its_deadline_and_supervision(store_config) -> None:
    late = _add_overdue_case(store_config)
    at = _command_page()
    at.session_state["selected_case"] = late
    at.run()
    assert not at.exception, at.exception
    assert any(m.value.startswith("响应时限 ") and ":red-badge[已超期 3 小时]" in m.value for m in at.markdown)
    assert any(c.value.startswith("结案时限 ") for c in at.caption)
    assert any("督办" in x.value and "leader" in x.value and "尽快处理" in x.value for x in at.text)
