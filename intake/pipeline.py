"""THE way into the store: :func:`submit` takes records from any channel and, record by record,
normalises them, joins them onto the hierarchy, routes them, drops duplicates and inserts each new
case with its first event, with one audit entry for the submission.

A file import (:mod:`intake.files`) is a thin adapter on top; API channels call the same
function. One call is one transaction of the caller: rows are checked and joined first, then all
new cases and their first events are inserted with bulk statements, so any failure leaves the
store as it was. Duplicates are recognised by (source, source id): submitting a record twice adds
nothing and returns the first case's id.

On a terminal, progress bars on stderr follow the slow steps of a submission (the join, the
routing, the inserts in chunks; :func:`core.progress.progress`); elsewhere nothing is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import ARRAY, String, any_, bindparam, select
from sqlalchemy.orm import Session

from access import audit
from cases import routing
from cases.actions import REPORT_EVENT
from core import clock, constants
from core.errors import InputError
from core.progress import progress
from intake.normalise import Problems, hierarchy_index, join_hierarchy, normalise
from metrics.kpi import settled_measures
from store import partitions, rollup
from store.bulk import bulk_insert
from store.models import Case, CaseEvent, table_of

if TYPE_CHECKING:
    from tqdm import tqdm

_CHUNK = 2000
#: Records joined, and new cases inserted, per step of the progress bars (a terminal only).
_JOIN_CHUNK = 20_000
_INSERT_CHUNK = 5_000
#: Case columns an intake record fills (besides state, assignee and bookkeeping).
_CASE_FIELDS: tuple[str, ...] = (
    "source", "source_id", "category", "subcategory", "text", "address", "reporter_name", "reporter_phone", "lon",
    "lat", "street_code", "community_code", "grid_code", "building_code", "join_status", "priority", "reported_at",
)


@dataclass(frozen=True)
class Outcome:
    """What became of one record.

    ``status`` is ``added`` (a new case), ``duplicate`` (the case with the same source and source
    id; ``case_id`` is that case when it was stored before) or ``rejected`` (``problems`` say why:
    ``(field, reason, fix)`` each).
    """

    position: int
    status: str
    case_id: int | None = None
    routed: bool = False
    problems: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class Submission:
    """The outcome of one :func:`submit`: one :class:`Outcome` per record, in record order."""

    channel: str
    outcomes: tuple[Outcome, ...]

    def count(self, status: str) -> int:
        """How many records ended with ``status``."""
        return sum(o.status == status for o in self.outcomes)

    @property
    def unrouted(self) -> int:
        """New cases the routing rules could not place (they wait in the unrouted queue)."""
        return sum(o.status == "added" and not o.routed for o in self.outcomes)


def records_frame(records: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Records as text cells keyed by case field, index 0..n-1, the required fields present."""
    frame = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    frame = frame.reset_index(drop=True)
    keys = [k for k in constants.CASE_IMPORT_HEADERS if k in frame or k in constants.CASE_IMPORT_REQUIRED]
    return pd.DataFrame({
        key: (frame[key].where(frame[key].notna(), "").astype(str).str.strip() if key in frame
              else pd.Series("", index=frame.index, dtype=object))
        for key in keys
    }, index=frame.index)


def _among(session: Session, column: Any, ids: list[str]) -> Any:
    """``column`` is one of ``ids``: ``= ANY(array)`` on PostgreSQL (one parameter instead of
    thousands, which psycopg spends seconds converting), ``IN (...)`` elsewhere."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", ids, type_=ARRAY(String)))
    return column.in_(ids)


def _stored_ids(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Case ids of the (source, source id) keys already stored."""
    found: dict[tuple[str, str], int] = {}
    by_source: dict[str, list[str]] = {}
    for source, sid in keys:
        by_source.setdefault(source, []).append(sid)
    table = partitions.lookup_table(session.connection())
    for source, ids in by_source.items():
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            rows = session.execute(select(table.c.source_id, table.c.id).where(
                table.c.source == source, _among(session, table.c.source_id, chunk)))
            found.update(((source, sid), cid) for sid, cid in rows)
    return found


