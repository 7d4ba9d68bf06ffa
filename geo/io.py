"""Read one vector layer from a delivery: shapefile (plain or zipped), GeoPackage, GeoJSON or
ESRI JSON, with the encoding and CRS pitfalls of real deliveries handled explicitly.

Shapefile attributes are read from the DBF bytes as text (so a 12-digit code never becomes a
float), decoded with the ``.cpg`` encoding when there is one, else with UTF-8 when the bytes
are valid UTF-8, else GB18030 (a superset of GBK). A layer without a CRS is refused.
"""

from __future__ import annotations

import codecs
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS

from core.errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd

#: ``.cpg`` spellings seen in the wild mapped to Python codecs.
_CPG_ALIASES = {
    "UTF-8": "utf-8", "UTF8": "utf-8", "65001": "utf-8",
    "936": "gb18030", "CP936": "gb18030", "GBK": "gb18030", "ANSI 936": "gb18030",
    "GB2312": "gb18030", "GB18030": "gb18030", "54936": "gb18030",
    "950": "big5", "BIG5": "big5", "1252": "cp1252", "ANSI 1252": "cp1252",
    "88591": "latin-1", "ISO-8859-1": "latin-1", "ISO88591": "latin-1",
}
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
    except zipfile.BadZipFile as exc:
        raise InputError(display, f"not a readable zip archive ({exc})", "re-export the archive") from exc
    layers = [n for n in names if n.lower().endswith(_VECTOR_SUFFIXES)]
    shps = [n for n in layers if n.lower().endswith(".shp")]
    chosen = shps if shps else layers
    if len(chosen) != 1:
        found = ", ".join(chosen) if chosen else "none"
        raise InputError(
            display, f"expected exactly one vector layer in the zip, found {found}",
            "zip one layer per file (the .shp with its .dbf/.shx/.prj/.cpg)",
        )
    member = chosen[0]
    kind = "shp" if member.lower().endswith(".shp") else ("gpkg" if member.lower().endswith(".gpkg") else "json")
    gdal = f"/vsizip/{p.resolve()}/{member}"
    return LayerSource(display, gdal, kind, zip_path=p, member=member)


# --- DBF (shapefile attributes) as text ----------------------------------------------------

def cpg_encoding(text: str, source: str) -> str:
    """Python codec for the content of a ``.cpg`` file."""
    value = text.strip().upper()
    if value in _CPG_ALIASES:
        return _CPG_ALIASES[value]
    try:
        return codecs.lookup(value).name
    except LookupError as exc:
        raise InputError(source, f".cpg names an unknown encoding {text.strip()!r}",
                         "write UTF-8 or GBK in the .cpg, or delete it") from exc


def detect_encoding(data: bytes) -> str:
    """``utf-8`` when ``data`` decodes as strict UTF-8 (ASCII included), else ``gb18030``."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def read_dbf_text(dbf: bytes, *, source: str, encoding: str | None = None) -> tuple[pd.DataFrame, str]:
    """Read every DBF field as text exactly as stored (trimmed), skipping deleted records.

    Parameters
    ----------
    dbf : bytes
        The ``.dbf`` file.
    source : str
        Name of the file for messages.
    encoding : str, optional
        Codec to decode with; detected from the bytes when None.

    Returns
    -------
    (DataFrame of str, encoding used)
    """
    if len(dbf) < 32:
        raise InputError(source, "the .dbf is truncated", "re-export the shapefile")
    nrec = int.from_bytes(dbf[4:8], "little")
    hlen = int.from_bytes(dbf[8:10], "little")
    rlen = int.from_bytes(dbf[10:12], "little")
    fields_meta: list[tuple[bytes, str, int, int]] = []
    pos, offset = 32, 1
    while pos + 32 <= hlen and dbf[pos] != 0x0D:
        raw_name = dbf[pos:pos + 11].split(b"\x00", 1)[0]
        ftype = chr(dbf[pos + 11])
        flen = dbf[pos + 16]
        fields_meta.append((raw_name, ftype, offset, flen))
        offset += flen
        pos += 32
    body = dbf[hlen:hlen + nrec * rlen]
    nrec = min(nrec, len(body) // rlen) if rlen else 0
    raw = np.frombuffer(body[: nrec * rlen], dtype=np.uint8).reshape(nrec, rlen) if nrec else None
    keep = (raw[:, 0] != ord("*")) if raw is not None else np.zeros(0, bool)
    if encoding is None:
        text_bytes = b"".join(m[0] for m in fields_meta)
        if raw is not None:
            text_cols = [raw[:, o:o + n] for (_, t, o, n) in fields_meta if t == "C"]
            if text_cols:
                text_bytes += np.ascontiguousarray(np.hstack(text_cols)).tobytes()
        encoding = detect_encoding(text_bytes)
    columns: dict[str, list[str]] = {}
    for raw_name, _ftype, off, flen in fields_meta:
        name = raw_name.decode(encoding, errors="replace").strip()
        if raw is None:
            values: list[str] = []
        else:
            cells = np.ascontiguousarray(raw[keep, off:off + flen]).view(f"S{flen}").ravel()
            try:
                values = [c.decode(encoding, errors="strict").strip() if c else "" for c in cells]
            except UnicodeDecodeError as exc:
                msg = f"field {name!r} is not valid {encoding} text"
                raise InputError(source, msg, "correct or delete the .cpg (GBK data needs 936 or GBK in it)") from exc
        columns[_unique(name, columns)] = values
    return pd.DataFrame(columns, dtype=object), encoding


def _unique(name: str, taken: dict[str, list[str]]) -> str:
    out, i = name or "field", 1
    while out in taken:
        i += 1
        out = f"{name}_{i}"
    return out


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
    msg = f"holds {len(layers)} layers ({', '.join(layers)}) and none is named {level!r}"
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
