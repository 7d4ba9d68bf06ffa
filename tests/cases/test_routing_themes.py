"""Routing by theme (多网合一): a category goes to the owner of the case's thematic cell."""

from __future__ import annotations

import geopandas as gpd
import pytest
from pyproj import Transformer
from shapely.geometry import box

from cases.routing import Directory, load_rules, parse_rules, route
from cases.theme_routing import ThemeLocator
from core.errors import InputError
from geo.hierarchy import write_hierarchy
from geo.themes import add_theme, normalise_theme

RULES = """
departments = ["应急管理", "市场监管"]

[[rule]]
name = "安全隐患由安全生产网格责任方处置"
category = ["hazard"]
theme = "safety"
target = "theme_owner"
fallback = "grid_worker"

[[rule]]
name = "市场类诉求由市场网格负责人处置"
category = ["request"]
subcategory = ["property_service"]
theme = "market"
target = "theme_owner"

[[rule]]
name = "其余"
target = "grid_worker"
"""

DIRECTORY = Directory(
    grid_workers={"G1": "W001", "G2": "W002"},
    community_chiefs={"C1": "C001"},
    departments=frozenset({"应急管理", "市场监管"}),
    workers=frozenset({"W001", "W002", "W009", "C001"}),
)


def case(**kw):
    base = dict(category="hazard", subcategory="fire_safety", source="hotline_12345", street_code="S1",
                community_code="C1", grid_code="G1", join_status="ok")
    base.update(kw)
    return base


@pytest.mark.parametrize(("owner", "expected"), [
    ("应急管理", ("department", "应急管理")),
    ("department:市场监管", ("department", "市场监管")),
    ("W009", ("worker", "W009")),  # a worker without a grid of their own (机动网格员)
    ("C001", ("chief", "C001")),
])
def test_the_cell_owner_becomes_the_assignee(owner, expected):
    rules = parse_rules(RULES)
    r = route(case(theme_cells={"safety": ("AQ01", owner)}), rules, DIRECTORY)
    assert (r.assignee_kind, r.assignee_id, r.rule) == (*expected, 1)
    assert r.reason == "rule 1 '安全隐患由安全生产网格责任方处置'"


def test_outside_every_cell_the_fallback_applies():
    rules = parse_rules(RULES)
    r = route(case(theme_cells={}), rules, DIRECTORY)
    assert (r.assignee_kind, r.assignee_id, r.rule) == ("worker", "W001", 1)


def test_unknown_owner_without_fallback_is_unrouted_with_the_reason():
    rules = parse_rules(RULES)
    r = route(case(category="request", subcategory="property_service", theme_cells={"market": ("SC07", "王五")}),
              rules, DIRECTORY)
    assert not r.routed and r.rule == 2
    assert "owner '王五' of market cell SC07 is neither an active department nor a worker" in r.reason
    r = route(case(category="request", subcategory="property_service", theme_cells={"market": ("SC07", "")}),
              rules, DIRECTORY)
    assert "market cell SC07 has no owner" in r.reason
    r = route(case(category="request", subcategory="property_service", theme_cells={}), rules, DIRECTORY)
    assert "location is in no market cell" in r.reason


def test_other_categories_ignore_the_theme():
    rules = parse_rules(RULES)
    r = route(case(category="dispute", subcategory="neighbour", theme_cells={"safety": ("AQ01", "应急管理")}),
              rules, DIRECTORY)
    assert (r.assignee_kind, r.assignee_id, r.rule) == ("worker", "W001", 3)


@pytest.mark.parametrize(("rule", "message"), [
    ('target = "theme_owner"', r"rule 1 \(line 3\): theme and target \(or fallback\) theme_owner go together"),
    ('theme = "safety"\ntarget = "grid_worker"', r"theme and target .*Fix: write theme = "),
    ('theme = ""\ntarget = "theme_owner"', r"theme must be the name of a thematic grid"),
    ('theme = 3\ntarget = "theme_owner"', r"theme must be the name of a thematic grid"),
])
def test_bad_theme_rules_are_refused_with_the_rule_and_line(rule, message):
    with pytest.raises(InputError, match=message):
        parse_rules(f'departments = ["应急管理"]\n\n[[rule]]\n{rule}\n')


