"""Generate the synthetic demo district (锦川街道, fictional) as a real delivery would arrive.

Usage::

    python data/make_demo.py --out DIR [--seed 20260415]

Writes into ``DIR`` (created; built in a temporary sibling directory and renamed into place, so
a failed run leaves nothing half-written):

- ``streets.shp``, ``communities.shp``, ``buildings.shp``: UTF-8 attributes (``.cpg`` "UTF-8");
- ``grids.shp``: GBK attributes with Chinese field names (``.cpg`` "GBK");
- ``incidents.csv``, ``workers.csv``, ``households.csv``, ``visits.csv``, ``tracks.csv``,
  ``facilities.csv``: UTF-8 with BOM;
- ``roads.shp``: the walkable roads that cut the district (``CODE``, ``KIND``; UTF-8), for the
  15-minute service circle;
- ``theme_safety.shp``: a thematic grid (安全生产网格) drawn on other boundaries than the grids,
  delivered in EPSG:4490 with GBK attributes (``网格编号``, ``名称``, ``责任部门``, ``安全员``).

Every other shapefile is in EPSG:4548 (CGCS2000 / 3-degree GK CM 117E, metres); CSV coordinates are
CGCS2000 longitude/latitude (EPSG:4490) with 7 decimals. The same seed gives byte-identical
files. Everything is synthetic: names, addresses, phone and ID numbers are fictional.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

# the project root (``core``) and this folder (the sibling ``_demo_*`` modules), from any working directory
_HERE = Path(__file__).resolve().parent
for _p in (str(_HERE.parent), str(_HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import _demo_geometry as geom  # noqa: E402
import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
from _demo_buildings import build_buildings  # noqa: E402
from _demo_coverage import check_coverage  # noqa: E402
from _demo_district import District  # noqa: E402
from _demo_hierarchy import CENTRE_LONLAT, build_hierarchy  # noqa: E402
from _demo_roads import walking_roads  # noqa: E402
from _demo_tables import build_tables  # noqa: E402
from _demo_themes import safety_cells  # noqa: E402
from pyproj import Transformer  # noqa: E402

from core.constants import DEMO_CRS, STORAGE_CRS  # noqa: E402
from core.errors import GridCommandError, InputError  # noqa: E402

__all__ = ["DBF_DATE", "DEFAULT_SEED", "District", "build_buildings", "build_hierarchy", "build_tables",
           "check_coverage", "demo_layers", "generate", "main", "write_district"]

DEFAULT_SEED = 20260415
#: DBF "last update" date written into every shapefile so that runs are byte-identical.
DBF_DATE = (2026 - 1900, 6, 30)


# --- writing ------------------------------------------------------------------------------------
def _write_shp(gdf: gpd.GeoDataFrame, path: Path, encoding: str) -> None:
    gdf.to_file(path, driver="ESRI Shapefile", engine="pyogrio", encoding=encoding,
                layer_options={"RESIZE": "YES"})
    (path.with_suffix(".cpg")).write_text(encoding, encoding="ascii")
    with open(path.with_suffix(".dbf"), "r+b") as fh:  # fixed "last update" date
        fh.seek(1)
        fh.write(bytes(DBF_DATE))


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(header)
        w.writerows(rows)


def write_district(district: District, out: Path,
                   layers: dict[str, tuple[gpd.GeoDataFrame, str]] | None = None) -> None:
    """Write every file (and the extra ``layers``: file name -> (layer, encoding)) into a temporary
    sibling of ``out`` and rename it into place."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        _write_shp(district.street, tmp / "streets.shp", "UTF-8")
        _write_shp(district.communities, tmp / "communities.shp", "UTF-8")
        _write_shp(district.grids, tmp / "grids.shp", "GBK")
        _write_shp(district.buildings, tmp / "buildings.shp", "UTF-8")
        for name, (layer, encoding) in (layers or {}).items():
            _write_shp(layer, tmp / name, encoding)
        for name, (header, rows) in district.tables.items():
            _write_csv(tmp / name, header, rows)
        os.chmod(tmp, 0o755)
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _check_out(out: Path) -> None:
    """Fail before the expensive work when ``out`` cannot become a directory."""
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "exists and is not a directory",
                         "pass --out a directory path (it is created or replaced)")
    parent = out.resolve().parent
    if parent.exists() and not parent.is_dir():
        raise InputError(str(out), f"parent {parent} is not a directory",
                         "pass --out a path inside an existing or creatable directory")
    parent.mkdir(parents=True, exist_ok=True)


