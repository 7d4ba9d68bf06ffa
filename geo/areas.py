"""Look-ups on a normalised hierarchy (``geo.read_hierarchy``): which grids lie under an area,
which street a community belongs to. Pure: dicts of GeoDataFrames in, plain values out."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd

from core.errors import InputError


def _codes(layer: gpd.GeoDataFrame | None, *, parent_in: set[str] | None = None) -> set[str]:
    if layer is None or len(layer) == 0:
        return set()
    if parent_in is None:
        return set(layer["code"].astype(str))
    return set(layer.loc[layer["parent_code"].astype(str).isin(parent_in), "code"].astype(str))


def grid_codes_under(hierarchy: Mapping[str, gpd.GeoDataFrame], area_code: str | None) -> set[str] | None:
    """The grid codes inside a street, community or grid.

    Parameters
    ----------
    hierarchy : mapping of str to GeoDataFrame
        Layers ``grids`` (required), ``communities`` (optional), columns ``code`` and ``parent_code``.
    area_code : str or None
        A street, community or grid code.

    Returns
    -------
    set of str or None
        None when no area is chosen; an empty set for an unknown code.
    """
    if not area_code:
        return None
    grids = hierarchy["grids"]
    if area_code in _codes(grids):
        return {area_code}
    in_community = _codes(grids, parent_in={area_code})
    if in_community:
        return in_community
    communities = _codes(hierarchy.get("communities"), parent_in={area_code})
    return _codes(grids, parent_in=communities) if communities else set()


def community_streets(hierarchy: Mapping[str, gpd.GeoDataFrame]) -> dict[str, str]:
    """Community code -> street code (empty without a communities layer)."""
    communities = hierarchy.get("communities")
    if communities is None or len(communities) == 0:
        return {}
    return dict(zip(communities["code"].astype(str), communities["parent_code"].astype(str), strict=True))


def grids_in_scope(hierarchy: Mapping[str, gpd.GeoDataFrame], allows: object) -> set[str]:
    """Grid codes for which ``allows(street_code=..., community_code=..., grid_code=...)`` is true.

    ``allows`` is a scope's predicate (``access.scope.Scope.allows``); geo itself knows no scopes.
    """
    streets = community_streets(hierarchy)
    grids = hierarchy["grids"]
    return {str(code) for code, parent in zip(grids["code"], grids["parent_code"], strict=True)
            if allows(street_code=streets.get(str(parent)), community_code=str(parent),  # type: ignore[operator]
                      grid_code=str(code))}


def grid_parents(hierarchy_path: Path) -> dict[str, tuple[str | None, str | None]]:
    """Grid code → (community code, street code) from ``hierarchy.gpkg`` (``python -m geo build``)."""
    import pyogrio

    path = Path(hierarchy_path)
    if not path.exists():
        raise InputError(str(path), "hierarchy file not found", "run `python -m geo build ... --out` first")
    layers = {str(n) for n, *_ in pyogrio.list_layers(path)}

    def parents(level: str) -> dict[str, str | None]:
        if level not in layers:
            return {}
        frame = pyogrio.read_dataframe(path, layer=level, read_geometry=False, columns=["code", "parent_code"])
        return {str(c): (str(p) if p else None) for c, p in zip(frame["code"], frame["parent_code"], strict=True)}

    grid_to_comm = parents("grids")
    comm_to_street = parents("communities")
    return {g: (c, comm_to_street.get(c) if c else None) for g, c in grid_to_comm.items()}


def grid_at(grids: gpd.GeoDataFrame, lon: float, lat: float, *, gcj02: bool = False) -> str | None:
    """The code of the grid containing a point, or None.

    Parameters
    ----------
    grids : GeoDataFrame
        The ``grids`` layer (any CRS; compared in EPSG:4326).
    lon, lat : float
        The point in degrees: WGS84/CGCS2000, or GCJ-02 (a point clicked on AMap tiles) with ``gcj02``.
    """
    import numpy as np
    from shapely.geometry import Point

    from geo.coords import gcj02_to_wgs84

    if gcj02:
        xs, ys = gcj02_to_wgs84(np.array([lon]), np.array([lat]))
        lon, lat = float(xs[0]), float(ys[0])
    inside = grids.to_crs("EPSG:4326").contains(Point(lon, lat))
    return str(grids.loc[inside, "code"].iloc[0]) if inside.any() else None


def neighbouring_grids(grids: gpd.GeoDataFrame, *, within_m: float, metric_crs: str) -> dict[str, list[str]]:
    """For each grid, the other grids whose outline lies within ``within_m`` metres of its own.

    Parameters
    ----------
    grids : GeoDataFrame
        The ``grids`` level (``code``), any CRS.
    within_m : float
        Largest gap between two outlines, metres (0: grids that touch).
    metric_crs : str
        Projected CRS in metres for the distance test.

    Returns
    -------
    dict of str to list of str
        Grid code -> neighbouring grid codes, nearest first (by the distance between outlines).
    """
    import shapely

    metric = grids.to_crs(metric_crs).geometry.to_numpy()
    codes = grids["code"].astype(str).to_numpy()
    left, right = shapely.STRtree(metric).query(metric, predicate="dwithin", distance=within_m)
    pairs = [(int(i), int(j)) for i, j in zip(left, right, strict=True) if i != j]
    gaps = shapely.distance(metric[[i for i, _ in pairs]], metric[[j for _, j in pairs]]) if pairs else []
    out: dict[str, list[tuple[float, str]]] = {str(code): [] for code in codes}
    for (i, j), gap in zip(pairs, gaps, strict=True):
        out[str(codes[i])].append((float(gap), str(codes[j])))
    return {code: [c for _, c in sorted(near)] for code, near in out.items()}
