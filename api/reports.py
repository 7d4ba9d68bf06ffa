"""Storing reports from the API: idempotency, :func:`intake.pipeline.submit`, photos, the answer
kept for repeats, the audit entry — all in one transaction per batch (see :mod:`api.writer`).

A report whose ``Idempotency-Key`` was seen before (per channel) gets the stored answer and adds
nothing; the same key with a different request is refused (422). Cases get the source id
``<channel>:<idempotency key>`` (or a random one), so that even two server processes racing
with the same key end with one case: the store's unique (source, source id) lets one win and the
other retries, then finds the stored answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, tuple_
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from access.database import unit_of_work
from api.errors import ApiError
from api.keys import Caller
from api.requestlog import RequestInfo, record_accepted
from core import clock
from intake.photos import Photo
from intake.pipeline import Outcome, submit
from store.models import ApiSubmission, Case, CasePhoto

if TYPE_CHECKING:
    from api.context import ApiContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Report:
    """One report to store.

    Attributes
    ----------
    kind : str
        ``open311``, ``snap`` or ``alarm``.
    caller : Caller
        The channel's key.
    info : RequestInfo
        For the audit entry.
    record : dict
        Intake fields (``core.constants.CASE_IMPORT_HEADERS`` keys) as text; ``lon``/``lat`` in
        degrees of ``coords``.
    coords : str
        ``wgs84`` (also CGCS2000), ``gcj02`` or ``bd09``.
    idempotency_key : str or None
        The request's ``Idempotency-Key``.
    request_hash : str
        SHA-256 of what the client sent (a repeat must match it).
    photos : tuple of Photo
        Checked photos (metadata stripped), stored with the case's first event.
    headers : mapping
        Intake field -> the name the client used, for error messages.
    extra : dict
        Values added to the stored answer (``position_from``, ``service_code`` ...).
    """

    kind: str
    caller: Caller
    info: RequestInfo
    record: dict[str, str]
    coords: str = "wgs84"
    idempotency_key: str | None = None
    request_hash: str = ""
    photos: tuple[Photo, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """What a stored report answers: HTTP status, the data (``case_id``, ``lon``/``lat`` EPSG:4490
    ...) and whether it repeats an earlier answer."""

    status: int
    data: dict[str, Any]
    replayed: bool = False


def source_id(channel: str, idempotency_key: str | None) -> str:
    """The case's source id: ``<channel>:<key>`` (a long or unusual key by its SHA-256), else random."""
    if not idempotency_key:
        return f"{channel}:{uuid.uuid4().hex}"
    token = idempotency_key
    if len(token) > 36 or not token.replace("-", "").replace("_", "").isalnum() or not token.isascii():
        token = hashlib.sha256(token.encode("utf-8")).hexdigest()[:36]
    return f"{channel}:{token}"


