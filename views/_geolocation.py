"""The phone's position from the browser (navigator.geolocation) as a Streamlit component.

The component is a single local HTML file (``views/components/geolocation``): nothing is loaded from
the network. The browser asks the user for permission; a refusal or a device without a fix comes
back as ``{"error": ...}`` and the page falls back to the GPS fix, a typed position or "no GPS fix".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit.components.v1 as components

_COMPONENT = components.declare_component("geolocation", path=str(Path(__file__).parent / "components" / "geolocation"))


def browser_position(label: str, *, key: str) -> dict[str, Any] | None:
    """A "use my location" button; the last answer: ``{"lon", "lat", "accuracy"}`` (WGS84 degrees,
    metres), ``{"error": text}``, or None before the first press."""
    value = _COMPONENT(label=label, key=key, default=None)
    return value if isinstance(value, dict) else None
