"""THE read API of cases: what pages, exports, the CLI and (later) the API read.

Every function takes the caller's :class:`~access.scope.Scope` (required, never optional) and
filters in SQL with :meth:`Scope.clause`, so a worker never receives another grid's rows,
whatever the page asks. Personal data (reporter names and phones, phone and ID numbers in free
text) is masked on every output (:func:`access.protect.protect`); leaders get rows without any
personal field. A case outside the caller's scope is "not found" exactly like a case that does
not exist (:class:`core.errors.NotFound`), so nobody learns another area's case ids.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from access.exports import audited_export
from access.protect import protect
from access.scope import Scope
from core import constants
from core.errors import InputError, NotFound
from store.models import Case, CaseEvent, CasePhoto
from store.query import (
    area_filter,
    level_column,
    like_pattern,
    limit_rows,
    objects_frame,
    offset_rows,
    rows_frame,
    select_columns,
)

#: States in which a case without an assignee waits in the unrouted queue.
UNROUTED_STATES: tuple[str, ...] = ("reported", "registered", "returned")
EVENT_COLUMNS: tuple[str, ...] = ("seq", "action", "from_state", "to_state", "actor", "at", "note", "lon", "lat")


@dataclass(frozen=True)
class CaseView:
    """One case as a caller may see it (personal fields masked; None for leaders).

    Times are naive local times; ``lon``/``lat`` EPSG:4490 degrees; ``arrival_distance_m`` metres.
    """

    id: int
    source: str
    source_id: str
    category: str
    subcategory: str | None
    state: str
    priority: str
    text: str | None
    address: str | None
    reporter_name: str | None
    reporter_phone: str | None
    lon: float | None
    lat: float | None
    street_code: str | None
    community_code: str | None
    grid_code: str | None
    building_code: str | None
    join_status: str | None
    assignee_kind: str | None
    assignee_id: str | None
    unrouted_reason: str | None
    reported_at: datetime
    registered_at: datetime | None
    dispatched_at: datetime | None
    accepted_at: datetime | None
    arrived_at: datetime | None
    arrival_distance_m: float | None
    handled_at: datetime | None
    verified_at: datetime | None
    followed_up_at: datetime | None
    closed_at: datetime | None
    archived_at: datetime | None
    respond_due: datetime | None
    arrive_due: datetime | None
    close_due: datetime | None
    extension_state: str | None
    extended_close_due: datetime | None
    supervised: bool
    escalation_level: int
    satisfaction: str | None
    rework_count: int
    void_reason: str | None
    version: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CaseView:
        """A view from a mapping of the case columns (pandas missing values become None)."""
        return cls(**{f.name: _plain(row.get(f.name)) for f in fields(cls)})

    def to_dict(self) -> dict[str, Any]:
        """The view as a plain dict."""
        return asdict(self)


#: Columns of :func:`list_cases` (and of case exports), in order.
CASE_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(CaseView))


def _plain(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value


@dataclass(frozen=True)
class CaseFilter:
    """Which cases to read; every field narrows (inside the caller's scope, never wider).

    Attributes
    ----------
    states : tuple of str
        Keys of ``core.constants.STATES`` (empty: any).
    category, source : str, optional
        Exact keys.
    area_codes : tuple of str
        Street, community or grid codes; a case must lie in each.
    assignee_id : str, optional
        Staff number or department name of the assignee.
    unrouted : bool
        Only the unrouted queue (no assignee, in :data:`UNROUTED_STATES`).
    since, until : datetime, optional
        Window ``[since, until)`` on ``reported_at`` (naive local time).
    search : str, optional
        Substring of the text, address or source id (matched literally).
    """

    states: tuple[str, ...] = ()
    category: str | None = None
    source: str | None = None
    area_codes: tuple[str, ...] = ()
    assignee_id: str | None = None
    unrouted: bool = False
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None

    def __post_init__(self) -> None:
        unknown = [s for s in self.states if s not in constants.STATES]
        if unknown:
            raise InputError("state", f"unknown state(s) {', '.join(unknown)}",
                             f"use one of {', '.join(constants.STATES)}")
        object.__setattr__(self, "states", tuple(self.states))
        object.__setattr__(self, "area_codes", tuple(c for c in self.area_codes if c))

    def conditions(self) -> list[ColumnElement[bool]]:
        """The filter as SQL conditions on ``cases`` (bound parameters)."""
        c = Case
        out: list[ColumnElement[bool]] = []
        if self.states:
            out.append(c.state.in_(list(self.states)))
        if self.category:
            out.append(c.category == str(self.category))
        if self.source:
            out.append(c.source == str(self.source))
        out.extend(f for f in (area_filter(c, code) for code in self.area_codes) if f is not None)
        if self.assignee_id:
            out.append(c.assignee_id == str(self.assignee_id))
        if self.unrouted:
            out.extend([c.assignee_id.is_(None), c.state.in_(UNROUTED_STATES)])
        if self.since:
            out.append(c.reported_at >= self.since)
        if self.until:
            out.append(c.reported_at < self.until)
        if self.search:
            pattern = like_pattern(str(self.search))
            out.append(or_(c.text.like(pattern, escape="\\"), c.source_id.like(pattern, escape="\\"),
                           c.address.like(pattern, escape="\\")))
        return out

    def audit_detail(self) -> dict[str, Any]:
        """The filter as JSON-ready values, for an export's audit entry."""
        return {k: v for k, v in asdict(self).items() if v not in (None, "", (), False)}


def district_scope(username: str = "cli") -> Scope:
    """A whole-district ``admin`` scope for trusted district-wide callers (CLI, benches, demo)."""
    return Scope(role="admin", username=username)


def _case_query(scope: Scope, flt: CaseFilter) -> Select[Any]:
    return select_columns(Case, CASE_COLUMNS).where(scope.clause(Case), *flt.conditions())


def list_cases(session: Session, scope: Scope, flt: CaseFilter | None = None, *, limit: int | None = 1000,
               offset: int = 0) -> pd.DataFrame:
    """Cases in the caller's scope matching ``flt``, newest report first, personal data masked.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CASE_COLUMNS`; lon/lat in EPSG:4490 degrees; at most ``limit`` rows
        (100,000 at most) after skipping ``offset``.
    """
    query = _case_query(scope, flt or CaseFilter())
    query = query.order_by(Case.reported_at.desc(), Case.id.desc()).limit(limit_rows(limit)).offset(offset_rows(offset))
    return protect(rows_frame(session, query, CASE_COLUMNS), "case", scope)


def total_cases(session: Session, scope: Scope, flt: CaseFilter | None = None) -> int:
    """How many cases in the caller's scope match ``flt`` (any role)."""
    query = select(func.count()).select_from(Case).where(scope.clause(Case), *(flt or CaseFilter()).conditions())
    return int(session.scalar(query) or 0)


def count_by_state(session: Session, scope: Scope, flt: CaseFilter | None = None) -> dict[str, int]:
    """Cases in the caller's scope per state (every state present, zero when none)."""
    query = (select(Case.state, func.count()).where(scope.clause(Case), *(flt or CaseFilter()).conditions())
             .group_by(Case.state))
    counts = dict.fromkeys(constants.STATES, 0)
    counts.update({state: int(n) for state, n in session.execute(query)})
    return counts


def count_cases(session: Session, scope: Scope, flt: CaseFilter | None = None, *, by: str = "grid") -> pd.DataFrame:
    """Cases per street, community or grid in the caller's scope (any role), filtered by ``flt``.

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``cases``, ``open_cases``; sorted by ``cases`` descending, then code.
    """
    level = level_column(Case, by)
    open_flag = sql_case((Case.state.in_(sorted(constants.OPEN_STATES)), 1), else_=0)
    query = (select(level.label("code"), func.count().label("cases"), func.sum(open_flag).label("open_cases"))
             .where(scope.clause(Case), *(flt or CaseFilter()).conditions()).group_by(level))
    frame = pd.DataFrame([tuple(r) for r in session.execute(query)], columns=["code", "cases", "open_cases"])
    frame[["cases", "open_cases"]] = frame[["cases", "open_cases"]].fillna(0).astype(int)
    return frame.sort_values(["cases", "code"], ascending=[False, True], ignore_index=True)


def _case_in_scope(session: Session, scope: Scope, case_id: object) -> Case:
    try:
        key = int(str(case_id))
    except ValueError:
        raise InputError("case", f"not a case number: {case_id!r}", "give the case's numeric id") from None
    case = session.get(Case, key)
    if case is None or not scope.allows(case):
        raise NotFound(f"no case {key} in your area; check the case number")
    return case


def get_case(session: Session, scope: Scope, case_id: object) -> CaseView:
    """One case as the caller may see it.

    Raises
    ------
    core.errors.NotFound
        No such case, or it lies outside the caller's scope (the same message for both).
    """
    case = _case_in_scope(session, scope, case_id)
    row = protect(objects_frame([case], CASE_COLUMNS), "case", scope).iloc[0].to_dict()
    return CaseView.from_row(row)


def case_timeline(session: Session, scope: Scope, case_id: object) -> pd.DataFrame:
    """The events of one case in order (columns :data:`EVENT_COLUMNS`), notes scrubbed.

    Raises the same errors as :func:`get_case`.
    """
    case = _case_in_scope(session, scope, case_id)
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq))
    return protect(objects_frame(events, EVENT_COLUMNS), "event", scope)


