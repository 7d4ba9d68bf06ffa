"""Hierarchy checks: full coverage, no gaps, no overlaps ("全覆盖、无缝隙"), clean nesting.

Every check runs, every problem is collected, and the caller reports them once. Areas are in
m², measured in a metric CRS; pieces at or below the sliver tolerance count as digitising noise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from core.constants import LEVEL_LABELS, LEVELS, SLIVER_TOLERANCE_M2, STORAGE_CRS
from core.errors import few
from geo.metric import overlap_table

if TYPE_CHECKING:
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

#: Problem kinds and their default severity.
SEVERITY: dict[str, str] = {
    "gap": "error",
    "overlap": "error",
    "duplicate_code": "error",
    "unknown_parent_code": "error",
    "orphan": "error",
    "straddles": "error",
    "parent_mismatch": "error",
    "invalid_geometry": "warning",
    "empty_geometry": "error",
}
#: Buildings legitimately cross grid lines now and then: their straddling is a warning.
_LEVEL_SEVERITY = {("buildings", "straddles"): "warning", ("buildings", "overlap"): "warning"}


@dataclass
class Problem:
    """One finding of the checks.

    Attributes
    ----------
    kind : str
        One of :data:`SEVERITY`'s keys.
    severity : str
        ``error`` or ``warning``.
    level : str
        The level the feature(s) belong to.
    codes : list of str
        The feature codes involved (child first, then parents or the other feature).
    area_m2 : float or None
        Area concerned, m² (metric CRS).
    lon, lat : float or None
        A location inside the problem (EPSG:4490 degrees).
    message : str
        A human sentence.
    """

    kind: str
    severity: str
    level: str
    codes: list[str]
    area_m2: float | None
    lon: float | None
    lat: float | None
    message: str

    def to_dict(self) -> dict:
        """JSON-ready dict (the ``problems`` entries of report.json)."""
        d = asdict(self)
        for key in ("area_m2", "lon", "lat"):
            if d[key] is not None:
                d[key] = round(float(d[key]), 7 if key != "area_m2" else 3)
        return d


def make_problem(kind: str, level: str, codes: list[str], message: str, *, area_m2: float | None = None,
                 point: tuple[float, float] | None = None) -> Problem:
    """A :class:`Problem` with the default severity of ``kind`` at ``level``."""
    sev = _LEVEL_SEVERITY.get((level, kind), SEVERITY[kind])
    lon, lat = point if point is not None else (None, None)
    return Problem(kind, sev, level, [str(c) for c in codes], area_m2, lon, lat, message)


def parent_level(layers: dict, level: str) -> str | None:
    """The nearest non-empty level above ``level`` (communities may be missing: grids → streets)."""
    idx = LEVELS.index(level)
    for above in reversed(LEVELS[:idx]):
        if above in layers and len(layers[above]):
            return above
    return None


_SINGULAR = {"streets": "street", "communities": "community", "grids": "grid", "buildings": "building"}


def _one(level: str) -> str:
    return _SINGULAR.get(level, level)


def _zh(level: str) -> str:
    return LEVEL_LABELS[level]["zh"]


class _Locator:
    """Representative points of metric geometries as EPSG:4490 lon/lat."""

    def __init__(self, metric_crs: str) -> None:
        self._t = Transformer.from_crs(metric_crs, STORAGE_CRS, always_xy=True)

    def __call__(self, geom: BaseGeometry | None) -> tuple[float, float] | None:
        if geom is None or shapely.is_empty(geom):
            return None
        try:
            p = shapely.point_on_surface(geom)
        except shapely.errors.GEOSException:  # invalid input: its centroid still locates it
            p = shapely.centroid(geom)
        lon, lat = self._t.transform(shapely.get_x(p), shapely.get_y(p))
        return float(lon), float(lat)


def check_geometries(layers: dict, metric: dict, tolerance_m2: float = SLIVER_TOLERANCE_M2, *,
                     metric_crs: str) -> list[Problem]:
    """``empty_geometry`` for empty features and for zero-area ones (area at or below the sliver
    tolerance), ``invalid_geometry`` for invalid ones."""
    out: list[Problem] = []
    locate = _Locator(metric_crs)
    for level, gdf in layers.items():
        geoms = metric[level]
        for i, code in enumerate(gdf["code"].to_numpy()):
            g = geoms[i]
            if g is None or shapely.is_empty(g):
                out.append(make_problem("empty_geometry", level, [code],
                                        f"{level} {code}: empty geometry (no area); redraw or delete it",
                                        area_m2=0.0))
            elif shapely.area(g) <= tolerance_m2:
                area = float(shapely.area(g))
                out.append(make_problem("empty_geometry", level, [code],
                                        f"{level} {code}: zero-area geometry ({area:.4f} m², at or below the "
                                        f"{tolerance_m2:g} m² tolerance); redraw or delete it",
                                        area_m2=area, point=locate(g)))
            elif not shapely.is_valid(g):
                out.append(make_problem("invalid_geometry", level, [code],
                                        f"{level} {code}: invalid geometry ({shapely.is_valid_reason(g)})",
                                        area_m2=float(shapely.area(g)), point=locate(g)))
    return out


def check_hierarchy(layers: dict, *, metric_crs: str | None = None, tolerance_m2: float = SLIVER_TOLERANCE_M2,
                    declared: dict[str, np.ndarray] | None = None,
                    geometry_problems: list[Problem] | None = None) -> list[Problem]:
    """Run every check on a normalised hierarchy and return all problems.

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        Levels (``streets``, ``communities``, ``grids``, ``buildings``) with columns ``code``,
        ``name``, ``parent_code``, geometry, in EPSG:4490. Missing or empty levels are skipped.
    metric_crs : str, optional
        Projected CRS in metres used for every area; default: the configured one, or the
        Gauss-Kruger/UTM zone of the data when it lies far from that one's central meridian.
    tolerance_m2 : float
        Sliver tolerance in m² (default 1).
    declared : dict of str to bool array, optional
        Per level, which ``parent_code`` values came from the delivery (checked for
        ``parent_mismatch``) rather than inferred; default: all non-empty ones.
    geometry_problems : list of Problem, optional
        Geometry problems found while normalising (repairs); default: checked here.

    Returns
    -------
    list of Problem
    """
    layers = {lv: g for lv, g in layers.items() if g is not None and len(g)}
    if metric_crs is None:
        metric_crs = _default_metric_crs(layers)
    metric = {lv: g.to_crs(metric_crs).geometry.to_numpy() for lv, g in layers.items()}
    locate = _Locator(metric_crs)
    problems = (list(geometry_problems) if geometry_problems is not None
                else check_geometries(layers, metric, metric_crs=metric_crs))
    for level in LEVELS:
        if level not in layers:
            continue
        gdf = layers[level]
        codes = gdf["code"].to_numpy().astype(str)
        problems += _duplicates(level, codes, metric[level], locate)
        problems += _overlaps(level, codes, metric[level], tolerance_m2, locate)
        above = parent_level(layers, level)
        if above is None:
            continue
        pcodes = layers[above]["code"].to_numpy().astype(str)
        dec = declared.get(level) if declared else None
        problems += _nesting(level, above, gdf, codes, pcodes, metric[level], metric[above],
                             tolerance_m2, locate, dec)
        if level != "buildings":
            problems += _gaps(level, above, pcodes, metric[level], metric[above], tolerance_m2, locate)
    return problems


def _default_metric_crs(layers: dict) -> str:
    from core.settings import load_settings
    from geo.metric import choose_metric_crs

    bounds = np.array([g.to_crs(STORAGE_CRS).total_bounds for g in layers.values()]) if layers else None
    if bounds is None or not np.isfinite(bounds).all():
        return load_settings().metric_crs
    lon = (bounds[:, 0].min() + bounds[:, 2].max()) / 2
    lat = (bounds[:, 1].min() + bounds[:, 3].max()) / 2
    return choose_metric_crs(lon, lat, preferred=load_settings().metric_crs)


def _duplicates(level: str, codes: np.ndarray, geoms: np.ndarray, locate: _Locator) -> list[Problem]:
    out = []
    series = pd.Series(codes)
    counts = series[series != ""].value_counts()
    areas = shapely.area(geoms)
    for code, n in counts[counts > 1].items():
        idx = np.flatnonzero(codes == code)
        out.append(make_problem("duplicate_code", level, [code],
                                f"{level} code {code} is used by {n} features; give each its own code "
                                f"or merge the parts into one MultiPolygon",
                                area_m2=float(np.nansum(areas[idx])), point=locate(geoms[idx[0]])))
    blank = np.flatnonzero(codes == "")
    if len(blank):
        out.append(make_problem("duplicate_code", level, [""],
                                f"{len(blank)} {level} feature(s) have no code; fill in the code field or map it "
                                "with --map", area_m2=float(np.nansum(areas[blank])), point=locate(geoms[blank[0]])))
    return out


def _overlaps(level: str, codes: np.ndarray, geoms: np.ndarray, tol: float, locate: _Locator) -> list[Problem]:
    valid = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
    idx = np.flatnonzero(valid)
    if len(idx) < 2:
        return []
    g = geoms[idx]
    tree = shapely.STRtree(g)
    a, b = tree.query(g, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    if not len(a):
        return []
    inter = shapely.intersection(g[a], g[b])
    area = shapely.area(inter)
    out = []
    for k in np.flatnonzero(area > tol):
        i, j = idx[a[k]], idx[b[k]]
        out.append(make_problem("overlap", level, [codes[i], codes[j]],
                                f"{level} {codes[i]} and {codes[j]} overlap by {area[k]:.1f} m²; "
                                f"move the shared boundary so each place is in one {_one(level)}",
                                area_m2=float(area[k]), point=locate(inter[k])))
    return out


def _nesting(level: str, above: str, gdf: gpd.GeoDataFrame, codes: np.ndarray, pcodes: np.ndarray,
             child_m: np.ndarray, parent_m: np.ndarray, tol: float, locate: _Locator,
             declared: np.ndarray | None) -> list[Problem]:
    out: list[Problem] = []
    declared_codes = gdf["parent_code"].fillna("").to_numpy().astype(str)
    if declared is None:
        declared = declared_codes != ""
    known = set(pcodes.tolist())
    for j in np.flatnonzero(declared & (declared_codes != "")):
        if declared_codes[j] not in known:
            out.append(make_problem("unknown_parent_code", level, [codes[j], declared_codes[j]],
                                    f"{level} {codes[j]} names parent {declared_codes[j]}, which is not a "
                                    f"{above} code; correct the parent field or the {above} layer",
                                    area_m2=float(shapely.area(child_m[j])), point=locate(child_m[j])))
    table = overlap_table(child_m, parent_m)
    table["pcode"] = pcodes[table["parent"].to_numpy()] if len(table) else []
    by_code = table.groupby(["child", "pcode"], sort=True)["area"].sum().reset_index()
    child_area = shapely.area(child_m)
    grouped = {c: grp for c, grp in by_code.groupby("child")}
    for i in range(len(codes)):
        if not child_area[i] > tol:
            continue  # empty or zero-area: reported as empty_geometry
        grp = grouped.get(i)
        inside = 0.0 if grp is None else float(grp["area"].sum())
        if grp is None or grp["area"].max() <= tol:
            out.append(make_problem("orphan", level, [codes[i]],
                                    f"{level} {codes[i]} lies in no {above}; fix its boundary or add the {_one(above)}",
                                    area_m2=float(child_area[i]), point=locate(child_m[i])))
            continue
        grp = grp.sort_values(["area", "pcode"], ascending=[False, True])
        main = str(grp["pcode"].iloc[0])
        others = grp.iloc[1:]
        others = others[others["area"] > tol]
        outside = max(float(child_area[i]) - inside, 0.0)
        if len(others) or outside > tol:
            parts = [f"{r.pcode} ({r.area:.1f} m²)" for r in others.itertuples()]
            where = []
            if parts:
                where.append("also in " + few(parts))
            if outside > tol:
                where.append(f"{outside:.1f} m² outside every {_one(above)}")
            piece = shapely.difference(child_m[i], parent_m[np.flatnonzero(pcodes == main)[0]])
            out.append(make_problem("straddles", level, [codes[i], main, *others["pcode"].astype(str)],
                                    f"{level} {codes[i]} is mainly in {main} but {'; '.join(where)}; "
                                    f"align it with the {above} boundary",
                                    area_m2=float(others["area"].sum()) + (outside if outside > tol else 0.0),
                                    point=locate(piece)))
        if declared[i] and declared_codes[i] and declared_codes[i] in known and declared_codes[i] != main:
            dec_area = float(grp.loc[grp["pcode"] == declared_codes[i], "area"].sum())
            if float(grp["area"].iloc[0]) - dec_area > tol:
                out.append(make_problem("parent_mismatch", level, [codes[i], declared_codes[i], main],
                                        f"{level} {codes[i]} declares parent {declared_codes[i]} but lies "
                                        f"mainly in {main}; correct the parent field or the boundary",
                                        area_m2=float(child_area[i]), point=locate(child_m[i])))
    return out


def _gaps(level: str, above: str, pcodes: np.ndarray, child_m: np.ndarray, parent_m: np.ndarray, tol: float,
          locate: _Locator) -> list[Problem]:
    children = child_m[~(shapely.is_empty(child_m) | shapely.is_missing(child_m))]
    union = shapely.union_all(children) if len(children) else shapely.Polygon()
    out = []
    for j, parent in enumerate(parent_m):
        if parent is None or shapely.is_empty(parent):
            continue
        gap = shapely.difference(parent, union)
        if shapely.is_empty(gap):
            continue
        pieces = shapely.get_parts(gap)
        pieces = pieces[shapely.area(pieces) > tol]
        if not len(pieces):
            continue
        areas = shapely.area(pieces)
        biggest = pieces[int(np.argmax(areas))]
        total = float(areas.sum())
        out.append(make_problem("gap", level, [pcodes[j]],
                                f"{_one(above)} {pcodes[j]}: {total:.1f} m² in {len(pieces)} piece(s) is covered "
                                f"by no {_one(level)} ({_zh(level)}); extend the {level} to cover it",
                                area_m2=total, point=locate(biggest)))
    return out
