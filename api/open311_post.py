"""Open311 GeoReport v2 ``POST /open311/v2/requests.{json|xml}``: a new request becomes a case
through :func:`intake.pipeline.submit` (via :mod:`api.reports`).

The form fields are the spec's: ``api_key``, ``service_code``, ``lat``/``long`` (WGS84 degrees;
``coords=gcj02|bd09`` is accepted for Chinese map apps) or ``address_string`` (placed at the named
community's point, :mod:`api.geocode`), ``description``, ``first_name``/``last_name``, ``phone``
(stored as every channel stores it, masked on every output), ``media_url``, ``media`` (one photo,
multipart), ``attribute[priority]``. ``Idempotency-Key`` makes a retry safe.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.auth import authenticate, context, request_info
from api.context import ApiContext
from api.errors import bad, error_responses, from_input_error
from api.fields import Form, coords, degrees, idempotency_key, phone, read_form, store, text
from api.keys import Caller
from api.open311 import ATTRIBUTES, check_jurisdiction, find_service
from api.render import Format, content, respond
from api.reports import Report, request_hash, source_id
from api.requestlog import RequestInfo
from core import clock
from core.errors import InputError
from intake.photos import prepare_photos

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])
_ATTRIBUTE = re.compile(r"^attribute\[([A-Za-z0-9_.-]{1,40})\]$")
#: Intake fields by the names GeoReport gives them (for error messages).
HEADERS = {"lon": "long", "lat": "lat", "text": "description", "address": "address_string",
           "reporter_phone": "phone", "reporter_name": "first_name", "category": "service_code",
           "subcategory": "service_code", "priority": "attribute[priority]"}
_FIELDS: dict[str, Any] = {
    "api_key": {"type": "string", "description": "the channel's key"},
    "jurisdiction_id": {"type": "string"},
    "service_code": {"type": "string", "description": "from GET services"},
    "lat": {"type": "number", "minimum": -90, "maximum": 90, "description": "WGS84 degrees (or coords)"},
    "long": {"type": "number", "minimum": -180, "maximum": 180, "description": "WGS84 degrees (or coords)"},
    "coords": {"type": "string", "enum": ["wgs84", "gcj02", "bd09"], "description": "of lat/long; default wgs84"},
    "address_string": {"type": "string", "maxLength": 300},
    "description": {"type": "string", "maxLength": 2000},
    "first_name": {"type": "string", "maxLength": 30}, "last_name": {"type": "string", "maxLength": 30},
    "phone": {"type": "string", "description": "stored as given, masked on every output"},
    "email": {"type": "string", "description": "accepted, not stored"},
    "media_url": {"type": "string", "maxLength": 500},
    "attribute[priority]": {"type": "string", "enum": ["urgent", "high", "normal"]},
}
_BODY = {"requestBody": {"required": True, "content": {
    "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": _FIELDS,
                                                     "required": ["api_key", "service_code"]}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["api_key", "service_code"], "properties": {
        **_FIELDS, "media": {"type": "string", "format": "binary", "description": "one JPEG/PNG/HEIC photo"}}}},
}}}
_POST_SCHEMA = {"type": "array", "items": {"type": "object", "properties": {
    "service_request_id": {"type": "string"}, "service_notice": {"type": "string"},
    "account_id": {"type": ["string", "null"]}}}}


def _attributes(form: Form) -> dict[str, str]:
    known = {a["code"]: a for a in ATTRIBUTES}
    out: dict[str, str] = {}
    for name, value in form.values.items():
        match = _ATTRIBUTE.match(name)
        if name.startswith("attribute") and not match:
            raise bad(name[:60], "not an attribute field", "write attribute[code], e.g. attribute[priority]")
        if not match:
            continue
        code = match.group(1)
        if code not in known:
            raise bad(name, f"unknown attribute {code!r}", f"use {', '.join(f'attribute[{c}]' for c in known)}")
        keys = [v["key"] for v in known[code]["values"]]
        if value.strip() not in keys:
            raise bad(name, f"{value[:40]!r} is not a value of {code}", f"use one of {', '.join(keys)}")
        out[code] = value.strip()
    return out


def _position(ctx: ApiContext, form: Form) -> tuple[str, str, str, str]:
    """``(lon, lat, coords, note)`` from lat/long, else from the address's community."""
    lat, lon = degrees(form, "lat", -90, 90), degrees(form, "long", -180, 180)
    system = coords(form, "coords", "wgs84")
    if (lat is None) != (lon is None):
        raise bad("long" if lon is None else "lat", "only one of lat and long was given", "send both, or neither "
                  "and an address_string")
    if lat is not None and lon is not None:
        return repr(lon), repr(lat), system, ""
    address = text(form, "address_string", limit=300)
    if not address:
        raise bad("lat", "no position: neither lat/long nor address_string",
                  "send lat and long (WGS84 decimal degrees) or an address_string naming the community")
    place = ctx.loaded()[1].find(address)
    if place is None:
        raise bad("address_string", "the address names no community, village, grid or street of this district",
                  "send lat and long, or name the community (社区/村) in the address")
    return repr(place.lon), repr(place.lat), "wgs84", f"（位置按地址推定：{place.level}{place.name}）"