def request_hash(values: Mapping[str, Any], photos: Sequence[bytes] = ()) -> str:
    """SHA-256 of a request's values (sorted JSON) and its raw photos."""
    digest = hashlib.sha256(json.dumps(values, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8"))
    for data in photos:
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def stored_answers(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], ApiSubmission]:
    """The stored submissions of ``(channel, idempotency key)`` pairs."""
    if not keys:
        return {}
    rows = session.scalars(select(ApiSubmission).where(
        tuple_(ApiSubmission.channel, ApiSubmission.idempotency_key).in_(keys)))
    return {(r.channel, r.idempotency_key or ""): r for r in rows}


def repeat(row: ApiSubmission | Answer, report: Report, first_hash: str = "") -> Answer | ApiError:
    """The earlier answer for a repeated key, or a 422 when the request differs from the first."""
    stored_hash = row.request_hash if isinstance(row, ApiSubmission) else first_hash
    if stored_hash != report.request_hash:
        return ApiError(422, "Idempotency-Key", "this key was already used for a different request",
                        "send a new Idempotency-Key with each new report; repeat the same request to get "
                        "the first answer", reason="key_reused")
    if isinstance(row, ApiSubmission):
        return Answer(row.status_code, dict(row.response), replayed=True)
    return Answer(row.status, row.data, replayed=True)


def _rejected(outcome: Outcome, report: Report) -> ApiError:
    field_name, reason, fix = outcome.problems[0]
    more = [f"{f}: {r}" for f, r, _ in outcome.problems[1:]]
    message = reason + (f" (also {'; '.join(more)})" if more else "")
    return ApiError(400, field_name, message, fix, reason="rejected")


def _submit_groups(session: Session, ctx: ApiContext, reports: Sequence[Report], todo: list[int],
                   ) -> dict[int, Outcome]:
    """``intake.submit`` once per (channel, kind, coords) group; the outcome of each report."""
    index, _, rules = ctx.loaded()
    groups: dict[tuple[str, str, str], list[int]] = {}
    for i in todo:
        r = reports[i]
        groups.setdefault((r.caller.channel, r.kind, r.coords), []).append(i)
    outcomes: dict[int, Outcome] = {}
    for (channel, kind, coords), positions in groups.items():
        first = reports[positions[0]]
        result = submit(session, [reports[i].record for i in positions], f"api:{channel}", hierarchy=index,
                        rules=rules, actor=first.caller.actor, coords=coords, headers=first.headers,
                        note=f"received by the API ({kind}, channel {channel})", audit_target=("api", channel),
                        audit_detail={"kind": kind, "key_id": first.caller.key_id})
        outcomes.update(zip(positions, result.outcomes, strict=True))
    return outcomes


def _positions(session: Session, case_ids: list[int]) -> dict[int, tuple[Any, ...]]:
    if not case_ids:
        return {}
    rows = session.execute(select(Case.id, Case.lon, Case.lat, Case.grid_code, Case.join_status)
                           .where(Case.id.in_(case_ids)))
    return {row[0]: tuple(row[1:]) for row in rows}


def _keep(session: Session, report: Report, case_id: int, added: bool, position: tuple[Any, ...],
          routed: bool) -> Answer:
    """Photos, the stored answer and the audit entry of one accepted report."""
    now = clock.now()
    if added:
        session.add_all(CasePhoto(case_id=case_id, event_seq=1, taken_by=report.caller.actor, at=now,
                                  filename=p.filename, width=p.width, height=p.height, image=p.jpeg,
                                  thumbnail=p.thumbnail) for p in report.photos)
    lon, lat, grid, join_status = position
    data = {"case_id": case_id, "lon": None if lon is None else round(lon, 7),
            "lat": None if lat is None else round(lat, 7), "crs": "EPSG:4490", "grid_code": grid,
            "join_status": join_status, "routed": routed, "photos": len(report.photos) if added else 0,
            **report.extra}
    status = 201 if added else 200
    session.add(ApiSubmission(channel=report.caller.channel, key_id=report.caller.key_id, kind=report.kind,
                              idempotency_key=report.idempotency_key, request_hash=report.request_hash,
                              case_id=case_id, status_code=status, response=data, at=now))
    record_accepted(session, report.info, status, case_id=case_id, kind=report.kind,
                    outcome="added" if added else "duplicate", photos=len(report.photos) or None)
    return Answer(status, data)


def _store(session: Session, ctx: ApiContext, reports: Sequence[Report]) -> list[Answer | ApiError]:
    answers: list[Answer | ApiError | None] = [None] * len(reports)
    keys = [(r.caller.channel, r.idempotency_key) for r in reports if r.idempotency_key]
    stored = stored_answers(session, list(dict.fromkeys(keys)))
    first_of: dict[tuple[str, str], int] = {}
    todo: list[int] = []
    for i, r in enumerate(reports):
        key = (r.caller.channel, r.idempotency_key) if r.idempotency_key else None
        if key is not None and key in stored:
            answers[i] = repeat(stored[key], r)
        elif key is None or key not in first_of:
            if key is not None:
                first_of[key] = i
            todo.append(i)
    outcomes = _submit_groups(session, ctx, reports, todo)
    accepted = {i: o for i, o in outcomes.items() if o.status != "rejected" and o.case_id is not None}
    places = _positions(session, [o.case_id for o in accepted.values() if o.case_id is not None])
    for i, outcome in outcomes.items():
        if i not in accepted:
            answers[i] = _rejected(outcome, reports[i]) if outcome.problems else ApiError(
                409, "Idempotency-Key", "the same report is being stored by another request", "send it again")
            continue
        case_id = outcome.case_id
        assert case_id is not None
        answers[i] = _keep(session, reports[i], case_id, outcome.status == "added",
                           places.get(case_id, (None, None, None, None)), outcome.routed)
    for i, r in enumerate(reports):
        if answers[i] is None:  # a repeat of a key first seen in this batch
            first = first_of[(r.caller.channel, r.idempotency_key or "")]
            earlier = answers[first]
            answers[i] = repeat(earlier, r, reports[first].request_hash) if isinstance(earlier, Answer) else earlier
    for report, answer in zip(reports, answers, strict=True):
        if isinstance(answer, Answer) and answer.replayed:
            record_accepted(session, report.info, answer.status, case_id=answer.data.get("case_id"),
                            kind=report.kind, outcome="replayed")
    session.flush()
    return [a if a is not None else ApiError(503, "", "the report was not stored", "send it again") for a in answers]


def store_reports(ctx: ApiContext, reports: Sequence[Report]) -> list[Answer | ApiError]:
    """Store a batch of reports in one transaction; one answer (or refusal) per report, in order.

    When the batch fails in the store (a race with another process on the same idempotency key, a
    lock time-out), each report is tried again alone, so one bad report never costs the others.
    """
    try:
        with unit_of_work(ctx.engine) as session:
            return _store(session, ctx, reports)
    except (IntegrityError, DBAPIError) as exc:
        if len(reports) > 1:
            log.warning("batch of %d reports failed (%s); storing them one by one", len(reports),
                        exc.__class__.__name__)
            return [store_reports(ctx, [r])[0] for r in reports]
        try:
            with unit_of_work(ctx.engine) as session:
                return _store(session, ctx, reports)
        except (IntegrityError, DBAPIError) as again:
            log.warning("report failed twice in the store: %s", again)
            return [ApiError(503, "", "the store is busy", "send the same request again with the same "
                             "Idempotency-Key (no second case will be made)", headers={"Retry-After": "1"},
                             reason="store_busy")]
