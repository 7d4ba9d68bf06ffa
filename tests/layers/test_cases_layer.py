"""Case layer: colours, badges, clustering, alerts, aggregation above the point limit, escaping."""

from __future__ import annotations

import json
import re

import folium
import numpy as np
import pandas as pd
import pytest

from layers._points import DivMarkers
from layers.assets import offline_map
from layers.cases import (
    ALERT_CLASS,
    STATE_COLORS,
    build_case_totals_layer,
    build_cases_layer,
    grid_aggregates,
)
from tests.layers.sample import js_syntax_errors, js_text

XSS = "<img src=x onerror=alert(1)>"


def _cases(n: int, hierarchy, *, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    grids = hierarchy["grids"]
    west, south, east, north = grids.total_bounds
    codes = grids["code"].tolist()
    return pd.DataFrame({
        "id": np.arange(1, n + 1),
        "lon": rng.uniform(west, east, n),
        "lat": rng.uniform(south, north, n),
        "category": rng.choice(["emergency", "dispute", "hazard", "request"], n),
        "state": rng.choice(["reported", "dispatched", "on_site", "closed"], n),
        "source": "hotline_12345",
        "text": "路灯不亮",
        "address": "示范路1号",
        "reported_at": pd.Timestamp("2026-06-01 09:30"),
        "grid_code": rng.choice(codes, n),
        "due": rng.choice(["ok", "soon", "overdue"], n),
        "alert": False,
    })


def _html(group: folium.FeatureGroup) -> str:
    """The rendered page as the browser's JavaScript sees its strings."""
    fmap = offline_map(location=[35.45, 116.6])
    group.add_to(fmap)
    return js_text(fmap.get_root().render())


def _cluster(html: str) -> tuple[list[list], dict]:
    """The clustered rows and their shared meta, as the page's script holds them."""
    rows = re.search(r"var rows = (\[.*?\]);\n", html, re.S)
    meta = re.search(r"var M = (\{.*?\});\n", html, re.S)
    assert rows and meta, "no clustered case data in the page"
    return json.loads(rows.group(1)), json.loads(meta.group(1))


def _fast_cluster_rows(html: str) -> list[list]:
    return _cluster(html)[0]


def test_points_are_clustered_with_state_colour_and_badge(hierarchy) -> None:
    cases = _cases(50, hierarchy)
    html = _html(build_cases_layer(cases, name="案件", lang="zh"))
    assert "L.markerClusterGroup" in html
    rows, meta = _cluster(html)
    assert len(rows) == 50
    by_id = {row[2]: row for row in rows}
    for case in cases.itertuples():
        row = by_id[case.id]
        assert row[0] == pytest.approx(case.lat, abs=1e-6) and row[1] == pytest.approx(case.lon, abs=1e-6)
        state_key, colour, _label = meta["st"][row[3]]
        assert state_key == case.state and colour == STATE_COLORS[case.state]
        assert meta["cat"][row[4]][0] == case.category
        assert bool(row[5] & 1) == (case.due == "overdue")
    assert {badge for _key, badge, _label in meta["cat"]} == {"突", "纠", "隐", "诉"}
    assert "/app/static/vendor/markercluster/leaflet.markercluster.js" in html
    assert js_syntax_errors(html) == []
    assert "/app/static/vendor/markercluster/leaflet.markercluster.js" in html


def test_user_text_is_escaped_everywhere(hierarchy) -> None:
    cases = _cases(3, hierarchy)
    cases.loc[0, "text"] = XSS
    cases.loc[1, "address"] = '"><script>alert(2)</script>'
    cases.loc[2, ["text", "alert", "category", "state"]] = [XSS, True, "emergency", "dispatched"]
    html = _html(build_cases_layer(cases, name="案件"))
    rows = _fast_cluster_rows(html)
    texts = " ".join(row[8] + " " + row[9] for row in rows)
    assert "&lt;img src=x onerror=alert(1)&gt;" in texts
    assert "&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in texts
    assert "<img" not in texts and "<script" not in texts
    # the alert marker's tooltip is escaped too, and nothing raw is in the page
    assert "<img src=x" not in html and "<script>alert(2)" not in html
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") == 2
    assert js_syntax_errors(html) == []


def test_unreached_emergencies_are_ringed_and_never_clustered(hierarchy) -> None:
    cases = _cases(20, hierarchy)
    cases.loc[[3, 7], ["category", "state", "alert"]] = ["emergency", "dispatched", True]
    html = _html(build_cases_layer(cases, name="案件"))
    rows = _fast_cluster_rows(html)
    assert len(rows) == 18 and {3 + 1, 7 + 1}.isdisjoint(row[2] for row in rows)
    assert html.count(ALERT_CLASS) == 2


def test_above_the_point_limit_sends_per_grid_totals(hierarchy) -> None:
    cases = _cases(400, hierarchy)
    group = build_cases_layer(cases, name="案件", grids=hierarchy["grids"], point_limit=100)
    html = _html(group)
    assert "L.markerClusterGroup" not in html
    totals = [int(v) for v in re.findall(r'data-grid=\\"[0-9]+\\"[^>]*>(\d+)<', html)]
    assert sum(totals) == 400 and len(totals) == cases["grid_code"].nunique()


def test_above_the_point_limit_without_grids_is_refused(hierarchy) -> None:
    with pytest.raises(ValueError, match="exceed the point limit 10: pass grids="):
        build_cases_layer(_cases(20, hierarchy), name="案件", point_limit=10)


def test_grid_aggregates_count_open_overdue_alerts(hierarchy) -> None:
    cases = _cases(60, hierarchy)
    cases["alert"] = cases.index % 10 == 0
    agg = grid_aggregates(cases).set_index("code")
    expected = cases.groupby("grid_code").size()
    assert agg["cases"].sort_index().tolist() == expected.sort_index().tolist()
    open_expected = cases[cases["state"] != "closed"].groupby("grid_code").size()
    assert agg.loc[open_expected.index, "open"].tolist() == open_expected.tolist()
    assert agg["overdue"].sum() == (cases["due"] == "overdue").sum()
    assert agg["alerts"].sum() == cases["alert"].sum()


def test_server_totals_layer_places_one_bubble_per_grid_inside_it(hierarchy) -> None:
    grids = hierarchy["grids"]
    codes = grids["code"].tolist()
    totals = pd.DataFrame({"code": codes[:3], "cases": [50_000, 30_000, 0], "open": [10, 5, 0]})
    alerts = _cases(2, hierarchy)
    alerts[["category", "state", "alert"]] = ["emergency", "dispatched", True]
    group = build_case_totals_layer(totals, grids=grids, name="案件", alerts=alerts)
    html = _html(group)
    bubbles = re.findall(r'data-grid=\\"([0-9]+)\\"[^>]*>(\d+)<', html)
    assert sorted(bubbles) == sorted([(codes[0], "50000"), (codes[1], "30000")])
    assert html.count(ALERT_CLASS) == 2
    bubbles = next(c for c in group._children.values() if isinstance(c, DivMarkers))
    polygons = grids.to_crs("EPSG:4326").set_index("code").geometry
    from shapely.geometry import Point
    for lat, lon, html, _tip, _size in bubbles.rows:
        code = re.search(r'data-grid="(\d+)"', html).group(1)
        assert polygons[code].contains(Point(lon, lat))


def test_heat_mode_uses_local_leaflet_heat(hierarchy) -> None:
    html = _html(build_cases_layer(_cases(30, hierarchy), name="热力", mode="heat"))
    assert "L.heatLayer" in html
    assert "/app/static/vendor/leaflet-heat/leaflet-heat.js" in html


def test_cases_without_coordinates_are_not_drawn(hierarchy) -> None:
    cases = _cases(5, hierarchy)
    cases.loc[0, "lon"] = None
    cases.loc[1, "lat"] = 999.0
    rows = _fast_cluster_rows(_html(build_cases_layer(cases, name="案件")))
    assert sorted(r[2] for r in rows) == [3, 4, 5]


def test_bad_frames_are_reported(hierarchy) -> None:
    cases = _cases(3, hierarchy)
    with pytest.raises(ValueError, match="lacks column.*state"):
        build_cases_layer(cases.drop(columns=["state"]), name="案件")
    cases.loc[0, "state"] = "teleported"
    with pytest.raises(ValueError, match="unknown state.*teleported"):
        build_cases_layer(cases, name="案件")
    with pytest.raises(ValueError, match="mode must be one of"):
        build_cases_layer(_cases(3, hierarchy), name="案件", mode="3d")


def test_payload_stays_small_for_100k_cases(hierarchy) -> None:
    cases = _cases(100_000, hierarchy)
    html = _html(build_cases_layer(cases, name="案件", grids=hierarchy["grids"]))
    assert len(html.encode()) < 5_000_000


@pytest.mark.parametrize("aggregated", [False, True])
def test_template_syntax_in_case_text_stays_text(hierarchy, aggregated) -> None:
    """An incident text is data: Jinja syntax in it is neither evaluated nor able to break the map
    (the map is rendered as streamlit-folium renders it: map, then the live layer)."""
    import streamlit_folium

    cases = _cases(4, hierarchy)
    cases["text"] = ["{% if x %}开", "{{ 7*7 }}", "{# 注释", "{% endif"]
    cases.loc[0, ["category", "state", "alert"]] = ["emergency", "registered", True]
    captured: dict = {}
    original = streamlit_folium._component_func
    streamlit_folium._component_func = lambda **kwargs: captured.update(kwargs) or kwargs["default"]
    try:
        fmap = offline_map(location=[35.45, 116.6])
        if aggregated:
            totals = grid_aggregates(cases)
            layer = build_case_totals_layer(totals, grids=hierarchy["grids"], alerts=cases.iloc[:1], name="案件")
        else:
            layer = build_cases_layer(cases, name="案件")
        streamlit_folium.st_folium(fmap, key="t", feature_group_to_add=[layer], returned_objects=[])
    finally:
        streamlit_folium._component_func = original
    script = js_text(captured["feature_group"])
    assert "{% if x %}开" in script
    if not aggregated:
        assert "{{ 7*7 }}" in script and "{# 注释" in script and "{% endif" in script
    assert "49" not in script
    assert js_syntax_errors(f"<script>{captured['script']}\n{captured['feature_group']}</script>") == []
