"""Scoped reads: the way pages, exports and reports read cases, households, visits and tracks.

Every public function takes the caller's :class:`~access.scope.Scope` (required, never
optional) and filters in SQL with :meth:`Scope.clause`, so a worker never receives another
grid's rows, whatever the page asks. Personal data (names, phone numbers, ID numbers, and
phone/ID numbers written in free text) is masked on every output; :func:`unmask` reveals one
field of one record to a permitted caller and writes an audit entry. Leaders (``leader``) get
counts and rates; their case rows carry no personal fields at all, and registries and tracks
are refused to them.

All values reach SQL as bound parameters; arguments that are not column values (group-by
levels, export formats, record kinds) are checked against fixed allow-lists.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Select, and_, distinct, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from access import audit
from access.masking import MASKERS, map_unique, mask_frame, scrub_text
from access.scope import Scope
from core.constants import OPEN_STATES
from core.errors import InputError, PermissionDenied
from store.models import Case, CaseEvent, Household, Visit, WorkerTrack

#: Columns of :func:`list_cases` (and of case exports), in order.
CASE_COLUMNS: tuple[str, ...] = (
    "id", "source", "source_id", "category", "subcategory", "state", "priority", "text", "address",
    "reporter_name", "reporter_phone", "lon", "lat", "street_code", "community_code", "grid_code",
    "building_code", "join_status", "assignee_kind", "assignee_id", "unrouted_reason", "reported_at",
    "registered_at", "dispatched_at", "accepted_at", "arrived_at", "arrival_distance_m", "handled_at",
    "verified_at", "followed_up_at", "closed_at", "archived_at", "respond_due", "arrive_due", "close_due",
    "extension_state", "extended_close_due", "supervised", "satisfaction", "rework_count", "version",
)
HOUSEHOLD_COLUMNS: tuple[str, ...] = (
    "id", "head_name", "id_number", "phone", "category", "building_code", "grid_code",
    "community_code", "street_code", "lon", "lat",
)
VISIT_COLUMNS: tuple[str, ...] = (
    "id", "household_id", "category", "head_name", "worker_id", "at", "lon", "lat", "outcome",
    "distance_m", "on_site", "grid_code", "community_code", "street_code",
)
TRACK_COLUMNS: tuple[str, ...] = ("worker_id", "at", "lon", "lat", "grid_code", "community_code", "street_code")
EVENT_COLUMNS: tuple[str, ...] = ("seq", "action", "from_state", "to_state", "actor", "at", "note", "lon", "lat")

#: Personal fields of each record kind and their masking kind.
PERSONAL_FIELDS: dict[str, dict[str, str]] = {
    "case": {"reporter_name": "name", "reporter_phone": "phone"},
    "household": {"head_name": "name", "id_number": "id", "phone": "phone"},
    "visit": {"head_name": "name"},
}
#: Record kinds :func:`unmask` accepts.
UNMASK_KINDS: tuple[str, ...] = ("case", "household")
#: Free-text fields scrubbed of phone and ID numbers.
TEXT_FIELDS: dict[str, tuple[str, ...]] = {"case": ("text",), "visit": ("outcome",), "event": ("note",)}
#: Hierarchy levels accepted by the ``by`` argument of the aggregate functions.
LEVELS: dict[str, str] = {"street": "street_code", "community": "community_code", "grid": "grid_code"}
MAX_ROWS = 100_000
EXPORT_FORMATS: tuple[str, ...] = ("csv", "xlsx")


# -- helpers ---------------------------------------------------------------------------------
def _limit(limit: int | None) -> int:
    if limit is None:
        return MAX_ROWS
    try:
        value = int(limit)
    except (TypeError, ValueError):
        raise InputError("limit", f"not a number: {limit!r}", "give a whole number of rows") from None
    return max(0, min(value, MAX_ROWS))


def _offset(offset: int | None) -> int:
    try:
        return max(0, int(offset or 0))
    except (TypeError, ValueError):
        raise InputError("offset", f"not a number: {offset!r}", "give a whole number of rows") from None


def _area_filter(model: Any, area_code: str | None) -> Any:
    """Narrow to one street, community or grid code (on top of the scope, never wider)."""
    if not area_code:
        return None
    code = str(area_code)
    return or_(model.street_code == code, model.community_code == code, model.grid_code == code)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _level_column(model: Any, by: str) -> Any:
    if by not in LEVELS:
        raise InputError("by", f"unknown level {by!r}", f"use one of {', '.join(LEVELS)}")
    return getattr(model, LEVELS[by])


def _frame(rows: Iterable[Any], columns: tuple[str, ...]) -> pd.DataFrame:
    data = [{c: getattr(r, c, None) for c in columns} for r in rows]
    return pd.DataFrame(data, columns=list(columns))


def _columns(model: Any, columns: tuple[str, ...]) -> Select[Any]:
    """A SELECT of plain columns (no ORM objects: tens of thousands of rows stay fast)."""
    return select(*(getattr(model, c) for c in columns))


def _rows(session: Session, query: Select[Any], columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame([tuple(r) for r in session.execute(query)], columns=list(columns))


def _protect(frame: pd.DataFrame, kind: str, scope: Scope) -> pd.DataFrame:
    """Mask (or, for aggregate-only roles, blank) personal columns and scrub free text."""
    personal = {c: k for c, k in PERSONAL_FIELDS.get(kind, {}).items() if c in frame.columns}
    out = mask_frame(frame, personal, blank=not scope.records_allowed)
    redact = not scope.records_allowed
    for column in TEXT_FIELDS.get(kind, ()):
        if column in out.columns:
            out[column] = map_unique(out[column], lambda v: scrub_text(v, redact=redact) if isinstance(v, str) else v)
    return out


def _in_scope_or_raise(scope: Scope, kind: str, ident: object, row: Any) -> None:
    if row is None:
        raise InputError(kind, f"no {kind} {ident}", f"check the {kind} number", where=f"{kind} {ident}")
    if not scope.allows(row):
        msg = f"{kind} {ident} lies outside the area of {scope.username or scope.role} ({scope.role})"
        raise PermissionDenied(msg)


def _case_id(case_id: object) -> int:
    try:
        return int(case_id)
    except (TypeError, ValueError):
        raise InputError("case", f"not a case number: {case_id!r}", "give the case's numeric id") from None


# -- cases -----------------------------------------------------------------------------------
def _case_query(
    scope: Scope,
    *,
    states: Iterable[str] | None,
    category: str | None,
    source: str | None,
    area_code: str | None,
    since: datetime | None,
    until: datetime | None,
    search: str | None,
) -> Select[Any]:
    query = _columns(Case, CASE_COLUMNS).where(scope.clause(Case))
    if states:
        query = query.where(Case.state.in_([str(s) for s in states]))
    if category:
        query = query.where(Case.category == str(category))
    if source:
        query = query.where(Case.source == str(source))
    area = _area_filter(Case, area_code)
    if area is not None:
        query = query.where(area)
    if since:
        query = query.where(Case.reported_at >= since)
    if until:
        query = query.where(Case.reported_at < until)
    if search:
        pattern = _like_pattern(str(search))
        query = query.where(or_(Case.text.like(pattern, escape="\\"), Case.source_id.like(pattern, escape="\\"),
                                Case.address.like(pattern, escape="\\")))
    return query


def list_cases(
    session: Session,
    scope: Scope,
    *,
    states: Iterable[str] | None = None,
    category: str | None = None,
    source: str | None = None,
    area_code: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    search: str | None = None,
    limit: int | None = 1000,
    offset: int = 0,
) -> pd.DataFrame:
    """Cases in the caller's scope, newest first, personal data masked.

    Parameters
    ----------
    session : Session
    scope : Scope
        The caller. Leaders get ``reporter_name``/``reporter_phone`` as None and numbers in the
        text redacted.
    states : iterable of str, optional
        State keys (``core.constants.STATES``).
    category, source : str, optional
        Exact keys.
    area_code : str, optional
        A street, community or grid code to narrow to (inside the scope only).
    since, until : datetime, optional
        Window ``[since, until)`` on ``reported_at`` (local time).
    search : str, optional
        Substring of the text, address or source id (matched literally).
    limit, offset : int
        Paging (at most 100,000 rows).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CASE_COLUMNS`; lon/lat in EPSG:4490 degrees.
    """
    query = _case_query(scope, states=states, category=category, source=source, area_code=area_code,
                        since=since, until=until, search=search)
    query = query.order_by(Case.reported_at.desc(), Case.id.desc()).limit(_limit(limit)).offset(_offset(offset))
    return _protect(_rows(session, query, CASE_COLUMNS), "case", scope)


def count_cases(
    session: Session,
    scope: Scope,
    *,
    by: str = "grid",
    states: Iterable[str] | None = None,
    category: str | None = None,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pd.DataFrame:
    """Number of cases per street, community or grid in the caller's scope (any role),
    filtered like :func:`list_cases` (states, category, source, reported time window).

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``cases``, ``open_cases``; sorted by ``cases`` descending, then code.
    """
    level = _level_column(Case, by)
    query = (
        select(
            level.label("code"),
            func.count().label("cases"),
            func.sum(sql_case((Case.state.in_(sorted(OPEN_STATES)), 1), else_=0)).label("open_cases"),
        )
        .where(scope.clause(Case))
        .group_by(level)
    )
    if states:
        query = query.where(Case.state.in_([str(s) for s in states]))
    if category:
        query = query.where(Case.category == str(category))
    if source:
        query = query.where(Case.source == str(source))
    if since:
        query = query.where(Case.reported_at >= since)
    if until:
        query = query.where(Case.reported_at < until)
    rows = session.execute(query).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["code", "cases", "open_cases"])
    frame[["cases", "open_cases"]] = frame[["cases", "open_cases"]].fillna(0).astype(int)
    return frame.sort_values(["cases", "code"], ascending=[False, True], ignore_index=True)


def get_case(session: Session, scope: Scope, case_id: int) -> dict[str, Any]:
    """One case as a dict (keys :data:`CASE_COLUMNS`), masked.

    Raises
    ------
    core.errors.InputError
        No such case.
    core.errors.PermissionDenied
        The case lies outside the caller's scope.
    """
    case = session.get(Case, _case_id(case_id))
    _in_scope_or_raise(scope, "case", case_id, case)
    return _protect(_frame([case], CASE_COLUMNS), "case", scope).iloc[0].to_dict()


def case_timeline(session: Session, scope: Scope, case_id: int) -> pd.DataFrame:
    """The events of one case in order (columns :data:`EVENT_COLUMNS`), notes scrubbed.

    Raises the same errors as :func:`get_case`.
    """
    case = session.get(Case, _case_id(case_id))
    _in_scope_or_raise(scope, "case", case_id, case)
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq))
    return _protect(_frame(events, EVENT_COLUMNS), "event", scope)


# -- households and visits -------------------------------------------------------------------
def list_households(
    session: Session,
    scope: Scope,
    *,
    category: str | None = None,
    area_code: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Four-visit households in the caller's scope, personal data masked (not for leaders).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`HOUSEHOLD_COLUMNS`, ordered by grid and id; lon/lat EPSG:4490.

    Raises
    ------
    core.errors.PermissionDenied
        For ``leader`` (use :func:`count_households`).
    """
    scope.require_records()
    query = _households(_columns(Household, HOUSEHOLD_COLUMNS).where(scope.clause(Household)),
                        category=category, area_code=area_code, limit=limit)
    return _protect(_rows(session, query, HOUSEHOLD_COLUMNS), "household", scope)


def _households(query: Select[Any], *, category: str | None, area_code: str | None,
                limit: int | None) -> Select[Any]:
    """``query`` on households narrowed to a category and an area, in grid order, limited."""
    if category:
        query = query.where(Household.category == str(category))
    area = _area_filter(Household, area_code)
    if area is not None:
        query = query.where(area)
    return query.order_by(Household.grid_code, Household.id).limit(_limit(limit))


def count_households(session: Session, scope: Scope, *, by: str = "grid") -> pd.DataFrame:
    """Households per area and category in the caller's scope (any role).

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``category``, ``households``.
    """
    level = _level_column(Household, by)
    query = (
        select(level.label("code"), Household.category, func.count().label("households"))
        .where(scope.clause(Household))
        .group_by(level, Household.category)
        .order_by(level, Household.category)
    )
    rows = session.execute(query).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["code", "category", "households"])


def list_visits(
    session: Session,
    scope: Scope,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    household_id: str | None = None,
    worker_id: str | None = None,
    on_site: bool | None = None,
    area_code: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Visits in the caller's scope, newest first, with the household's category and masked name.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`VISIT_COLUMNS`; ``distance_m`` in metres (measured in EPSG:4548 by
        default), ``on_site`` when within ``VISIT_ON_SITE_M``.

    Raises
    ------
    core.errors.PermissionDenied
        For ``leader`` (use :func:`visit_coverage`).
    """
    scope.require_records()
    query = (
        select(Visit, Household.category, Household.head_name)
        .join(Household, Household.id == Visit.household_id)
        .where(scope.clause(Visit))
    )
    if since:
        query = query.where(Visit.at >= since)
    if until:
        query = query.where(Visit.at < until)
    if household_id:
        query = query.where(Visit.household_id == str(household_id))
    if worker_id:
        query = query.where(Visit.worker_id == str(worker_id))
    if on_site is not None:
        query = query.where(Visit.on_site.is_(bool(on_site)))
    area = _area_filter(Visit, area_code)
    if area is not None:
        query = query.where(area)
    query = query.order_by(Visit.at.desc(), Visit.id).limit(_limit(limit))
    data = []
    for visit, category, head_name in session.execute(query):
        row = {c: getattr(visit, c, None) for c in VISIT_COLUMNS}
        row["category"], row["head_name"] = category, head_name
        data.append(row)
    return _protect(pd.DataFrame(data, columns=list(VISIT_COLUMNS)), "visit", scope)


def month_window(period: str | tuple[datetime, datetime]) -> tuple[datetime, datetime]:
    """``"YYYY-MM"`` (or a ``(start, end)`` pair) as a half-open window ``[start, end)``."""
    if isinstance(period, tuple):
        start, end = period
        if not start < end:
            raise InputError("period", f"start {start} is not before end {end}", "swap or correct the dates")
        return start, end
    try:
        start = datetime.strptime(str(period), "%Y-%m")
    except ValueError:
        raise InputError("period", f"not a month: {period!r}", "write it as YYYY-MM, e.g. 2026-11") from None
    end = datetime(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start, end


def visit_coverage(
    session: Session,
    scope: Scope,
    period: str | tuple[datetime, datetime],
    *,
    by: str = "grid",
    category: str | None = None,
) -> pd.DataFrame:
    """Four-visit coverage per area for one period (any role; no personal data).

    Every registered household is due once per period. ``visited`` counts households with at
    least one visit in the period; ``visited_on_site`` only those with an on-site visit (the
    worker's GPS within ``VISIT_ON_SITE_M`` of the household) - the credible figure.

    Parameters
    ----------
    session : Session
    scope : Scope
    period : str or (datetime, datetime)
        ``"YYYY-MM"`` for a calendar month, or a half-open window ``[start, end)``.
    by : str
        ``street``, ``community`` or ``grid``.
    category : str, optional
        One key of ``core.constants.VISIT_CATEGORIES``; default all four.

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``households_due``, ``visited``, ``visited_on_site``, ``coverage``
        (visited ÷ due), ``credible_coverage`` (visited_on_site ÷ due), ``visits``,
        ``visits_on_site``; rates 0..1 (NaN when nothing is due).
    """
    start, end = month_window(period)
    level_h = _level_column(Household, by)
    households = [scope.clause(Household)]
    if category:
        households.append(Household.category == str(category))
    due = dict(session.execute(select(level_h, func.count()).where(*households).group_by(level_h)).all())
    level_v = _level_column(Visit, by)
    on_site = Visit.on_site.is_(True)
    visited_rows = session.execute(
        select(
            level_v,
            func.count(distinct(Visit.household_id)),
            func.count(distinct(sql_case((on_site, Visit.household_id), else_=None))),
            func.count(),
            func.sum(sql_case((on_site, 1), else_=0)),
        )
        .where(scope.clause(Visit), Visit.at >= start, Visit.at < end,
               *([Visit.household_id.in_(select(Household.id).where(*households))] if category else []))
        .group_by(level_v)
    ).all()
    visited = {row[0]: row[1:] for row in visited_rows}
    codes = sorted(set(due) | set(visited), key=lambda c: (c is None, c or ""))
    data = []
    for code in codes:
        n_due = int(due.get(code, 0))
        n_visited, n_on_site, n_visits, n_visits_on_site = (int(v or 0) for v in visited.get(code, (0, 0, 0, 0)))
        data.append({
            "code": code,
            "households_due": n_due,
            "visited": n_visited,
            "visited_on_site": n_on_site,
            "coverage": n_visited / n_due if n_due else float("nan"),
            "credible_coverage": n_on_site / n_due if n_due else float("nan"),
            "visits": n_visits,
            "visits_on_site": n_visits_on_site,
        })
    columns = ["code", "households_due", "visited", "visited_on_site", "coverage", "credible_coverage",
               "visits", "visits_on_site"]
    return pd.DataFrame(data, columns=columns)


def households_to_visit(
    session: Session,
    scope: Scope,
    period: str | tuple[datetime, datetime],
    *,
    category: str | None = None,
    area_code: str | None = None,
    credible: bool = False,
    limit: int | None = None,
) -> pd.DataFrame:
    """Four-visit households still to be visited in ``period``, personal data masked (not for leaders).

    Parameters
    ----------
    session : Session
    scope : Scope
    period : str or (datetime, datetime)
        ``"YYYY-MM"`` or a half-open window, as for :func:`visit_coverage`.
    category : str, optional
        One key of ``core.constants.VISIT_CATEGORIES``.
    area_code : str, optional
        A street, community or grid code inside the caller's scope.
    credible : bool
        Count only on-site visits (GPS at the household) as done: a household visited "on
        paper" only is still listed.
    limit : int, optional

    Returns
    -------
    pandas.DataFrame
        Columns :data:`HOUSEHOLD_COLUMNS` plus ``last_visit_at`` (the latest visit before the
        period's end, or NaT), ordered by grid and id; lon/lat EPSG:4490.

    Raises
    ------
    core.errors.PermissionDenied
        For ``leader`` (use :func:`visit_coverage`).
    """
    scope.require_records()
    start, end = month_window(period)
    done = [Visit.household_id == Household.id, Visit.at >= start, Visit.at < end]
    if credible:
        done.append(Visit.on_site.is_(True))
    last_visit = (select(func.max(Visit.at)).where(Visit.household_id == Household.id, Visit.at < end)
                  .scalar_subquery().label("last_visit_at"))
    query = (select(*(getattr(Household, c) for c in HOUSEHOLD_COLUMNS), last_visit)
             .where(scope.clause(Household), ~select(Visit.id).where(*done).exists()))
    query = _households(query, category=category, area_code=area_code, limit=limit)
    frame = _rows(session, query, (*HOUSEHOLD_COLUMNS, "last_visit_at"))
    frame["last_visit_at"] = pd.to_datetime(frame["last_visit_at"])
    return _protect(frame, "household", scope)


# -- workers' positions and tracks -----------------------------------------------------------
def worker_positions(session: Session, scope: Scope, *, at: datetime | None = None) -> pd.DataFrame:
    """Each worker's latest GPS fix (at or before ``at``) in the caller's scope.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TRACK_COLUMNS`, one row per worker; lon/lat EPSG:4490 degrees.

    Raises
    ------
    core.errors.PermissionDenied
        For ``leader``.
    """
    scope.require_records()
    latest = select(WorkerTrack.worker_id, func.max(WorkerTrack.at).label("at")).where(scope.clause(WorkerTrack))
    if at is not None:
        latest = latest.where(WorkerTrack.at <= at)
    latest = latest.group_by(WorkerTrack.worker_id).subquery()
    query = (
        _columns(WorkerTrack, TRACK_COLUMNS)
        .join(latest, and_(WorkerTrack.worker_id == latest.c.worker_id, WorkerTrack.at == latest.c.at))
        .where(scope.clause(WorkerTrack))
        .order_by(WorkerTrack.worker_id, WorkerTrack.id.desc())
    )
    frame = _rows(session, query, TRACK_COLUMNS)
    return frame.drop_duplicates("worker_id", ignore_index=True)


def worker_track(
    session: Session,
    scope: Scope,
    worker_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """One worker's GPS fixes in time order - only those inside the caller's scope.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TRACK_COLUMNS`.

    Raises
    ------
    core.errors.PermissionDenied
        For ``leader``.
    """
    scope.require_records()
    query = _columns(WorkerTrack, TRACK_COLUMNS).where(scope.clause(WorkerTrack),
                                                       WorkerTrack.worker_id == str(worker_id))
    if since:
        query = query.where(WorkerTrack.at >= since)
    if until:
        query = query.where(WorkerTrack.at < until)
    query = query.order_by(WorkerTrack.at, WorkerTrack.id).limit(_limit(limit))
    return _rows(session, query, TRACK_COLUMNS)


# -- unmasking -------------------------------------------------------------------------------
_MODELS: dict[str, Any] = {"case": Case, "household": Household}


def unmask(
    session: Session,
    scope: Scope,
    kind: str,
    record_id: object,
    field: str,
    *,
    now: datetime,
    ip: str | None = None,
    reason: str | None = None,
) -> str | None:
    """Reveal one personal field of one record, and write an ``unmask`` audit entry.

    Parameters
    ----------
    session : Session
        Commit it afterwards so the audit entry is kept.
    scope : Scope
        Admin and commander: any record; chief: within their area; worker: households of their
        own grid(s); leader: never.
    kind : str
        ``case`` or ``household``.
    record_id : object
        The case id or household id.
    field : str
        A key of :data:`PERSONAL_FIELDS` for ``kind``.
    now : datetime
        Local time, for the audit entry.
    ip, reason : str, optional
        Recorded with the entry (the value itself never is).

    Returns
    -------
    str or None
        The value in clear.

    Raises
    ------
    core.errors.InputError
        Unknown kind, field or record.
    core.errors.PermissionDenied
        The caller may not unmask this record.
    """
    if kind not in UNMASK_KINDS:
        raise InputError("kind", f"unknown record kind {kind!r}", f"use one of {', '.join(UNMASK_KINDS)}")
    if field not in PERSONAL_FIELDS[kind]:
        raise InputError("field", f"{kind} has no personal field {field!r}",
                         f"use one of {', '.join(PERSONAL_FIELDS[kind])}")
    key: object = _case_id(record_id) if kind == "case" else str(record_id)
    row = session.get(_MODELS[kind], key)
    if row is None:
        raise InputError(kind, f"no {kind} {record_id}", f"check the {kind} number")
    if not scope.may_unmask(kind, row):
        msg = f"{scope.username or scope.role} ({scope.role}) may not unmask {field} of {kind} {record_id}"
        raise PermissionDenied(msg)
    audit.record(session, actor=scope.username or scope.role, action="unmask", at=now, target_kind=kind,
                 target_id=str(record_id), detail={"field": field, **({"reason": reason} if reason else {})},
                 ip=ip)
    return getattr(row, field)


def masked(kind: str, field: str, value: str | None) -> str | None:
    """Mask one value the way the lists do (for pages that show a single record)."""
    return MASKERS[PERSONAL_FIELDS[kind][field]](value)


# -- exports ---------------------------------------------------------------------------------
def _neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells starting with ``= + - @`` by ``'`` so spreadsheets do not run them."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].astype(object).map(
                lambda v: "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v
            )
    return safe


def _to_bytes(frame: pd.DataFrame, fmt: str, sheet: str) -> bytes:
    if fmt == "csv":
        return frame.to_csv(index=False).encode("utf-8-sig")  # BOM: opens correctly in Excel/WPS
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name=sheet)
    return buffer.getvalue()


def _export(session: Session, scope: Scope, frame: pd.DataFrame, *, kind: str, fmt: str, now: datetime,
            filters: dict[str, Any], ip: str | None) -> bytes:
    if fmt not in EXPORT_FORMATS:
        raise InputError("format", f"unknown export format {fmt!r}", f"use one of {', '.join(EXPORT_FORMATS)}")
    data = _to_bytes(_neutralise_formulas(frame), fmt, sheet=kind)
    shown = {k: (v.isoformat() if isinstance(v, datetime) else list(v) if isinstance(v, (list, tuple, set)) else v)
             for k, v in filters.items() if v not in (None, "", [], ()) and k not in ("limit", "offset")}
    audit.record(session, actor=scope.username or scope.role, action="export", at=now, target_kind=kind,
                 detail={"format": fmt, "rows": len(frame), "masked": True, "filters": shown}, ip=ip)
    return data


def export_cases(
    session: Session,
    scope: Scope,
    *,
    fmt: str = "csv",
    now: datetime,
    ip: str | None = None,
    **filters: Any,
) -> bytes:
    """The caller's cases (filters as :func:`list_cases`) as CSV (UTF-8 with BOM) or XLSX bytes,
    masked like the screen; writes an ``export`` audit entry (commit the session afterwards).

    Raises
    ------
    core.errors.PermissionDenied
        For ``leader``.
    """
    scope.require("export")
    filters.setdefault("limit", MAX_ROWS)
    frame = list_cases(session, scope, **filters)
    return _export(session, scope, frame, kind="cases", fmt=fmt, now=now, filters=filters, ip=ip)


def export_households(
    session: Session,
    scope: Scope,
    *,
    fmt: str = "csv",
    now: datetime,
    ip: str | None = None,
    **filters: Any,
) -> bytes:
    """The caller's four-visit households as CSV/XLSX bytes, masked; audited like :func:`export_cases`."""
    scope.require("export")
    frame = list_households(session, scope, **filters)
    return _export(session, scope, frame, kind="households", fmt=fmt, now=now, filters=filters, ip=ip)
