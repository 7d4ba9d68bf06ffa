"""Normalise one delivered hierarchy layer: codes and names as text, repaired polygons in
EPSG:4490, and ``parent_code`` taken from the delivery or inferred by overlap.

Helpers of :func:`geo.hierarchy.build_hierarchy`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from core.constants import STORAGE_CRS
from core.errors import InputError, few
from geo.checks import Problem, make_problem, parent_level
from geo.fields import FieldChoice, codes_to_text, names_to_text
from geo.metric import choose_metric_crs, overlap_table

if TYPE_CHECKING:
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

_POLYGONAL = {"Polygon", "MultiPolygon"}


def _polygonal(geom: BaseGeometry | None) -> BaseGeometry:
    """The polygonal part of a geometry (collections from make_valid), or an empty polygon."""
    if geom is None:
        return shapely.Polygon()
    kind = geom.geom_type
    if kind in _POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONAL]
    polys = [q for p in parts for q in (p.geoms if p.geom_type == "MultiPolygon" else [p])]
    if not polys:
        return shapely.Polygon()
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def normalise_layer(raw: gpd.GeoDataFrame, *, level: str, choice: FieldChoice,
                    source: str) -> tuple[gpd.GeoDataFrame, list[Problem], list[str], pd.Series]:
    """Normalise one delivered layer: codes as text, repaired polygons, EPSG:4490.

    Parameters
    ----------
    raw : GeoDataFrame
        The layer as read (any CRS).
    level : str
    choice : FieldChoice
        Source fields for code, name and parent.
    source : str
        File name for messages.

    Returns
    -------
    (GeoDataFrame, list[Problem], list[str], pandas.Series)
        Normalised layer (``parent_code`` still empty), repair problems, notes, and the raw
        parent values as text (empty strings when there is no parent field).
    """
    import geopandas as gpd

    notes: list[str] = []
    geoms = raw.geometry.to_numpy()
    kinds = pd.Series(shapely.get_type_id(geoms))
    present = kinds[kinds >= 0]
    if len(present) and not present.isin([3, 6, 7]).any():
        raise InputError(source, f"holds {raw.geometry.geom_type.iloc[0]} features but a {level} layer "
                         "must hold polygons", "give the polygon layer of this level")
    if choice.code is None:
        if choice.name is None:
            msg = f"no code field found among {few(raw.columns.drop('geometry'), 10)}"
            raise InputError(source, msg, f"name it with --map {level}.code=FIELD")
        notes.append(f"{level}: no code field; the name field {choice.name!r} is used as the code")
        codes = names_to_text(raw[choice.name])
    else:
        codes = codes_to_text(raw[choice.code])
    names = names_to_text(raw[choice.name]) if choice.name else pd.Series([""] * len(raw), dtype=object)
    parents = codes_to_text(raw[choice.parent]) if choice.parent else pd.Series([""] * len(raw), dtype=object)

    problems: list[Problem] = []
    geoms = shapely.force_2d(geoms)
    missing = shapely.is_missing(geoms)
    geoms = np.where(missing, shapely.Polygon(), geoms)
    metric_for_area = None
    valid = shapely.is_valid(geoms) | shapely.is_empty(geoms)
    repaired = geoms.copy()
    bad = np.flatnonzero(~valid)
    if len(bad):
        fixed = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
        repaired[bad] = [_polygonal(g) for g in fixed]
    repaired = np.array([_polygonal(g) for g in repaired], dtype=object)
    gdf = gpd.GeoDataFrame({"code": codes.to_numpy(), "name": names.to_numpy(), "parent_code": [""] * len(raw)},
                           geometry=gpd.GeoSeries(repaired, crs=raw.crs), crs=raw.crs)
    gdf = gdf.to_crs(STORAGE_CRS)
    if len(bad):
        metric_for_area = choose_metric_crs(*layer_centre(gdf))
        areas = gdf.geometry.iloc[bad].to_crs(metric_for_area).area.to_numpy()
        locs = gdf.geometry.iloc[bad].representative_point()
        for k, i in enumerate(bad):
            code = codes.iloc[i]
            if shapely.is_empty(repaired[i]):
                continue  # collapses to nothing: reported as empty_geometry by the checks
            reason = shapely.is_valid_reason(geoms[i])
            p = locs.iloc[k]
            problems.append(make_problem("invalid_geometry", level, [code],
                                         f"{level} {code}: invalid geometry ({reason}) repaired with make_valid; "
                                         f"area now {areas[k]:.1f} m²",
                                         area_m2=float(areas[k]), point=(p.x, p.y)))
    return gdf, problems, notes, parents


def layer_centre(gdf: gpd.GeoDataFrame) -> tuple[float, float]:
    """Centre of the bounds of the non-empty geometries of ``gdf`` (NaNs when there is none)."""
    g = gdf.geometry
    g = g[~(g.is_empty | g.isna())]
    if not len(g):
        return float("nan"), float("nan")
    minx, miny, maxx, maxy = g.total_bounds
    return (minx + maxx) / 2, (miny + maxy) / 2


def resolve_parents(layers: dict, level: str, raw_parent: pd.Series, choice: FieldChoice,
                    metric_crs: str, notes: list[str]) -> np.ndarray:
    """Fill ``parent_code`` of ``level``; returns the mask of values that came from the delivery."""
    gdf = layers[level]
    n = len(gdf)
    above = parent_level(layers, level)
    if above is None:
        if choice.parent:
            notes.append(f"{level}: parent field {choice.parent!r} ignored (no level above is present)")
        return np.zeros(n, bool)
    pcodes = layers[above]["code"].to_numpy().astype(str)
    values = raw_parent.to_numpy().astype(str)
    declared = values != ""
    if choice.parent and not choice.parent_explicit and declared.any():
        known = set(pcodes.tolist())
        rate = np.isin(values[declared], list(known)).mean()
        if rate < 0.5:
            pnames = layers[above]["name"].to_numpy().astype(str)
            lookup = pd.Series(pcodes, index=pnames)
            lookup = lookup[~lookup.index.duplicated(keep=False) & (lookup.index != "")]
            translated = pd.Series(values).map(lookup).fillna("").to_numpy().astype(str)
            if (translated[declared] != "").mean() >= 0.5:
                notes.append(f"{level}: parent field {choice.parent!r} holds {above} names; translated to codes")
                values = translated
            else:
                notes.append(f"{level}: field {choice.parent!r} does not hold {above} codes or names; "
                             "not used as the parent")
                if not (gdf["name"] != "").any():
                    gdf["name"] = names_to_text(pd.Series(raw_parent.to_numpy())).to_numpy()
                    notes.append(f"{level}: field {choice.parent!r} used as the name")
                values = np.array([""] * n)
            declared = values != ""
    elif not choice.parent:
        values = np.array([""] * n)
        declared = np.zeros(n, bool)
    todo = np.flatnonzero(values == "")
    if len(todo):
        child_m = gdf.geometry.iloc[todo].to_crs(metric_crs).to_numpy()
        parent_m = layers[above].geometry.to_crs(metric_crs).to_numpy()
        table = overlap_table(child_m, parent_m)
        if len(table):
            table["pcode"] = pcodes[table["parent"].to_numpy()]
            best = (table.groupby(["child", "pcode"])["area"].sum().reset_index()
                    .sort_values(["child", "area", "pcode"], ascending=[True, False, True])
                    .drop_duplicates("child"))
            filled = np.array([""] * len(todo), dtype=object)
            filled[best["child"].to_numpy()] = best["pcode"].to_numpy()
            values = values.astype(object)
            values[todo] = filled
        notes.append(f"{level}: parent_code inferred by largest overlap with {above} for {len(todo)} of {n} features"
                     + (" (no parent field)" if not choice.parent else ""))
    gdf["parent_code"] = np.asarray(values, dtype=object)
    return declared
