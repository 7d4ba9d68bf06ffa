"""``python -m geo rejoin``: re-join a whole case history onto a new hierarchy, on Dask.

The history (GeoParquet, see :mod:`geo.rejoin_part` for its schema and CRS) is read in
partitions by dask-geopandas; each partition is joined in a worker process by the same
:class:`~geo.join.HierarchyIndex` as ``python -m geo join`` (built once per worker from the
GeoPackage) and written as a part file (Arrow IPC); the client merges the parts, in order and as they come,
into one GeoParquet file (written beside ``out`` and renamed: a failed run leaves nothing). No
process holds more than about one partition (a row group when partitions are smaller than row
groups), whatever the history's size.

Output: every history column as it was (the geometry unchanged, in its own CRS; old join
columns of the same names are replaced), then ``street_code``, ``community_code``, ``grid_code``,
``building_code`` (text, null where none) and ``join_status`` (``ok``, ``snapped``, ``outside``,
``swapped``, ``missing_coordinates``, ``invalid_coordinates``); one row group per partition.

Dask is imported only here, inside :func:`rejoin`, so the other commands do not pay for it. With
``scheduler`` the workers of that cluster do the work: they must reach the history, the
hierarchy and the output folder by the same paths, and import this project.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import feather

from core.constants import JOIN_STATUSES
from core.errors import InputError
from core.progress import progress
from geo.rejoin_part import (
    POINTS_FIX,
    REJOIN_COLUMNS,
    HistoryInfo,
    NotPointsError,
    check_history,
    default_partitions,
    hierarchy_index,
    part_name,
    run_partition,
    summary_meta,
)

#: Rows per partition when ``partitions`` is not given.
ROWS_PER_PARTITION = 500_000


@contextlib.contextmanager
def _client(scheduler: str | None, n_workers: int) -> Iterator[Any]:
    """A Dask client: on ``scheduler`` (an address) or on a local cluster of ``n_workers``
    single-threaded processes (no dashboard, quiet logs)."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler, timeout="30s") as client:
            yield client
        return
    with dask.config.set({"distributed.worker.profile.enabled": False}), \
            LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None,
                         silence_logs=logging.CRITICAL) as cluster, Client(cluster) as client:
        yield client


def _output_schema(first: pa.Schema, info: HistoryInfo) -> pa.Schema:
    """The output schema: the input columns with their input types (the geometry and the join
    columns as the first part has them), GeoParquet metadata of the input's geometries."""
    fields = []
    for field in first:
        if field.name in info.schema.names and field.name not in REJOIN_COLUMNS and field.name != info.geometry:
            field = field.with_type(info.schema.field(field.name).type)
        fields.append(field)
    geo = json.loads(first.metadata[b"geo"])
    column = geo["columns"][info.geometry]
    source = info.geo["columns"][info.geometry]
    column["geometry_types"] = source.get("geometry_types", [])
    column.pop("bbox", None)
    if source.get("bbox") is not None:  # the geometries are the input's: so is their extent
        column["bbox"] = source["bbox"]
    return pa.schema(fields, metadata={b"geo": json.dumps(geo).encode()})


def _merge(futures: list[Any], folder: Path, target: Path, info: HistoryInfo, label: str) -> dict[str, int]:
    """Append each part to ``target`` in partition order as soon as it is written; returns the
    status counts."""
    counts = dict.fromkeys(JOIN_STATUSES, 0)
    writer: pq.ParquetWriter | None = None
    schema = pa.schema([])
    try:
        with progress(info.rows, label, unit="rows") as bar:
            for fut in futures:
                row = fut.result().iloc[0]
                fut.release()
                for s in JOIN_STATUSES:
                    counts[s] += int(row[s])
                part = folder / part_name(int(row["part"]))
                if not part.exists():  # an empty partition
                    continue
                table = feather.read_table(part, memory_map=True)
                if writer is None:
                    schema = _output_schema(table.schema, info)
                    writer = pq.ParquetWriter(target, schema, compression="snappy")
                writer.write_table(table.select(schema.names).cast(schema), row_group_size=max(1, len(table)))
                part.unlink()
                bar.update(int(row["rows"]))
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # no row at all: an empty file of the input's schema and the join columns
        _write_empty(target, info)
    return counts


