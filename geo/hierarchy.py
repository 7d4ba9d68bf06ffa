"""Build the normalised hierarchy (street → community → grid → building) from delivered layers,
check it, and write/read ``hierarchy.gpkg``.

Every level is normalised to ``code``, ``name``, ``parent_code`` (strings) and a polygonal
geometry in EPSG:4490. Missing levels are empty layers.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from core.constants import HIERARCHY_COLUMNS, LEVELS, SLIVER_TOLERANCE_M2, STORAGE_CRS
from core.errors import InputError
from geo.checks import Problem, check_hierarchy, make_problem, parent_level
from geo.fields import FieldChoice, choose_fields, codes_to_text, names_to_text
from geo.io import read_layer
from geo.metric import choose_metric_crs, overlap_table

_POLYGONAL = {"Polygon", "MultiPolygon"}


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


def empty_layer():
    """An empty normalised layer (EPSG:4490)."""
    import geopandas as gpd

    return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in HIERARCHY_COLUMNS},
                            geometry=gpd.GeoSeries([], crs=STORAGE_CRS), crs=STORAGE_CRS)


def _polygonal(geom):
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


def normalise_layer(raw, *, level: str, choice: FieldChoice, source: str):
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
            msg = f"no code field found among {', '.join(map(str, raw.columns.drop('geometry')))}"
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
        metric_for_area = choose_metric_crs(*_centre(gdf))
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


def _centre(gdf) -> tuple[float, float]:
    g = gdf.geometry
    g = g[~(g.is_empty | g.isna())]
    if not len(g):
        return float("nan"), float("nan")
    minx, miny, maxx, maxy = g.total_bounds
    return (minx + maxx) / 2, (miny + maxy) / 2


def _resolve_parents(layers: dict, level: str, raw_parent: pd.Series, choice: FieldChoice,
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
                     + (f" (no parent field)" if not choice.parent else ""))
    gdf["parent_code"] = np.asarray(values, dtype=object)
    return declared


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
    from core.settings import load_settings

    mapping = mapping or {}
    crs = crs or {}
    unknown = sorted(set(sources) - set(LEVELS))
    if unknown:
        raise InputError(", ".join(unknown), "unknown level", f"use {', '.join(LEVELS)}")
    if not sources.get("grids"):
        raise InputError("--grids", "the grid layer is required", "pass --grids PATH")
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
    present = [lv for lv in LEVELS if len(layers[lv])]
    if metric_crs is None:
        metric_crs = load_settings().metric_crs
    import geopandas as gpd

    everything = gpd.GeoSeries(pd.concat([layers[lv].geometry for lv in present]), crs=STORAGE_CRS) \
        if present else gpd.GeoSeries([], crs=STORAGE_CRS)
    chosen = choose_metric_crs(*_centre(gpd.GeoDataFrame(geometry=everything)), preferred=metric_crs)
    if chosen != metric_crs:
        notes.append(f"metric CRS {chosen} chosen for the data's location (configured {metric_crs} is too far away)")
    declared: dict[str, np.ndarray] = {}
    for level in present:
        declared[level] = _resolve_parents(layers, level, raw_parents[level], choices[level], chosen, notes)
    metric = {lv: layers[lv].to_crs(chosen).geometry.to_numpy() for lv in present}
    from geo.checks import check_geometries

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
    out: dict[str, int] = {}
    for p in problems:
        out[p.kind] = out.get(p.kind, 0) + 1
    return out


def _atomic_target(path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    return Path(tmp)


def write_hierarchy(layers: dict, path: str | Path) -> Path:
    """Write the four levels to a GeoPackage atomically (temp file, then rename).

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        Normalised levels (EPSG:4490); missing ones are written empty.
    path : str or Path
        Target ``.gpkg``.
    """
    import pyogrio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _atomic_target(path)
    try:
        for level in LEVELS:
            gdf = layers.get(level)
            if gdf is None:
                gdf = empty_layer()
            gdf = gdf[[*HIERARCHY_COLUMNS, gdf.geometry.name]].copy()
            for col in HIERARCHY_COLUMNS:
                gdf[col] = gdf[col].fillna("").astype(str)
            gdf = gdf.to_crs(STORAGE_CRS)
            pyogrio.write_dataframe(gdf, tmp, layer=level, driver="GPKG", geometry_type="Unknown",
                                    append=tmp.exists(), layer_options={"GEOMETRY_NAME": "geometry"})
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_json_atomic(data: dict, path: str | Path) -> Path:
    """Write JSON (UTF-8, readable Chinese) atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _atomic_target(path)
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def read_hierarchy(path: str | Path) -> dict:
    """Read ``hierarchy.gpkg``.

    Parameters
    ----------
    path : str or Path
        A GeoPackage written by ``python -m geo build``.

    Returns
    -------
    dict of str to GeoDataFrame
        ``streets``, ``communities``, ``grids``, ``buildings``; columns ``code``, ``name``,
        ``parent_code`` (str, ``""`` when blank) and geometry, EPSG:4490. Missing levels are empty.
    """
    import geopandas as gpd
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "hierarchy file not found", "run `python -m geo build ... --out` first")
    try:
        names = {str(n) for n, *_ in pyogrio.list_layers(path)}
    except Exception as exc:
        raise InputError(str(path), "not a readable GeoPackage", "rebuild it with `python -m geo build`") from exc
    out = {}
    for level in LEVELS:
        if level not in names:
            out[level] = empty_layer()
            continue
        gdf = pyogrio.read_dataframe(path, layer=level)
        missing = [c for c in HIERARCHY_COLUMNS if c not in gdf.columns]
        if missing:
            raise InputError(str(path), f"layer {level} lacks column(s) {', '.join(missing)}",
                             "rebuild it with `python -m geo build`")
        for col in HIERARCHY_COLUMNS:
            gdf[col] = gdf[col].astype(object).where(gdf[col].notna(), "").astype(str).astype(object)
        gdf = gdf[[*HIERARCHY_COLUMNS, gdf.geometry.name]]
        if gdf.crs is None:
            gdf = gdf.set_crs(STORAGE_CRS)
        elif gdf.crs.to_epsg() != 4490:
            gdf = gdf.to_crs(STORAGE_CRS)
        out[level] = gpd.GeoDataFrame(gdf, geometry=gdf.geometry.name, crs=STORAGE_CRS)
    return out
