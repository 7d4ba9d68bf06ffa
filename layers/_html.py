"""Escaping for every piece of text that reaches the map's HTML.

folium's ``GeoJsonTooltip``/``GeoJsonPopup`` put property values into ``innerHTML`` unescaped,
and GeoJSON is embedded in an inline ``<script>``. So each layer sends only properties made
here: escaped text (no ``<``, ``>``, ``&``, quotes survive raw), numbers, or fixed keys.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable


def esc(value: object) -> str:
    """``value`` as HTML-safe text (None and NaN become an empty string)."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return html.escape(str(value), quote=True)


def rows_html(rows: Iterable[tuple[str, object]], *, title: object | None = None) -> str:
    """A small escaped label/value table for a tooltip or popup.

    Parameters
    ----------
    rows : iterable of (label, value)
        Labels and values are both escaped.
    title : object, optional
        A bold first line (escaped).

    Returns
    -------
    str
        HTML with every user-supplied text escaped.
    """
    head = f'<div class="gc-tip-title">{esc(title)}</div>' if title is not None else ""
    body = "".join(
        f'<tr><th>{esc(label)}</th><td>{esc(value)}</td></tr>' for label, value in rows
    )
    return f'{head}<table class="gc-tip">{body}</table>'
