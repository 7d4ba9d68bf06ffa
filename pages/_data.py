"""Cached readers for the pages (the only place that uses ``st.cache_data``).

Each cache is keyed on the file's path and modification time, so a rebuilt file is re-read.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import streamlit as st


@st.cache_data(show_spinner=False, max_entries=4)
def _read_hierarchy(path: str, mtime_ns: int) -> dict[str, gpd.GeoDataFrame]:
    from geo import read_hierarchy

    return dict(read_hierarchy(Path(path)))


def hierarchy(path: Path) -> dict[str, gpd.GeoDataFrame] | None:
    """The hierarchy at ``path`` (``geo.read_hierarchy``), or None when the file is missing."""
    path = Path(path)
    if not path.exists():
        return None
    return _read_hierarchy(str(path.resolve()), path.stat().st_mtime_ns)
