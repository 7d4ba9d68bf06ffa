"""Fuzzing coordinate cells: geo.points (parse_coordinates, clean_points), the hierarchy join on
text cells, and the intake's join of normalised records (intake.normalise.join_hierarchy)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core import constants
from geo.points import INVALID, MISSING, OK, clean_points, parse_coordinates
from intake.normalise import hierarchy_index, join_hierarchy, normalise
from tests.fuzz.helpers import examples, odd_cells

EXTENT = (116.58, 35.41, 116.60, 35.42)
FULL_WIDTH = str.maketrans("0123456789.-", "０１２３４５６７８９．－")


@st.composite
def coordinate_cells(draw: st.DrawFn, near: float) -> str:
    """A longitude or latitude cell: odd text, or a number near ``near`` written as people write it."""
    if draw(st.booleans()):
        return draw(odd_cells)
    value = draw(st.one_of(st.floats(near - 0.05, near + 0.05), st.floats()))
    text = draw(st.sampled_from(("{:.6f}", "{}", "{:e}", " {} ", "{}°", "{:.3f}E"))).format(value)
    return text.translate(FULL_WIDTH) if draw(st.integers(0, 9)) == 0 else text


lon_cells = st.lists(coordinate_cells(116.59), min_size=1, max_size=6)
lat_cells = st.lists(coordinate_cells(35.415), min_size=1, max_size=6)
#: Cells the issue names: huge, not a number, negative zero, degrees-minutes, full-width digits.
NAMED = ["116.5", "1e400", "nan", "-0", "116°30'", "１１６.５", "", "9" * 400, "35.415", "-1e400"]


@settings(max_examples=examples(300))
@given(values=st.lists(st.one_of(odd_cells, st.floats().map(str)), max_size=8))
@example(values=NAMED)
def test_parse_coordinates(values: list[str]) -> None:
    nums, bad = parse_coordinates(values)
    assert nums.dtype == float and bad.dtype == bool and len(nums) == len(bad) == len(values)
    assert not np.any(bad & ~np.isnan(nums))
    for value, number, flagged in zip(values, nums, bad, strict=True):
        if value.strip() in ("", "nan", "NaN", "None", "null", "NULL"):
            assert math.isnan(number) and not flagged


@settings(max_examples=examples(200))
@given(lon=lon_cells, lat=lat_cells, coords=st.sampled_from(("wgs84", "gcj02", "bd09")),
       snap_m=st.sampled_from((0.0, 30.0, 5000.0)))
@example(lon=NAMED, lat=NAMED[::-1], coords="gcj02", snap_m=30.0)
def test_clean_points(lon: list[str], lat: list[str], coords: str, snap_m: float) -> None:
    n = min(len(lon), len(lat))
    points = clean_points(lon[:n], lat[:n], extent=EXTENT, snap_m=snap_m, m_per_deg_x=90_000.0, coords=coords)
    assert len(points.x) == len(points.status) == n
    assert set(np.unique(points.status)) <= {OK, MISSING, INVALID}
    assert np.all(np.isfinite(points.x[points.valid])) and np.all(np.isfinite(points.y[points.valid]))
    assert np.all(np.abs(points.x[points.valid]) <= 181) and np.all(np.abs(points.y[points.valid]) <= 91)
    assert not np.any(points.swapped & ~points.valid) and np.all(np.isnan(points.x[~points.valid]))


@pytest.fixture(scope="module")
def index(small_hierarchy: Path) -> Any:
    return hierarchy_index(small_hierarchy)


@settings(max_examples=examples(100))
@given(lon=lon_cells, lat=lat_cells, coords=st.sampled_from(("wgs84", "gcj02", "bd09")),
       snap_m=st.sampled_from((0.0, 30.0)))
@example(lon=NAMED, lat=NAMED[::-1], coords="wgs84", snap_m=30.0)
def test_hierarchy_join_on_text_cells(index: Any, lon: list[str], lat: list[str], coords: str,
                                      snap_m: float) -> None:
    n = min(len(lon), len(lat))
    joined = index.join(pd.Series(lon[:n], dtype=object), pd.Series(lat[:n], dtype=object), coords=coords,
                        snap_m=snap_m)
    assert len(joined) == n and set(joined["join_status"]) <= set(constants.JOIN_STATUSES)
    placed = joined["join_status"].isin(["ok", "snapped", "swapped"])
    assert np.all(np.isfinite(joined.loc[placed, ["lon", "lat"]].to_numpy(dtype=float)))
    assert joined.loc[joined["join_status"] == "ok", "grid_code"].notna().all()
    unplaced = joined["join_status"].isin(["missing_coordinates", "invalid_coordinates"])
    assert joined.loc[unplaced, "grid_code"].isna().all()


@settings(max_examples=examples(40))
@given(lon=lon_cells, lat=lat_cells)
def test_intake_join_names_bad_coordinates(index: Any, lon: list[str], lat: list[str]) -> None:
    n = min(len(lon), len(lat))
    frame = pd.DataFrame({"source_id": [f"GD{i}" for i in range(n)], "category": ["群众诉求"] * n,
                          "lon": lon[:n], "lat": lat[:n], "reported_at": ["2026-11-16 09:00:00"] * n}, dtype=object)
    headers = {k: constants.CASE_IMPORT_HEADERS[k][0] for k in frame.columns}
    out, problems = normalise(frame, headers, "hotline_12345")
    out = join_hierarchy(out, problems, index, coords="wgs84", snap_m=30.0)
    assert len(out) == n
    for i, status in enumerate(out["join_status"]):
        if status in ("missing_coordinates", "invalid_coordinates"):
            assert any(field == "经度" for field, _, _ in problems.by_row[i])
        else:
            assert math.isfinite(out["lon"].iloc[i]) and math.isfinite(out["lat"].iloc[i])
