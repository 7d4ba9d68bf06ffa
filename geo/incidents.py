"""Read incident files: CSV (UTF-8, UTF-8 with BOM, GBK), XLSX, GeoJSON, shapefile.

Every attribute is kept as text (codes and phone numbers keep their leading zeros; nothing is
parsed as a float), and the coordinate columns are detected from their names (经度/纬度,
lon/lng/longitude, lat/latitude, x/y) unless named explicitly.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.errors import InputError, few
from core.text import cell_text, decode, detect_encoding, not_text_error, read_xlsx_text, shown

if TYPE_CHECKING:
    import pandas as pd

_LON_EXACT = ("经度", "lon", "lng", "long", "longitude", "gpslon", "gpslng", "gps经度", "经度坐标", "x", "x坐标",
              "坐标x", "gpsx", "lonwgs84", "wgs84lon", "wgs84经度")
_LAT_EXACT = ("纬度", "lat", "latitude", "gpslat", "gps纬度", "纬度坐标", "y", "y坐标", "坐标y", "gpsy",
              "latwgs84", "wgs84lat", "wgs84纬度")
_LON_WORDS = ("经度", "longitude", "lng", "lon")
_LAT_WORDS = ("纬度", "latitude", "lat")
_FIX = "name them with --lon COLUMN --lat COLUMN"


def csv_encoding(path: str | Path, *, sample: int = 4 << 20) -> str:
    """Encoding of a CSV file (``utf-8-sig``, ``utf-8`` or ``gb18030``) judged from its first
    ``sample`` bytes and its last ones (:func:`core.text.detect_encoding`).

    Raises
    ------
    InputError
        The start of the file is neither UTF-8 nor GBK (naming the line and byte offset).
    """
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(sample)
        enc = detect_encoding(head, partial=True)
        if enc is None:
            raise not_text_error(path, str(path))
        if enc != "utf-8":
            return enc
        size = path.stat().st_size
        if size > sample:
            fh.seek(max(size - sample, sample))
            tail = fh.read()
            # the tail may start mid-character: skip continuation bytes
            i = 0
            while i < len(tail) and i < 4 and (tail[i] & 0xC0) == 0x80:
                i += 1
            if detect_encoding(tail[i:], partial=True) != "utf-8":
                return "gb18030"
    return enc


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-()（）:：]+", "", str(name)).lower()


def detect_coordinate_columns(columns: list[str], *, source: str = "") -> tuple[str, str]:
    """The longitude and latitude columns among ``columns``.

    Exact names first (经度/纬度, lon/lng/longitude, lat/latitude, then x/y), then names
    containing those words. Raises InputError naming the columns when none or only one is found.
    """
    norm = {c: _norm(c) for c in columns}

    def find(exact: tuple[str, ...], words: tuple[str, ...]) -> str | None:
        for key in exact:
            for c in columns:
                if norm[c] == key:
                    return c
        for word in words:
            for c in columns:
                low = str(c).lower()
                if word.isascii():
                    if re.search(rf"(?<![a-z]){word}(?![a-z])", low) or low.startswith(word):
                        return c
                elif word in low:
                    return c
        return None

    lon, lat = find(_LON_EXACT, _LON_WORDS), find(_LAT_EXACT, _LAT_WORDS)
    if lon is None or lat is None or lon == lat:
        raise InputError(source, f"no longitude/latitude columns found (columns: {few(map(shown, columns), 10)})", _FIX)
    return lon, lat


def _check_named(columns: list[str], lon_col: str | None, lat_col: str | None, source: str) -> None:
    for col in (lon_col, lat_col):
        if col is not None and col not in columns:
            raise InputError(source, f"no column {col!r} (columns: {few(map(shown, columns), 10)})",
                             "give an existing column name")


def read_csv_text(path: str | Path) -> pd.DataFrame:
    """A CSV with every column as text (empty cells as ``""``), encoding detected
    (:func:`core.text.decode`: an undecodable byte is named by line and byte offset)."""
    import pandas as pd

    text, _ = decode(Path(path).read_bytes(), str(path), fix="save it as CSV in UTF-8 (with or without BOM) or GBK")
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(str(path), f"cannot be read as CSV ({first})",
                         "every row needs as many cells as the header; save it again as CSV") from exc


def read_vector_points(path: str | Path) -> pd.DataFrame:
    """GeoJSON or shapefile points: attributes as text plus ``lon``/``lat`` in EPSG:4490."""
    import geopandas as gpd
    import pandas as pd

    from geo.io import read_layer

    gdf, _ = read_layer(path, level="incidents")
    geom = gdf.geometry
    if gdf.crs is not None and gdf.crs.to_epsg() not in (4490, 4326):
        geom = geom.to_crs("EPSG:4490")
    kinds = set(geom.dropna().geom_type)
    if kinds - {"Point"}:
        geom = gpd.GeoSeries(geom.representative_point(), crs=geom.crs)
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).astype(object)
    for col in frame.columns:
        frame[col] = [cell_text(v) for v in frame[col]]
    empty = geom.isna() | geom.is_empty
    lon_name = "lon" if "lon" not in frame.columns else "_lon"
    lat_name = "lat" if "lat" not in frame.columns else "_lat"
    frame[lon_name] = np.where(empty, np.nan, geom.x.where(~empty))
    frame[lat_name] = np.where(empty, np.nan, geom.y.where(~empty))
    frame.attrs["coordinate_columns"] = (lon_name, lat_name)
    return frame


def read_incidents(path: str | Path, *, lon_col: str | None = None,
                   lat_col: str | None = None) -> tuple[pd.DataFrame, str, str]:
    """Read an incident file.

    Parameters
    ----------
    path : str or Path
        ``.csv`` (UTF-8, UTF-8 with BOM or GBK, detected), ``.xlsx``, ``.geojson``/``.json``,
        ``.shp`` or ``.zip`` (point layer).
    lon_col, lat_col : str, optional
        Coordinate columns; detected from the column names when not given. For GeoJSON and
        shapefiles the coordinates come from the geometry (columns ``lon``/``lat``, EPSG:4490).

    Returns
    -------
    (DataFrame, lon column, lat column)
        Every input column as text (CSV/XLSX), in file order.

    Raises
    ------
    InputError
        Unreadable file or no coordinate columns.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "file not found", "check the path")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        frame = read_csv_text(path)
    elif suffix in (".xlsx", ".xlsm"):
        frame = read_xlsx_text(path, fix="save it as .xlsx (Excel 2007+) or CSV, the incidents on the first sheet")
    elif suffix in (".geojson", ".json", ".shp", ".zip", ".gpkg"):
        frame = read_vector_points(path)
        if lon_col is None and lat_col is None:
            lon, lat = frame.attrs["coordinate_columns"]
            return frame, lon, lat
    else:
        raise InputError(str(path), f"unsupported incident file type {suffix!r}",
                         "give a .csv, .xlsx, .geojson or .shp")
    columns = [str(c) for c in frame.columns]
    _check_named(columns, lon_col, lat_col, str(path))
    if lon_col is None or lat_col is None:
        lon, lat = detect_coordinate_columns(columns, source=str(path))
        lon_col = lon_col or lon
        lat_col = lat_col or lat
    return frame, lon_col, lat_col
