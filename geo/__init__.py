"""Spatial core: import the grid hierarchy, check it, join incidents onto it.

Pure: GeoDataFrames and arrays in, GeoDataFrames and DataFrames out (no Streamlit, no database).
Storage CRS EPSG:4490; areas and distances in a metric CRS.
"""

from __future__ import annotations

from geo.checks import Problem, check_hierarchy
from geo.hierarchy import BuildResult, build_hierarchy, read_hierarchy, write_hierarchy

__all__ = [
    "BuildResult",
    "HierarchyIndex",
    "Problem",
    "build_hierarchy",
    "check_hierarchy",
    "read_hierarchy",
    "read_incidents",
    "write_hierarchy",
]


def __getattr__(name: str):
    # The join and incident reader load lazily so that `import geo` stays light.
    if name == "HierarchyIndex":
        from geo.join import HierarchyIndex

        return HierarchyIndex
    if name == "read_incidents":
        from geo.incidents import read_incidents

        return read_incidents
    msg = f"module 'geo' has no attribute {name!r}"
    raise AttributeError(msg)
