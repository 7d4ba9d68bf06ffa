"""Basemaps behind one interface: ``none`` | ``xyz`` | ``tianditu`` | ``amap`` | ``osm``.

Chosen in ``gridcommand.toml`` ``[basemap]`` (:class:`core.settings.BasemapSettings`). The
default ``none`` draws no tiles at all (a plain background), so the map is fully offline.
``xyz`` is a local or intranet tile server; Tianditu (天地图) is CGCS2000, which equals WGS84
at map scale; AMap/Gaode tiles are drawn in GCJ-02, so every overlay must be shifted into
GCJ-02 to line up — :meth:`Basemap.shift_lonlat` and :meth:`Basemap.shift_geometries` do that
and are the identity for every other kind.
"""

from __future__ import annotations

from dataclasses import dataclass

import folium
import numpy as np
import shapely

from core.errors import InputError
from core.settings import BasemapSettings

#: Allowed ``[basemap] kind`` values.
KINDS: tuple[str, ...] = ("none", "xyz", "tianditu", "amap", "osm")

_TIANDITU = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
             "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}"
             "&TILEROW={{y}}&TILECOL={{x}}&tk={key}")
_AMAP = ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
         "&x={x}&y={y}&z={z}")
_OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


@dataclass(frozen=True)
class Basemap:
    """A configured basemap.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    gcj02 : bool
        True when the tiles are in GCJ-02 (AMap): overlays must be shifted.
    tiles : tuple of dict
        ``folium.TileLayer`` keyword arguments, bottom first (empty for ``none``).
    """

    kind: str
    gcj02: bool
    tiles: tuple[dict, ...]

    def tile_layers(self, *, name: str) -> list[folium.TileLayer]:
        """Fresh folium tile layers for this basemap (empty for ``none``)."""
        layers = []
        for i, kwargs in enumerate(self.tiles):
            layer_name = name if i == 0 else f"{name} ({i + 1})"
            layers.append(folium.TileLayer(name=layer_name, overlay=i > 0, control=i > 0, **kwargs))
        return layers

    def shift_lonlat(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """WGS84/CGCS2000 degrees to this basemap's coordinates (GCJ-02 for AMap).

        Parameters
        ----------
        lon, lat : array-like
            Degrees, EPSG:4326 (or EPSG:4490, the same at map scale).

        Returns
        -------
        (lon, lat) : tuple of numpy.ndarray
        """
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        if not self.gcj02:
            return lon, lat
        from geo.coords import wgs84_to_gcj02

        out_lon, out_lat = wgs84_to_gcj02(lon, lat)
        return np.asarray(out_lon, dtype=float), np.asarray(out_lat, dtype=float)

    def shift_geometries(self, geoms: np.ndarray) -> np.ndarray:
        """Shapely geometries in EPSG:4326 degrees moved into this basemap's coordinates."""
        if not self.gcj02:
            return geoms

        def move(xy: np.ndarray) -> np.ndarray:
            lon, lat = self.shift_lonlat(xy[:, 0], xy[:, 1])
            return np.column_stack([lon, lat])

        return shapely.transform(geoms, move)


NO_BASEMAP = Basemap(kind="none", gcj02=False, tiles=())


def build_basemap(settings: BasemapSettings, *, source: str = "gridcommand.toml [basemap]") -> Basemap:
    """The basemap described by ``settings``.

    Parameters
    ----------
    settings : BasemapSettings
        ``kind`` one of ``none``, ``xyz`` (needs ``url`` with ``{z}``, ``{x}``, ``{y}``),
        ``tianditu`` (needs ``key``), ``amap``, ``osm``.
    source : str
        Where the settings came from, for error messages.

    Returns
    -------
    Basemap

    Raises
    ------
    core.errors.InputError
        Unknown kind, or a missing URL or key.
    """
    kind = (settings.kind or "none").strip().lower()
    attribution = settings.attribution
    if kind == "none":
        return NO_BASEMAP
    if kind == "xyz":
        url = settings.url.strip()
        if not url or not all(part in url for part in ("{z}", "{x}", "{y}")):
            raise InputError(source, "kind = \"xyz\" needs url with {z}, {x} and {y}",
                             'set url = "http://<tile server>/{z}/{x}/{y}.png"', where="url")
        return Basemap(kind, False, ({"tiles": url, "attr": attribution or "Local tiles",
                                      "max_zoom": 20},))
    if kind == "tianditu":
        key = settings.key.strip()
        if not key:
            raise InputError(source, "kind = \"tianditu\" needs a Tianditu key (tk)",
                             'set key = "<your token>"', where="key")
        attr = attribution or "天地图 Tianditu"
        common = {"attr": attr, "subdomains": "01234567", "max_zoom": 18}
        return Basemap(kind, False, (
            {"tiles": _TIANDITU.format(s="{s}", layer="vec", key=key), **common},
            {"tiles": _TIANDITU.format(s="{s}", layer="cva", key=key), **common},
        ))
    if kind == "amap":
        return Basemap(kind, True, ({"tiles": _AMAP, "attr": attribution or "高德地图 AMap",
                                     "subdomains": "1234", "max_zoom": 18},))
    if kind == "osm":
        return Basemap(kind, False, ({"tiles": _OSM, "attr": attribution or
                                      "&copy; OpenStreetMap contributors", "max_zoom": 19},))
    raise InputError(source, f"unknown basemap kind {settings.kind!r}",
                     f"use one of {', '.join(KINDS)}", where="kind")
