"""A map legend as a Leaflet control (escaped HTML, no branca colormap: that would pull d3 from
a CDN through streamlit-folium)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import folium
from branca.element import MacroElement
from folium.template import Template

from layers._html import esc

LEGEND_CLASS = "gc-legend"
#: A legend starts folded (title only, a tap unfolds it) on maps narrower than this (phones).
FOLD_BELOW_PX = 600


class Legend(MacroElement):
    """A legend control in a corner of the map.

    Parameters
    ----------
    title : str
        Escaped.
    items : sequence of (colour, label)
        Colours are CSS colours from the layers' own palettes; labels are escaped.
    position : {"bottomleft", "bottomright", "topleft", "topright"}
    key : str
        One legend per key: drawing it again (a refreshed layer) replaces the old one.

    The legend folds to its title (a ``<details>`` element: a click on the title unfolds it);
    it starts folded on maps narrower than :data:`FOLD_BELOW_PX`.

    The legend may sit inside a feature group (it attaches to the group's map).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            window.gcLegends = window.gcLegends || {};
            var old = window.gcLegends[{{ this.key|tojson }}];
            if (old) { old.remove(); }
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function () {
                var div = L.DomUtil.create('div', {{ this.css|tojson }});
                div.innerHTML = {{ this.html|tojson }};
                // folded on a narrow (phone) map, so it does not cover a quarter of it
                if ({{ this.map_name }}.getSize().x < {{ this.fold_below_px }}) {
                    div.querySelector('details').removeAttribute('open');
                }
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            legend.addTo({{ this.map_name }});
            window.gcLegends[{{ this.key|tojson }}] = legend;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, title: str, items: Sequence[tuple[str, str]], *,
                 position: str = "bottomleft", css: str = "", key: str = "legend") -> None:
        super().__init__()
        if position not in ("bottomleft", "bottomright", "topleft", "topright"):
            msg = f"position must be bottomleft, bottomright, topleft or topright, got {position!r}"
            raise ValueError(msg)
        self._name = "Legend"
        self.position = position
        self.key = key
        self.map_name = "map"
        self.css = f"{LEGEND_CLASS} {css}".strip()
        rows = "".join(f'<div><i style="background:{esc(color)}"></i>{esc(label)}</div>'
                       for color, label in items)
        self.fold_below_px = FOLD_BELOW_PX
        self.html = (f'<details open><summary class="gc-legend-title">{esc(title)}</summary>'
                     f'<div class="gc-legend-rows">{rows}</div></details>')


    def render(self, **kwargs: Any) -> None:  # noqa: D102 - folium's hook
        node = self._parent
        while node is not None and not isinstance(node, folium.Map):
            node = getattr(node, "_parent", None)
        if node is None:
            msg = "a Legend must be added to a map or to a layer on a map"
            raise ValueError(msg)
        self.map_name = node.get_name()
        super().render(**kwargs)


def add_legend(fmap: folium.Map, title: str, items: Sequence[tuple[str, str]], *,
               position: str = "bottomleft", key: str = "legend") -> Legend:
    """Add a :class:`Legend` to ``fmap`` and return it."""
    legend = Legend(title, items, position=position, key=key)
    fmap.add_child(legend)
    return legend
