"""Thematic grids (多网合一): safety, market supervision, environment ... layers stored beside the
base hierarchy in ``hierarchy.gpkg``.

Every thematic cell is normalised to ``theme`` (the theme's name), ``code``, ``name`` and
``owner`` (the responsible department or person; ``""`` when the delivery has none), all text, and
a polygonal geometry in EPSG:4490, in the one GeoPackage layer :data:`THEME_LAYER`. Adding a theme
replaces the cells of that theme and keeps every other layer; the GeoPackage is rewritten atomically
(a copy is changed, then renamed onto it), so a failed add leaves the previous file as it was.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from core.constants import STORAGE_CRS
from core.errors import InputError, few
from core.spreadsheet import replacing
from geo.fields import choose_fields, codes_to_text, names_to_text

if TYPE_CHECKING:
    import geopandas as gpd

#: The GeoPackage layer holding every thematic cell.
THEME_LAYER = "themes"
#: Columns of a thematic layer (plus ``geometry``).
THEME_COLUMNS: tuple[str, ...] = ("theme", "code", "name", "owner")
_OWNER_ZH = ("责任", "负责", "主管", "归口", "牵头", "部门", "管理员", "监管员", "安全员")
_OWNER_EN = ("owner", "dept", "department", "responsible", "agency", "manager", "officer")
_NAME_MAX = 40


def check_theme_name(name: str) -> str:
    """``name`` stripped, when it can name a theme (1-40 characters, no control characters)."""
    text = str(name).strip()
    if not text or len(text) > _NAME_MAX or re.search(r"[\x00-\x1f\x7f]", text):
        raise InputError("--theme", f"{name!r} cannot name a theme",
                         f"give 1-{_NAME_MAX} printable characters, e.g. --theme safety")
    return text


def _owner_field(columns: list[str], used: set[str]) -> str | None:
    for c in columns:
        tokens = set(re.split(r"[^0-9a-z]+", c.lower()))
        if c not in used and (any(w in c for w in _OWNER_ZH) or tokens & set(_OWNER_EN)):
            return c
    return None


def _fields(columns: list[str], *, code_field: str | None, owner_field: str | None, name_field: str | None,
            source: str) -> tuple[str, str | None, str | None]:
    """The code, name and owner fields (explicit ones must exist)."""
    for flag, given in (("--code-field", code_field), ("--owner-field", owner_field), ("--name-field", name_field)):
        if given is not None and given not in columns:
            raise InputError(source, f"{flag} {given}: no such field (fields: {few(columns, 10)})",
                             f"use one of the fields listed with {flag}")
    choice = choose_fields(columns, level="grids")
    code = code_field or choice.code or choice.parent
    if code is None:
        raise InputError(source, f"no code field found among {few(columns, 10)}", "name it with --code-field FIELD")
    name = name_field or (choice.name if choice.name != code else None)
    owner = owner_field or _owner_field(columns, {code, name or ""})
    return code, name, owner


def _polygonal(geom: object) -> object:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = [q for p in parts for q in shapely.get_parts(p)]
    if not polys:
        return shapely.Polygon()
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def normalise_theme(raw: gpd.GeoDataFrame, *, theme: str, code_field: str | None = None,
                    owner_field: str | None = None, name_field: str | None = None,
                    source: str = "layer") -> tuple[gpd.GeoDataFrame, list[str]]:
    """A delivered thematic layer as normalised cells.

    Parameters
    ----------
    raw : GeoDataFrame
        Polygons in any set CRS, attributes as delivered.
    theme : str
        The theme's name (stored in every row).
    code_field, owner_field, name_field : str, optional
        Source fields; detected when not given (``网格编号``/``code``, ``名称``/``name``,
        ``责任部门``/``负责人``/``owner``).
    source : str
        File name for messages.

    Returns
    -------
    (geopandas.GeoDataFrame, list of str)
        Columns :data:`THEME_COLUMNS` and geometry (EPSG:4490), and notes.

    Raises
    ------
    InputError
        A feature that is not a polygon, has no geometry or no code, or repeats a code (naming the
        feature and the fix).
    """
    import geopandas as gpd

    theme = check_theme_name(theme)
    columns = [str(c) for c in raw.columns if c != raw.geometry.name]
    code_f, name_f, owner_f = _fields(columns, code_field=code_field, owner_field=owner_field,
                                      name_field=name_field, source=source)
    notes = [f"theme {theme}: code from {code_f!r}, name from {name_f!r}, owner from {owner_f!r}"]
    codes = codes_to_text(raw[code_f]).to_numpy()
    names = names_to_text(raw[name_f]).to_numpy() if name_f else np.array([""] * len(raw), dtype=object)
    owners = names_to_text(raw[owner_f]).to_numpy() if owner_f else np.array([""] * len(raw), dtype=object)
    geoms = shapely.force_2d(raw.geometry.to_numpy())
    _check_features(geoms, codes, source)
    bad = np.flatnonzero(~shapely.is_valid(geoms))
    if len(bad):
        geoms = geoms.copy()
        geoms[bad] = [_polygonal(g) for g in shapely.make_valid(geoms[bad])]
        notes.append(f"theme {theme}: {len(bad):,} invalid polygon(s) repaired with make_valid "
                     f"(first: code {codes[bad[0]]})")
        _check_features(geoms, codes, source)
    if not (owners != "").all():
        notes.append(f"theme {theme}: {int((owners == '').sum()):,} of {len(owners):,} cells have no owner")
    cells = gpd.GeoDataFrame({"theme": theme, "code": codes, "name": names, "owner": owners},
                             geometry=gpd.GeoSeries(geoms, crs=raw.crs), crs=raw.crs)
    return cells.to_crs(STORAGE_CRS), notes


def _check_features(geoms: np.ndarray, codes: np.ndarray, source: str) -> None:
    """Refuse the first feature that is not a polygon, is empty, has no code or repeats one."""
    kinds = shapely.get_type_id(geoms)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    checks = (
        (~empty & ~np.isin(kinds, (3, 6)), "is a {kind}, not a polygon", "give the polygon layer of the thematic grid"),
        (empty, "has no geometry", "draw the cell or delete the feature"),
        (codes == "", "has no code", "give every cell a code (or name the field with --code-field)"),
    )
    for mask, problem, fix in checks:
        hits = np.flatnonzero(mask)
        if len(hits):
            i = int(hits[0])
            kind = "missing geometry" if empty[i] else geoms[i].geom_type
            more = f" ({len(hits):,} such features)" if len(hits) > 1 else ""
            code = f" (code {codes[i]})" if codes[i] else ""
            raise InputError(source, problem.format(kind=kind) + more, fix, where=f"feature {i + 1}{code}")
    seen: dict[str, int] = {}
    for i, code in enumerate(codes):
        if code in seen:
            raise InputError(source, f"code {code} repeats feature {seen[code] + 1}",
                             "give each cell its own code, or merge the parts into one feature",
                             where=f"feature {i + 1}")
        seen[code] = i


def read_theme_layer(path: str | Path, *, theme: str, code_field: str | None = None, owner_field: str | None = None,
                     name_field: str | None = None, crs: str | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read and normalise a thematic layer with the readers of ``python -m geo build``.

    ``path`` is a ``.shp`` (also zipped), ``.gpkg`` (the layer named ``theme``, or its only one),
    GeoJSON or ESRI JSON; any CRS (``crs`` for a layer without ``.prj``) and encoding. Returns the
    cells (see :func:`normalise_theme`) and notes.
    """
    from geo.io import read_layer

    theme = check_theme_name(theme)
    try:
        raw, notes = read_layer(path, level=theme, crs=crs)
    except InputError as exc:  # the theme command takes --crs EPSG:N (no level)
        raise InputError(exc.source, exc.problem, exc.fix.replace(f"--crs {theme}=", "--crs "),
                         where=exc.where) from exc
    cells, more = normalise_theme(raw, theme=theme, code_field=code_field, owner_field=owner_field,
                                  name_field=name_field, source=str(path))
    return cells, notes + more


