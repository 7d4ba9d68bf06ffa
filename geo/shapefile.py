"""The parts of a shapefile as bytes: structural checks before GDAL reads them, and the DBF
attributes as text.

A copy cut short (an interrupted download or USB copy) or parts that do not belong together
are refused as unreadable, naming the part and the fix, instead of coming out as empty or
missing features: the ``.shp`` length against its header, every record's header and extent,
the ``.shx`` index against the ``.shp`` and the ``.dbf`` record count against the shapes.

Attributes are read from the DBF bytes as text (so a 12-digit code never becomes a float),
decoded with the ``.cpg`` encoding when there is one, else UTF-8 when the text fields are valid
UTF-8, else GB18030 (:func:`core.text.detect_encoding`).
"""

from __future__ import annotations

import codecs
import mmap
import struct
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from core.errors import InputError
from core.text import detect_encoding

#: The fix for a part that is cut short or corrupt.
FIX = "copy it again from the source (the .shp with its .shx and .dbf); it is truncated or corrupt"
_SHP_CODE = 9994
_HEADER = 100
#: ``.cpg`` spellings seen in the wild mapped to Python codecs.
_CPG_ALIASES = {
    "UTF-8": "utf-8", "UTF8": "utf-8", "65001": "utf-8",
    "936": "gb18030", "CP936": "gb18030", "GBK": "gb18030", "ANSI 936": "gb18030",
    "GB2312": "gb18030", "GB18030": "gb18030", "54936": "gb18030",
    "950": "big5", "BIG5": "big5", "1252": "cp1252", "ANSI 1252": "cp1252",
    "88591": "latin-1", "ISO-8859-1": "latin-1", "ISO88591": "latin-1",
}

#: The bytes of a part: read (a zip member) or mapped into memory (a file).
Data = bytes | memoryview | mmap.mmap
#: ``name(suffix)``: how messages name a part (``grids.dbf``, or ``grids.zip (grids/grids.dbf)``).
Namer = Callable[[str], str]


def _fail(name: str, problem: str, fix: str = FIX) -> InputError:
    return InputError(name, problem, fix)


def _header_length(data: Data, part: str, name: str) -> int:
    """Check the 100-byte main header of a ``.shp``/``.shx``; its file length in bytes."""
    size = len(data)
    if size < _HEADER:
        raise _fail(name, f"the {part} is truncated: {size:,} bytes, less than its {_HEADER}-byte header")
    code, words = struct.unpack_from(">i20xi", data, 0)
    if code != _SHP_CODE:
        raise _fail(name, f"the {part} is not a shapefile part (its header does not start with {_SHP_CODE})")
    declared = words * 2
    if declared != size:
        what = "truncated" if size < declared else "corrupt"
        raise _fail(name, f"the {part} is {what}: its header gives {declared:,} bytes but the file has {size:,}")
    return declared


def _walk_records(shp: Data, name: str) -> int:
    """Walk the ``.shp`` record headers (number, content length) to the end; the record count."""
    size, pos, count = len(shp), _HEADER, 0
    while pos < size:
        if pos + 8 > size:
            raise _fail(name, f"the .shp is truncated: record {count + 1} at byte {pos:,} has no complete header")
        number, words = struct.unpack_from(">ii", shp, pos)
        if words < 2 or pos + 8 + words * 2 > size:
            raise _fail(name, f"the .shp is corrupt: record {number} (the {count + 1:,}th, at byte {pos:,}) "
                        f"claims {words * 2:,} bytes and runs past the end of the file ({size:,} bytes)")
        pos += 8 + words * 2
        count += 1
    return count


def _check_index(shp: Data, shx: Data, names: Namer) -> int:
    """Check every ``.shx`` entry against the ``.shp`` record it points to; the record count."""
    _header_length(shx, ".shx", names(".shx"))
    if (len(shx) - _HEADER) % 8:
        raise _fail(names(".shx"), f"the .shx is corrupt: {len(shx) - _HEADER:,} bytes of entries, "
                    "not a whole number of 8-byte entries")
    count = (len(shx) - _HEADER) // 8
    if not count:
        if len(shp) > _HEADER:
            raise _fail(names(".shx"), "the .shx indexes no record but the .shp holds some")
        return 0
    entries = np.frombuffer(shx, dtype=">i4", offset=_HEADER, count=count * 2).reshape(count, 2).astype(np.int64)
    offsets, lengths = entries[:, 0] * 2, entries[:, 1] * 2
    outside = (offsets < _HEADER) | (lengths < 4) | (offsets + 8 + lengths > len(shp))
    if outside.any():
        i = int(np.argmax(outside))
        raise _fail(names(".shp"), f"record {i + 1:,} (at byte {offsets[i]:,}, {lengths[i]:,} bytes per the .shx) "
                    f"lies beyond the end of the .shp ({len(shp):,} bytes)")
    end = int((offsets + 8 + lengths).max())
    if end != len(shp):
        raise _fail(names(".shx"), f"the .shx does not match the .shp: its {count:,} records end at byte {end:,} "
                    f"but the .shp has {len(shp):,} bytes")
    raw = np.frombuffer(shp, dtype=np.uint8)
    at = raw[(offsets + 4)[:, None] + np.arange(4)].astype(np.int64)
    stored = ((at[:, 0] << 24) | (at[:, 1] << 16) | (at[:, 2] << 8) | at[:, 3]) * 2
    differ = stored != lengths
    if differ.any():
        i = int(np.argmax(differ))
        raise _fail(names(".shx"), f"the .shx does not match the .shp: record {i + 1:,} has {lengths[i]:,} bytes "
                    f"in the .shx but {stored[i]:,} in the .shp")
    return count


