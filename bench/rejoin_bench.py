"""Benchmark of ``python -m geo rejoin`` (the case history re-joined on Dask) on the demo district.

Generates a history of ``--cases`` points with numpy (uniform over the district and 1 km around it,
so about a third are ``outside`` or ``snapped``) into a temporary GeoParquet file (EPSG:4490,
``--row-group`` rows per row group), then measures, each in its own process:

1. the single-process join, the same work without Dask: every row group read into a GeoDataFrame,
   joined by :func:`geo.rejoin_part.join_partition` (the fast join of ``python -m geo join``) and
   written to one GeoParquet file; also the bare in-memory join (``HierarchyIndex.join`` on x/y
   arrays) for reference;
2. ``python -m geo rejoin --partitions N`` on its local cluster (one process per CPU), for two
   partition sizes (``--partition-rows``): wall time, rows/s in all and per worker process, and the
   peak resident memory (RSS, from /proc through psutil, sampled every 0.1 s) of the largest worker
   and of the client process.

Target: per worker within 1.3x of the single process (throughput), and worker memory that follows
the partition size, not the history's.

Usage::

    .venv/bin/python bench/rejoin_bench.py --small           # 200,000 cases, about a minute
    .venv/bin/python bench/rejoin_bench.py --cases 10000000  # the default
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HIERARCHY = ROOT / "data" / "demo" / "hierarchy.gpkg"
CHUNK = 1_000_000

SINGLE = r'''
import json, resource, sys, time
import numpy as np, pyarrow as pa, pyarrow.parquet as pq, geopandas as gpd
from geo.rejoin_part import hierarchy_index, join_partition
hierarchy, history, out, snap_m = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
start = time.perf_counter()
index = hierarchy_index(hierarchy)
source = pq.ParquetFile(history)
writer = None
for i in range(source.num_row_groups):
    part = gpd.GeoDataFrame.from_arrow(source.read_row_group(i))
    table = pa.table(join_partition(part, hierarchy, snap_m).to_arrow(index=False))
    if writer is None:
        writer = pq.ParquetWriter(out, table.schema)
    writer.write_table(table)
writer.close()
seconds = time.perf_counter() - start
x = np.random.default_rng(1).uniform(*index.extent[0::2], 200_000)
y = np.random.default_rng(2).uniform(*index.extent[1::2], 200_000)
t = time.perf_counter(); index.join(x, y, snap_m=snap_m); bare = 200_000 / (time.perf_counter() - t)
print(json.dumps({"seconds": seconds, "bare_rows_s": bare,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def write_history(path: Path, cases: int, row_group: int) -> None:
    """``cases`` random points (EPSG:4490) with ``case_id`` and a category, written chunk by chunk."""
    import geopandas as gpd
    import shapely

    from geo.rejoin_part import hierarchy_index

    x0, y0, x1, y1 = hierarchy_index(str(HIERARCHY)).extent
    rng = np.random.default_rng(19)
    writer = None
    for start in range(0, cases, CHUNK):
        n = min(CHUNK, cases - start)
        pts = shapely.points(rng.uniform(x0 - 0.01, x1 + 0.01, n), rng.uniform(y0 - 0.01, y1 + 0.01, n))
        ids = np.char.add("K", np.char.zfill(np.arange(start, start + n).astype(str), 9))
        gdf = gpd.GeoDataFrame({"case_id": ids, "category": rng.choice(["环境卫生", "治安", "消防"], n)},
                               geometry=pts, crs="EPSG:4490")
        table = pa.table(gdf.to_arrow(index=False, geometry_encoding="WKB"))
        if writer is None:
            crs = gdf.crs.to_json_dict()
            geo = {"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": {
                "encoding": "WKB", "geometry_types": ["Point"], "crs": crs,
                "bbox": [x0 - 0.01, y0 - 0.01, x1 + 0.01, y1 + 0.01]}}}
            schema = table.schema.with_metadata({b"geo": json.dumps(geo).encode()})
            writer = pq.ParquetWriter(path, schema)
        writer.write_table(table.cast(schema), row_group_size=row_group)
    if writer is not None:
        writer.close()


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def watch(cmd: list[str]) -> dict:
    """Run ``cmd``; its wall time, the peak RSS (MB) of it and of its largest descendant, and the CPU
    seconds of it and of all its descendants (last sample of each process: a 0.1 s resolution)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    me = psutil.Process(proc.pid)
    peak_main, peak_child, cpu_main, cpu_children = 0.0, 0.0, 0.0, {}
    while proc.poll() is None:
        try:
            peak_main, cpu_main = max(peak_main, me.memory_info().rss / 2**20), _cpu(me)
            for child in me.children(recursive=True):
                peak_child = max(peak_child, child.memory_info().rss / 2**20)
                cpu_children[child.pid] = _cpu(child)
        except psutil.Error:
            pass
        time.sleep(0.1)
    out, err = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.strip()[-2000:]}")
    return {"seconds": time.perf_counter() - start, "client_rss_mb": peak_main, "worker_rss_mb": peak_child,
            "client_cpu_s": cpu_main, "worker_cpu_s": sum(cpu_children.values()), "stdout": out.strip()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=10_000_000)
    p.add_argument("--small", action="store_true", help="200,000 cases, partitions of 25,000 and 100,000 rows")
    p.add_argument("--partition-rows", default="250000,1000000", help="two partition sizes (rows), comma-separated")
    p.add_argument("--row-group", type=int, default=50_000, help="rows per row group of the generated history")
    args = p.parse_args()
    if args.small:
        args.cases, args.partition_rows, args.row_group = 200_000, "25000,100000", 12_500
    sizes = [int(s) for s in args.partition_rows.split(",")]
    from core.settings import load_settings

    py = str(ROOT / ".venv" / "bin" / "python")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
          f"{args.cases:,} cases, row groups of {args.row_group:,}")
    with tempfile.TemporaryDirectory(prefix="rejoin_bench_") as tmp:
        history = Path(tmp) / "cases.parquet"
        t = time.perf_counter()
        write_history(history, args.cases, args.row_group)
        print(f"history: {history.stat().st_size / 2**20:.0f} MB written in {time.perf_counter() - t:.1f} s")
        single = watch([py, "-c", SINGLE, str(HIERARCHY), str(history), str(Path(tmp) / "single.parquet"),
                        str(load_settings().snap_distance_m)])
        info = json.loads(single["stdout"])
        base = args.cases / single["seconds"]
        base_cpu = args.cases / single["client_cpu_s"]
        print(f"single process (read, join, write; no Dask): {single['seconds']:.1f} s = {base:,.0f} rows/s; "
              f"{single['client_cpu_s']:.1f} CPU s = {base_cpu:,.0f} rows per CPU s; peak {info['rss_mb']:.0f} MB; "
              f"bare in-memory join {info['bare_rows_s']:,.0f} rows/s")
        for rows in sizes:
            parts = math.ceil(args.cases / rows)
            res = watch([py, "-m", "geo", "rejoin", "--hierarchy",
                         str(HIERARCHY), "--history", str(history), "--out", str(Path(tmp) / f"rejoin{rows}.parquet"),
                         "--partitions", str(parts)])
            total = args.cases / res["seconds"]
            workers = int(re.search(r"on (\d+) workers", res["stdout"]).group(1))  # type: ignore[union-attr]
            per_worker = total / workers
            worker_cpu = args.cases / res["worker_cpu_s"]
            print(f"rejoin, {parts} partitions of {rows:,} rows: {res['seconds']:.1f} s = {total:,.0f} rows/s, "
                  f"{per_worker:,.0f} per worker of {workers} ({base / per_worker:.2f}x the single process); "
                  f"workers {res['worker_cpu_s']:.1f} CPU s = {worker_cpu:,.0f} rows per worker CPU s "
                  f"({base_cpu / worker_cpu:.2f}x), client {res['client_cpu_s']:.1f} CPU s; "
                  f"peak RSS largest worker {res['worker_rss_mb']:.0f} MB, client {res['client_rss_mb']:.0f} MB")
            Path(tmp, f"rejoin{rows}.parquet").unlink()


if __name__ == "__main__":
    main()
