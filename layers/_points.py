"""Many div-icon markers from one compact JSON array (one folium element, not one per point).

folium builds a Marker, a DivIcon and a Tooltip element per point, each compiling a template:
for hundreds of workers, labels or bubbles that costs seconds and kilobytes. :class:`DivMarkers`
sends ``[lat, lon, html, tooltip]`` rows and a loop that makes the Leaflet markers in the
browser. Every ``html``/``tooltip`` must already be escaped HTML (``layers._html``).
"""

from __future__ import annotations

from collections.abc import Sequence

from folium.template import Template

from layers._render import RawRender


class DivMarkers(RawRender):
    """Div-icon markers added to the parent layer.

    Parameters
    ----------
    rows : sequence of [lat, lon, html, tooltip] or [lat, lon, html, tooltip, size]
        ``html`` is the icon's inner HTML, ``tooltip`` the tooltip HTML or None (both
        escaped); an optional fifth value overrides the icon size (square, pixels).
    class_name : str
        CSS class of the icon container.
    size : (int, int)
        Icon size in pixels; the anchor is its centre.
    interactive : bool
        False for labels that must not catch the mouse.
    z_offset : int
        ``zIndexOffset`` of every marker (a large one keeps alerts on top).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var rows = {{ this.rows|tojson }};
            var opts = {{ this.options|tojson }};
            for (var i = 0; i < rows.length; i++) {
                var r = rows[i];
                var size = r[4] ? [r[4], r[4]] : opts.size;
                var icon = L.divIcon({html: r[2], className: opts.className, iconSize: size,
                                      iconAnchor: [size[0] / 2, size[1] / 2]});
                var marker = L.marker([r[0], r[1]], {icon: icon, interactive: opts.interactive,
                                                     zIndexOffset: opts.zOffset, riseOnHover: opts.interactive});
                if (r[3]) {
                    marker.bindTooltip(r[3], {className: 'gc-tooltip', direction: 'top',
                                              offset: [0, -size[1] / 2]});
                }
                marker.addTo({{ this._parent.get_name() }});
            }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, rows: Sequence[Sequence], *, class_name: str, size: tuple[int, int],
                 interactive: bool = True, z_offset: int = 0) -> None:
        super().__init__()
        self._name = "DivMarkers"
        self.rows = [list(r) for r in rows]
        self.options = {"className": class_name, "size": list(size), "interactive": interactive,
                        "zOffset": z_offset}
