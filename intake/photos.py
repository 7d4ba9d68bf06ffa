"""Photos from the field (处置照片, 随手拍): checked, turned upright, converted to JPEG without any
metadata (the phone's GPS position in particular is never stored), with a thumbnail.

Accepted: JPEG, PNG and HEIC/HEIF (iPhones), recognised by their bytes, not their names, and at
most ``upload_max_mb``. The position a photo's EXIF carries can be read first (:func:`exif_position`)
for a report that has none of its own.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import PurePath

from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import InputError

#: The longest side of a stored photo and of its thumbnail, pixels.
MAX_SIDE = 2048
THUMB_SIDE = 320
#: Photos per action at most (随手拍 allows nine).
MAX_PHOTOS = 9
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis")


@dataclass(frozen=True)
class Photo:
    """A photo ready to store: JPEG bytes without metadata, its size in pixels and a thumbnail."""

    filename: str
    width: int
    height: int
    jpeg: bytes
    thumbnail: bytes


def photo_kind(data: bytes) -> str | None:
    """``jpeg``, ``png`` or ``heif`` from the first bytes, else None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "heif"
    return None


def _open(data: bytes, filename: str) -> Image.Image:
    kind = photo_kind(data)
    if kind is None:
        raise InputError(filename, "not a JPEG, PNG or HEIC photo", "take or choose a photo in one of these formats")
    if kind == "heif":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InputError(filename, f"the {kind} photo cannot be read ({exc})", "take the photo again") from exc
    return image


def _jpeg(image: Image.Image, side: int) -> tuple[bytes, int, int]:
    copy = image.copy()
    copy.thumbnail((side, side))
    buffer = io.BytesIO()
    copy.save(buffer, format="JPEG", quality=85, optimize=True)  # no exif= argument: no metadata kept
    return buffer.getvalue(), copy.width, copy.height


def prepare_photo(data: bytes, filename: str, *, max_mb: float = 20.0) -> Photo:
    """Check and convert one photo.

    Parameters
    ----------
    data : bytes
        The file as uploaded.
    filename : str
        Its name (only the last part is kept, for display).
    max_mb : float
        Largest accepted size in MiB (setting ``upload_max_mb``).

    Returns
    -------
    Photo
        Upright (EXIF orientation applied), RGB, at most :data:`MAX_SIDE` pixels, metadata removed.

    Raises
    ------
    core.errors.InputError
        Too large, not a JPEG/PNG/HEIC photo, or unreadable (naming the file and the fix).
    """
    name = PurePath(filename or "photo").name[:120] or "photo"
    if len(data) > max_mb * 1024 * 1024:
        raise InputError(name, f"the photo is {len(data) / 1024 / 1024:.1f} MiB, more than {max_mb:g} MiB",
                         "send a smaller photo")
    image = ImageOps.exif_transpose(_open(data, name)).convert("RGB")
    jpeg, width, height = _jpeg(image, MAX_SIDE)
    thumbnail, _, _ = _jpeg(image, THUMB_SIDE)
    stem = PurePath(name).stem or "photo"
    return Photo(f"{stem}.jpg", width, height, jpeg, thumbnail)


def prepare_photos(files: list[tuple[str, bytes]], *, max_mb: float = 20.0) -> list[Photo]:
    """:func:`prepare_photo` for each ``(filename, bytes)``; at most :data:`MAX_PHOTOS`."""
    if len(files) > MAX_PHOTOS:
        raise InputError("photos", f"{len(files)} photos, more than {MAX_PHOTOS}", f"send at most {MAX_PHOTOS}")
    return [prepare_photo(data, name, max_mb=max_mb) for name, data in files]


def exif_position(data: bytes) -> tuple[float, float] | None:
    """The ``(lon, lat)`` a photo's EXIF GPS tags carry (WGS84 degrees), or None."""
    try:
        image = _open(data, "photo")
    except InputError:
        return None
    gps = image.getexif().get_ifd(0x8825)
    try:
        lat = _degrees(gps[2]) * (-1 if gps.get(1) in ("S", b"S") else 1)
        lon = _degrees(gps[4]) * (-1 if gps.get(3) in ("W", b"W") else 1)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    return (lon, lat) if abs(lon) <= 180 and abs(lat) <= 90 else None


def _degrees(value: tuple[float, float, float]) -> float:
    d, m, s = (float(v) for v in value)
    return d + m / 60 + s / 3600