def _write_empty(target: Path, info: HistoryInfo) -> None:
    """An output file without rows: the history's columns and the join columns (text)."""
    fields = [f for f in info.schema if f.name not in REJOIN_COLUMNS]
    fields += [pa.field(c, pa.large_string()) for c in REJOIN_COLUMNS]
    geo = dict(info.geo)
    pq.write_table(pa.schema(fields, metadata={b"geo": json.dumps(geo).encode()}).empty_table(), target)


def _check_paths(hierarchy: Path, out: Path, partitions: int | None) -> None:
    if not hierarchy.is_file():
        raise InputError(str(hierarchy), "file not found", "check the path (a hierarchy.gpkg from python -m geo build)")
    if partitions is not None and partitions < 1:
        raise InputError(f"--partitions {partitions}", "must be 1 or more", "give a positive number of partitions")
    if not out.parent.is_dir():
        raise InputError(str(out), f"the folder {out.parent} does not exist", "create it or write elsewhere")


def rejoin(hierarchy: str | Path, history: str | Path, out: str | Path, *, partitions: int | None = None,
           scheduler: str | None = None, n_workers: int | None = None, snap_m: float | None = None) -> dict:
    """Re-join a case history onto a hierarchy and write the joined GeoParquet file.

    Parameters
    ----------
    hierarchy : path
        ``hierarchy.gpkg`` from ``python -m geo build`` (EPSG:4490).
    history : path
        GeoParquet of cases: ``case_id`` and one point per row, any CRS named in the file.
    out : path
        The GeoParquet file to write (atomically).
    partitions : int, optional
        How many partitions to split the history into (default one per 500,000 rows).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); default a local cluster.
    n_workers : int, optional
        Worker processes of the local cluster (default ``min(CPUs, partitions)``).
    snap_m : float, optional
        Snap distance in metres (default from settings, as ``python -m geo join``).

    Returns
    -------
    dict with ``rows``, ``statuses`` (counts), ``partitions``, ``workers``, ``seconds``.
    """
    start = time.perf_counter()
    hierarchy, history, out = Path(hierarchy), Path(history), Path(out)
    info = check_history(history)
    _check_paths(hierarchy, out, partitions)
    hierarchy_index(str(hierarchy))  # a hierarchy the workers cannot read is refused here, in one line
    if snap_m is None:
        from core.settings import load_settings

        snap_m = load_settings().snap_distance_m
    nparts = partitions or default_partitions(info, ROWS_PER_PARTITION)
    workers = n_workers or max(1, min(os.cpu_count() or 1, nparts))
    folder = out.parent / f".{out.name}.parts-{os.getpid()}"
    target = out.parent / f"{out.name}.tmp-{os.getpid()}"
    folder.mkdir()
    try:
        with _client(scheduler, workers) as client:
            futures = client.compute(_plan(history, hierarchy, snap_m, folder, nparts, info.row_groups).to_delayed())
            try:
                counts = _merge(futures, folder, target, info, f"rejoin {out.name}")
            except NotPointsError as exc:  # the metadata did not say (no geometry types listed)
                raise InputError(str(history), str(exc), POINTS_FIX) from exc
            workers = len(client.scheduler_info().get("workers", {})) or workers
        os.replace(target, out)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        target.unlink(missing_ok=True)
    return {"rows": info.rows, "statuses": counts, "partitions": nparts, "workers": workers,
            "seconds": time.perf_counter() - start}


def _plan(history: Path, hierarchy: Path, snap_m: float, folder: Path, nparts: int, row_groups: int) -> Any:
    """The Dask collection of per-partition summaries (reading, joining and writing the parts).

    Whole row groups are read together (``split_row_groups``: no concatenation) when partitions
    hold several; a row group is split when partitions are smaller than it."""
    import dask_geopandas

    per_part = max(1, row_groups // nparts)
    ddf = dask_geopandas.read_parquet(str(history), split_row_groups=per_part, index=False)  # an index is a column
    if ddf.npartitions != nparts:
        ddf = ddf.repartition(npartitions=nparts)
    return ddf.map_partitions(run_partition, str(hierarchy.resolve()), float(snap_m), str(folder.resolve()),
                              meta=summary_meta(), enforce_metadata=False, align_dataframes=False)
