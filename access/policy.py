"""THE permission table: who may open which page, take which case action, use which capability,
read how far, and assign cases to whom. Every other module reads it; none keeps a role list of its own.

========== ========= ======= ============================ =========================== ==============
role       reach     records pages                        case actions                assigns to
========== ========= ======= ============================ =========================== ==============
admin      district  yes     common, desk, briefing,      command-centre actions      anyone
                             audit log
commander  district  yes     common, desk, briefing       command-centre + supervise  anyone
chief      area      yes     common, desk                 register, dispatch,         people in the
                                                          reassign, verify, rework,   area, any
                                                          extensions, supervise       department
worker     grid      yes     common, field (phone)        accept, return, arrive,     nobody
                                                          handle, request extension
                                                          (own cases only)
leader     district  no      common, briefing (big        supervise                   nobody
                             screen, reports)
========== ========= ======= ============================ =========================== ==============

"Common" pages are the hierarchy, the command map, the KPIs and the four visits.
"Reach" is the part of the hierarchy whose rows a role reads: the whole district, the street or
community codes of the account (``area``), or the account's grids (``grid``). A role without
"records" sees counts and rates only, never a row with personal data. Action keys are those of
:data:`cases.actions.ACTIONS` (the lifecycle decides in which states they apply; this table only
decides who). No imports from the capability packages: the table is plain data.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.constants import Label
from core.errors import InputError, PermissionDenied

#: Pages of the dashboard by their URL path (``views/``), in menu order.
PAGES: tuple[str, ...] = ("hierarchy", "command", "desk", "field", "kpi", "visits", "briefing", "audit-log")
#: Capabilities besides taking case actions.
CAPABILITIES: tuple[str, ...] = ("read_records", "read_aggregates", "unmask", "export", "manage_users", "read_audit",
                                 "record_visits")
#: How far a role reads: whole district, its street/community codes, or its grid codes.
REACHES: tuple[str, ...] = ("district", "area", "grid")

_COMMAND_ACTIONS = frozenset({"register", "void", "dispatch", "reassign", "verify", "rework", "follow_up", "reopen",
                              "close", "archive", "approve_extension", "refuse_extension", "cohandle"})
_FIELD_ACTIONS = frozenset({"accept", "return", "arrive", "handle", "request_extension"})
_ALL_PAGES = frozenset(PAGES)
#: Pages every role opens; the desk (派单台) is the dispatchers', the phone page (工作通) the workers'.
_COMMON_PAGES = frozenset({"hierarchy", "command", "kpi", "visits"})
_RECORD_CAPABILITIES = frozenset({"read_records", "read_aggregates", "unmask", "export"})


@dataclass(frozen=True)
class RolePolicy:
    """One row of the permission table.

    Attributes
    ----------
    key, zh, en : str
        Stable key and labels.
    reach : str
        One of :data:`REACHES`.
    pages : frozenset of str
        Page paths of :data:`PAGES` the role may open.
    actions : frozenset of str
        Case actions (keys of ``cases.actions.ACTIONS``) the role may take.
    own_cases_only : bool
        The actions apply only to cases assigned to the caller (grid workers).
    capabilities : frozenset of str
        Keys of :data:`CAPABILITIES`.
    unmask_kinds : frozenset of str
        Record kinds (``case``, ``household``) whose personal fields the role may reveal, within
        its reach and audited.
    assigns : str or None
        Whom the role may pick as a case's assignee: ``district`` (every active worker, chief and
        department), ``area`` (the people of its own area and any department) or None.
    """

    key: str
    zh: str
    en: str
    reach: str
    pages: frozenset[str]
    actions: frozenset[str]
    own_cases_only: bool
    capabilities: frozenset[str]
    unmask_kinds: frozenset[str]
    assigns: str | None

    @property
    def label(self) -> Label:
        """The role's key and labels."""
        return Label(self.key, self.zh, self.en)


POLICY: dict[str, RolePolicy] = {
    p.key: p
    for p in (
        RolePolicy("admin", "系统管理员", "Administrator", "district",
                   _COMMON_PAGES | {"desk", "audit-log", "briefing"}, _COMMAND_ACTIONS, False,
                   _RECORD_CAPABILITIES | {"manage_users", "read_audit"}, frozenset({"case", "household"}),
                   "district"),
        RolePolicy("commander", "指挥中心值班员", "Command-centre operator", "district",
                   _COMMON_PAGES | {"desk", "briefing"}, _COMMAND_ACTIONS | {"supervise"}, False, _RECORD_CAPABILITIES,
                   frozenset({"case", "household"}), "district"),
        RolePolicy("chief", "网格长", "Grid chief", "area", _COMMON_PAGES | {"desk"},
                   frozenset({"register", "dispatch", "reassign", "verify", "rework", "approve_extension",
                              "refuse_extension", "supervise", "cohandle"}), False, _RECORD_CAPABILITIES,
                   frozenset({"case", "household"}), "area"),
        RolePolicy("worker", "网格员", "Grid worker", "grid", _COMMON_PAGES | {"field"}, _FIELD_ACTIONS, True,
                   _RECORD_CAPABILITIES | {"record_visits"}, frozenset({"household"}), None),
        RolePolicy("leader", "领导", "Leader", "district", _COMMON_PAGES | {"briefing"}, frozenset({"supervise"}),
                   False, frozenset({"read_aggregates"}), frozenset(), None),
    )
}
#: Role labels, in table order.
ROLES: dict[str, Label] = {key: p.label for key, p in POLICY.items()}


def role_policy(role: str) -> RolePolicy:
    """The table row of ``role``.

    Raises
    ------
    core.errors.InputError
        ``role`` is not a key of :data:`POLICY`.
    """
    try:
        return POLICY[role]
    except KeyError:
        msg = f"unknown role {role!r}; use one of {', '.join(POLICY)}"
        raise InputError("role", msg, "correct the account's role") from None


def may_open(role: str, page: str) -> bool:
    """Whether ``role`` may open the page with URL path ``page``."""
    return page in role_policy(role).pages


def may_act(role: str, action: str) -> bool:
    """Whether ``role`` may take case action ``action`` (in some state, on some case)."""
    return action in role_policy(role).actions


def can(role: str, capability: str) -> bool:
    """Whether ``role`` has ``capability`` (a key of :data:`CAPABILITIES`)."""
    if capability not in CAPABILITIES:
        msg = f"unknown capability {capability!r}; expected one of {', '.join(CAPABILITIES)}"
        raise ValueError(msg)
    return capability in role_policy(role).capabilities


def require(role: str, capability: str, *, who: str = "") -> None:
    """Raise :class:`~core.errors.PermissionDenied` unless ``role`` has ``capability``."""
    if not can(role, capability):
        msg = f"role {role} ({who or 'anonymous'}) may not {capability.replace('_', ' ')}"
        raise PermissionDenied(msg)


def roles_that(action: str) -> frozenset[str]:
    """The roles allowed case action ``action``."""
    return frozenset(key for key, p in POLICY.items() if action in p.actions)
