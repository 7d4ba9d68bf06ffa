"""Fixtures of the layer tests."""

from __future__ import annotations

import geopandas as gpd
import pytest

from tests.layers.sample import sample_hierarchy


@pytest.fixture()
def hierarchy() -> dict[str, gpd.GeoDataFrame]:
    """One street, two communities (one with markup in its name), six grids; EPSG:4490."""
    return sample_hierarchy()
