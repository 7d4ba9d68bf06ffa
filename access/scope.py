"""The caller's scope: which part of the hierarchy a user may read, and what they may do there.

A :class:`Scope` is derived from a user (role + area codes) once per request and handed to
every read (``cases.queries``, ``registry.queries``, ``workforce.queries``); it turns into a SQL
filter on the ``street_code`` / ``community_code`` / ``grid_code`` columns of a table
(:meth:`Scope.clause`) and into a predicate on rows already in memory (:meth:`Scope.allows`).
What a role may do is read from the one permission table, :mod:`access.policy`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import false, or_, true
from sqlalchemy.sql.elements import ColumnElement

from access import policy
from core.errors import InputError

_LEVEL_COLUMNS = ("street_code", "community_code", "grid_code")


def parse_codes(value: str | Iterable[str] | None) -> frozenset[str]:
    """Area codes from a comma- or semicolon-separated string or an iterable, blanks dropped."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        parts = value.replace(";", ",").split(",")
    else:
        parts = [str(v) for v in value]
    return frozenset(p.strip() for p in parts if p and p.strip())


@dataclass(frozen=True)
class Scope:
    """A caller's role and area.

    Parameters
    ----------
    role : str
        One of ``access.policy.ROLES``.
    area_codes : frozenset of str
        Hierarchy codes: a chief's street or community code(s), a worker's grid code(s);
        ignored for the district-wide roles.
    username : str
        The account name, used as the actor of audit entries.
    user_id : int, optional
        The account's id in the store.
    worker_id : str, optional
        The staff number (工号) of a grid worker's or chief's account.
    """

    role: str
    area_codes: frozenset[str] = field(default_factory=frozenset)
    username: str = ""
    user_id: int | None = None
    worker_id: str | None = None

    def __post_init__(self) -> None:
        reach = policy.role_policy(self.role).reach
        object.__setattr__(self, "area_codes", parse_codes(self.area_codes))
        if reach != "district" and not self.area_codes:
            raise InputError(
                "area codes",
                f"a {self.role} needs at least one area code",
                "give the chief a street or community code, the worker their grid code(s)",
                where=self.username or None,
            )

    # -- construction -------------------------------------------------------------------
    @classmethod
    def for_user(cls, user: Any) -> Scope:
        """The scope of ``user`` (any object with ``role``, ``area_codes``, ``username``, ``id``).

        ``area_codes`` may be a comma-separated string or an iterable of codes.
        """
        return cls(
            role=str(user.role),
            area_codes=parse_codes(getattr(user, "area_codes", None)),
            username=str(getattr(user, "username", "") or ""),
            user_id=getattr(user, "id", None),
            worker_id=getattr(user, "worker_id", None) or None,
        )

    # -- capabilities -------------------------------------------------------------------
    @property
    def whole_district(self) -> bool:
        """Whether the scope covers every area."""
        return policy.role_policy(self.role).reach == "district"

    @property
    def records_allowed(self) -> bool:
        """Whether the role may see record-level rows at all (``False`` for ``leader``)."""
        return self.can("read_records")

    def can(self, action: str) -> bool:
        """Whether the role has ``action``, a capability of :data:`access.policy.CAPABILITIES`."""
        return policy.can(self.role, action)

    def require(self, action: str) -> None:
        """Raise :class:`~core.errors.PermissionDenied` unless the role may do ``action``."""
        policy.require(self.role, action, who=self.username)

    def require_records(self) -> None:
        """Raise :class:`~core.errors.PermissionDenied` for roles limited to aggregates."""
        self.require("read_records")

    # -- filters ------------------------------------------------------------------------
    def allows(
        self,
        row: Mapping[str, Any] | Any | None = None,
        *,
        street_code: str | None = None,
        community_code: str | None = None,
        grid_code: str | None = None,
    ) -> bool:
        """Whether a row with these hierarchy codes lies in the scope.

        Parameters
        ----------
        row : mapping or object, optional
            Read ``street_code``/``community_code``/``grid_code`` from it (keys or attributes).
        street_code, community_code, grid_code : str, optional
            The codes, when no ``row`` is given.
        """
        if row is not None:
            get = row.get if isinstance(row, Mapping) else lambda k: getattr(row, k, None)
            street_code, community_code, grid_code = (get(k) for k in _LEVEL_COLUMNS)
        if self.whole_district:
            return True
        if policy.role_policy(self.role).reach == "grid":
            return grid_code is not None and str(grid_code) in self.area_codes
        codes = {str(c) for c in (street_code, community_code, grid_code) if c is not None}
        return bool(codes & self.area_codes)

    def clause(self, columns: Any) -> ColumnElement[bool]:
        """A SQL condition selecting the rows in scope.

        Parameters
        ----------
        columns : ORM class, ``Table.c`` or any object
            Has some of the attributes ``street_code``, ``community_code``, ``grid_code``
            (columns). A chief's codes match any of them, a worker's codes ``grid_code`` only.

        Returns
        -------
        sqlalchemy ColumnElement
            ``true()`` for the district roles; codes are bound parameters (``IN``).
        """
        if self.whole_district:
            return true()
        names = ("grid_code",) if policy.role_policy(self.role).reach == "grid" else _LEVEL_COLUMNS
        cols = [getattr(columns, n) for n in names if getattr(columns, n, None) is not None]
        if not cols or not self.area_codes:
            return false()
        codes = sorted(self.area_codes)
        return or_(*(c.in_(codes) for c in cols))

    def may_unmask(self, kind: str, row: Mapping[str, Any] | Any) -> bool:
        """Whether this caller may see the unmasked personal data of ``row`` (of ``kind``)."""
        if not self.can("unmask") or kind not in policy.role_policy(self.role).unmask_kinds:
            return False
        return self.allows(row)