def _layers(path: Path) -> set[str]:
    import pyogrio

    if not path.exists():
        raise InputError(str(path), "hierarchy file not found", "run `python -m geo build ... --out` first")
    try:
        return {str(n) for n, *_ in pyogrio.list_layers(path)}
    except Exception as exc:  # GDAL's errors vary by what the file really is
        raise InputError(str(path), "not a readable GeoPackage", "rebuild it with `python -m geo build`") from exc


def read_themes(hierarchy: str | Path, theme: str | None = None) -> gpd.GeoDataFrame:
    """The thematic cells stored in ``hierarchy`` (all themes, or one).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`THEME_COLUMNS` (text) and geometry, EPSG:4490; empty when none is stored.

    Raises
    ------
    InputError
        The file is missing or not a GeoPackage, or ``theme`` is not stored in it.
    """
    import geopandas as gpd
    import pyogrio

    path = Path(hierarchy)
    if THEME_LAYER not in _layers(path):
        cells = gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in THEME_COLUMNS},
                                 geometry=gpd.GeoSeries([], crs=STORAGE_CRS), crs=STORAGE_CRS)
    else:
        cells = pyogrio.read_dataframe(path, layer=THEME_LAYER)
        for column in THEME_COLUMNS:
            cells[column] = cells[column].astype(object).where(cells[column].notna(), "").astype(str).astype(object)
        cells = gpd.GeoDataFrame(cells[[*THEME_COLUMNS, cells.geometry.name]], crs=cells.crs or STORAGE_CRS)
        cells = cells.to_crs(STORAGE_CRS)
    if theme is None:
        return cells
    chosen = cells.loc[cells["theme"] == theme].reset_index(drop=True)
    if not len(chosen):
        stored = sorted(set(cells["theme"]))
        raise InputError(str(path), f"holds no theme {theme!r} (themes: {few(stored)})",
                         "add it with `python -m geo themes add --hierarchy ... --theme NAME --layer FILE`")
    return chosen


