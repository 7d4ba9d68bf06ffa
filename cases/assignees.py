"""Who a dispatcher may pick when dispatching (派遣), re-dispatching or reassigning (改派) a case.

Whom a role may pick is the ``assigns`` column of the permission table (:mod:`access.policy`):
admin and commander pick anyone active in the district; a chief (网格长) picks the active grid
workers and chiefs inside their own area (:class:`access.scope.Scope`) and any active
department. Departments are the ``departments`` table (filled from ``cases/routing.toml`` by
``cases.routing.sync_departments``). The routed default is the case's current assignee, or what
the routing rules decide for it (a case sent back, 退单, has none). A reassignment offers
everyone but the current assignee, with the rules' pick pre-selected when it is someone else.

No Streamlit here: pages call :func:`candidates` for the picker and :func:`check_assignee` in
the transaction that dispatches, so a hand-made request cannot reach past the scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.masking import mask_name
from access.policy import role_policy
from access.scope import Scope
from cases.queries import CaseView
from cases.routing import RuleSet, load_directory, route
from core.errors import InputError, PermissionDenied
from store.models import Department, Worker

#: Assignee kinds a picker offers, in display order (``cases.lifecycle.ASSIGNEE_KINDS``).
KINDS: tuple[str, ...] = ("worker", "chief", "department")
_KIND_LABELS: dict[str, dict[str, str]] = {
    "worker": {"zh": "网格员", "en": "Grid worker"},
    "chief": {"zh": "网格长", "en": "Grid chief"},
    "department": {"zh": "部门", "en": "Department"},
}


@dataclass(frozen=True)
class Assignee:
    """One possible assignee of a case.

    ``name`` is masked for people (``access.masking.mask_name``); ``grid_code`` and
    ``community_code`` are None for departments.
    """

    kind: str
    id: str
    name: str
    community_code: str | None = None
    grid_code: str | None = None

    @property
    def key(self) -> str:
        """``"<kind>:<id>"``, a stable widget value."""
        return f"{self.kind}:{self.id}"

    def label(self, lang: str = "zh") -> str:
        """Display text, e.g. ``"网格员 WG0001 张* (370811004001001)"``."""
        kind = _KIND_LABELS[self.kind]["en" if lang == "en" else "zh"]
        if self.kind == "department":
            return f"{kind} {self.name}"
        area = self.grid_code or self.community_code
        return f"{kind} {self.id} {self.name}" + (f" ({area})" if area else "")


def _require_dispatcher(scope: Scope) -> None:
    if role_policy(scope.role).assigns is None:
        msg = f"role {scope.role} ({scope.username or 'anonymous'}) may not dispatch cases, so has no assignees to pick"
        raise PermissionDenied(msg)


def _in_scope(scope: Scope, community: str | None, grid: str | None,
              community_streets: Mapping[str, str] | None) -> bool:
    if role_policy(scope.role).assigns == "district":
        return True
    street = (community_streets or {}).get(str(community)) if community else None
    return scope.allows(street_code=street, community_code=community, grid_code=grid)


def _person(row: Any) -> Assignee:
    kind = "chief" if row.role == "chief" else "worker"
    return Assignee(kind, str(row.id), mask_name(row.name) or "", row.community_code, row.grid_code)


def candidates(
    session: Session,
    scope: Scope,
    *,
    community_streets: Mapping[str, str] | None = None,
) -> list[Assignee]:
    """The assignees ``scope`` may pick: people first (workers by grid, then chiefs), then departments.

    Parameters
    ----------
    session : Session
    scope : Scope
        The dispatcher. Admin and commander: every active worker and chief; chief: those whose
        grid or community lies in the scope's area codes.
    community_streets : mapping of str to str, optional
        Community code → street code (the hierarchy's ``communities`` level), needed for a
        chief whose area is a whole street (the workers table stores no street code).

    Returns
    -------
    list of Assignee
        Only active workers, chiefs and departments.

    Raises
    ------
    core.errors.PermissionDenied
        The role may not dispatch (worker, leader).
    """
    _require_dispatcher(scope)
    rows = session.execute(
        select(Worker.id, Worker.name, Worker.role, Worker.grid_code, Worker.community_code)
        .where(Worker.active.is_(True))
    ).all()
    people = [_person(r) for r in rows
              if r.role in ("worker", "chief") and _in_scope(scope, r.community_code, r.grid_code, community_streets)]
    people.sort(key=lambda a: (a.kind != "worker", a.grid_code or a.community_code or "", a.id))
    departments = session.scalars(select(Department.name).where(Department.active.is_(True)).order_by(Department.name))
    return people + [Assignee("department", str(name), str(name)) for name in departments]


def check_assignee(
    session: Session,
    scope: Scope,
    kind: str,
    ident: str,
    *,
    community_streets: Mapping[str, str] | None = None,
) -> Assignee:
    """The assignee ``kind``/``ident`` if ``scope`` may pick it; raise otherwise.

    Call it in the transaction that dispatches, before ``cases.lifecycle.transition``.

    Raises
    ------
    core.errors.InputError
        Unknown kind, or no active worker, chief or department by that id.
    core.errors.PermissionDenied
        The role may not dispatch, or (chief) the person works outside the chief's area.
    """
    _require_dispatcher(scope)
    if kind not in KINDS:
        raise InputError("assignee_kind", f"unknown assignee kind {kind!r}", f"use one of {', '.join(KINDS)}")
    ident = str(ident or "").strip()
    if kind == "department":
        dept = session.get(Department, ident)
        if dept is None or not dept.active:
            raise InputError("assignee_id", f"no active department {ident!r}", "pick a department from the list")
        return Assignee("department", dept.name, dept.name)
    person = session.get(Worker, ident)
    if person is None or not person.active or person.role not in ("worker", "chief"):
        raise InputError("assignee_id", f"no active grid worker or chief {ident!r}",
                         "pick a person by staff number (工号) from the list")
    if kind == "chief" and person.role != "chief":
        raise InputError("assignee_id", f"{ident} is a grid worker, not a chief", "pick them as a grid worker")
    if not _in_scope(scope, person.community_code, person.grid_code, community_streets):
        where = person.grid_code or person.community_code or "no area"
        area = ", ".join(sorted(scope.area_codes)) or "none"
        who = f"{scope.role} {scope.username}" if scope.username else scope.role
        msg = f"{who} may not assign {ident} ({where}): outside their area {area}; pick someone in their own area"
        raise PermissionDenied(msg)
    return Assignee(kind, person.id, mask_name(person.name) or "", person.community_code, person.grid_code)


def routed_default(session: Session, case: CaseView, *, rules: RuleSet | None = None,
                   keep_current: bool = True) -> tuple[str, str] | None:
    """``(kind, id)`` the case would go to: its current assignee, else the routing rules' pick.

    Parameters
    ----------
    case : CaseView
        The case (``cases.queries.get_case``): ``assignee_kind``, ``assignee_id`` and
        the routing inputs (``category``, ``subcategory``, ``source``, area codes, ``join_status``).
    rules : cases.routing.RuleSet, optional
        The routing rules; without them only the current assignee counts.
    keep_current : bool
        False: ignore the current assignee and ask the rules only (for a reassignment).

    Returns
    -------
    (str, str) or None
        None when the case has no assignee and the rules cannot route it.
    """
    kind, ident = case.assignee_kind, case.assignee_id
    if keep_current and kind and ident:
        return kind, ident
    if rules is None:
        return None
    decision = route({k: (v if isinstance(v, str) else None) for k, v in case.to_dict().items()}, rules,
                     load_directory(session))
    if not decision.routed or not decision.assignee_kind or not decision.assignee_id:
        return None
    return decision.assignee_kind, decision.assignee_id


def picker(
    session: Session,
    scope: Scope,
    case: CaseView,
    *,
    rules: RuleSet | None = None,
    community_streets: Mapping[str, str] | None = None,
    action: str = "dispatch",
) -> tuple[list[Assignee], int | None]:
    """The picker of one case: :func:`candidates` and the index of the routed default in it
    (None when the default is missing or outside the dispatcher's scope).

    ``action`` ``dispatch`` (default) or ``reassign``: a reassignment leaves the current
    assignee out and pre-selects the rules' pick only when it is someone else.
    """
    if action not in ("dispatch", "reassign"):
        msg = f"unknown picker action {action!r}; use dispatch or reassign"
        raise ValueError(msg)
    options = candidates(session, scope, community_streets=community_streets)
    if action == "reassign":
        current = (case.assignee_kind, case.assignee_id)
        options = [a for a in options if (a.kind, a.id) != current]
    default = routed_default(session, case, rules=rules, keep_current=action == "dispatch")
    index = None
    if default is not None:
        keys = [(a.kind, a.id) for a in options]
        index = keys.index(default) if default in keys else None
    return options, index
