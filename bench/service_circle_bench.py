"""Service-circle benchmark: the 15-minute service circle of the demo district, all facility types.

Times, over ``--repeat`` runs (min / median / max, seconds):

- ``compute``: the road graph (noding, snapping) and the walking time from every building to the
  nearest facility of every type, i.e. ``build_network`` + ``service_circle`` (target < 10 s);
- ``isochrones``: the 5/10/15-minute polygons of every type (for the map);
- ``gaps``: the ranked sites for a new service point of every type (top 10);
- ``cli``: ``python -m geo service-circle`` end to end in a fresh interpreter (reading, computing,
  writing the CSV; one run, not with ``--small``).

Reading the inputs (hierarchy, roads, facilities, households) is timed once and reported apart.
Needs the demo district with ``roads.shp`` (``make setup``; built into a temporary folder when
``data/demo`` lacks it). Usage::

    .venv/bin/python bench/service_circle_bench.py [--small] [--repeat 5] [--demo DIR]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tests' helpers (tests.geo.thematic_data), as the other benches

TARGET_S = 10.0


def _stats(values: list[float]) -> str:
    return f"min {min(values):.2f}  median {statistics.median(values):.2f}  max {max(values):.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="CI size: 2 runs, no end-to-end command line run")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--demo", type=Path, default=ROOT / "data" / "demo")
    args = parser.parse_args()
    repeat = 2 if args.small else max(1, args.repeat)

    from geo import read_hierarchy
    from geo.network import build_network, read_roads
    from geo.service_circle import service_circle, totals
    from geo.service_gaps import isochrones, rank_gaps
    from geo.service_inputs import read_facilities, read_households

    with tempfile.TemporaryDirectory() as scratch:
        from tests.geo.thematic_data import demo_with_roads  # the tests' way to the demo with roads

        folder, gpkg = demo_with_roads(args.demo, Path(scratch))
        start = time.perf_counter()
        layers = read_hierarchy(gpkg)
        roads, _ = read_roads(folder / "roads.shp")
        facilities = read_facilities(folder / "facilities.csv")
        households = read_households(folder / "buildings.shp")
        read_s = time.perf_counter() - start
        import scipy.sparse.csgraph  # noqa: F401 - imported once before timing, as a server process has it

        times: dict[str, list[float]] = {"compute": [], "isochrones": [], "gaps": []}
        for _ in range(repeat):
            start = time.perf_counter()
            network = build_network(roads, metric_crs="EPSG:4548")
            result = service_circle(layers["buildings"], network, facilities, grids=layers["grids"],
                                    households=households)
            times["compute"].append(time.perf_counter() - start)
            start = time.perf_counter()
            for kind in result.types:
                isochrones(result, kind)
            times["isochrones"].append(time.perf_counter() - start)
            start = time.perf_counter()
            for kind in result.types:
                rank_gaps(result, kind)
            times["gaps"].append(time.perf_counter() - start)
        print(f"demo district: {len(layers['buildings']):,} buildings, {len(facilities)} facilities of "
              f"{len(result.types)} types, {network.length_km:,.1f} km of road, {network.n_nodes:,} junctions; "
              f"{repeat} run(s); inputs read in {read_s:.2f} s")
        for name, values in times.items():
            print(f"{name:<11} {_stats(values)} s")
        for row in totals(result).to_dict("records"):
            print(f"  {row['facility_type']}: households outside 15 min {row['share_outside_15']:.1%}")
        if not args.small:
            out = Path(scratch) / "circle.csv"
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "geo", "service-circle", "--hierarchy", str(gpkg), "--roads",
                            str(folder / "roads.shp"), "--facilities", str(folder / "facilities.csv"),
                            "--households", str(folder / "buildings.shp"), "--out", str(out)],
                           check=True, capture_output=True, cwd=ROOT)
            print(f"cli         {time.perf_counter() - start:.2f} s (python -m geo service-circle, end to end)")
    verdict = "ok" if statistics.median(times["compute"]) < TARGET_S else "TOO SLOW"
    print(f"target: compute < {TARGET_S:g} s: {verdict}")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
