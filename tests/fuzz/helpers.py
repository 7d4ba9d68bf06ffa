"""Shared strategies of the fuzz tests: odd cells, byte mutations of valid files, and the property
every reader must keep (a result, or an :class:`~core.errors.InputError` naming its source)."""

from __future__ import annotations

import io
import os
import struct
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from hypothesis import event
from hypothesis import strategies as st

from core.errors import InputError

T = TypeVar("T")

#: Examples per test relative to the ``ci`` profile (tests/fuzz/conftest.py).
FACTOR = {"ci": 1, "bench": 5, "deep": 25}.get(os.environ.get("HYPOTHESIS_PROFILE", "ci"), 1)


def examples(n: int) -> int:
    """``n`` examples in the ``ci`` profile, scaled up in ``bench`` and ``deep``."""
    return n * FACTOR


#: Cells people (and broken exports) really put into coordinate, time, ID and text columns.
ODD_TEXT: tuple[str, ...] = (
    "", " ", "nan", "NaN", "None", "null", "NULL", "-0", "0", "0.0", "1e400", "-1e400", "inf", "-inf",
    "1" * 40, "9" * 400, "116.5", "35.4", "116°30'", "116°", "116.5°E", "１１６.５", "116,5", "1_0", "0x10",
    "\x00", '"', '""', ",", ";", "\t", "\r", "\n", "\r\n", "\ufeff", "=1+1", "٣٥.٤", "𝟙𝟙𝟞", "\u202e", "X", "x",
    "昨天", "2026-02-30", "2026-11-16 09:00:00", "2026/11/16 10:30", "2026-11-16T09:00:00Z",
    "2026-11-16T09:00:00+08:00", "2026-11-16 09:00:00+09:00", "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00", "99999999999999999999", "-1", "20261116", "1e-400", "é",
)

odd_cells = st.one_of(st.sampled_from(ODD_TEXT), st.text(max_size=12))

#: Bytes that break text and CSV readers in interesting ways.
ODD_BYTES: tuple[bytes, ...] = (
    b"\x00", b"\xff", b"\xfe", b"\x80", b"\xc3", b"\xe4\xb8", b"\xef\xbb\xbf", b"\x81\x30", b"\xa1", b'"', b",",
    b"\r", b"\n", b"\r\n", b"\x1a", b"\\", b"'", b"\x7f",
)


@st.composite
def mutated(draw: st.DrawFn, seed: bytes, max_ops: int = 4) -> bytes:
    """``seed`` changed by 1..``max_ops`` edits: truncate, flip a byte, insert odd or random bytes,
    delete or repeat a slice."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(("truncate", "flip", "insert", "delete", "repeat")))
        i = draw(st.integers(0, len(data)))
        if op == "truncate":
            del data[i:]
        elif op == "flip" and i < len(data):
            data[i] ^= draw(st.integers(1, 255))
        elif op == "insert":
            data[i:i] = draw(st.one_of(st.sampled_from(ODD_BYTES), st.binary(min_size=1, max_size=8)))
        elif op == "delete":
            del data[i:i + draw(st.integers(1, 16))]
        elif op == "repeat":
            data[i:i] = data[i:i + draw(st.integers(1, 64))]
    return bytes(data)


def zipped(members: dict[str, bytes]) -> bytes:
    """A zip archive (deflated) of ``members``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return out.getvalue()


def unzipped(data: bytes) -> dict[str, bytes]:
    """The members of the zip ``data``."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def with_member(seed: bytes, member: str, change: Callable[[bytes], bytes]) -> bytes:
    """The zip ``seed`` with ``member`` replaced by ``change(its bytes)``."""
    members = unzipped(seed)
    members[member] = change(members[member])
    return zipped(members)


def from_the_future(data: bytes) -> bytes:
    """The zip ``data`` with its first central directory entry needing zip version 8.4 to extract."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    out[at + 6] = 84
    return bytes(out)


@st.composite
def rezipped(draw: st.DrawFn, seed: bytes) -> bytes:
    """The zip ``seed`` with one member's bytes mutated (or the member dropped), zipped again: the
    damage reaches the reader of that member, not just the zip layer."""
    members = unzipped(seed)
    name = draw(st.sampled_from(sorted(members)))
    if draw(st.integers(0, 9)) == 0:
        del members[name]
    else:
        members[name] = draw(mutated(members[name]))
    return zipped(members)


#: Integers that break length and offset fields.
ODD_INTS: tuple[int, ...] = (0, 1, 2, 3, 4, 7, 8, 50, 99, 100, 0x7FFF, 0xFFFF, 0x7FFFFFFF, -1, -2, -(2 ** 31))


@st.composite
def overwritten(draw: st.DrawFn, seed: bytes, offsets: Sequence[int]) -> bytes:
    """``seed`` with 1..3 header fields overwritten by odd integers (big- or little-endian, 1, 2 or
    4 bytes), at ``offsets`` (the fields of the format) or anywhere."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.one_of(st.sampled_from(list(offsets)), st.integers(0, max(len(data) - 1, 0))))
        fmt = draw(st.sampled_from((">i", "<i", "<H", "B")))
        value = draw(st.one_of(st.sampled_from(ODD_INTS), st.integers(-(2 ** 31), 2 ** 31 - 1)))
        size = struct.calcsize(fmt)
        lo, hi = {"<H": (0, 0xFFFF), "B": (0, 0xFF)}.get(fmt, (-(2 ** 31), 2 ** 31 - 1))
        packed = struct.pack(fmt, min(max(value, lo), hi))
        data[at:at + size] = packed[: max(len(data) - at, 0)]
    return bytes(data)


def names_source(exc: InputError, *sources: object) -> bool:
    """The message names one of ``sources`` (a path, a file name, a field)."""
    text = str(exc)
    return "\n" not in text and any(str(s) in text for s in sources)


def result_or_input_error(call: Callable[[], T], *sources: object) -> T | None:
    """``call()``, or None when it raises an InputError whose one-line message names a source;
    any other exception propagates and fails the test."""
    try:
        result = call()
    except InputError as exc:
        assert names_source(exc, *sources), f"the message does not name {sources}: {exc}"
        event(f"InputError: {exc.problem[:40]}")
        return None
    event("a result")
    return result


@contextmanager
def written(folder: Path, name: str, data: bytes) -> Iterator[Path]:
    """A file ``name`` in ``folder`` holding ``data`` (for readers that take paths)."""
    path = folder / name
    path.write_bytes(data)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)
