"""Choropleth, workers, facilities and legend layers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from layers.assets import offline_map
from layers.choropleth import (
    MEASURES,
    NO_DATA,
    PALETTE,
    build_choropleth_layer,
    class_breaks,
    classify,
)
from layers.facilities import build_facilities_layer
from layers.workers import build_workers_layer
from tests.layers.sample import js_syntax_errors, js_text


def _render(*groups) -> str:
    fmap = offline_map(location=[35.45, 116.6])
    for group in groups:
        group.add_to(fmap)
    return js_text(fmap.get_root().render())


def _features(group) -> list[dict]:
    gj = next(c for c in group._children.values() if hasattr(c, "data"))
    return gj.data["features"]


def test_choropleth_dark_means_worse_for_counts_and_rates(hierarchy) -> None:
    codes = hierarchy["grids"]["code"].tolist()
    counts = pd.Series([0, 1, 2, 5, 10, 40], index=codes)
    group = build_choropleth_layer(hierarchy["grids"], values=counts, measure="open", name="专题")
    fills = {f["properties"]["code"]: f["properties"]["fill"] for f in _features(group)}
    assert fills[codes[-1]] == PALETTE[-1] and fills[codes[0]] == PALETTE[0]
    rates = pd.Series([1.0, 0.99, 0.95, 0.9, 0.8, 0.5], index=codes)
    group = build_choropleth_layer(hierarchy["grids"], values=rates, measure="on_time_rate", name="专题")
    fills = {f["properties"]["code"]: f["properties"]["fill"] for f in _features(group)}
    assert fills[codes[-1]] == PALETTE[-1] and fills[codes[0]] == PALETTE[0]


def test_choropleth_missing_values_are_grey_and_tooltips_formatted(hierarchy) -> None:
    codes = hierarchy["grids"]["code"].tolist()
    rates = pd.Series([0.5, 0.75], index=codes[:2])
    group = build_choropleth_layer(hierarchy["grids"], values=rates, measure="on_time_rate",
                                   name="专题", lang="en")
    feats = {f["properties"]["code"]: f["properties"] for f in _features(group)}
    assert feats[codes[5]]["fill"] == NO_DATA
    assert "50.0%" in feats[codes[0]]["tip"] and "On-time closure rate" in feats[codes[0]]["tip"]
    html = _render(group)
    assert "gc-legend" in html and "No data" in html
    assert js_syntax_errors(html) == []


def test_choropleth_rejects_unknown_measure(hierarchy) -> None:
    with pytest.raises(ValueError, match="unknown measure 'joy'.*on_time_rate"):
        build_choropleth_layer(hierarchy["grids"], values=pd.Series(dtype=float), measure="joy", name="x")


def test_class_breaks_and_classify() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0, np.nan])
    breaks = class_breaks(values)
    assert breaks[-1] == 5.0 and np.all(np.diff(breaks) > 0)
    colours = classify(values, breaks, better="lower")
    assert colours[-1] == NO_DATA and colours[0] == PALETTE[0] and colours[4] == PALETTE[-1]
    assert classify(np.array([7.0]), class_breaks(np.array([7.0, 7.0])), better="lower") == [PALETTE[0]]
    assert set(MEASURES) == {"open", "overdue", "per_1000_buildings", "on_time_rate"}


def test_workers_positions_tracks_and_staleness() -> None:
    positions = pd.DataFrame({
        "worker_id": ["WG0001", "WG0002"], "name": ["张三", "<b>李四</b>"],
        "grid_code": ["370811004001001", "370811004001002"],
        "lon": [116.60, 116.61], "lat": [35.45, 35.46],
        "at": pd.to_datetime(["2026-06-30 10:00", "2026-06-30 08:00"]),
    })
    tracks = pd.DataFrame({
        "worker_id": ["WG0001"] * 3 + ["WG0002"],
        "at": pd.to_datetime(["2026-06-30 09:00", "2026-06-30 08:00", "2026-06-30 10:00",
                              "2026-06-30 08:00"]),
        "lon": [116.601, 116.600, 116.602, 116.61], "lat": [35.451, 35.450, 35.452, 35.46],
    })
    group = build_workers_layer(positions, name="网格员", tracks=tracks)
    html = _render(group)
    assert html.count("gc-worker-stale") == 1  # WG0002's fix is 2 h older than the latest
    assert html.count("L.polyline") == 1  # one track (WG0002 has a single fix)
    assert "[35.45, 116.6], [35.451, 116.601], [35.452, 116.602]" in html  # in time order
    assert "&lt;b&gt;李四&lt;/b&gt;" in html and "<b>李四" not in html


def test_facilities_badges_and_escaping() -> None:
    facilities = pd.DataFrame({
        "name": ["锦绣社区党群服务中心", "<i>卫生室</i>", "无坐标"],
        "kind": ["党群服务中心", "卫生室", "幸福食堂"],
        "lon": [116.59, 116.60, None], "lat": [35.46, 35.45, None],
    })
    html = _render(build_facilities_layer(facilities, name="设施"))
    assert html.count('class=\\"gc-facility\\"') == 2
    assert "党" in html and "医" in html
    assert "&lt;i&gt;卫生室&lt;/i&gt;" in html and "<i>卫生室" not in html
