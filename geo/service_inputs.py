"""Inputs of the 15-minute service circle: the facilities CSV and the households per building.

- Facilities: a CSV like the demo's ``facilities.csv`` (``名称``, ``类型``, ``经度``, ``纬度``; also
  ``name``, ``type``/``kind``, ``lon``/``lng``, ``lat``), UTF-8 (BOM) or GBK, coordinates in
  CGCS2000/WGS84 degrees (EPSG:4490). Every row needs a type and coordinates.
- Households: a building layer (``.shp`` ...) or CSV with a building code and a household count
  (``HOUSEHOLDS``/``户数``), e.g. the delivered ``buildings.shp``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from core.csvfile import read_csv_cells, row_label
from core.errors import InputError, few

#: Accepted headers of each facilities column (first match wins).
FACILITY_HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("名称", "设施名称", "name"),
    "type": ("类型", "设施类型", "type", "kind"),
    "lon": ("经度", "lon", "lng", "longitude", "x"),
    "lat": ("纬度", "lat", "latitude", "y"),
}
_HOUSEHOLD_WORDS = ("户数", "住户", "households", "household", "hh", "hhs")
_CODE_WORDS = ("楼栋编码", "建筑编码", "编码", "code", "building_code", "bldg_code")


def _column(columns: list[str], key: str) -> str | None:
    lowered = {c.strip().lower(): c for c in columns}
    return next((lowered[h.lower()] for h in FACILITY_HEADERS[key] if h.lower() in lowered), None)


def _number(text: object) -> float:
    try:
        return float(str(text).strip())
    except ValueError:
        return float("nan")


def read_facilities(path: str | Path) -> pd.DataFrame:
    """Read a facilities CSV.

    Parameters
    ----------
    path : str or Path
        CSV with the name, type, longitude and latitude of each facility (see the module text).

    Returns
    -------
    pandas.DataFrame
        ``name``, ``type`` (text) and ``lon``, ``lat`` (float, EPSG:4490 degrees), one row per
        input row, in order.

    Raises
    ------
    InputError
        Missing file or column, a row without a type, or coordinates that are not degrees
        (naming the row and the fix).
    """
    path = Path(path)
    frame = read_csv_cells(path, (), missing_fix="give the facilities CSV (名称, 类型, 经度, 纬度)")
    columns = [str(c) for c in frame.columns]
    chosen = {key: _column(columns, key) for key in FACILITY_HEADERS}
    missing = [FACILITY_HEADERS[k][0] for k in ("type", "lon", "lat") if chosen[k] is None]
    if missing:
        raise InputError(str(path), f"missing column(s) {', '.join(missing)} (columns: {few(columns, 8)})",
                         "use the headers 名称, 类型, 经度, 纬度 (or name, type, lon, lat)")
    if not len(frame):
        raise InputError(str(path), "holds no facility", "add one row per facility under the header")
    lon, lat, kinds = [], [], []
    for i, row in enumerate(frame.to_dict("records")):
        kind = str(row[chosen["type"]]).strip()
        if not kind:
            raise InputError(str(path), f"{chosen['type']} is empty", "give every facility its type (类型)",
                             where=row_label(i))
        x, y = _number(row[chosen["lon"]]), _number(row[chosen["lat"]])
        if not (-180 <= x <= 180 and -90 <= y <= 90):  # NaN fails too
            raise InputError(str(path), f"coordinates ({row[chosen['lon']]}, {row[chosen['lat']]}) are not "
                             "longitude/latitude degrees", "write decimal degrees, e.g. 116.587 and 35.415",
                             where=row_label(i))
        lon.append(x)
        lat.append(y)
        kinds.append(kind)
    names = frame[chosen["name"]].astype(str).tolist() if chosen["name"] else [f"{k} {i + 1}" for i, k in
                                                                                  enumerate(kinds)]
    return pd.DataFrame({"name": names, "type": kinds, "lon": np.asarray(lon, float), "lat": np.asarray(lat, float)})


def _pick(columns: list[str], given: str | None, words: tuple[str, ...], what: str, flag: str,
          source: str) -> str:
    if given is not None:
        if given not in columns:
            raise InputError(source, f"no field {given!r} (fields: {few(columns, 10)})",
                             f"use one of the fields listed with {flag}")
        return given
    lowered = {c.lower(): c for c in columns}
    for word in words:
        if word.lower() in lowered:
            return lowered[word.lower()]
    tokens = {c: set(re.split(r"[^0-9a-z]+", c.lower())) for c in columns}
    for c in columns:
        if any(w in c for w in words if not w.isascii()) or tokens[c] & {w for w in words if w.isascii()}:
            return c
    raise InputError(source, f"no {what} field found among {few(columns, 10)}", f"name it with {flag} FIELD")


def read_households(path: str | Path, *, code_field: str | None = None,
                    count_field: str | None = None) -> pd.Series:
    """Households per building code from a building layer or a CSV.

    Parameters
    ----------
    path : str or Path
        A building layer (``.shp``, ``.gpkg`` ...) or a CSV (UTF-8/GBK).
    code_field, count_field : str, optional
        The building code and household count fields (detected when not given:
        ``CODE``/``楼栋编码``, ``HOUSEHOLDS``/``户数``).

    Returns
    -------
    pandas.Series
        Household counts (int, ``>= 0``) indexed by building code (text), named ``households``.

    Raises
    ------
    InputError
        Unreadable file, fields not found, or a count that is not a whole number (naming the row).
    """
    from geo.fields import codes_to_text

    path = Path(path)
    source = str(path)
    if path.suffix.lower() in (".csv", ".txt"):
        frame = read_csv_cells(path, ())
    else:
        from geo.io import read_layer

        gdf, _ = read_layer(path, level="buildings")
        frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    columns = [str(c) for c in frame.columns]
    code = _pick(columns, code_field, _CODE_WORDS, "building code", "--households-code-field", source)
    count = _pick(columns, count_field, _HOUSEHOLD_WORDS, "household count", "--households-field", source)
    values = pd.to_numeric(frame[count].replace("", np.nan), errors="coerce")
    bad = np.flatnonzero(frame[count].astype(str).str.strip().ne("") & (values.isna() | (values < 0)
                                                                          | (values % 1 != 0)))
    if len(bad):
        i = int(bad[0])
        raise InputError(source, f"{count} {frame[count].iloc[i]!r} is not a number of households",
                         "write a whole number (0 or more)",
                         where=row_label(i) if source.lower().endswith((".csv", ".txt")) else f"feature {i + 1}")
    codes = codes_to_text(frame[code])
    out = pd.Series(values.fillna(0).astype(int).to_numpy(), index=codes.to_numpy(), name="households")
    return out.groupby(level=0).sum()
