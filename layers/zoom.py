"""Show a layer only from a zoom level on (楼栋 outlines appear when the operator zooms in)."""

from __future__ import annotations

import folium
from branca.element import MacroElement
from jinja2 import Template

#: Zoom from which building outlines are drawn (about 1:17,000 at 35° N).
BUILDINGS_MIN_ZOOM = 15


class ZoomVisibility(MacroElement):
    """Adds ``layer`` to its map at zoom ≥ ``min_zoom`` and removes it below, on every zoom end.

    Parameters
    ----------
    layer : folium.FeatureGroup
        A layer already added to the map (its JavaScript name is referenced).
    min_zoom : int
        Leaflet zoom level, 0–20.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var layer = {{ this.layer_name }};
            function gcSyncZoom() {
                var wanted = map.getZoom() >= {{ this.min_zoom }};
                if (wanted && !map.hasLayer(layer)) { map.addLayer(layer); }
                if (!wanted && map.hasLayer(layer)) { map.removeLayer(layer); }
            }
            map.on("zoomend", gcSyncZoom);
            gcSyncZoom();
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layer: folium.FeatureGroup, *, min_zoom: int) -> None:
        super().__init__()
        if not 0 <= int(min_zoom) <= 20:
            msg = f"min_zoom must be a Leaflet zoom level 0-20, got {min_zoom!r}"
            raise ValueError(msg)
        self._name = "ZoomVisibility"
        self.layer_name = layer.get_name()
        self.min_zoom = int(min_zoom)
