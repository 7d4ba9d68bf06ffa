"""Build the normalised hierarchy (street → community → grid → building) from delivered layers,
check it, and report on it.

Every level is normalised to ``code``, ``name``, ``parent_code`` (strings) and a polygonal
geometry in EPSG:4490 (:mod:`geo.normalise`). Missing levels are empty layers. Writing and
reading ``hierarchy.gpkg`` live in :mod:`geo.hierarchy_io`; their names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from core.constants import LEVELS, SLIVER_TOLERANCE_M2, STORAGE_CRS
from core.errors import InputError, few
from core.progress import progress
from geo.checks import Problem, check_geometries, check_hierarchy
from geo.fields import FieldChoice, choose_fields
from geo.hierarchy_io import empty_layer, read_hierarchy, write_hierarchy, write_json_atomic
from geo.io import read_layer
from geo.metric import choose_metric_crs
from geo.normalise import layer_centre, normalise_layer, resolve_parents

__all__ = [
    "BuildResult",
    "build_hierarchy",
    "empty_layer",
    "make_report",
    "normalise_layer",
    "read_hierarchy",
    "write_hierarchy",
    "write_json_atomic",
]


@dataclass
class BuildResult:
    """Outcome of :func:`build_hierarchy`.

    Attributes
    ----------
    layers : dict of str to GeoDataFrame
        The four levels, normalised, EPSG:4490.
    problems : list of Problem
    report : dict
        The content of report.json.
    """

    layers: dict
    problems: list[Problem]
    report: dict
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem has severity ``error``."""
        return not any(p.severity == "error" for p in self.problems)

def build_hierarchy(sources: dict[str, str | Path], *, mapping: dict[str, dict[str, str]] | None = None,
                    crs: dict[str, str] | None = None, metric_crs: str | None = None,
                    tolerance_m2: float = SLIVER_TOLERANCE_M2) -> BuildResult:
    """Read, normalise and check a hierarchy delivery.

    Parameters
    ----------
    sources : dict
        ``{level: path}`` for any of ``streets``, ``communities``, ``grids`` (required),
        ``buildings``; paths are .shp, .zip, .gpkg, .geojson or ESRI JSON.
    mapping : dict, optional
        ``{level: {"code"|"name"|"parent": source_field}}`` explicit field choices.
    crs : dict, optional
        ``{level: "EPSG:NNNN" or WKT}`` for layers without (or with a wrong) CRS.
    metric_crs : str, optional
        Preferred metric CRS for areas (default from settings); replaced by the data's own
        Gauss-Kruger or UTM zone when the data lies far from its central meridian.
    tolerance_m2 : float
        Sliver tolerance, m².

    Returns
    -------
    BuildResult

    Raises
    ------
    InputError
        A layer cannot be read (missing file, missing .prj, bad field mapping ...).
    """
    mapping = mapping or {}
    crs = crs or {}
    unknown = sorted(set(sources) - set(LEVELS))
    if unknown:
        raise InputError(few(unknown), "unknown level", f"use {', '.join(LEVELS)}")
    if not sources.get("grids"):
        raise InputError("--grids", "the grid layer is required", "pass --grids PATH")
    with progress(len(sources) + 1, "geo build", unit="steps") as bar:
        layers, raw_parents, choices, problems, notes = _read_levels(sources, mapping, crs, on_layer=bar.update)
        result = _check(layers, raw_parents, choices, problems, notes, sources=sources, metric_crs=metric_crs,
                        tolerance_m2=tolerance_m2)
        bar.update(1)
    return result


def _read_levels(sources: dict[str, str | Path], mapping: dict[str, dict[str, str]], crs: dict[str, str], *,
                 on_layer: Callable[[int], object]) -> tuple[dict, dict[str, pd.Series], dict[str, FieldChoice],
                                                             list[Problem], list[str]]:
    """Read and normalise each level given (an empty layer for each other one)."""
    notes: list[str] = []
    layers: dict = {}
    raw_parents: dict[str, pd.Series] = {}
    choices: dict[str, FieldChoice] = {}
    problems: list[Problem] = []
    for level in LEVELS:
        path = sources.get(level)
        if not path:
            layers[level] = empty_layer()
            continue
        raw, layer_notes = read_layer(path, level=level, crs=crs.get(level))
        notes += layer_notes
        columns = [str(c) for c in raw.columns if c != raw.geometry.name]
        choice = choose_fields(columns, level=level, mapping=mapping.get(level), source=str(path))
        choices[level] = choice
        gdf, geo_problems, layer_notes, raw_parents[level] = normalise_layer(
            raw, level=level, choice=choice, source=str(path))
        notes += layer_notes
        problems += geo_problems
        layers[level] = gdf
        on_layer(1)
    return layers, raw_parents, choices, problems, notes


