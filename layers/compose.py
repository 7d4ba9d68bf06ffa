"""Put layers together on one offline map: base map, overlays in order, fit, layer control last.

Static layers (the hierarchy) can be *frozen*: :func:`freeze` renders a layer and its children
to JavaScript once, and :class:`FrozenLayer` puts that text on any later map without folium
rendering it again (no deep copy of the GeoJSON, no template pass over megabytes of data).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import folium
import geopandas as gpd
from branca.element import Element, Figure
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from core.constants import DISPLAY_CRS
from layers._geometry import ContentCache, geometry_key
from layers._render import RawText
from layers.assets import OfflineMap, offline_map
from layers.basemaps import NO_BASEMAP, Basemap
from layers.fit import FitWhenShown
from layers.hierarchy import build_hierarchy_layers

_BOUNDS = ContentCache()


def bounds_of(gdf: gpd.GeoDataFrame) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of ``gdf`` in EPSG:4326 degrees (CRS must be set)."""
    if gdf.crs is None:
        msg = "cannot fit the map: the layer has no CRS (fix: set it when building the hierarchy)"
        raise ValueError(msg)

    def compute() -> list[list[float]]:
        west, south, east, north = gdf.to_crs(DISPLAY_CRS).total_bounds
        return [[float(south), float(west)], [float(north), float(east)]]

    return [list(corner) for corner in _BOUNDS.get(geometry_key(gdf), compute)]


_SELF = "__gc_frozen_self__"
_PARENT = "__gc_frozen_parent__"


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in element._children.values():
        yield from _walk(child)


class FrozenLayer(JSCSSMixin, Layer):
    """A layer rendered to JavaScript once (:func:`freeze`), put on maps without re-rendering.

    It behaves as the original layer towards the map, the layer control, streamlit-folium and
    ``layers.zoom.ZoomVisibility`` (same layer name, overlay/control/show flags, JS and CSS
    assets; its JavaScript variable follows :meth:`get_name`). Make one per map with
    :meth:`fresh`; the frozen text is shared.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}{{ this.script_text() }}{% endmacro %}
        """
    )

    def __init__(self, parts: dict, *, name: str, overlay: bool, control: bool, show: bool,
                 default_js: list, default_css: list, kind: str = "FeatureGroup") -> None:
        super().__init__(name=name, overlay=overlay, control=control, show=show)
        self._name = kind  # the JavaScript variable is named as the original layer's
        self._parts = parts
        self.default_js = list(default_js)
        self.default_css = list(default_css)

    def fresh(self) -> FrozenLayer:
        """A new layer object (own id, no parent) sharing the frozen JavaScript."""
        return FrozenLayer(self._parts, name=self.layer_name, overlay=self.overlay, control=self.control,
                           show=self.show, default_js=self.default_js, default_css=self.default_css,
                           kind=self._name)

    @property
    def size(self) -> int:
        """Characters of frozen JavaScript (header and HTML parts included)."""
        return sum(len(p) for p in (self._parts["script"], *self._parts["header"], *self._parts["html"]))

    def script_text(self) -> str:
        """The layer's JavaScript, bound to its current variable and parent names."""
        parent = self._parent.get_name() if self._parent is not None else ""
        return self._parts["script"].replace(_SELF, self.get_name()).replace(_PARENT, parent)

    def render(self, **kwargs: Any) -> None:  # noqa: D102 - branca's hook
        figure = self.get_root()
        if not isinstance(figure, Figure):
            msg = "a FrozenLayer renders only inside a map on a figure (add it to a folium map first)"
            raise TypeError(msg)
        for name, url in self.default_js:
            figure.header.add_child(folium.JavascriptLink(url), name=name)
        for name, url in self.default_css:
            figure.header.add_child(folium.CssLink(url), name=name)
        for part in ("header", "html"):
            for i, text in enumerate(self._parts[part]):
                getattr(figure, part).add_child(RawText(text), name=f"{self.get_name()}_{part}_{i}")
        figure.script.add_child(RawText(self.script_text()), name=self.get_name())


