"""The 12345 back-channel: ``GET /hotline/v1/changes?cursor=N`` lists the status changes of the
hotline's cases (source ``hotline_12345``, by their 12345 order number) after a cursor, so the
hotline system can pull 办结 (closed) and 满意 (satisfaction) results and answer its callers.

The cursor is the case event's id: pass back ``next_cursor`` to continue; nothing is skipped or
repeated. Events younger than ``backchannel_lag_seconds`` wait for the next pull, so that an
event whose transaction is still committing (with a lower id than one already visible, which can
happen on PostgreSQL) is not jumped over: a page ends before its first young event. Notes are
masked like every output (:mod:`access.protect`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
from fastapi import APIRouter, Query, Request
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from access.protect import protect
from api.auth import authenticate, context, request_info
from api.errors import error_responses
from api.requestlog import log_accepted
from api.status import iso, open_or_closed
from cases.actions import ACTIONS
from cases.queries import district_scope
from core import clock, constants
from store.models import Case, CaseEvent

router = APIRouter(prefix="/hotline/v1", tags=["12345 back-channel"])
#: The case source whose changes the feed carries.
HOTLINE_SOURCE = "hotline_12345"
_ANSWER = {"type": "object", "properties": {
    "changes": {"type": "array", "items": {"type": "object"}}, "next_cursor": {"type": "integer"},
    "more": {"type": "boolean"}}}


def _label(mapping: dict[str, Any], key: str | None) -> str | None:
    item = mapping.get(key or "")
    return f"{item.zh} {item.en}" if item is not None else None


def changes(session: Session, cursor: int, limit: int, lag_s: float) -> tuple[list[dict[str, Any]], int, bool]:
    """State changes of hotline cases after event id ``cursor``, oldest first.

    Returns
    -------
    (changes, next cursor, more)
        Each change: ``cursor`` (event id), ``order_id`` (the 12345 number), ``case_id``,
        ``action``, ``state``/``state_label``, ``status`` (open/closed), ``concluded`` (办结:
        closed or archived), ``satisfaction``/``satisfaction_label`` (the case's current rating),
        ``at`` (ISO 8601, +08:00), ``note`` (masked).
    """
    horizon = clock.now() - timedelta(seconds=lag_s)
    query = (select(CaseEvent.id, CaseEvent.case_id, CaseEvent.action, CaseEvent.to_state, CaseEvent.at,
                    CaseEvent.note, Case.source_id, Case.satisfaction)
             .join(Case, Case.id == CaseEvent.case_id)
             .where(Case.source == HOTLINE_SOURCE, CaseEvent.id > cursor,
                    or_(CaseEvent.from_state.is_(None), CaseEvent.from_state != CaseEvent.to_state))
             .order_by(CaseEvent.id).limit(limit + 1))
    rows = session.execute(query).all()
    young = next((i for i, r in enumerate(rows) if r.at > horizon), None)
    if young is not None:  # stop before the first young event: what follows it waits with it
        rows = rows[:young]
    more = len(rows) > limit or young is not None
    rows = rows[:limit]
    notes = protect(pd.DataFrame({"note": [r.note for r in rows]}, dtype=object), "event",
                    district_scope("api:hotline"))["note"].tolist() if rows else []
    out = [{"cursor": r.id, "order_id": r.source_id, "case_id": r.case_id, "action": r.action,
            "action_label": _label(ACTIONS, r.action), "state": r.to_state,
            "state_label": _label(constants.STATES, r.to_state), "status": open_or_closed(r.to_state),
            "concluded": r.to_state in ("closed", "archived"), "satisfaction": r.satisfaction,
            "satisfaction_label": _label(constants.SATISFACTION, r.satisfaction), "at": iso(r.at), "note": note}
           for r, note in zip(rows, notes, strict=True)]
    return out, (rows[-1].id if rows else cursor), more


@router.get("/changes", summary="Status changes of 12345 cases since a cursor", responses={
    200: {"content": {"application/json": {"schema": _ANSWER}}}, **error_responses(400, 401, 403, 429)})
async def get_changes(request: Request, cursor: int = Query(0, ge=0, le=2**62),
                      limit: int = Query(100, ge=1, le=1000),
                      api_key: str | None = Query(None, max_length=200)) -> Response:
    """Changes after ``cursor`` (0: from the start), at most ``limit``; continue from ``next_cursor``."""
    await authenticate(request, api_key, "hotline")
    ctx = context(request)

    def read() -> tuple[list[dict[str, Any]], int, bool]:
        with Session(ctx.engine) as session:
            return changes(session, cursor, min(limit, ctx.settings.page_size_max),
                           ctx.settings.backchannel_lag_seconds)

    rows, next_cursor, more = await run_in_threadpool(read)
    await run_in_threadpool(log_accepted, ctx.engine, request_info(request), 200, rows=len(rows), cursor=cursor)
    return JSONResponse({"changes": rows, "next_cursor": next_cursor, "more": more})
