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


#: Values longer than this wrap in a wider cell (short ones stay on one line).
LONG_VALUE = 18


def _long(value: object) -> str:
    return ' class="gc-long"' if len(str(value)) > LONG_VALUE else ""


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
        f'<tr><th>{esc(label)}</th><td{_long(value)}>{esc(value)}</td></tr>' for label, value in rows
    )
    return f'{head}<table class="gc-tip">{body}</table>'


def script_json(value: object) -> str:
    r"""``value`` as JSON safe to embed in an inline ``<script>``: compact, non-ASCII kept as UTF-8
    (a third of ``\uXXXX`` escapes' size), but ``<``, ``>``, ``&`` and the JS line separators
    escaped so no text can close the script or open markup."""
    import json

    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text
