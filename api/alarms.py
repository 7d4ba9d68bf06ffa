"""IoT and video alarms: ``POST /alarms/v1/events``, a JSON body signed with the channel's key
(:mod:`api.signing`), from a registered device (:mod:`api.devices`).

Body: ``{"device_id": "CAM-0001", "alarm_id": "A-77", "type": "smoke", "text": "...", "level":
"urgent"}`` (``device_id`` required; ``alarm_id`` or an ``Idempotency-Key`` header makes a resend
safe). The alarm becomes a case at the device's position (EPSG:4490) through
:func:`intake.pipeline.submit`; further alarms of the same device less than ``alarm_merge_minutes``
after its previous one join that case while it is open (answer 200, ``merged: true``) instead of
making new ones. The device's row is updated first in each transaction, which locks it on both
backends, so alarms of one device are merged one after the other even across server processes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from fastapi import APIRouter, Request
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from access.database import unit_of_work
from api import signing
from api.auth import allow, context, limit_anonymous, request_info
from api.context import ApiContext
from api.errors import ApiError, bad, error_responses
from api.keys import Caller, caller_by_id
from api.reports import Answer, Report, repeat, request_hash, source_id, stored_answers
from api.requestlog import RequestInfo, record_accepted
from core import clock, constants
from intake.pipeline import submit
from store.models import ApiDevice, ApiNonce, ApiSubmission, Case

router = APIRouter(prefix="/alarms/v1", tags=["IoT / video alarms"])
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["device_id"], "properties": {
        "device_id": {"type": "string", "maxLength": 64}, "alarm_id": {"type": "string", "maxLength": 64},
        "type": {"type": "string", "maxLength": 40}, "text": {"type": "string", "maxLength": 1000},
        "level": {"type": "string", "enum": list(constants.PRIORITIES)}}}}}},
    "parameters": [{"name": h, "in": "header", "required": True, "schema": {"type": "string"}}
                   for h in (signing.HEADER_KEY_ID, signing.HEADER_TIMESTAMP, signing.HEADER_SIGNATURE)]}
_ANSWER = {"type": "object", "properties": {"case_id": {"type": "integer"}, "merged": {"type": "boolean"},
                                            "alarms_in_case": {"type": "integer"}, "device_id": {"type": "string"}}}


@dataclass(frozen=True)
class Alarm:
    """A verified alarm: who sent it, the parsed body, its idempotency key and signature digest."""

    caller: Caller
    info: RequestInfo
    device_id: str
    kind: str
    text: str
    level: str | None
    key: str | None
    request_hash: str
    nonce: str


def _parse(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad("body", f"not JSON ({exc.__class__.__name__})", 'send {"device_id": "...", "type": "..."}') from None
    if not isinstance(data, dict):
        raise bad("body", "not a JSON object", 'send {"device_id": "...", "type": "..."}')
    for name in ("device_id", "alarm_id", "type", "text", "level"):
        if data.get(name) is not None and not isinstance(data[name], str | int):
            raise bad(name, "not a text value", f'send "{name}" as a string')
    device = str(data.get("device_id") or "").strip()
    if not 0 < len(device) <= 64:
        raise bad("device_id", "missing or longer than 64 characters", "send the id the device was registered with")
    level = str(data.get("level") or "") or None
    if level is not None and level not in constants.PRIORITIES:
        raise bad("level", f"unknown level {level[:20]!r}", f"use one of {', '.join(constants.PRIORITIES)}")
    return data


def _verify(request: Request, ctx: ApiContext, body: bytes) -> Caller:
    key_id = request.headers.get(signing.HEADER_KEY_ID, "").strip()
    with Session(ctx.engine) as session:
        caller = caller_by_id(session, key_id) if key_id else None
    if caller is None:
        raise ApiError(401, signing.HEADER_KEY_ID, "missing, unknown or revoked key id",
                       "send the id of the channel's key (`python -m api keys list`)", reason="bad_key")
    signing.check(caller.key_hash, request.headers.get(signing.HEADER_TIMESTAMP, ""),
                  request.headers.get(signing.HEADER_SIGNATURE, ""), body, now=time.time(),
                  window_s=ctx.settings.alarm_window_seconds)
    return caller


def _locked_device(session: Session, alarm: Alarm) -> ApiDevice:
    """The device row, locked by an update (refused when unknown, inactive or another channel's)."""
    touched = cast(CursorResult[Any], session.execute(update(ApiDevice).where(ApiDevice.id == alarm.device_id)
                                                      .values(alarms_total=ApiDevice.alarms_total + 1)))
    device = session.get(ApiDevice, alarm.device_id, populate_existing=True) if touched.rowcount else None
    if device is None or not device.active or device.channel != alarm.caller.channel:
        raise ApiError(404, "device_id", f"no active device {alarm.device_id[:64]!r} for this channel",
                       f"register it: python -m api devices add {alarm.device_id[:64]} --channel "
                       f"{alarm.caller.channel} --lon LON --lat LAT", reason="unknown_device")
    return device


def _new_case(session: Session, ctx: ApiContext, alarm: Alarm, device: ApiDevice) -> int:
    index, _, rules = ctx.loaded()
    record = {"source": ctx.settings.alarm_source, "source_id": source_id(alarm.caller.channel, alarm.key),
              "category": device.category, "subcategory": device.subcategory or "",
              "text": f"[{alarm.kind or 'alarm'}] {device.name} ({device.id}) {alarm.text}".strip(),
              "lon": repr(device.lon), "lat": repr(device.lat), "priority": alarm.level or device.priority,
              "reported_at": clock.now().isoformat(sep=" ")}
    outcome = submit(session, [record], f"api:{alarm.caller.channel}", hierarchy=index, rules=rules,
                     actor=alarm.caller.actor, note=f"alarm of device {device.id}", audit_target=("api", device.id),
                     audit_detail={"kind": "alarm", "key_id": alarm.caller.key_id}).outcomes[0]
    if outcome.case_id is None:
        field_name, reason, fix = outcome.problems[0] if outcome.problems else ("device_id", "not stored", "resend")
        raise ApiError(400, field_name, reason, fix, reason="rejected")
    return outcome.case_id


def _store_alarm(session: Session, ctx: ApiContext, alarm: Alarm) -> Answer | ApiError:
    now = clock.now()
    window = timedelta(seconds=ctx.settings.alarm_window_seconds)
    if session.get(ApiNonce, alarm.nonce) is not None:
        raise ApiError(409, signing.HEADER_SIGNATURE, "this signed request was already received (a replay)",
                       "sign every request afresh with the current timestamp", reason="replay")
    session.execute(delete(ApiNonce).where(ApiNonce.at < now - 2 * window))
    session.add(ApiNonce(digest=alarm.nonce, at=now))
    if alarm.key:
        stored = stored_answers(session, [(alarm.caller.channel, alarm.key)])
        if stored:
            answer = repeat(next(iter(stored.values())), Report("alarm", alarm.caller, alarm.info, {},
                                                              request_hash=alarm.request_hash))
            if isinstance(answer, Answer):
                record_accepted(session, alarm.info, answer.status, case_id=answer.data.get("case_id"), kind="alarm",
                                outcome="replayed")
            return answer
    device = _locked_device(session, alarm)
    open_case = device.merge_case_id is not None and device.merge_last_at is not None and \
        now - device.merge_last_at <= timedelta(minutes=ctx.settings.alarm_merge_minutes) and \
        session.scalar(select(Case.state).where(Case.id == device.merge_case_id)) in constants.OPEN_STATES
    if open_case:
        case_id, count, status = int(device.merge_case_id or 0), device.merge_count + 1, 200
    else:
        case_id, count, status = _new_case(session, ctx, alarm, device), 1, 201
    device.merge_case_id, device.merge_last_at, device.merge_count = case_id, now, count
    data = {"case_id": case_id, "merged": bool(open_case), "alarms_in_case": count, "device_id": device.id}
    session.add(ApiSubmission(channel=alarm.caller.channel, key_id=alarm.caller.key_id, kind="alarm",
                              idempotency_key=alarm.key, request_hash=alarm.request_hash, case_id=case_id,
                              status_code=status, response=data, at=now))
    record_accepted(session, alarm.info, status, case_id=case_id, kind="alarm", device=device.id,
                    merged=bool(open_case))
    return Answer(status, data)


def handle(ctx: ApiContext, alarm: Alarm) -> Answer | ApiError:
    """Store one alarm (runs on the writer thread); a race lost to another process is retried once."""
    for attempt in (1, 2):
        try:
            with unit_of_work(ctx.engine) as session:
                return _store_alarm(session, ctx, alarm)
        except IntegrityError:
            if attempt == 2:
                raise ApiError(409, signing.HEADER_SIGNATURE, "the alarm conflicts with one stored at the same time",
                               "send it again, signed afresh", reason="conflict") from None
    raise AssertionError("unreachable")


@router.post("/events", summary="A signed alarm of a registered device", status_code=201, openapi_extra=_BODY,
             responses={201: {"content": {"application/json": {"schema": _ANSWER}},
                              "description": "a new case (200: merged into the device's open case)"},
                        **error_responses(400, 401, 403, 404, 409, 413, 422, 429, 503)})
async def post_alarm(request: Request) -> Response:
    """An alarm; merged into the device's open case when it follows the previous one within minutes."""
    ctx = context(request)
    body = await request.body()
    if not request.headers.get(signing.HEADER_KEY_ID):
        limit_anonymous(request)
    caller = await run_in_threadpool(_verify, request, ctx, body)
    request.state.caller = caller
    allow(caller, "alarm")
    ctx.limiter.check(f"key:{caller.key_id}", caller.rate_per_minute or ctx.settings.rate_per_minute,
                      ctx.settings.rate_burst, who=f"key {caller.key_id}")
    data = _parse(body)
    header_key = request.headers.get("idempotency-key")
    key = header_key.strip()[:128] if header_key else (f"{data['device_id']}:{data['alarm_id']}"[:128]
                                                       if data.get("alarm_id") is not None else None)
    digest = hashlib.sha256(request.headers.get(signing.HEADER_SIGNATURE, "").encode("utf-8")).hexdigest()
    alarm = Alarm(caller, request_info(request), str(data["device_id"]).strip(), str(data.get("type") or "")[:40],
                  str(data.get("text") or "")[:1000], data.get("level") or None, key or None,
                  request_hash({k: data.get(k) for k in ("device_id", "alarm_id", "type", "text", "level")}), digest)
    assert ctx.writer is not None
    try:
        answer = await asyncio.wait_for(asyncio.wrap_future(ctx.writer.call(handle, ctx, alarm)),
                                        ctx.settings.submit_timeout_seconds)
    except TimeoutError:
        raise ApiError(503, "", "the alarm could not be stored in time", "send it again (same alarm_id)",
                       headers={"Retry-After": "2"}, reason="timeout") from None
    if isinstance(answer, ApiError):
        raise answer
    return JSONResponse({**answer.data, "replayed": answer.replayed}, status_code=answer.status)
