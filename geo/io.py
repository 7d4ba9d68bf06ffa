"""Read one vector layer from a delivery: shapefile (plain or zipped), GeoPackage, GeoJSON or
ESRI JSON, with the encoding and CRS pitfalls of real deliveries handled explicitly.

A shapefile's parts are checked before GDAL reads them (a copy cut short is "unreadable", named,
not a layer of empty features) and its attributes are read from the DBF bytes as text
(:mod:`geo.shapefile`). A layer without a CRS is refused.
"""

from __future__ import annotations

import mmap
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyogrio
from pyproj import CRS

from core.errors import InputError, few
from core.text import shown
from geo.shapefile import check_parts, cpg_encoding, read_dbf_text

if TYPE_CHECKING:
    import geopandas as gpd

_VECTOR_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".esrijson")


@dataclass
class LayerSource:
    """Where a layer comes from.

    Attributes
    ----------
    display : str
        The path as the user gave it (used in every message).
    gdal_path : str
        The path handed to GDAL (``/vsizip/...`` for a zip member).
    kind : str
        ``shp``, ``gpkg`` or ``json`` (GeoJSON or ESRI JSON).
    zip_path, member : Path, str, optional
        The zip archive and the member path of a zipped layer.
    """

    display: str
    gdal_path: str
    kind: str
    zip_path: Path | None = None
    member: str | None = None
    notes: list[str] = field(default_factory=list)

    def sibling(self, suffix: str) -> bytes | None:
        """Bytes of the shapefile part with ``suffix`` (``.dbf``, ``.prj``, ``.cpg``), or None."""
        if self.zip_path is not None and self.member is not None:
            stem = self.member[: -len(".shp")]
            with zipfile.ZipFile(self.zip_path) as zf:
                names = {n.lower(): n for n in zf.namelist()}
                name = names.get((stem + suffix).lower())
                return zf.read(name) if name else None
        path = Path(self.gdal_path)
        for cand in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
            if cand.exists():
                return cand.read_bytes()
        return None

    def part_name(self, suffix: str) -> str:
        """How messages name the part with ``suffix``: its path, or ``archive.zip (folder/name.dbf)``."""
        if self.zip_path is not None and self.member is not None:
            return f"{self.display} ({self.member[: -len('.shp')]}{suffix})"
        return str(Path(self.display).with_suffix(suffix))


@contextmanager
def _mapped(path: Path | None) -> Iterator[bytes | mmap.mmap | None]:
    """The bytes of ``path`` mapped into memory (not read), None when there is no such file."""
    if path is None or not path.exists():
        yield None
        return
    with path.open("rb") as fh:
        if not path.stat().st_size:
            yield b""
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            yield data


def check_shapefile(src: LayerSource, dbf: bytes) -> None:
    """Refuse a shapefile whose ``.shp``/``.shx``/``.dbf`` are cut short, corrupt or mismatched
    (:func:`geo.shapefile.check_parts`), before GDAL reads it."""
    if src.zip_path is not None:
        check_parts(src.sibling(".shp") or b"", src.sibling(".shx"), dbf, src.part_name)
        return
    path = Path(src.gdal_path)
    shx_path = next((c for c in (path.with_suffix(".shx"), path.with_suffix(".SHX")) if c.exists()), None)
    with _mapped(path) as shp, _mapped(shx_path) as shx:
        check_parts(shp or b"", shx, dbf, src.part_name)


