"""Benchmark of the incident join on the demo district (all four levels).

Compares, in the same run and on the same points:

1. in memory: ``geo.HierarchyIndex.join`` (built once; first join includes the lazy cell-index
   builds, then the steady state) versus ``geopandas.sjoin(predicate="within")`` once per level
   (streets, communities, grids, buildings) — the implementation a user would write;
2. end to end on a 1M-row CSV: ``python -m geo join`` versus the plain pipeline (pandas
   ``read_csv``, one ``shapely.STRtree`` query each for grids and buildings, pandas ``to_csv``),
   both as fresh processes (start-up, read, join, write).

Every measurement runs in its own subprocess, so the peak memory is that process's peak
resident set size (``resource.getrusage(...).ru_maxrss`` / ``os.wait4``), not a tracemalloc figure
(tracemalloc misses GEOS and Arrow allocations). Times are wall-clock, median of ``--repeat``.

Usage::

    .venv/bin/python bench/join_bench.py [--sizes 10000,100000,1000000] [--repeat 3] [--skip-cli]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEMO = ROOT / "data" / "demo"
HIERARCHY = DEMO / "hierarchy.gpkg"
LEVELS = ("streets", "communities", "grids", "buildings")

PLAIN_PIPELINE = r'''
import sys
import numpy as np
import pandas as pd
import shapely
import pyogrio

hierarchy, incidents, out = sys.argv[1:4]
df = pd.read_csv(incidents)
pts = shapely.points(df["经度"].to_numpy(float), df["纬度"].to_numpy(float))
for level in ("grids", "buildings"):
    layer = pyogrio.read_dataframe(hierarchy, layer=level)
    tree = shapely.STRtree(layer.geometry.to_numpy())
    pi, gi = tree.query(pts, predicate="within")
    codes = np.full(len(df), None, dtype=object)
    codes[pi] = layer["code"].to_numpy()[gi]
    df[level[:-1] + "_code"] = codes
df.to_csv(out, index=False, encoding="utf-8-sig")
'''


def ensure_demo() -> Path:
    """The demo hierarchy.gpkg, generated and built if missing."""
    if HIERARCHY.exists():
        return HIERARCHY
    py = sys.executable
    if not (DEMO / "grids.shp").exists():
        subprocess.run([py, str(ROOT / "data" / "make_demo.py"), "--out", str(DEMO)], check=True, cwd=ROOT)
    args = []
    for level in LEVELS:
        args += [f"--{level}", str(DEMO / f"{level}.shp")]
    subprocess.run([py, "-m", "geo", "build", *args, "--out", str(HIERARCHY), "--report", str(DEMO / "report.json")],
                   check=True, cwd=ROOT)
    return HIERARCHY


def make_points(n: int, seed: int = 20260415):
    """Points clustered like incidents: 80 % around buildings (σ ≈ 40 m), 17 % uniform over the
    district's extent, 3 % within 60 m outside its edge; returns lon, lat arrays (EPSG:4490)."""
    import numpy as np
    import pyogrio
    import shapely

    rng = np.random.default_rng(seed)
    buildings = pyogrio.read_dataframe(HIERARCHY, layer="buildings").geometry.to_numpy()
    grids = pyogrio.read_dataframe(HIERARCHY, layer="grids").geometry.to_numpy()
    centres = shapely.get_coordinates(shapely.point_on_surface(buildings))
    minx, miny, maxx, maxy = shapely.total_bounds(grids)
    n_b, n_u = int(n * 0.80), int(n * 0.17)
    n_e = n - n_b - n_u
    k = rng.integers(0, len(centres), n_b)
    lon_b = centres[k, 0] + rng.normal(0, 0.00045, n_b)
    lat_b = centres[k, 1] + rng.normal(0, 0.00036, n_b)
    lon_u, lat_u = rng.uniform(minx, maxx, n_u), rng.uniform(miny, maxy, n_u)
    boundary = shapely.get_coordinates(shapely.segmentize(shapely.boundary(shapely.union_all(grids)), 0.0005))
    j = rng.integers(0, len(boundary), n_e)
    lon_e = boundary[j, 0] + rng.uniform(-0.0007, 0.0007, n_e)
    lat_e = boundary[j, 1] + rng.uniform(-0.0005, 0.0005, n_e)
    lon = np.concatenate([lon_b, lon_u, lon_e])
    lat = np.concatenate([lat_b, lat_u, lat_e])
    order = rng.permutation(n)
    return lon[order], lat[order]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(method: str, n: int, repeat: int) -> dict:
    """One measurement in this (fresh) process; returns times and memory."""
    import numpy as np

    from geo import HierarchyIndex, read_hierarchy

    lon, lat = make_points(n)
    layers = read_hierarchy(HIERARCHY)
    base = _peak_mb()
    out: dict = {"method": method, "n": n}
    if method == "index":
        t = time.perf_counter()
        index = HierarchyIndex(layers)
        out["build_s"] = time.perf_counter() - t
        times = []
        for _ in range(repeat + 1):
            t = time.perf_counter()
            result = index.join(lon, lat)
            times.append(time.perf_counter() - t)
        out["first_join_s"] = times[0]
        out["times_s"] = times[1:]
        out["statuses"] = result["join_status"].value_counts().to_dict()
    elif method == "sjoin":
        import geopandas as gpd

        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4490")
            for level in LEVELS:
                joined = gpd.sjoin(pts, layers[level][["code", "geometry"]], how="left", predicate="within")
                joined = joined[~joined.index.duplicated(keep="first")]
                pts[f"{level}_code"] = joined["code"].reindex(pts.index)
            times.append(time.perf_counter() - t)
        out["times_s"] = times
    elif method == "compare":
        import geopandas as gpd

        mine = HierarchyIndex(layers).join(lon, lat, snap_m=0)
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4490")
        agree = {}
        for level in LEVELS:
            joined = gpd.sjoin(pts, layers[level][["code", "geometry"]], how="left", predicate="within")
            joined = joined[~joined.index.duplicated(keep="first")]
            theirs = joined["code"].reindex(pts.index).fillna("").to_numpy(dtype=object)
            col = {"streets": "street_code", "communities": "community_code", "grids": "grid_code",
                   "buildings": "building_code"}[level]
            ours = mine[col].fillna("").to_numpy(dtype=object)
            agree[level] = float(np.mean(ours == theirs))
        out["agreement"] = agree
    out["base_rss_mb"] = base
    out["peak_rss_mb"] = _peak_mb()
    return out