def _check(layers: dict, raw_parents: dict[str, pd.Series], choices: dict[str, FieldChoice], problems: list[Problem],
           notes: list[str], *, sources: dict[str, str | Path], metric_crs: str | None,
           tolerance_m2: float) -> BuildResult:
    """Choose the metric CRS, resolve the parents, check the hierarchy and make the report."""
    import geopandas as gpd

    from core.settings import load_settings

    present = [lv for lv in LEVELS if len(layers[lv])]
    if metric_crs is None:
        metric_crs = load_settings().metric_crs
    everything = gpd.GeoSeries(pd.concat([layers[lv].geometry for lv in present]), crs=STORAGE_CRS) \
        if present else gpd.GeoSeries([], crs=STORAGE_CRS)
    chosen = choose_metric_crs(*layer_centre(gpd.GeoDataFrame(geometry=everything)), preferred=metric_crs)
    if chosen != metric_crs:
        notes.append(f"metric CRS {chosen} chosen for the data's location (configured {metric_crs} is too far away)")
    declared: dict[str, np.ndarray] = {}
    for level in present:
        declared[level] = resolve_parents(layers, level, raw_parents[level], choices[level], chosen, notes)
    metric = {lv: layers[lv].to_crs(chosen).geometry.to_numpy() for lv in present}
    geom_problems = problems + [p for p in check_geometries({lv: layers[lv] for lv in present}, metric,
                                                            tolerance_m2, metric_crs=chosen)
                                if p.kind == "empty_geometry"]
    problems = check_hierarchy({lv: layers[lv] for lv in present}, metric_crs=chosen, tolerance_m2=tolerance_m2,
                               declared=declared, geometry_problems=geom_problems)
    report = make_report(layers, problems, metric_crs=chosen, notes=notes, choices=choices, sources=sources,
                         tolerance_m2=tolerance_m2)
    return BuildResult(layers=layers, problems=problems, report=report, notes=notes)


def make_report(layers: dict, problems: list[Problem], *, metric_crs: str, notes: list[str] | None = None,
                choices: dict[str, FieldChoice] | None = None, sources: dict | None = None,
                tolerance_m2: float = SLIVER_TOLERANCE_M2) -> dict:
    """The report.json content: ``ok``, ``problems``, ``levels`` (+ ``metric_crs``, ``notes``...)."""
    levels = {}
    for level in LEVELS:
        gdf = layers.get(level)
        if gdf is None or not len(gdf):
            levels[level] = {"features": 0, "area_km2": 0.0}
            continue
        geoms = gdf.geometry.to_crs(metric_crs).to_numpy()
        geoms = geoms[~(shapely.is_empty(geoms) | shapely.is_missing(geoms))]
        area = float(shapely.area(shapely.union_all(geoms))) / 1e6 if len(geoms) else 0.0
        levels[level] = {"features": int(len(gdf)), "area_km2": round(area, 6)}
    return {
        "ok": not any(p.severity == "error" for p in problems),
        "problems": [p.to_dict() for p in problems],
        "levels": levels,
        "metric_crs": metric_crs,
        "sliver_tolerance_m2": tolerance_m2,
        "counts": _counts(problems),
        "fields": {lv: {"code": c.code, "name": c.name, "parent": c.parent} for lv, c in (choices or {}).items()},
        "sources": {lv: str(p) for lv, p in (sources or {}).items() if p},
        "notes": list(notes or []),
    }


def _counts(problems: list[Problem]) -> dict[str, int]:
    """Number of problems of each kind."""
    out: dict[str, int] = {}
    for p in problems:
        out[p.kind] = out.get(p.kind, 0) + 1
    return out
