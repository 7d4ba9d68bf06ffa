"""Fit a map to its bounds once it is shown: a map drawn in a hidden tab has no size, so Leaflet's
``fitBounds`` at load zooms out to the whole world (the worker's 我的网格 tab)."""

from __future__ import annotations

import json

from branca.element import MacroElement
from jinja2 import Template


class FitWhenShown(MacroElement):
    """When the map's container has no size at load, fit ``bounds`` the first time it gets one.

    Parameters
    ----------
    bounds : [[south, west], [north, east]]
        Degrees (EPSG:4326), as ``folium.Map.fit_bounds`` takes them.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var box = map.getContainer();
            if (box.clientWidth > 0 && box.clientHeight > 0) { return; }
            if (!window.ResizeObserver) { return; }
            var watcher = new ResizeObserver(function () {
                if (box.clientWidth > 0 && box.clientHeight > 0) {
                    watcher.disconnect();
                    map.invalidateSize();
                    map.fitBounds({{ this.bounds_json }});
                }
            });
            watcher.observe(box);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "FitWhenShown"
        self.bounds_json = json.dumps([[float(v) for v in corner] for corner in bounds])