def theme_summary(hierarchy: str | Path) -> pd.DataFrame:
    """One row per stored theme: ``theme``, ``cells``, ``owners`` (distinct non-blank owners)."""
    cells = read_themes(hierarchy)
    rows = [{"theme": name, "cells": len(part), "owners": int(part.loc[part["owner"] != "", "owner"].nunique())}
            for name, part in cells.groupby("theme", sort=True)]
    return pd.DataFrame(rows, columns=["theme", "cells", "owners"])


def _write_cells(path: Path, cells: gpd.GeoDataFrame) -> None:
    """Replace the thematic layer of ``path`` by ``cells``, atomically (copy, write, rename)."""
    import pyogrio

    levels = _layers(path)
    if "grids" not in levels:
        raise InputError(str(path), f"is not a hierarchy GeoPackage (layers: {few(sorted(levels))})",
                         "build it with `python -m geo build ... --out` first")
    with replacing(path) as tmp:
        shutil.copyfile(path, tmp)
        out = cells[[*THEME_COLUMNS, cells.geometry.name]].to_crs(STORAGE_CRS)
        pyogrio.write_dataframe(out, tmp, layer=THEME_LAYER, driver="GPKG", geometry_type="Unknown",
                                layer_options={"GEOMETRY_NAME": "geometry"})


def add_theme(hierarchy: str | Path, cells: gpd.GeoDataFrame) -> int:
    """Store ``cells`` (one theme, from :func:`normalise_theme`) in ``hierarchy``, replacing the
    stored cells of that theme; returns the number of cells now stored for it."""
    import geopandas as gpd

    themes = sorted(set(cells["theme"]))
    if len(themes) != 1 or not len(cells):
        raise ValueError(f"add_theme takes the cells of exactly one theme, got {few(themes)}")
    path = Path(hierarchy)
    kept = read_themes(path)
    kept = kept.loc[kept["theme"] != themes[0]]
    merged = gpd.GeoDataFrame(pd.concat([kept, cells.to_crs(STORAGE_CRS)], ignore_index=True), crs=STORAGE_CRS)
    _write_cells(path, merged)
    return len(cells)


def remove_theme(hierarchy: str | Path, theme: str) -> int:
    """Remove a stored theme; returns the number of cells removed."""
    path = Path(hierarchy)
    gone = read_themes(path, theme)
    kept = read_themes(path)
    _write_cells(path, kept.loc[kept["theme"] != theme])
    return len(gone)


class ThemeIndex:
    """Which thematic cell holds a point, per theme (built once, queried many times).

    Parameters
    ----------
    cells : GeoDataFrame
        Thematic cells (:func:`read_themes`), any set CRS; queries are in its CRS' degrees
        (EPSG:4490 as stored).
    """

    def __init__(self, cells: gpd.GeoDataFrame) -> None:
        self.cells = cells.to_crs(STORAGE_CRS).reset_index(drop=True)
        self.tree = shapely.STRtree(self.cells.geometry.to_numpy())

    @property
    def themes(self) -> list[str]:
        """The themes indexed, sorted."""
        return sorted(set(self.cells["theme"]))

    def locate(self, lon: np.ndarray, lat: np.ndarray, theme: str) -> pd.DataFrame:
        """The cell of ``theme`` holding each point (EPSG:4490 degrees).

        Returns
        -------
        pandas.DataFrame
            ``code``, ``name``, ``owner`` per point, in order (``""`` outside every cell); a point
            in two overlapping cells gets the lower code.
        """
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        out = pd.DataFrame({"code": [""] * len(lon), "name": [""] * len(lon), "owner": [""] * len(lon)}, dtype=object)
        ok = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
        if not len(ok) or not len(self.cells):
            return out
        pi, ci = self.tree.query(shapely.points(lon[ok], lat[ok]), predicate="intersects")
        mine = (self.cells["theme"].to_numpy()[ci] == theme)
        pi, ci = pi[mine], ci[mine]
        codes = self.cells["code"].to_numpy().astype(str)
        order = np.lexsort((codes[ci], pi))
        pi, ci = pi[order], ci[order]
        first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.zeros(0, bool)
        for column in ("code", "name", "owner"):
            out.loc[ok[pi[first]], column] = self.cells[column].to_numpy()[ci[first]]
        return out
