"""Open311 GeoReport v2 under ``/open311/v2/``: the service list, service definitions, and
reading requests back with their status (JSON or XML by the path's suffix). POST requests is
:mod:`api.open311_post`.

Service codes map to case categories in ``[api.services]`` (:mod:`core.api_settings`). A key
reads the requests its own channel posted; ``lat``/``long`` are EPSG:4490 degrees; times ISO 8601
with the district's offset. Errors follow the spec: ``[{"code": 400, "description": "..."}]``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.auth import authenticate, context, limit_anonymous, request_info
from api.errors import ApiError, bad, error_responses
from api.keys import Caller
from api.render import Format, content, respond
from api.requestlog import log_accepted
from api.status import request_row
from cases.queries import case_timeline, district_scope, get_case, photo_image
from core import clock, constants
from core.api_settings import ApiSettings, Service
from store.models import ApiSubmission, Case, CasePhoto

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])
#: Default window of GET requests without dates (the spec's 90 days).
DEFAULT_DAYS = 90
#: The service attributes every service asks (GeoReport ``attributes``).
ATTRIBUTES: list[dict[str, Any]] = [
    {"variable": True, "code": "priority", "datatype": "singlevaluelist", "required": False,
     "datatype_description": "urgent, high or normal", "order": 1, "description": "紧急程度 Priority",
     "values": [{"key": k, "name": f"{p.zh} {p.en}"} for k, p in constants.PRIORITIES.items()]},
]
_SERVICE_SCHEMA = {"type": "array", "items": {"type": "object"}}


def _service_row(service: Service) -> dict[str, Any]:
    return {"service_code": service.code, "service_name": service.name, "description": service.description,
            "metadata": True, "type": "realtime", "keywords": ", ".join(service.keywords), "group": service.group}


def check_jurisdiction(settings: ApiSettings, value: str | None) -> None:
    """Refuse a ``jurisdiction_id`` other than this server's."""
    if value and value != settings.jurisdiction_id:
        raise ApiError(404, "jurisdiction_id", f"unknown jurisdiction {value[:60]!r}",
                       f"use {settings.jurisdiction_id!r} or leave jurisdiction_id out")


def find_service(settings: ApiSettings, code: str) -> Service:
    """The service of ``code`` (404 naming the known codes when unknown)."""
    service = settings.services.get(code)
    if service is None:
        raise ApiError(404, "service_code", f"unknown service_code {code[:60]!r}",
                       "pick one from GET /open311/v2/services.json", reason="unknown_service")
    return service


def _audit(request: Request, status: int, **extra: Any) -> Any:
    return run_in_threadpool(log_accepted, context(request).engine, request_info(request), status, **extra)


@router.get("/services.{fmt}", summary="The service list", responses={
    200: {"content": content(_SERVICE_SCHEMA)}, **error_responses(400, 404, 429, open311=True)})
async def services(request: Request, fmt: Format, jurisdiction_id: str | None = Query(None, max_length=200),
                   ) -> Response:
    """Every service (``service_code``, ``service_name``, ``group``, ``metadata`` ...); no key needed."""
    limit_anonymous(request)
    settings = context(request).settings
    check_jurisdiction(settings, jurisdiction_id)
    await _audit(request, 200)
    return respond(fmt, "services", "service", [_service_row(s) for s in settings.services.values()])


@router.get("/services/{service_code}.{fmt}", summary="A service definition (its attributes)", responses={
    200: {"content": content({"type": "object"})}, **error_responses(400, 404, 429, open311=True)})
async def service_definition(request: Request, service_code: str, fmt: Format,
                             jurisdiction_id: str | None = Query(None, max_length=200)) -> Response:
    """The attributes a service asks for (``attribute[priority]``)."""
    limit_anonymous(request)
    settings = context(request).settings
    check_jurisdiction(settings, jurisdiction_id)
    service = find_service(settings, service_code)
    await _audit(request, 200)
    return respond(fmt, "service_definition", "", {"service_code": service.code, "attributes": ATTRIBUTES})


