"""Checks on uploaded files before anything reads them: size limit and real file type.

The extension alone is not trusted: the content must match it (an XLSX is a ZIP holding a
workbook, a CSV is text without NUL bytes in UTF-8 or GBK/GB18030, GeoJSON parses as a JSON
object with a ``type``, a GeoPackage is an SQLite file, a zipped shapefile holds a ``.shp``).
Pages call :func:`check_upload` on the bytes they received and only then hand them on.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from core.errors import InputError
from core.text import detect_encoding, not_text_error

#: File kinds the checker knows, by extension.
EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".zip": "zip",
}
_ZIP_MAGIC = b"PK\x03\x04"
_SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed the checks: its safe base name, kind and size in bytes."""

    name: str
    kind: str
    size: int


def safe_name(filename: str) -> str:
    """The base name of ``filename`` without any directory part (POSIX or Windows)."""
    name = PureWindowsPath(PurePosixPath(str(filename)).name).name
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    return name.strip(" .") or "upload"


def _is_text(data: bytes) -> bool:
    return b"\x00" not in data and detect_encoding(data) is not None


def _zip_names(data: bytes) -> list[str] | None:
    if not data.startswith(_ZIP_MAGIC):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, NotImplementedError, ValueError):  # NotImplementedError: "zip file version 8.4"
        return None


def _content_matches(kind: str, data: bytes) -> bool:
    if kind == "csv":
        return _is_text(data)
    if kind == "xlsx":
        names = _zip_names(data)
        return names is not None and "[Content_Types].xml" in names and any(
            n.startswith("xl/") for n in names
        )
    if kind == "zip":
        names = _zip_names(data)
        return names is not None and any(n.lower().endswith(".shp") for n in names)
    if kind == "gpkg":
        return data.startswith(_SQLITE_MAGIC)
    if kind == "geojson":
        try:
            value = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):  # RecursionError: nested too deep
            return False
        return isinstance(value, dict) and isinstance(value.get("type"), str)
    return False


def check_upload(
    filename: str,
    data: bytes,
    *,
    allowed: tuple[str, ...] = ("csv", "xlsx", "geojson"),
    max_mb: float,
) -> CheckedUpload:
    """Check an uploaded file's size and type.

    Parameters
    ----------
    filename : str
        The name the browser sent (only its base name is kept).
    data : bytes
        The file's content.
    allowed : tuple of str
        Accepted kinds among ``csv``, ``xlsx``, ``geojson``, ``gpkg``, ``zip`` (zipped shapefile).
    max_mb : float
        Size limit in MiB (``Settings.upload_max_mb``).

    Returns
    -------
    CheckedUpload

    Raises
    ------
    core.errors.InputError
        Empty or too large file, an extension not allowed, or content that does not match it.
    """
    name = safe_name(filename)
    size = len(data)
    if size == 0:
        raise InputError(name, "the file is empty", "upload the file again")
    limit = int(max_mb * 1024 * 1024)
    if size > limit:
        raise InputError(
            name,
            f"the file is {size / 1048576:.1f} MiB, more than the limit of {max_mb:g} MiB",
            "split the file or raise upload_max_mb in gridcommand.toml",
        )
    suffix = PurePosixPath(name).suffix.lower()
    kind = EXTENSIONS.get(suffix)
    if kind is None or kind not in allowed:
        accepted = sorted(ext for ext, k in EXTENSIONS.items() if k in allowed)
        raise InputError(
            name, f"file type {suffix or '(none)'} is not accepted", f"upload one of {', '.join(accepted)}"
        )
    if kind == "csv" and b"\x00" not in data and detect_encoding(data) is None:
        undecodable = not_text_error(data, name)
        raise InputError(name, f"the content is not a valid CSV file: {undecodable.problem}",
                         "save it again as CSV in UTF-8 or GBK (WPS/Excel: CSV UTF-8)", where=undecodable.where)
    if not _content_matches(kind, data):
        raise InputError(
            name,
            f"the content is not a valid {kind.upper()} file",
            f"save it again as {kind.upper()} (the extension must match the content)",
        )
    return CheckedUpload(name=name, kind=kind, size=size)