def run_worker(method: str, n: int, repeat: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--worker", method, str(n), str(repeat)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"worker {method} {n} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def make_csv(path: Path, n: int) -> None:
    """A 1M-row incident CSV like the demo's (UTF-8 with BOM, 8 columns, 0.1 % without coordinates)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    lon, lat = make_points(n, seed=7)
    rng = np.random.default_rng(7)
    blank = rng.random(n) < 0.001
    lon_s = np.char.mod("%.7f", lon).astype(object)
    lat_s = np.char.mod("%.7f", lat).astype(object)
    lon_s[blank] = ""
    lat_s[blank] = ""
    sources = np.array(["12345热线", "随手拍", "网格巡查", "视频/物联感知", "上级交办"], dtype=object)
    cats = np.array(["突发事件", "矛盾纠纷", "安全隐患", "群众诉求"], dtype=object)
    texts = np.array(["楼道堆放杂物，影响消防通道", "小区门口路灯不亮", "邻里因噪音发生争吵",
                      "电动车在楼道内充电", "咨询医保缴费政策"], dtype=object)
    table = pa.table({
        "工单编号": np.char.mod("GD2026%08d", np.arange(n)).astype(object),
        "来源渠道": sources[rng.integers(0, len(sources), n)],
        "一级分类": cats[rng.integers(0, len(cats), n)],
        "诉求内容": texts[rng.integers(0, len(texts), n)],
        "经度": lon_s,
        "纬度": lat_s,
        "联系电话": np.char.mod("0139%08d", rng.integers(0, 10**8, n)).astype(object),
        "受理时间": np.char.mod("2026-04-15 %02d:00:00", rng.integers(0, 24, n)).astype(object),
    })
    with path.open("wb") as fh:
        fh.write(b"\xef\xbb\xbf")
    with pa.OSFile(str(path), "ab") as sink:
        pacsv.write_csv(table, sink)


def timed_process(args: list[str]) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MB) of a child process."""
    t = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def median(values: list[float]) -> float:
    s = sorted(values)
    return s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--cli-rows", type=int, default=1_000_000)
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        method, n, repeat = args.worker
        print(json.dumps(worker(method, int(n), int(repeat))))
        return
    ensure_demo()
    sizes = [int(s) for s in args.sizes.split(",")]
    load = os.getloadavg()
    print(f"join benchmark on {HIERARCHY.relative_to(ROOT)} — {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load average at start {load[0]:.1f}")
    import pyogrio

    counts = {lv: pyogrio.read_info(HIERARCHY, layer=lv)["features"] for lv in LEVELS}
    print("levels: " + ", ".join(f"{lv} {c}" for lv, c in counts.items()))
    print("memory: peak resident set size of each measuring process (ru_maxrss), "
          "with the size after loading the hierarchy and the points in brackets")
    results: dict = {"sizes": {}, "levels": counts, "load_average": load}
    cmp = run_worker("compare", 100_000, 1)
    results["agreement_100k"] = cmp["agreement"]
    print("agreement with sjoin (100k points, snapping off): "
          + ", ".join(f"{lv} {v:.4%}" for lv, v in cmp["agreement"].items()))
    header = (f"{'points':>9} | {'HierarchyIndex.join':>20} | {'pts/s':>11} | {'first join':>10} | "
              f"{'sjoin x4 levels':>15} | {'pts/s':>10} | {'speed-up':>8} | {'peak MB ours (base)':>19} | "
              f"{'peak MB sjoin':>13}")
    print(header)
    print("-" * len(header))
    for n in sizes:
        ours = run_worker("index", n, args.repeat)
        theirs = run_worker("sjoin", n, args.repeat)
        t_ours, t_theirs = median(ours["times_s"]), median(theirs["times_s"])
        results["sizes"][n] = {"ours": ours, "sjoin": theirs, "speedup": t_theirs / t_ours}
        print(f"{n:>9,} | {t_ours:>18.3f} s | {n / t_ours:>11,.0f} | {ours['first_join_s']:>8.3f} s | "
              f"{t_theirs:>13.3f} s | {n / t_theirs:>10,.0f} | {t_theirs / t_ours:>7.1f}x | "
              f"{ours['peak_rss_mb']:>8.0f} ({ours['base_rss_mb']:.0f}) | {theirs['peak_rss_mb']:>13.0f}")
    print(f"index build (HierarchyIndex(...), cell indexes built lazily on first join): "
          f"{results['sizes'][sizes[-1]]['ours']['build_s']:.3f} s")
    if not args.skip_cli:
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp)
            csv_path = tmp_path / "incidents.csv"
            make_csv(csv_path, args.cli_rows)
            script = tmp_path / "plain.py"
            script.write_text(PLAIN_PIPELINE, encoding="utf-8")
            ours_t, ours_m, plain_t, plain_m = [], [], [], []
            for _ in range(args.repeat):
                t, m = timed_process([sys.executable, "-m", "geo", "join", "--hierarchy", str(HIERARCHY),
                                      "--incidents", str(csv_path), "--out", str(tmp_path / "joined.csv")])
                ours_t.append(t)
                ours_m.append(m)
                t, m = timed_process([sys.executable, str(script), str(HIERARCHY), str(csv_path),
                                      str(tmp_path / "plain.csv")])
                plain_t.append(t)
                plain_m.append(m)
            size_mb = csv_path.stat().st_size / 2**20
        a, b = median(ours_t), median(plain_t)
        results["cli"] = {"rows": args.cli_rows, "csv_mb": size_mb, "geo_join_s": ours_t, "plain_s": plain_t,
                          "geo_join_peak_mb": max(ours_m), "plain_peak_mb": max(plain_m), "ratio": a / b}
        print(f"end to end, {args.cli_rows:,}-row CSV ({size_mb:.0f} MB): python -m geo join {a:.2f} s "
              f"(peak {max(ours_m):.0f} MB) vs plain read_csv + STRtree(grids, buildings) + to_csv {b:.2f} s "
              f"(peak {max(plain_m):.0f} MB): {a / b:.2f} of the plain time")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "join_bench.json").write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(f"figures saved to {(out / 'join_bench.json').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
