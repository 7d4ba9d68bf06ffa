"""Fixtures of the demo-generator tests: one fresh generation per session, read back from disk."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from tests.data.generator import run_make_demo

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHAPEFILES = ("streets", "communities", "grids", "buildings")
CSVS = ("incidents", "workers", "households", "visits", "tracks", "facilities")


@dataclass
class Demo:
    """One generated demo district: its folder, the CLI run and every layer/table read back."""

    path: Path
    run: subprocess.CompletedProcess[str]
    layers: dict[str, gpd.GeoDataFrame]
    tables: dict[str, pd.DataFrame]


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    out = tmp_path_factory.mktemp("make_demo") / "demo"
    run = run_make_demo(out)
    if run.returncode != 0:
        pytest.fail(f"make_demo failed ({run.returncode}): {run.stderr}", pytrace=False)
    layers = {name: gpd.read_file(out / f"{name}.shp") for name in SHAPEFILES}
    tables = {name: pd.read_csv(out / f"{name}.csv", encoding="utf-8-sig", dtype=str,
                                keep_default_na=False)
              for name in CSVS}
    return Demo(out, run, layers, tables)
