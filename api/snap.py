"""随手拍 (snap-and-report, usually a WeChat mini-program): ``POST /snap/v1/reports``, multipart.

Fields: ``api_key`` (or ``X-Api-Key``), ``category`` (a key such as ``hazard``, its Chinese label
or a ``service_code`` such as ``hazard.fire_safety``), ``subcategory``, ``description``,
``lon``/``lat`` with ``coords`` (default ``gcj02``, as ``wx.getLocation`` returns them; ``wgs84``
and ``bd09`` too), ``address``, ``reporter_phone`` (checked; stored as every channel stores it and
masked on every output), ``reporter_name``, and one to nine ``photos`` (JPEG/PNG/HEIC, checked by
their bytes and size). A report without a position takes the first photo's EXIF GPS position
(WGS84); every photo is stored without its metadata. The case is stored in EPSG:4490 degrees.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from access.masking import mask_phone
from api.auth import authenticate, context, request_info
from api.context import ApiContext
from api.errors import bad, error_responses, from_input_error
from api.fields import Form, coords, degrees, idempotency_key, phone, read_form, store, text
from api.keys import Caller
from api.reports import Report, request_hash, source_id
from api.requestlog import RequestInfo
from core import clock
from core.errors import InputError
from intake.photos import MAX_PHOTOS, exif_position, prepare_photos

router = APIRouter(prefix="/snap/v1", tags=["随手拍 snap-and-report"])
HEADERS = {"lon": "lon", "lat": "lat", "text": "description", "address": "address", "category": "category",
           "subcategory": "subcategory", "reporter_phone": "reporter_phone", "reporter_name": "reporter_name"}
_FIELDS: dict[str, Any] = {
    "api_key": {"type": "string"},
    "category": {"type": "string", "description": "hazard / 安全隐患 / hazard.fire_safety"},
    "subcategory": {"type": "string"},
    "description": {"type": "string", "maxLength": 2000},
    "lon": {"type": "number", "minimum": -180, "maximum": 180},
    "lat": {"type": "number", "minimum": -90, "maximum": 90},
    "coords": {"type": "string", "enum": ["gcj02", "wgs84", "bd09"], "description": "default gcj02 (WeChat)"},
    "address": {"type": "string", "maxLength": 300},
    "reporter_phone": {"type": "string"},
    "reporter_name": {"type": "string", "maxLength": 30},
    "photos": {"type": "array", "minItems": 1, "maxItems": MAX_PHOTOS,
               "items": {"type": "string", "format": "binary"}},
}
_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "properties": _FIELDS, "required": ["api_key", "category", "photos"]}}}}}
_ANSWER = {"type": "object", "properties": {
    "case_id": {"type": "integer"}, "status": {"type": "string"}, "position": {"type": "object"},
    "grid_code": {"type": ["string", "null"]}, "photos": {"type": "integer"},
    "reporter_phone": {"type": ["string", "null"]}, "replayed": {"type": "boolean"}}}


def _category(ctx: ApiContext, form: Form) -> tuple[str, str]:
    raw = text(form, "category", limit=60, required=True, fix="send a category: emergency, dispute, hazard or "
               "request (or 突发事件, 矛盾纠纷, 安全隐患, 群众诉求, or a service_code)")
    service = ctx.settings.services.get(raw)
    if service is not None:
        return service.category, form.get("subcategory")[:60] or service.subcategory
    return raw, form.get("subcategory")[:60]


def _where(form: Form, raw: list[tuple[str, bytes]]) -> tuple[str, str, str, str]:
    """``(lon, lat, coords, from)``: the report's own position, else the first photo's EXIF one."""
    lon, lat = degrees(form, "lon", -180, 180), degrees(form, "lat", -90, 90)
    if (lon is None) != (lat is None):
        raise bad("lon" if lon is None else "lat", "only one of lon and lat was given", "send both, or neither")
    if lon is not None and lat is not None:
        return repr(lon), repr(lat), coords(form, "coords", "gcj02"), "request"
    for _, data in raw:
        found = exif_position(data)
        if found is not None:
            return repr(found[0]), repr(found[1]), "wgs84", "photo_exif"
    raise bad("lon", "no position: no lon/lat and no GPS position in the photos",
              "allow location access in the app (wx.getLocation gives gcj02), or take the photo with location on")


def build_report(ctx: ApiContext, caller: Caller, info: RequestInfo, form: Form, key: str | None) -> Report:
    """The :class:`~api.reports.Report` of a 随手拍 form (photos checked, EXIF read, then stripped)."""
    raw = [(filename, data) for field, filename, data in form.files if field == "photos"]
    if len(raw) != len(form.files):
        raise bad("photos", "files must be sent as photos", "name every file field photos")
    if not raw:
        raise bad("photos", "no photo", f"attach 1 to {MAX_PHOTOS} photos (JPEG, PNG or HEIC)")
    try:
        photos = prepare_photos(raw, max_mb=ctx.settings.photo_max_mb)
    except InputError as exc:
        raise from_input_error(exc, field_name=f"photos ({exc.source})") from None
    category, subcategory = _category(ctx, form)
    lon, lat, system, origin = _where(form, raw)
    record = {"source": ctx.settings.snap_source, "source_id": source_id(caller.channel, key), "category": category,
              "subcategory": subcategory, "text": text(form, "description"),
              "address": text(form, "address", limit=300), "lon": lon, "lat": lat,
              "reporter_phone": phone(form, "reporter_phone"),
              "reporter_name": text(form, "reporter_name", limit=30), "reported_at": clock.now().isoformat(sep=" ")}
    values = {k: v for k, v in record.items() if k not in ("source_id", "reported_at")}
    masked = mask_phone(record["reporter_phone"]) or None
    return Report("snap", caller, info, record, system, key, request_hash({**values, "coords": system},
                                                                          [d for _, d in raw]),
                  tuple(photos), HEADERS, {"position_from": origin, "coords_received": system,
                                           "reporter_phone": masked})


@router.post("/reports", summary="随手拍: a report with 1-9 photos", status_code=201, openapi_extra=_BODY, responses={
    201: {"content": {"application/json": {"schema": _ANSWER}}, "description": "stored (200: repeated "
                                                                                 "Idempotency-Key)"},
    **error_responses(400, 401, 403, 413, 422, 429, 503)})
async def post_report(request: Request) -> Response:
    """A snap-and-report with photos; answers the case id and where it was placed (EPSG:4490)."""
    form = await read_form(request, max_files=MAX_PHOTOS)
    caller = await authenticate(request, form.get("api_key"), "report")
    key = idempotency_key(request)
    ctx = context(request)
    report = await run_in_threadpool(build_report, ctx, caller, request_info(request), form, key)
    answer = await store(ctx, report)
    data = answer.data
    body = {"case_id": data["case_id"], "status": "open",
            "position": {"lon": data["lon"], "lat": data["lat"], "crs": "EPSG:4490", "from": data.get("position_from"),
                         "coords_received": data.get("coords_received")},
            "grid_code": data.get("grid_code"), "join_status": data.get("join_status"), "photos": data.get("photos"),
            "reporter_phone": data.get("reporter_phone"), "replayed": answer.replayed}
    return JSONResponse(body, status_code=answer.status,
                        headers={"Idempotent-Replayed": "true"} if answer.replayed else None)