def test_shipped_rules_still_parse_and_document_the_form():
    rules = load_rules()
    assert all(rule.theme is None for rule in rules.rules) and rules.themes is None
    text = (rules.path and open(rules.path, encoding="utf-8").read()) or ""
    assert 'target = "theme_owner"' in text and "python -m geo themes add" in text


# --- from the case's position and the hierarchy's thematic layer ------------------------------
METRIC = "EPSG:4548"
X0, Y0 = 500_000.0, 4_000_000.0


def _lonlat(x: float, y: float) -> tuple[float, float]:
    return Transformer.from_crs(METRIC, "EPSG:4490", always_xy=True).transform(X0 + x, Y0 + y)


@pytest.fixture
def hierarchy(tmp_path):
    grids = gpd.GeoDataFrame({"code": ["G1", "G2"], "name": ["一", "二"], "parent_code": ["C1", "C1"]},
                             geometry=[box(X0, Y0, X0 + 500, Y0 + 500), box(X0 + 500, Y0, X0 + 1000, Y0 + 500)],
                             crs=METRIC)
    path = write_hierarchy({"grids": grids}, tmp_path / "h.gpkg")
    cells = gpd.GeoDataFrame({"编号": ["AQ01", "AQ02"], "责任部门": ["应急管理", "W009"]},
                             geometry=[box(X0, Y0, X0 + 700, Y0 + 500), box(X0 + 700, Y0, X0 + 1000, Y0 + 500)],
                             crs=METRIC)
    add_theme(path, normalise_theme(cells, theme="safety")[0])
    return path


def test_cells_are_located_from_the_case_position(hierarchy, tmp_path):
    rules_file = tmp_path / "routing.toml"
    rules_file.write_text(RULES, encoding="utf-8")
    rules = load_rules(rules_file, hierarchy=hierarchy)
    assert isinstance(rules.themes, ThemeLocator)
    lon, lat = _lonlat(600, 100)  # in grid G2 but in cell AQ01
    r = route(case(grid_code="G2", lon=lon, lat=lat), rules, DIRECTORY)
    assert (r.assignee_kind, r.assignee_id) == ("department", "应急管理")
    lon, lat = _lonlat(800, 100)
    assert route(case(grid_code="G2", lon=lon, lat=lat), rules, DIRECTORY).assignee_id == "W009"
    lon, lat = _lonlat(800, 900)  # north of every cell: fallback to the grid's worker
    assert route(case(grid_code="G2", lon=lon, lat=lat), rules, DIRECTORY).assignee_id == "W002"
    r = route(case(category="request", subcategory="property_service", lon=lon, lat=lat), rules, DIRECTORY)
    assert not r.routed and "the hierarchy holds no thematic layer 'market'" in r.reason


def test_locator_rereads_a_changed_hierarchy(hierarchy):
    locator = ThemeLocator(hierarchy)
    lon, lat = _lonlat(100, 100)
    assert locator.cell("safety", lon, lat) == ("AQ01", "应急管理")
    cells = gpd.GeoDataFrame({"编号": ["AQ09"], "责任部门": ["市场监管"]}, geometry=[box(X0, Y0, X0 + 1000, Y0 + 500)],
                             crs=METRIC)
    add_theme(hierarchy, normalise_theme(cells, theme="safety")[0])
    assert locator.cell("safety", lon, lat) == ("AQ09", "市场监管")
    assert locator.cell("safety", None, lat) is None
    assert ThemeLocator(hierarchy.parent / "missing.gpkg").cell("safety", lon, lat) is None