def freeze(layer: Layer, *, lazy: bool = True) -> FrozenLayer:
    """Render ``layer`` (a FeatureGroup or another folium Layer, with its children) once.

    Parameters
    ----------
    layer : folium.map.Layer
        Not yet added to a map. It is rendered on a throwaway map and must not be reused.
    lazy : bool
        For a layer hidden when the map opens (``show=False``): its children are created in
        the browser only when the layer is first added to the map (layer control, zoom), so a
        large hidden layer (building outlines) costs the page nothing until it is shown.

    Returns
    -------
    FrozenLayer
    """
    if layer._parent is not None:
        msg = "freeze() needs a layer that is not on a map yet"
        raise ValueError(msg)
    scratch = folium.Map(tiles=None)
    layer.add_to(scratch)
    scratch.get_root().render()
    own: list[str] = []
    children: list[str] = []
    parts: dict = {"header": [], "html": []}
    js, css = [], []
    for element in _walk(layer):
        if isinstance(element, JSCSSMixin):
            js += [pair for pair in element.default_js if pair not in js]
            css += [pair for pair in element.default_css if pair not in css]
        module = element._template.module.__dict__
        for part in ("header", "html"):
            if part in module:
                parts[part].append(module[part](element, {}))
        if "script" in module:
            (own if element is layer else children).append(module["script"](element, {}))
    names = {layer.get_name(): _SELF, scratch.get_name(): _PARENT}

    def bind(text: str) -> str:
        for old, new in names.items():
            text = text.replace(old, new)
        return text

    own_text, child_text = bind("\n".join(own)), bind("\n".join(children))
    if lazy and not layer.show and child_text.strip():
        script = f'{own_text}\n{_SELF}.once("add", function () {{\n{child_text}\n}});\n'
    else:
        script = f"{own_text}\n{child_text}\n"
    parts = {"script": script, "header": [bind(h) for h in parts["header"]],
             "html": [bind(h) for h in parts["html"]]}
    return FrozenLayer(parts, name=layer.layer_name, overlay=layer.overlay, control=layer.control,
                       show=layer.show, default_js=js, default_css=css, kind=layer._name)


def assemble(
    overlays: Iterable[folium.FeatureGroup],
    *,
    bounds: list[list[float]],
    tile_layers: Iterable[folium.TileLayer] = (),
    height: str = "100%",
    extra: Iterable[folium.Element] = (),
) -> OfflineMap:
    """A fresh offline map with ``overlays`` added in order and a LayerControl added last.

    Parameters
    ----------
    overlays : iterable of FeatureGroup
        Added bottom to top.
    bounds : [[south, west], [north, east]]
        Initial view, degrees (EPSG:4326).
    tile_layers : iterable of folium.TileLayer
        The basemap (``layers.basemaps.Basemap.tile_layers``); none keeps the plain background.
    extra : iterable of folium.Element
        Controls or macros (legends) added after the overlays, before the layer control.

    Returns
    -------
    OfflineMap
    """
    (south, west), (north, east) = bounds
    fmap = offline_map(location=[(south + north) / 2, (west + east) / 2], zoom_start=12,
                       height=height, prefer_canvas=False)
    for tiles in tile_layers:
        tiles.add_to(fmap)
    for layer in overlays:
        layer.add_to(fmap)
    for element in extra:
        fmap.add_child(element)
    fmap.fit_bounds(bounds)
    fmap.add_child(FitWhenShown(bounds))
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def hierarchy_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    lang: str = "zh",
    basemap: Basemap = NO_BASEMAP,
) -> OfflineMap:
    """The hierarchy (grids, communities, streets) on a fresh offline map.

    Parameters
    ----------
    layers : mapping of level -> GeoDataFrame
        ``geo.read_hierarchy`` output; ``grids`` required.
    lang : {"zh", "en"}
    basemap : Basemap
        Tiles to draw and the coordinate shift of the overlays (GCJ-02 for AMap).

    Returns
    -------
    OfflineMap
    """
    groups = build_hierarchy_layers(layers, lang=lang, basemap=basemap)
    tiles = basemap.tile_layers(name="底图" if lang == "zh" else "Basemap")
    return assemble(groups, bounds=bounds_of(layers["grids"]), tile_layers=tiles)