def build_report(ctx: ApiContext, caller: Caller, info: RequestInfo, form: Form, key: str | None) -> Report:
    """The :class:`~api.reports.Report` of a POST requests form (photos checked and stripped)."""
    check_jurisdiction(ctx.settings, form.get("jurisdiction_id"))
    service = find_service(ctx.settings, text(form, "service_code", limit=100, required=True,
                                              fix="pick a service_code from GET /open311/v2/services.json"))
    lon, lat, system, note = _position(ctx, form)
    attributes = _attributes(form)
    name = " ".join(filter(None, (text(form, "first_name", limit=30), text(form, "last_name", limit=30))))
    description = text(form, "description", limit=2000)
    media_url = text(form, "media_url", limit=500)
    extra_text = "".join(filter(None, (note, f" [media_url] {media_url}" if media_url else "")))
    photos_raw = [(filename, data) for field, filename, data in form.files if field == "media"]
    if len(photos_raw) != len(form.files):
        raise bad(form.files[0][0][:40], "unexpected file field", "send the photo as media")
    try:
        photos = prepare_photos(photos_raw, max_mb=ctx.settings.photo_max_mb)
    except InputError as exc:
        raise from_input_error(exc, field_name="media") from None
    record = {"source": ctx.settings.open311_source, "source_id": source_id(caller.channel, key),
              "category": service.category, "subcategory": service.subcategory,
              "text": (description + extra_text).strip(), "address": form.get("address_string")[:300],
              "lon": lon, "lat": lat, "reporter_name": name, "reporter_phone": phone(form, "phone"),
              "priority": attributes.get("priority", "normal"), "reported_at": clock.now().isoformat(sep=" ")}
    values = {k: v for k, v in record.items() if k not in ("source_id", "reported_at")}
    return Report("open311", caller, info, record, system, key, request_hash({**values, "coords": system},
                                                                             [d for _, d in photos_raw]),
                  tuple(photos), HEADERS, {"service_code": service.code})


@router.post("/requests.{fmt}", summary="Post a new request", status_code=201, openapi_extra=_BODY, responses={
    201: {"content": content(_POST_SCHEMA), "description": "stored (200: the answer to an earlier "
                                                           "request with the same Idempotency-Key)"},
    **error_responses(400, 401, 403, 404, 413, 422, 429, 503, open311=True)})
async def post_request(request: Request, fmt: Format) -> Response:
    """A new request (GeoReport v2 form fields; send ``Idempotency-Key`` to make retries safe)."""
    form = await read_form(request, max_files=1)
    caller = await authenticate(request, form.get("api_key"), "report")
    key = idempotency_key(request)
    ctx = context(request)
    report = await run_in_threadpool(build_report, ctx, caller, request_info(request), form, key)
    answer = await store(ctx, report)
    notice = "已受理，请留意处理进度 Received; follow its status with GET requests"
    body = [{"service_request_id": str(answer.data["case_id"]), "service_notice": notice, "account_id": None}]
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return respond(fmt, "service_requests", "request", body, status=answer.status, headers=headers)
