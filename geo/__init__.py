"""Spatial core: import the grid hierarchy, check it, join incidents onto it.

Pure: GeoDataFrames and arrays in, GeoDataFrames and DataFrames out (no Streamlit, no database).
Storage CRS EPSG:4490; areas and distances in a metric CRS.

Public API (imported lazily so that ``python -m geo join`` starts fast):

- :func:`read_hierarchy`, :func:`build_hierarchy`, :func:`write_hierarchy`, :class:`BuildResult`
- :func:`check_hierarchy`, :class:`Problem`
- :class:`HierarchyIndex` (build once, ``.join(lon, lat)`` many times)
- :func:`read_incidents`
- :mod:`geo.coords` (``wgs84_to_gcj02``, ``gcj02_to_wgs84``, ``bd09_to_wgs84`` ...)
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BuildResult": "geo.hierarchy",
    "build_hierarchy": "geo.hierarchy",
    "read_hierarchy": "geo.hierarchy_io",
    "write_hierarchy": "geo.hierarchy_io",
    "Problem": "geo.checks",
    "check_hierarchy": "geo.checks",
    "HierarchyIndex": "geo.join",
    "read_incidents": "geo.incidents",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """The public name ``name``, imported from its module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'geo' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the lazily imported ones included."""
    return sorted(list(globals()) + __all__)
