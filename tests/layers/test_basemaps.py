"""Basemaps: one interface; the default is offline; AMap shifts overlays into GCJ-02."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.errors import InputError
from core.settings import BasemapSettings
from layers.assets import offline_map
from layers.basemaps import KINDS, NO_BASEMAP, build_basemap
from layers.hierarchy import build_grid_layer


def _metres(lon0: float, lat0: float, lon1: float, lat1: float) -> tuple[float, float]:
    """East and north offsets in metres (local equirectangular, fine for hundreds of metres)."""
    east = (lon1 - lon0) * 111_320.0 * math.cos(math.radians(lat0))
    north = (lat1 - lat0) * 110_574.0
    return east, north


def test_default_is_none_and_draws_no_tiles() -> None:
    basemap = build_basemap(BasemapSettings())
    assert basemap is NO_BASEMAP and basemap.tile_layers(name="底图") == []
    lon, lat = basemap.shift_lonlat([116.6], [35.45])
    assert lon[0] == 116.6 and lat[0] == 35.45


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "none"])
def test_each_kind_builds_tile_layers(kind: str) -> None:
    settings = BasemapSettings(kind=kind, url="http://10.0.0.5/tiles/{z}/{x}/{y}.png", key="abc123")
    layers = build_basemap(settings).tile_layers(name="底图")
    assert layers
    fmap = offline_map(location=[35.45, 116.6])
    for layer in layers:
        layer.add_to(fmap)
    html = fmap.get_root().render()
    assert "L.tileLayer" in html


def test_xyz_needs_url_and_tianditu_needs_key() -> None:
    with pytest.raises(InputError, match=r"xyz.*url"):
        build_basemap(BasemapSettings(kind="xyz"))
    with pytest.raises(InputError, match=r"tianditu.*key"):
        build_basemap(BasemapSettings(kind="tianditu"))
    with pytest.raises(InputError, match="unknown basemap kind 'google'.*none, xyz"):
        build_basemap(BasemapSettings(kind="google"))


def test_tianditu_is_not_shifted_and_carries_the_key() -> None:
    basemap = build_basemap(BasemapSettings(kind="tianditu", key="tk-secret-1"))
    assert not basemap.gcj02
    assert all("tk=tk-secret-1" in spec["tiles"] for spec in basemap.tiles)


def test_amap_shifts_points_into_gcj02_by_hundreds_of_metres() -> None:
    """Near 116.6 E 35.45 N the GCJ-02 offset is a few hundred metres, mostly east/north-east."""
    amap = build_basemap(BasemapSettings(kind="amap"))
    assert amap.gcj02
    lon = np.array([116.55, 116.6, 116.65])
    lat = np.array([35.40, 35.45, 35.50])
    slon, slat = amap.shift_lonlat(lon, lat)
    for i in range(3):
        east, north = _metres(lon[i], lat[i], slon[i], slat[i])
        distance = math.hypot(east, north)
        assert 100 < distance < 1000, distance
        assert east > 0
    # nonlinear: the shift differs from point to point
    shifts = np.column_stack([slon - lon, slat - lat])
    assert not np.allclose(shifts[0], shifts[2], atol=1e-7)


def test_amap_shifts_overlay_geometry_as_points_are_shifted(hierarchy) -> None:
    amap = build_basemap(BasemapSettings(kind="amap"))
    plain = build_grid_layer(hierarchy["grids"], name="网格", tolerance_m=0)
    shifted = build_grid_layer(hierarchy["grids"], name="网格", tolerance_m=0, basemap=amap)

    def first_vertex(group) -> tuple[float, float]:
        gj = next(iter(group._children.values()))
        x, y = gj.data["features"][0]["geometry"]["coordinates"][0][0]
        return x, y

    x0, y0 = first_vertex(plain)
    x1, y1 = first_vertex(shifted)
    ex, ey = amap.shift_lonlat([x0], [y0])
    assert (x1, y1) == pytest.approx((ex[0], ey[0]), abs=2e-6)  # display rounding: 1e-6 degree
    assert math.hypot(*_metres(x0, y0, x1, y1)) > 100