def _when(value: str | None, name: str) -> datetime | None:
    """A w3c date-time as naive local time (a time without offset is local)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise bad(name, f"{value[:40]!r} is not an ISO 8601 date-time",
                  "write e.g. 2026-12-01T00:00:00+08:00") from None
    if parsed.tzinfo is not None:
        from zoneinfo import ZoneInfo

        parsed = parsed.astimezone(ZoneInfo(constants.LOCAL_TIMEZONE)).replace(tzinfo=None)
    return parsed


def _ids(value: str | None) -> list[int]:
    if not value:
        return []
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if len(parts) > 200 or not all(p.isdigit() and len(p) <= 12 for p in parts):
        raise bad("service_request_id", "not a comma-separated list of request ids",
                  "send up to 200 numeric ids, e.g. 1201,1202")
    return [int(p) for p in parts]


def _states(status: str | None) -> list[str]:
    if not status:
        return []
    wanted = {s.strip() for s in status.split(",") if s.strip()}
    if not wanted <= {"open", "closed"}:
        raise bad("status", f"unknown status {status[:40]!r}", "use open, closed or open,closed")
    return [k for k, s in constants.STATES.items() if ("closed" if s.group == "closed" else "open") in wanted]


def _rows(session: Session, request: Request, caller: Caller, case_ids: list[int]) -> list[dict[str, Any]]:
    """GeoReport rows of cases (read through ``cases.queries`` as the channel)."""
    scope = district_scope(caller.actor)
    settings = context(request).settings
    photos = dict(session.execute(select(CasePhoto.case_id, func.min(CasePhoto.id))
                                  .where(CasePhoto.case_id.in_(case_ids)).group_by(CasePhoto.case_id)).all())
    base = str(request.base_url).rstrip("/")
    return [request_row(get_case(session, scope, cid), case_timeline(session, scope, cid), settings,
                        media_url=f"{base}/open311/v2/media/{photos[cid]}.jpg" if cid in photos else None)
            for cid in case_ids]


def _channel_cases(caller: Caller) -> Any:
    return select(ApiSubmission.case_id).where(ApiSubmission.channel == caller.channel)


def _find(request: Request, caller: Caller, flt: dict[str, Any], page: int, size: int) -> list[dict[str, Any]]:
    query = select(Case.id).where(Case.id.in_(_channel_cases(caller)))
    if flt["ids"]:
        query = query.where(Case.id.in_(flt["ids"]))
    else:
        until = flt["end"] or clock.now() + timedelta(days=1)
        since = flt["start"] or until - timedelta(days=DEFAULT_DAYS)
        query = query.where(Case.reported_at >= since, Case.reported_at < until)
    if flt["service"] is not None:
        service: Service = flt["service"]
        query = query.where(Case.category == service.category)
        if service.subcategory:
            query = query.where(Case.subcategory == service.subcategory)
    if flt["states"]:
        query = query.where(Case.state.in_(flt["states"]))
    query = query.order_by(Case.reported_at.desc(), Case.id.desc()).limit(size).offset((page - 1) * size)
    with Session(context(request).engine) as session:
        return _rows(session, request, caller, list(session.scalars(query)))


@router.get("/requests.{fmt}", summary="Requests of the key's channel, with status", responses={
    200: {"content": content(_SERVICE_SCHEMA)}, **error_responses(400, 401, 403, 404, 429, open311=True)})
async def requests_list(request: Request, fmt: Format, api_key: str | None = Query(None, max_length=200),
                        jurisdiction_id: str | None = Query(None, max_length=200),
                        service_request_id: str | None = Query(None, max_length=3000),
                        service_code: str | None = Query(None, max_length=100),
                        start_date: str | None = Query(None, max_length=40),
                        end_date: str | None = Query(None, max_length=40),
                        status: str | None = Query(None, max_length=20),
                        page: int = Query(1, ge=1, le=100_000),
                        page_size: int = Query(50, ge=1, le=1000)) -> Response:
    """Requests this key's channel posted, newest first (default: the last 90 days), with
    ``status`` (open/closed) and ``status_notes``; ``page``/``page_size`` page through them."""
    caller = await authenticate(request, api_key, "report")
    settings = context(request).settings
    check_jurisdiction(settings, jurisdiction_id)
    flt = {"ids": _ids(service_request_id), "start": _when(start_date, "start_date"),
           "end": _when(end_date, "end_date"), "states": _states(status),
           "service": find_service(settings, service_code) if service_code else None}
    rows = await run_in_threadpool(_find, request, caller, flt, page, min(page_size, settings.page_size_max))
    await _audit(request, 200, rows=len(rows))
    return respond(fmt, "service_requests", "request", rows)


def _one(request: Request, caller: Caller, case_id: int) -> list[dict[str, Any]]:
    with Session(context(request).engine) as session:
        owned = session.scalar(_channel_cases(caller).where(ApiSubmission.case_id == case_id).limit(1))
        if owned is None:
            raise ApiError(404, "service_request_id", f"no request {case_id} for this key",
                           "check the id returned by POST requests (each key reads its own channel's requests)",
                           reason="not_found")
        return _rows(session, request, caller, [case_id])


@router.get("/requests/{service_request_id}.{fmt}", summary="One request with its status", responses={
    200: {"content": content(_SERVICE_SCHEMA)}, **error_responses(400, 401, 403, 404, 429, open311=True)})
async def request_one(request: Request, service_request_id: str, fmt: Format,
                      api_key: str | None = Query(None, max_length=200),
                      jurisdiction_id: str | None = Query(None, max_length=200)) -> Response:
    """One request (a list of one, as the spec has it) with ``status`` and ``status_notes``."""
    caller = await authenticate(request, api_key, "report")
    check_jurisdiction(context(request).settings, jurisdiction_id)
    case_id = _ids(service_request_id)
    if len(case_id) != 1:
        raise bad("service_request_id", "not one request id", "send the numeric id POST requests returned")
    rows = await run_in_threadpool(_one, request, caller, case_id[0])
    await _audit(request, 200, case_id=case_id[0])
    return respond(fmt, "service_requests", "request", rows)


def _photo(request: Request, caller: Caller, photo_id: int) -> bytes:
    with Session(context(request).engine) as session:
        case_id = session.scalar(select(CasePhoto.case_id).where(CasePhoto.id == photo_id))
        owned = case_id is not None and session.scalar(
            _channel_cases(caller).where(ApiSubmission.case_id == case_id).limit(1)) is not None
        if not owned:
            raise ApiError(404, "photo_id", f"no photo {photo_id} for this key", "use a media_url of GET requests",
                           reason="not_found")
        return photo_image(session, district_scope(caller.actor), photo_id)


@router.get("/media/{photo_id}.jpg", summary="A photo of a request (JPEG, metadata removed)", responses={
    200: {"content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}},
    **error_responses(401, 403, 404, 429)})
async def media(request: Request, photo_id: int, api_key: str | None = Query(None, max_length=200)) -> Response:
    """The stored JPEG of a request's photo (no EXIF, no position), for its channel's key."""
    caller = await authenticate(request, api_key, "report")
    if not 0 < photo_id < 2**62:
        raise ApiError(404, "photo_id", f"no photo {photo_id}", "use a media_url of GET requests", reason="not_found")
    data = await run_in_threadpool(_photo, request, caller, photo_id)
    await _audit(request, 200, photo_id=photo_id)
    return Response(data, media_type="image/jpeg")