def _insert_cases(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert new cases in bulk; return their ids in the order of ``rows`` (read back through the
    unique (source, source_id) index, the same on every backend)."""
    if not rows:
        return []
    bulk_insert(session, table_of(Case), rows)
    ids = _stored_ids(session, [(row["source"], row["source_id"]) for row in rows])
    return [ids[(row["source"], row["source_id"])] for row in rows]


def _insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    bulk_insert(session, table_of(CaseEvent), rows)


def _insert(session: Session, case_rows: list[dict[str, Any]], notes: list[str], *, actor: str, lead: str,
            at: Any, label: str) -> list[int]:
    """Insert the new cases and their first events, chunk by chunk, counting the cases on a progress
    bar; the case ids in the order of ``case_rows``."""
    ids: list[int] = []
    with (progress(len(case_rows), f"{label}: insert", unit="cases") as bar,
          rollup.deferred(session.connection(), settled_measures())):
        for start in range(0, len(case_rows), _INSERT_CHUNK):
            chunk = case_rows[start:start + _INSERT_CHUNK]
            chunk_ids = _insert_cases(session, chunk)
            _insert_events(session, [
                {"case_id": cid, "seq": 1, "action": REPORT_EVENT, "from_state": None, "to_state": "reported",
                 "actor": actor, "at": at, "note": f"{lead}; {text}", "lon": row["lon"], "lat": row["lat"]}
                for cid, row, text in zip(chunk_ids, chunk, notes[start:start + _INSERT_CHUNK], strict=True)
            ])
            ids.extend(chunk_ids)
            bar.update(len(chunk))
    return ids


class _JoinInChunks:
    """A join index (anything with ``join(lon, lat, **options)``) that joins in chunks of
    :data:`_JOIN_CHUNK` records and counts them on a progress bar; the answer is the same."""

    def __init__(self, index: Any, bar: tqdm) -> None:
        self.index, self.bar = index, bar

    def join(self, lon: Any, lat: Any, **options: Any) -> pd.DataFrame:
        """The index's join of ``lon``/``lat`` (arrays), one row per point, index 0..n-1."""
        n = len(lon)
        parts = []
        for start in range(0, max(n, 1), _JOIN_CHUNK):
            stop = min(start + _JOIN_CHUNK, n)
            parts.append(self.index.join(lon[start:stop], lat[start:stop], **options).reset_index(drop=True))
            self.bar.update(stop - start)
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def _values(out: pd.DataFrame) -> list[dict[str, Any]]:
    """The normalised records as plain Python values (None for missing ones)."""
    values = {k: out[k].astype(object).where(out[k].notna(), None).tolist() for k in _CASE_FIELDS[:-1]}
    values["reported_at"] = list(out["reported_at"].dt.to_pydatetime())  # NaT only in rejected rows
    return [{k: values[k][i] for k in _CASE_FIELDS} for i in range(len(out))]


def _fresh(session: Session, rows: list[dict[str, Any]], good: list[int]) -> tuple[list[int], dict[int, int | None]]:
    """The positions of new records, and of duplicates with the stored case id (None: a repeat
    inside this submission)."""
    stored = _stored_ids(session, [(rows[i]["source"], rows[i]["source_id"]) for i in good])
    seen: set[tuple[str, str]] = set()
    fresh: list[int] = []
    duplicates: dict[int, int | None] = {}
    for i in good:
        key = (rows[i]["source"], rows[i]["source_id"])
        if key in seen or key in stored:
            duplicates[i] = stored.get(key)
            continue
        seen.add(key)
        fresh.append(i)
    return fresh, duplicates


def _route(session: Session, rows: list[dict[str, Any]], fresh: list[int], rules: routing.RuleSet, label: str,
           ) -> tuple[list[dict[str, Any]], list[str], list[bool]]:
    routing.sync_departments(session, rules)
    directory = routing.load_directory(session)
    case_rows, notes, routed = [], [], []
    with progress(len(fresh), f"{label}: route", unit="cases") as bar:
        for i in fresh:
            row = dict(rows[i], text=rows[i]["text"] or "")
            decision = routing.route(row, rules, directory)
            row.update(state="reported", assignee_kind=decision.assignee_kind, assignee_id=decision.assignee_id,
                       unrouted_reason=None if decision.routed else decision.reason, supervised=False,
                       rework_count=0, version=1)
            case_rows.append(row)
            notes.append(f"routed by {decision.reason} to {decision.assignee_kind} {decision.assignee_id}"
                         if decision.routed else f"unrouted: {decision.reason}")
            routed.append(decision.routed)
            bar.update(1)
    return case_rows, notes, routed


def _check_options(coords: str, default_source: str) -> None:
    if coords not in constants.COORD_SYSTEMS:
        raise InputError("--coords", f"unknown coordinate system {coords!r}",
                         f"use one of {', '.join(constants.COORD_SYSTEMS)}")
    if default_source not in constants.SOURCES:
        raise InputError("--source", f"unknown source {default_source!r}", f"use one of {', '.join(constants.SOURCES)}")


def submit(
    session: Session,
    records: pd.DataFrame | Sequence[Mapping[str, Any]],
    channel: str,
    *,
    hierarchy: Any = None,
    actor: str = "intake",
    default_source: str = "hotline_12345",
    coords: str = "wgs84",
    rules: routing.RuleSet | None = None,
    snap_m: float | None = None,
    headers: Mapping[str, str] | None = None,
    note: str | None = None,
    audit_detail: Mapping[str, Any] | None = None,
    audit_target: tuple[str, str] | None = None,
) -> Submission:
    """Take records into the store as new cases in state ``reported``, routed (the caller commits).

    Parameters
    ----------
    session : Session
        Open session; on any error the caller rolls back and nothing is stored.
    records : DataFrame or sequence of mappings
        One record per case, keyed by the fields of ``core.constants.CASE_IMPORT_HEADERS``
        (``source_id``, ``category``, ``lon``, ``lat``, ``reported_at`` required; text values,
        lon/lat in degrees of ``coords``, times in local time unless they carry a zone).
    channel : str
        Where the records come from (``file``, and later the API channels); in the audit entry.
    hierarchy : path, dict of layers, or join index, optional
        The grid hierarchy; default the ``hierarchy_path`` setting.
    actor : str
        Written to each case's first event and to the audit entry.
    default_source : str
        Source key of records without one.
    coords : str
        ``wgs84`` (also CGCS2000), ``gcj02`` or ``bd09``.
    rules : RuleSet, optional
        Routing rules; default :func:`cases.routing.load_rules`.
    snap_m : float, optional
        Snap distance (m) for points just outside every grid; default the setting.
    headers : mapping, optional
        Field key -> the name the sender used for it, for the problems' text.
    note : str, optional
        First part of each first event's note (e.g. ``imported from 12345.csv``).
    audit_detail : mapping, optional
        Extra values for the audit entry.
    audit_target : (str, str), optional
        The audit entry's target kind and id; default ``("intake", channel)``.

    Returns
    -------
    Submission
        One outcome per record, in order.
    """
    from core.settings import load_settings

    _check_options(coords, default_source)
    snap_m = load_settings().snap_distance_m if snap_m is None else snap_m
    rules = rules if rules is not None else routing.load_rules()
    target_kind, target_id = audit_target or ("intake", channel)
    frame = records_frame(records)
    out, problems = normalise(frame, headers or {}, default_source)
    index = hierarchy_index(hierarchy)
    with progress(len(frame), f"{target_id}: join", unit="rows") as bar:
        out = join_hierarchy(out, problems, _JoinInChunks(index, bar), coords=coords, snap_m=snap_m)
    rows = _values(out)
    fresh, duplicates = _fresh(session, rows, [i for i in range(len(rows)) if i not in problems.by_row])
    case_rows, notes, routed = _route(session, rows, fresh, rules, target_id)
    now = clock.now()
    ids = _insert(session, case_rows, notes, actor=actor, lead=note or f"received by {channel}", at=now,
                  label=target_id)
    added = dict(zip(fresh, zip(ids, routed, strict=True), strict=True))
    result = _outcomes(channel, len(rows), problems, duplicates, added)
    audit.record(session, actor=actor, action="import", at=now, target_kind=target_kind, target_id=target_id,
                 detail={**(audit_detail or {}), "channel": channel, "rows": len(rows), "added": result.count("added"),
                         "duplicates": result.count("duplicate"), "rejected": result.count("rejected"),
                         "unrouted": result.unrouted})
    session.flush()
    return result


def _outcomes(channel: str, n: int, problems: Problems, duplicates: dict[int, int | None],
              added: dict[int, tuple[int, bool]]) -> Submission:
    outcomes = []
    for i in range(n):
        if i in problems.by_row:
            outcomes.append(Outcome(i, "rejected", problems=tuple(problems.by_row[i])))
        elif i in duplicates:
            outcomes.append(Outcome(i, "duplicate", case_id=duplicates[i]))
        else:
            case_id, routed = added[i]
            outcomes.append(Outcome(i, "added", case_id=case_id, routed=routed))
    return Submission(channel=channel, outcomes=tuple(outcomes))


def submit_one(session: Session, record: Mapping[str, Any], channel: str, **options: Any) -> Outcome:
    """:func:`submit` for a single record; its :class:`Outcome`."""
    return submit(session, [record], channel, **options).outcomes[0]
