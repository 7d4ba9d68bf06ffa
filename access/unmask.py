"""Revealing one personal field of one record to a permitted caller, audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from access import audit
from access.protect import PERSONAL_FIELDS
from access.scope import Scope
from core.errors import InputError, NotFound, PermissionDenied
from store.models import Case, Household

#: Record kinds :func:`unmask` accepts, and their tables.
UNMASK_KINDS: dict[str, Any] = {"case": Case, "household": Household}


def _key(kind: str, record_id: object) -> object:
    if kind != "case":
        return str(record_id)
    try:
        return int(str(record_id))
    except ValueError:
        raise InputError("case", f"not a case number: {record_id!r}", "give the case's numeric id") from None


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
        The caller: the role's ``unmask_kinds`` in :mod:`access.policy`, within its reach.
    kind : str
        ``case`` or ``household``.
    record_id : object
        The case id or household id.
    field : str
        A key of ``access.protect.PERSONAL_FIELDS`` for ``kind``.
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
        Unknown kind or field.
    core.errors.NotFound
        No such record in the caller's scope (whether it exists elsewhere is not said).
    core.errors.PermissionDenied
        The caller's role may not unmask records of this kind.
    """
    if kind not in UNMASK_KINDS:
        raise InputError("kind", f"unknown record kind {kind!r}", f"use one of {', '.join(UNMASK_KINDS)}")
    if field not in PERSONAL_FIELDS[kind]:
        raise InputError("field", f"{kind} has no personal field {field!r}",
                         f"use one of {', '.join(PERSONAL_FIELDS[kind])}")
    row = session.get(UNMASK_KINDS[kind], _key(kind, record_id))
    if row is None or not scope.allows(row):
        raise NotFound(f"no {kind} {record_id} in your area; check the number")
    if not scope.may_unmask(kind, row):
        msg = f"{scope.username or scope.role} ({scope.role}) may not unmask {field} of {kind} {record_id}"
        raise PermissionDenied(msg)
    audit.record(session, actor=scope.username or scope.role, action="unmask", at=now, target_kind=kind,
                 target_id=str(record_id), detail={"field": field, **({"reason": reason} if reason else {})},
                 ip=ip)
    value = getattr(row, field)
    return None if value is None else str(value)
