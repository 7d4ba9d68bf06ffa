"""Reading request fields: a form (URL-encoded or multipart with files), checked values with
errors that name the field and the fix, and handing a report to the writer thread."""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.datastructures import UploadFile
from starlette.requests import Request

from api.errors import ApiError, bad
from core import constants

if TYPE_CHECKING:
    from api.context import ApiContext
    from api.reports import Answer, Report

_MOBILE = re.compile(r"^(?:\+?86)?1\d{10}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(?:-\d{1,6})?$")
#: Longest accepted description / address, characters.
MAX_TEXT = 2000
MAX_ADDRESS = 300


@dataclass
class Form:
    """A request's form: text values (first of each name) and files as ``(field, filename, bytes)``."""

    values: dict[str, str] = field(default_factory=dict)
    files: list[tuple[str, str, bytes]] = field(default_factory=list)

    def get(self, name: str) -> str:
        """The value of ``name``, stripped; ``""`` when absent."""
        return self.values.get(name, "").strip()


def _utf8(value: str) -> str:
    """A URL-encoded value sent as raw UTF-8 bytes instead of %XX escapes (the form parser reads
    raw bytes as Latin-1), decoded as UTF-8; any other value unchanged."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


async def read_form(request: Request, *, max_files: int) -> Form:
    """The request's form (body limits are enforced by :class:`api.limits.BodyLimit`).

    Raises
    ------
    ApiError
        400 for a body that is not a form, or more than ``max_files`` files.
    """
    kind = request.headers.get("content-type", "")
    if not kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        raise bad("body", f"the body is {kind or 'missing'}, not a form",
                  "send application/x-www-form-urlencoded, or multipart/form-data with files")
    parsed = await request.form(max_files=max_files + 1, max_fields=200)
    form = Form()
    raw_bytes = kind.startswith("application/x-www-form-urlencoded")
    for name, value in parsed.multi_items():
        if isinstance(value, UploadFile):
            form.files.append((name, value.filename or "photo", await value.read()))
        else:
            form.values.setdefault(_utf8(name) if raw_bytes else name, _utf8(value) if raw_bytes else value)
    await parsed.close()
    if len(form.files) > max_files:
        raise bad("photos", f"{len(form.files)} files, more than {max_files}", f"send at most {max_files}")
    return form


def text(form: Form, name: str, *, limit: int = MAX_TEXT, required: bool = False, fix: str = "") -> str:
    """A text field, at most ``limit`` characters; 400 when required and empty."""
    value = form.get(name)
    if required and not value:
        raise bad(name, "the field is empty", fix or f"fill in {name}")
    if len(value) > limit:
        raise bad(name, f"{len(value)} characters, more than {limit}", f"shorten it to {limit} characters")
    return value


def degrees(form: Form, name: str, low: float, high: float) -> float | None:
    """A longitude or latitude in decimal degrees within ``[low, high]``, or None when absent."""
    raw = form.get(name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        raise bad(name, f"{raw[:40]!r} is not a number of degrees between {low:g} and {high:g}",
                  "send decimal degrees, e.g. long=116.587 and lat=35.415")
    return value


def coords(form: Form, name: str, default: str) -> str:
    """The coordinate system a position is given in: ``wgs84``, ``gcj02`` or ``bd09``."""
    value = (form.get(name) or default).lower()
    if value not in constants.COORD_SYSTEMS:
        raise bad(name, f"unknown coordinate system {value[:20]!r}",
                  f"use one of {', '.join(constants.COORD_SYSTEMS)} (WeChat and AMap give gcj02)")
    return value


def phone(form: Form, name: str) -> str:
    """A reporter's phone number (mobile or landline, spaces and dashes allowed), or ``""``."""
    raw = form.get(name)
    if not raw:
        return ""
    compact = re.sub(r"[\s()]", "", raw)
    if not (_MOBILE.match(compact.replace("-", "")) or _LANDLINE.match(compact)):
        raise bad(name, "not a phone number", "send a mobile number (13812345678) or a landline (0531-88776655)")
    return compact[:32]


def idempotency_key(request: Request) -> str | None:
    """The ``Idempotency-Key`` header (1-128 visible ASCII characters), or None."""
    raw = request.headers.get("idempotency-key")
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > 128 or not all(33 <= ord(c) < 127 for c in key):
        raise bad("Idempotency-Key", "not 1 to 128 visible ASCII characters",
                  "send a unique token per report, e.g. a UUID, and the same one when you retry it")
    return key


async def store(ctx: ApiContext, report: Report) -> Answer:
    """Hand a report to the writer thread and wait for its answer.

    Raises
    ------
    ApiError
        The report was refused, or not stored within ``submit_timeout_seconds`` (503).
    """
    assert ctx.writer is not None, "the API context was not started"
    future = ctx.writer.report(report)
    try:
        answer = await asyncio.wait_for(asyncio.wrap_future(future), ctx.settings.submit_timeout_seconds)
    except TimeoutError:
        raise ApiError(503, "", "the report could not be stored in time",
                       "send the same request again with the same Idempotency-Key", headers={"Retry-After": "2"},
                       reason="timeout") from None
    result: Answer = answer
    return result