def resolve_source(path: str | Path) -> LayerSource:
    """Work out how to read ``path`` (a ``.shp``, ``.zip``, ``.gpkg``, ``.geojson``/``.json``).

    Raises
    ------
    InputError
        The file does not exist, or is a zip without exactly one vector layer in it.
    """
    display = str(path)
    p = Path(path)
    if not p.exists():
        raise InputError(display, "file not found", "check the path")
    suffix = p.suffix.lower()
    if suffix == ".zip":
        return _resolve_zip(p, display)
    if suffix == ".shp":
        return LayerSource(display, str(p), "shp")
    if suffix == ".gpkg":
        return LayerSource(display, str(p), "gpkg")
    if suffix in (".geojson", ".json", ".esrijson"):
        return LayerSource(display, str(p), "json")
    raise InputError(
        display, f"unsupported file type {suffix!r}",
        "give a .shp, a .zip holding one, a .gpkg, a .geojson or an ESRI JSON file",
    )


def _resolve_zip(p: Path, display: str) -> LayerSource:
    try:
        with zipfile.ZipFile(p) as zf:
            names = [n for n in zf.namelist() if not n.startswith("__MACOSX/") and not n.endswith("/")]
    except (zipfile.BadZipFile, NotImplementedError, ValueError, OSError) as exc:  # e.g. "zip file version 8.4"
        raise InputError(display, f"not a readable zip archive ({exc})", "re-export the archive") from exc
    layers = [n for n in names if n.lower().endswith(_VECTOR_SUFFIXES)]
    shps = [n for n in layers if n.lower().endswith(".shp")]
    chosen = shps if shps else layers
    if len(chosen) != 1:
        found = f"{len(chosen):,}: {few(map(shown, chosen))}" if chosen else "none"
        raise InputError(
            display, f"expected exactly one vector layer in the zip, found {found}",
            "zip one layer per file (the .shp with its .dbf/.shx/.prj/.cpg)",
        )
    member = chosen[0]
    kind = "shp" if member.lower().endswith(".shp") else ("gpkg" if member.lower().endswith(".gpkg") else "json")
    gdal = f"/vsizip/{p.resolve()}/{member}"
    return LayerSource(display, gdal, kind, zip_path=p, member=member)


# --- CRS --------------------------------------------------------------------------------

def parse_crs(value: str, *, source: str) -> CRS:
    """A CRS from ``EPSG:NNNN``, a bare number, or WKT/PROJ text."""
    text = value.strip()
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        return CRS.from_user_input(text)
    except Exception as exc:  # pyproj raises CRSError; keep the message one line
        raise InputError(source, f"unknown CRS {value!r}", "give EPSG:NNNN (e.g. EPSG:4490) or WKT") from exc


def check_crs_against_bounds(crs: CRS, bounds: tuple[float, float, float, float], *, source: str,
                             level: str) -> None:
    """Refuse a CRS that cannot be right for the coordinates (degrees versus metres, GK prefix)."""
    minx, miny, maxx, maxy = bounds
    if not np.all(np.isfinite(bounds)):
        return
    fix_flag = f"pass --crs {level}=EPSG:NNNN with the layer's real CRS"
    if crs.is_geographic:
        if min(minx, miny) < -180.5 or maxx > 360.5 or maxy > 90.5 or miny < -90.5:
            msg = (f"CRS is geographic ({crs.name}) but the coordinates reach "
                   f"{maxx:.0f}, {maxy:.0f}: they look like metres")
            raise InputError(source, msg, fix_flag)
        return
    if max(abs(minx), abs(maxx)) <= 180 and max(abs(miny), abs(maxy)) <= 90:
        msg = f"CRS is projected ({crs.name}) but the coordinates look like degrees ({minx:.4f}, {miny:.4f})"
        raise InputError(source, msg, f"pass --crs {level}=EPSG:4490 (or the real geographic CRS)")
    epsg = crs.to_epsg()
    if epsg is None:
        return
    if 4513 <= epsg <= 4533 and maxx < 1_000_000:
        alt = epsg + 21
        msg = f"EPSG:{epsg} expects eastings with a zone prefix but they are below 1 000 000"
        raise InputError(source, msg, f"pass --crs {level}=EPSG:{alt} (same zone, no prefix)")
    if 4534 <= epsg <= 4554 and minx > 10_000_000:
        alt = epsg - 21
        msg = f"EPSG:{epsg} has no zone prefix but the eastings carry one ({minx:.0f})"
        raise InputError(source, msg, f"pass --crs {level}=EPSG:{alt} (same zone, with prefix)")


