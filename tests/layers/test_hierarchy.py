"""Hierarchy layers: one feature per grid, escaped labels, gap-free simplification, 4326."""

from __future__ import annotations

import folium
import geopandas as gpd
import pytest
import shapely

from layers._geometry import display_coverage
from layers.compose import hierarchy_map
from layers.hierarchy import (
    COMMUNITY_CLASS,
    GRID_CLASS,
    STREET_CLASS,
    build_community_layer,
    build_grid_layer,
    build_hierarchy_layers,
    build_selection_layer,
)
from tests.layers.sample import js_syntax_errors, js_text


def _geojson(group: folium.FeatureGroup) -> dict:
    layer = next(c for c in group._children.values() if isinstance(c, folium.GeoJson))
    return layer.data


def test_one_feature_per_grid_in_display_crs(hierarchy) -> None:
    group = build_grid_layer(hierarchy["grids"], name="网格", communities=hierarchy["communities"],
                             streets=hierarchy["streets"])
    data = _geojson(group)
    assert len(data["features"]) == len(hierarchy["grids"])
    lons = [x for f in data["features"] for x, _ in f["geometry"]["coordinates"][0]]
    lats = [y for f in data["features"] for _, y in f["geometry"]["coordinates"][0]]
    assert 116.5 < min(lons) and max(lons) < 116.7
    assert 35.4 < min(lats) and max(lats) < 35.5
    assert {f["properties"]["code"] for f in data["features"]} == set(hierarchy["grids"]["code"])


def test_grid_tooltip_names_parents_and_escapes(hierarchy) -> None:
    group = build_grid_layer(hierarchy["grids"], name="网格", communities=hierarchy["communities"],
                             streets=hierarchy["streets"], lang="en")
    tips = [f["properties"]["tip"] for f in _geojson(group)["features"]]
    assert any("&lt;b&gt;河西村&lt;/b&gt;" in tip for tip in tips)
    assert not any("<b>" in tip for tip in tips)
    assert all("示范街道" in tip and "Grid code" in tip for tip in tips)


def test_layers_carry_css_classes_for_their_paths(hierarchy) -> None:
    html = hierarchy_map(hierarchy).get_root().render()
    for css in (GRID_CLASS, COMMUNITY_CLASS, STREET_CLASS):
        assert f'"className": "{css}"' in html
    assert "L.control.layers" in html


def test_coverage_simplify_keeps_shared_edges(hierarchy) -> None:
    grids = hierarchy["grids"]
    shown = display_coverage(grids, source="test", tolerance_m=5.0).to_crs("EPSG:4548")
    before = shapely.get_num_coordinates(grids.geometry.to_numpy()).sum()
    after = shapely.get_num_coordinates(shown.geometry.to_numpy()).sum()
    assert after < before, "simplification removed nothing"
    geoms = shown.geometry.to_numpy()
    # no overlaps: the union's area equals the sum of the areas
    union = shapely.union_all(geoms)
    assert union.area == pytest.approx(sum(g.area for g in geoms), rel=1e-9)
    # no gaps: the union is one polygon without holes
    assert union.geom_type == "Polygon" and len(union.interiors) == 0
    assert shapely.is_valid(geoms).all()


def test_community_labels_are_escaped(hierarchy) -> None:
    group = build_community_layer(hierarchy["communities"], name="社区")
    html = js_text(folium.Map(tiles=None).add_child(group).get_root().render())
    assert "&lt;b&gt;河西村&lt;/b&gt;" in html
    assert "<b>河西村" not in html
    assert js_syntax_errors(html) == []


def test_missing_crs_is_reported(hierarchy) -> None:
    grids = hierarchy["grids"].set_crs(None, allow_override=True)
    with pytest.raises(Exception, match="no CRS"):
        build_grid_layer(grids, name="网格")


def test_missing_column_is_reported(hierarchy) -> None:
    grids = hierarchy["grids"].drop(columns=["name"])
    with pytest.raises(ValueError, match="lacks column.*name"):
        build_grid_layer(grids, name="网格")


def test_order_and_show_flags(hierarchy) -> None:
    groups = build_hierarchy_layers(hierarchy, lang="en", show={"streets": False})
    assert [g.layer_name for g in groups] == ["Grid", "Community/village", "Street"]
    assert [g.show for g in groups] == [True, True, False]


def test_grids_required() -> None:
    with pytest.raises(ValueError, match="no 'grids' level"):
        build_hierarchy_layers({"streets": gpd.GeoDataFrame()})


def test_selection_layer_outlines_one_grid(hierarchy) -> None:
    code = hierarchy["grids"]["code"].iloc[2]
    group = build_selection_layer(hierarchy["grids"], code, name="选中")
    gj = next(iter(group._children.values()))
    assert len(gj.data["features"]) == 1
    assert '"className": "gc-selected"' in _render(group)
    empty = build_selection_layer(hierarchy["grids"], "nope", name="选中")
    assert not empty._children


def _render(group) -> str:
    return folium.Map(tiles=None).add_child(group).get_root().render()


def test_buildings_follow_the_zoom(hierarchy) -> None:
    """The building layer is added from the given zoom on and removed below it."""
    import geopandas as gpd
    import pytest

    from layers.compose import assemble, bounds_of
    from layers.hierarchy import build_building_layer
    from layers.zoom import ZoomVisibility

    grids = hierarchy["grids"].to_crs("EPSG:4548")
    footprints = gpd.GeoDataFrame(
        {"code": grids["code"] + "001", "name": "1号楼", "parent_code": grids["code"]},
        geometry=grids.geometry.representative_point().buffer(10, cap_style="square"), crs=grids.crs)
    buildings = build_building_layer(footprints, name="楼栋")
    fmap = assemble([buildings], bounds=bounds_of(hierarchy["grids"]),
                    extra=[ZoomVisibility(buildings, min_zoom=15)])
    html = fmap.get_root().render()
    assert f"var layer = {buildings.get_name()};" in html
    assert "map.getZoom() >= 15" in html
    assert html.index(f"var {buildings.get_name()} =") < html.index("gcSyncZoom")
    with pytest.raises(ValueError, match="zoom level"):
        ZoomVisibility(buildings, min_zoom=30)