def dbf_record_count(dbf: bytes, name: str) -> int:
    """The ``.dbf`` record count (little-endian uint32 at byte 4), checked against its length."""
    if len(dbf) < 32:
        raise _fail(name, f"the .dbf is truncated: {len(dbf)} bytes, less than its 32-byte header")
    count, header, record = struct.unpack_from("<IHH", dbf, 4)
    need = header + count * record
    if len(dbf) < need:
        raise _fail(name, f"the .dbf is truncated: its header announces {count:,} records of {record} bytes "
                    f"({need:,} bytes with the header) but the file has {len(dbf):,}")
    return count


def check_parts(shp: Data, shx: Data | None, dbf: bytes, names: Namer) -> None:
    """Refuse a shapefile whose parts are cut short, corrupt or do not belong together.

    Parameters
    ----------
    shp, shx, dbf : bytes-like
        The parts (``shx`` None when the delivery has none).
    names : callable
        ``names(".shp")`` is how a message names that part.

    Raises
    ------
    InputError
        Naming the part and the fix: copy it again from the source.
    """
    _header_length(shp, ".shp", names(".shp"))
    shapes = _walk_records(shp, names(".shp")) if shx is None else _check_index(shp, shx, names)
    records = dbf_record_count(dbf, names(".dbf"))
    if records != shapes:
        raise _fail(names(".shp"), f"the .shp holds {shapes:,} shapes but the .dbf {records:,} records",
                    "copy the .shp, .shx and .dbf again from the source, together: one of them is truncated "
                    "or they come from different exports")


def cpg_encoding(text: str, source: str) -> str:
    """Python codec for the content of a ``.cpg`` file."""
    value = text.strip().upper()
    if value in _CPG_ALIASES:
        return _CPG_ALIASES[value]
    try:
        name = codecs.lookup(value).name
        b"\xd6\xd0".decode(name, errors="replace")  # a text codec reads bytes (base64, idna ... do not)
    except (LookupError, ValueError) as exc:  # ValueError: a NUL byte; UnicodeError is one too
        raise InputError(source, f".cpg names an unknown encoding {text.strip()!r}",
                         "write UTF-8 or GBK in the .cpg, or delete it") from exc
    return name


def read_dbf_text(dbf: bytes, *, source: str, encoding: str | None = None) -> tuple[pd.DataFrame, str]:
    """Read every DBF field as text exactly as stored (trimmed), skipping deleted records.

    Parameters
    ----------
    dbf : bytes
        The ``.dbf`` file.
    source : str
        Name of the file for messages.
    encoding : str, optional
        Codec to decode with (from the ``.cpg``); detected from the bytes when None.

    Returns
    -------
    (DataFrame of str, encoding used)
    """
    nrec = dbf_record_count(dbf, source)
    hlen, rlen = struct.unpack_from("<HH", dbf, 8)
    fields_meta: list[tuple[bytes, str, int, int]] = []
    pos, offset = 32, 1
    while pos + 32 <= hlen and dbf[pos] != 0x0D:
        fields_meta.append((dbf[pos:pos + 11].split(b"\x00", 1)[0], chr(dbf[pos + 11]), offset, dbf[pos + 16]))
        offset += dbf[pos + 16]
        pos += 32
    nrec = nrec if rlen else 0
    raw = np.frombuffer(dbf[hlen:hlen + nrec * rlen], dtype=np.uint8).reshape(nrec, rlen) if nrec else None
    keep = (raw[:, 0] != ord("*")) if raw is not None else np.zeros(0, bool)
    from_cpg = encoding is not None
    if encoding is None:
        text_bytes = b"".join(m[0] for m in fields_meta)
        if raw is not None:
            text_cols = [raw[:, o:o + n] for (_, t, o, n) in fields_meta if t == "C"]
            if text_cols:
                text_bytes += np.ascontiguousarray(np.hstack(text_cols)).tobytes()
        encoding = detect_encoding(text_bytes) or "gb18030"
    fix = ("correct or delete the .cpg (GBK data needs 936 or GBK in it)" if from_cpg else
           "the text is neither UTF-8 nor GBK: re-export the layer with a .cpg naming its encoding")
    columns: dict[str, list[str]] = {}
    rows = np.flatnonzero(keep) + 1
    for raw_name, _ftype, off, flen in fields_meta:
        name = raw_name.decode(encoding, errors="replace").strip()
        if not flen or off + flen > rlen:
            raise InputError(source, f"the .dbf is corrupt: field {name!r} ({flen} bytes at byte {off} of each record) "
                             f"does not fit its {rlen}-byte records", FIX)
        cells: Iterable[bytes] = ([] if raw is None else
                                  np.ascontiguousarray(raw[keep, off:off + flen]).view(f"S{flen}").ravel().tolist())
        try:
            values = [c.decode(encoding).strip() if c else "" for c in cells]
        except UnicodeDecodeError:
            bad = next(i for i, c in enumerate(cells) if not _readable(c, encoding))
            raise InputError(source, f"field {name!r} is not valid {encoding} text", fix,
                             where=f"record {rows[bad]:,}") from None
        columns[_unique(name, columns)] = values
    return pd.DataFrame(columns, dtype=object), encoding


def _readable(cell: bytes, encoding: str) -> bool:
    try:
        cell.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _unique(name: str, taken: dict[str, list[str]]) -> str:
    out, i = name or "field", 1
    while out in taken:
        i += 1
        out = f"{name}_{i}"
    return out