def export_cases(session: Session, scope: Scope, flt: CaseFilter | None = None, *, fmt: str = "csv",
                 now: datetime, ip: str | None = None) -> bytes:
    """The caller's cases (``flt``) as CSV (UTF-8 with BOM) or XLSX bytes, masked like the screen;
    writes an ``export`` audit entry (commit the session afterwards).

    Raises
    ------
    core.errors.PermissionDenied
        For roles without ``export`` (leaders).
    """
    scope.require("export")
    flt = flt or CaseFilter()
    frame = list_cases(session, scope, flt, limit=None)
    return audited_export(session, scope, frame, kind="cases", fmt=fmt, now=now, filters=flt.audit_detail(), ip=ip)


@dataclass(frozen=True)
class PhotoView:
    """A stored photo of a case: JPEG thumbnail bytes, who took it and when."""

    id: int
    case_id: int
    event_seq: int | None
    filename: str
    taken_by: str
    at: datetime
    width: int
    height: int
    thumbnail: bytes


def case_photos(session: Session, scope: Scope, case_id: object) -> list[PhotoView]:
    """The photos of one case in the caller's scope, oldest first (NotFound outside the scope)."""
    case = _case_in_scope(session, scope, case_id)
    rows = session.scalars(select(CasePhoto).where(CasePhoto.case_id == case.id).order_by(CasePhoto.id))
    return [PhotoView(p.id, p.case_id, p.event_seq, p.filename, p.taken_by, p.at, p.width, p.height, p.thumbnail)
            for p in rows]


def photo_image(session: Session, scope: Scope, photo_id: int) -> bytes:
    """The full JPEG of one photo of a case in the caller's scope (NotFound otherwise)."""
    photo = session.get(CasePhoto, int(photo_id))
    if photo is None:
        raise NotFound(f"no photo {photo_id} in your area; check the number")
    _case_in_scope(session, scope, photo.case_id)
    return photo.image