# --- Reading ------------------------------------------------------------------------------

def _gpkg_layer(src: LayerSource, level: str) -> str | None:
    layers = [str(name) for name, *_ in pyogrio.list_layers(src.gdal_path)]
    if level in layers:
        return level
    if len(layers) == 1:
        return layers[0]
    msg = f"holds {len(layers):,} layers ({few(map(shown, layers))}) and none is named {level!r}"
    raise InputError(src.display, msg, f"name the layer {level!r} or export it to its own file")


def read_layer(path: str | Path, *, level: str, crs: str | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read one hierarchy layer as delivered, attributes kept as text where possible.

    Parameters
    ----------
    path : str or Path
        ``.shp``, ``.zip`` (holding a ``.shp`` at its root or in a folder), ``.gpkg``,
        ``.geojson`` or ESRI JSON.
    level : str
        The hierarchy level, for messages and the GeoPackage layer name.
    crs : str, optional
        Override the layer's CRS (``EPSG:NNNN`` or WKT); required when the file has none.

    Returns
    -------
    (geopandas.GeoDataFrame, list[str])
        The layer in its own CRS and notes for the report (encoding used, CRS override).

    Raises
    ------
    InputError
        Unreadable file, missing ``.prj``/CRS, a CRS that cannot fit the coordinates.
    """
    import geopandas as gpd

    src = resolve_source(path)
    notes: list[str] = []
    crs_fix = f"pass --crs {level}=EPSG:NNNN (e.g. EPSG:4490 for CGCS2000 degrees, EPSG:4548 for GK CM 117E metres)"
    try:
        if src.kind == "shp":
            dbf = src.sibling(".dbf")
            if dbf is None:
                raise InputError(src.display, "the .dbf part of the shapefile is missing",
                                 "deliver the .shp together with its .dbf, .shx and .prj")
            check_shapefile(src, dbf)
            cpg = src.sibling(".cpg")
            enc = cpg_encoding(cpg.decode("ascii", errors="replace"), src.display) if cpg else None
            attrs, enc = read_dbf_text(dbf, source=src.display, encoding=enc)
            notes.append(f"{level}: attributes decoded as {enc}" + (" (from .cpg)" if cpg else " (detected)"))
            if src.sibling(".prj") is None and crs is None:
                raise InputError(src.display, "has no .prj, so its coordinate reference system is unknown",
                                 crs_fix)
            geo = pyogrio.read_dataframe(src.gdal_path, columns=[], encoding=enc)
            if len(geo) != len(attrs):
                geo = pyogrio.read_dataframe(src.gdal_path, encoding=enc)
                attrs = geo.drop(columns="geometry").astype(object)
            gdf = gpd.GeoDataFrame(attrs.reset_index(drop=True), geometry=geo.geometry.values, crs=geo.crs)
        else:
            layer = _gpkg_layer(src, level) if src.kind == "gpkg" else None
            gdf = pyogrio.read_dataframe(src.gdal_path, layer=layer)
    except InputError:
        raise
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(src.display, f"cannot be read as a vector layer ({first})",
                         "check the file is a complete shapefile, GeoPackage, GeoJSON or ESRI JSON") from exc
    if crs is not None:
        gdf = gdf.set_crs(parse_crs(crs, source=src.display), allow_override=True)
        notes.append(f"{level}: CRS set to {crs} from --crs")
    elif gdf.crs is None:
        raise InputError(src.display, "has no coordinate reference system", crs_fix)
    if len(gdf) and gdf.geometry.notna().any():
        check_crs_against_bounds(gdf.crs, tuple(gdf.total_bounds), source=src.display, level=level)
    return gdf, notes
