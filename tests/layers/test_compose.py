"""Frozen layers (rendered once, put on many maps) and the cached display bounds."""

from __future__ import annotations

import re

import folium
import geopandas as gpd
import pytest
import shapely

from layers.compose import FrozenLayer, assemble, bounds_of, freeze
from layers.hierarchy import GRID_CLASS, build_building_layer, build_grid_layer
from layers.zoom import ZoomVisibility
from tests.layers.sample import js_syntax_errors, js_text


def _buildings(hierarchy) -> gpd.GeoDataFrame:
    grids = hierarchy["grids"].to_crs("EPSG:4548")
    return gpd.GeoDataFrame(
        {"code": grids["code"] + "001", "name": "<i>1号楼</i>", "parent_code": grids["code"]},
        geometry=grids.geometry.representative_point().buffer(10, cap_style="square"), crs=grids.crs)


def _grid_layer(hierarchy) -> folium.FeatureGroup:
    return build_grid_layer(hierarchy["grids"], name="网格", communities=hierarchy["communities"],
                            streets=hierarchy["streets"])


def test_frozen_layer_draws_the_same_features_on_each_new_map(hierarchy) -> None:
    original = folium.Map(tiles=None).add_child(_grid_layer(hierarchy)).get_root().render()
    frozen = freeze(_grid_layer(hierarchy))
    assert isinstance(frozen, FrozenLayer) and frozen.layer_name == "网格" and frozen.show
    for _ in range(2):
        layer = frozen.fresh()
        fmap = folium.Map(tiles=None)
        layer.add_to(fmap)
        html = fmap.get_root().render()
        name = layer.get_name()
        assert name.startswith("feature_group_")
        assert f"var {name} = L.featureGroup(" in html
        assert f"{name}.addTo({fmap.get_name()});" in html
        assert "__gc_frozen" not in html
        # every grid's feature and the escaped tooltips travel as in the folium original
        assert html.count(f'"className": "{GRID_CLASS}"') == original.count(f'"className": "{GRID_CLASS}"')
        codes = set(re.findall(r'"code": "(\d+)"', html))
        assert codes == set(hierarchy["grids"]["code"])
        assert "<b>河西村" not in js_text(html)
        assert js_syntax_errors(html) == []


def test_layer_control_and_zoom_rule_name_the_frozen_layer(hierarchy) -> None:
    frozen = freeze(build_building_layer(_buildings(hierarchy), name="楼栋"))
    assert not frozen.show
    layer = frozen.fresh()
    fmap = assemble([freeze(_grid_layer(hierarchy)).fresh(), layer], bounds=bounds_of(hierarchy["grids"]),
                    extra=[ZoomVisibility(layer, min_zoom=15)])
    html = fmap.get_root().render()
    name = layer.get_name()
    assert f'"楼栋" : {name}' in js_text(html)
    assert f"var layer = {name};" in html
    assert html.index(f"var {name} = L.featureGroup(") < html.index("gcSyncZoom")
    assert js_syntax_errors(html) == []


def test_hidden_layer_builds_its_features_only_when_first_added(hierarchy) -> None:
    layer = freeze(build_building_layer(_buildings(hierarchy), name="楼栋")).fresh()
    fmap = folium.Map(tiles=None)
    layer.add_to(fmap)
    html = fmap.get_root().render()
    name = layer.get_name()
    declared = html.index(f"var {name} = L.featureGroup(")
    deferred = html.index(f'{name}.once("add", function () {{')
    assert declared < deferred < html.index("L.geoJson(") and "gc-building" in html[deferred:]
    assert f"{name}.addTo(" not in html  # hidden: the layer control or the zoom rule adds it
    eager = freeze(build_building_layer(_buildings(hierarchy), name="楼栋"), lazy=False).fresh()
    eager_html = folium.Map(tiles=None).add_child(eager).get_root().render()
    assert ".once(" not in eager_html and "L.geoJson(" in eager_html


def test_freeze_needs_a_layer_off_any_map(hierarchy) -> None:
    group = _grid_layer(hierarchy)
    group.add_to(folium.Map(tiles=None))
    with pytest.raises(ValueError, match="not on a map"):
        freeze(group)


def test_bounds_follow_the_geometries_not_the_object(hierarchy) -> None:
    grids = hierarchy["grids"]
    west, south, east, north = grids.to_crs("EPSG:4326").total_bounds
    assert sum(bounds_of(grids), []) == pytest.approx([south, west, north, east])
    assert bounds_of(grids.copy()) == bounds_of(grids)
    moved = grids.set_geometry(shapely.transform(grids.geometry.to_numpy(), lambda xy: xy + 0.01), crs=grids.crs)
    (s2, w2), (n2, e2) = bounds_of(moved)
    assert s2 == pytest.approx(south + 0.01, abs=1e-4) and w2 == pytest.approx(west + 0.01, abs=1e-4)
    with pytest.raises(ValueError, match="no CRS"):
        bounds_of(grids.set_crs(None, allow_override=True))