def generate(seed: int = DEFAULT_SEED) -> District:
    """Build the whole demo district in memory.

    Parameters
    ----------
    seed : int
        Seed of the random generator; the same seed gives the same district.

    Returns
    -------
    District
        Layers in EPSG:4548 (metres) and the CSV tables (header, rows of strings).
    """
    rng = np.random.default_rng(seed)
    district, faces, extra = build_hierarchy(rng)
    build_buildings(rng, district, faces, extra)
    check_coverage(district)
    build_tables(rng, district)
    return district


def demo_layers(seed: int, district: District) -> dict[str, tuple[gpd.GeoDataFrame, str]]:
    """The walkable roads (``roads.shp``) and the thematic grid (``theme_safety.shp``) of the district.

    The roads are the lines that cut the district, drawn again from a generator with ``seed``
    exactly as :func:`generate` drew them (same draws in the same order: the street outline, then
    the network), so every other output stays byte-identical; the thematic cells come from a
    generator of their own.
    """
    rng = np.random.default_rng(seed)
    centre = Transformer.from_crs(STORAGE_CRS, DEMO_CRS, always_xy=True).transform(*CENTRE_LONLAT)
    street = geom.outline(rng, centre)
    lines, urban, named = geom.road_network(rng, street)
    if abs(street.area - float(district.street.geometry.area.sum())) > 1.0:
        msg = "the road network drawn again does not match the district's street; check the generator's draws"
        raise RuntimeError(msg)
    kinds, roads = zip(*walking_roads(lines, urban, named), strict=True)
    frame = gpd.GeoDataFrame({"CODE": [f"R{i:04d}" for i in range(1, len(roads) + 1)], "KIND": list(kinds)},
                             geometry=list(roads), crs=DEMO_CRS)
    theme = safety_cells(np.random.default_rng([seed, 18]), street)
    return {"roads.shp": (frame, "UTF-8"), "theme_safety.shp": (theme, "GBK")}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: ``python data/make_demo.py --out DIR [--seed N]``."""
    parser = argparse.ArgumentParser(description="Generate the synthetic demo district.")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    import warnings

    warnings.filterwarnings("ignore", message=".*laundered field name.*")
    warnings.filterwarnings("ignore", message="Could not decode error message.*")
    try:
        _check_out(args.out)
        district = generate(args.seed)
        layers = demo_layers(args.seed, district)
        write_district(district, args.out, layers)
    except (GridCommandError, RuntimeError, OSError, ValueError) as exc:
        where = "" if isinstance(exc, InputError) else f"{args.out}: "
        print(f"make_demo: {where}{exc}", file=sys.stderr)
        return 1
    area = float(district.street.geometry.area.sum()) / 1e6
    t = district.tables
    print(f"demo district written to {args.out}: 1 street {area:.2f} km², "
          f"{len(district.communities)} communities/villages, {len(district.grids)} grids, "
          f"{len(district.buildings)} buildings, {len(t['incidents.csv'][1])} incidents, "
          f"{len(t['workers.csv'][1])} workers, {len(t['households.csv'][1])} households, "
          f"{len(t['visits.csv'][1])} visits, {len(t['tracks.csv'][1])} track points, "
          f"{len(t['facilities.csv'][1])} facilities, {len(layers['roads.shp'][0])} roads, "
          f"{len(layers['theme_safety.shp'][0])} safety cells "
          f"(seed {args.seed}, {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
