"""Routing: ordered rules from a readable TOML file decide each case's single assignee.

The file (default ``cases/routing.toml``; setting ``routing_rules_path``) lists departments and
``[[rule]]`` tables; its header comment documents every key. The first rule whose conditions all
match decides; its ``target`` (or ``fallback``) is resolved against the :class:`Directory` of
workers, chiefs and departments. A case no rule can resolve gets no assignee and a reason (the
unrouted queue). A rule with ``theme`` and ``target = "theme_owner"`` routes by a thematic grid
(:mod:`cases.theme_routing`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.admission import Admission, parse_admission
from cases.theme_routing import THEME_OWNER, ThemeLocator, resolve_owner
from core import constants
from core.errors import InputError
from store.models import Department, Worker

#: Target kinds; ``department:<name>`` names a department.
TARGETS: tuple[str, ...] = ("grid_worker", "community_chief", "department:<name>", THEME_OWNER)
_CONDITIONS = ("category", "subcategory", "area", "source")
_RULE_KEYS = frozenset({"name", "target", "fallback", "theme", *_CONDITIONS})
_SUBCATEGORY_KEYS = frozenset(s.key for subs in constants.SUBCATEGORIES.values() for s in subs)


@dataclass(frozen=True)
class Rule:
    """One routing rule (1-based ``number`` in file order)."""

    number: int
    name: str
    target: str
    fallback: str | None = None
    category: frozenset[str] = frozenset()
    subcategory: frozenset[str] = frozenset()
    area: tuple[str, ...] = ()
    source: frozenset[str] = frozenset()
    #: The thematic grid whose cell owner ``theme_owner`` names.
    theme: str | None = None

    def matches(self, case: Mapping[str, Any]) -> bool:
        """Whether every condition of the rule holds for ``case`` (a mapping of case columns)."""
        if self.category and case.get("category") not in self.category:
            return False
        if self.subcategory and case.get("subcategory") not in self.subcategory:
            return False
        if self.source and case.get("source") not in self.source:
            return False
        if self.area:
            codes = [c for c in (case.get("grid_code"), case.get("community_code"), case.get("street_code")) if c]
            if not any(code.startswith(prefix) for code in codes for prefix in self.area):
                return False
        return True


@dataclass(frozen=True)
class RuleSet:
    """The rules of one file, in order, the departments it names and the grid admission list
    (None: every matter may go to a grid worker)."""

    rules: tuple[Rule, ...]
    departments: tuple[str, ...]
    path: str = "routing.toml"
    admission: Admission | None = None
    #: Where ``theme_owner`` rules find a case's thematic cell (set by :func:`load_rules`).
    themes: ThemeLocator | None = None


@dataclass
class Directory:
    """Who can receive cases: the active worker of each grid, the chief of each community,
    the active departments. Build it with :func:`load_directory` (or by hand in tests)."""

    grid_workers: dict[str, str] = field(default_factory=dict)
    community_chiefs: dict[str, str] = field(default_factory=dict)
    departments: frozenset[str] = frozenset()
    #: Every active worker's staff number (a thematic cell's owner may name any of them).
    workers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Route:
    """Routing decision: an assignee, or none with the reason."""

    assignee_kind: str | None
    assignee_id: str | None
    rule: int | None
    reason: str

    @property
    def routed(self) -> bool:
        """Whether the case has an assignee."""
        return self.assignee_id is not None


def _line_of_rule(text: str, number: int) -> int | None:
    count = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        if re.match(r"\s*\[\[\s*rule\s*\]\]", line):
            count += 1
            if count == number:
                return lineno
    return None


def _as_list(value: Any, key: str, fail: Callable[[str, str], None]) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        fail(f"{key} must be a string or a list of strings", f'write e.g. {key} = ["..."]')
    return value


def _check_target(value: Any, key: str, departments: tuple[str, ...], fail: Callable[[str, str], None]) -> str:
    if not isinstance(value, str):
        fail(f"{key} must be a string", f'write {key} = "grid_worker", "community_chief" or "department:<name>"')
    if value in ("grid_worker", "community_chief", THEME_OWNER):
        return value
    if value.startswith("department:"):
        name = value.split(":", 1)[1].strip()
        if name not in departments:
            fail(f"{key} names department {name!r}, which is not in the departments list",
                 f"add {name!r} to departments = [...] at the top, or correct the name")
        return f"department:{name}"
    fail(f"{key} {value!r} is not a target", "use grid_worker, community_chief, department:<name> or theme_owner")
    return value


def parse_rules(text: str, *, path: str = "routing.toml") -> RuleSet:
    """Parse and check a routing file's text.

    Parameters
    ----------
    text : str
        TOML text with ``departments`` and ``[[rule]]`` tables.
    path : str
        Name used in error messages.

    Returns
    -------
    RuleSet

    Raises
    ------
    InputError
        Naming the rule number and line, the problem and the fix.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"not valid TOML ({exc})", "correct the syntax at that line") from exc
    unknown = sorted(set(data) - {"departments", "rule", "grid_admission"})
    if unknown:
        raise InputError(path, f"unknown top-level key(s) {', '.join(unknown)}",
                         "use only departments = [...], [grid_admission] and [[rule]] tables")
    departments = data.get("departments", [])
    if not isinstance(departments, list) or not all(isinstance(d, str) and d.strip() for d in departments):
        raise InputError(path, "departments must be a list of names", 'write departments = ["应急管理", "住建"]')
    departments = tuple(d.strip() for d in departments)
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list) or not raw_rules:
        raise InputError(path, "no [[rule]] tables", "add at least one rule, e.g. [[rule]] target = \"grid_worker\"")
    rules = [_parse_rule(raw, number, text=text, path=path, departments=departments)
             for number, raw in enumerate(raw_rules, start=1)]
    admission = (parse_admission(data["grid_admission"], departments=departments, path=path)
                 if "grid_admission" in data else None)
    return RuleSet(rules=tuple(rules), departments=departments, path=path, admission=admission)


def _parse_rule(raw: dict[str, Any], number: int, *, text: str, path: str, departments: tuple[str, ...]) -> Rule:
    """One ``[[rule]]`` table, checked (errors name the rule number and line)."""
    line = _line_of_rule(text, number)
    where = f"rule {number}" + (f" (line {line})" if line else "")

    def fail(problem: str, fix: str) -> None:
        raise InputError(path, problem, fix, where=where)

    extra = sorted(set(raw) - _RULE_KEYS)
    if extra:
        fail(f"unknown key(s) {', '.join(extra)}", f"use only {', '.join(sorted(_RULE_KEYS))}")
    if "target" not in raw:
        fail("has no target", 'add target = "grid_worker" (or community_chief, department:<name>)')
    target = _check_target(raw["target"], "target", departments, fail)
    fallback = _check_target(raw["fallback"], "fallback", departments, fail) if "fallback" in raw else None
    theme = raw.get("theme")
    if theme is not None and (not isinstance(theme, str) or not theme.strip()):
        fail("theme must be the name of a thematic grid", 'write e.g. theme = "safety"')
    if (THEME_OWNER in (target, fallback)) != (theme is not None):
        fail("theme and target (or fallback) theme_owner go together",
             'write theme = "<name>" with target = "theme_owner", or remove theme')
    values: dict[str, Any] = {}
    for key, allowed in (("category", constants.CATEGORIES), ("subcategory", _SUBCATEGORY_KEYS),
                         ("source", constants.SOURCES)):
        if key in raw:
            items = _as_list(raw[key], key, fail)
            bad = [v for v in items if v not in allowed]
            if bad:
                fail(f"{key} {', '.join(map(repr, bad))} unknown", f"use keys from {', '.join(sorted(allowed))}")
            values[key] = frozenset(items)
    if "area" in raw:
        areas = _as_list(raw["area"], "area", fail)
        bad = [a for a in areas if not a.isdigit()]
        if bad:
            fail(f"area {', '.join(map(repr, bad))} is not a code prefix", "write digits only, e.g. \"370811004\"")
        values["area"] = tuple(areas)
    name = raw.get("name") or f"rule {number}"
    return Rule(number=number, name=str(name), target=target, fallback=fallback,
                theme=theme.strip() if theme else None, **values)


def load_rules(path: str | Path | None = None, *, hierarchy: str | Path | None = None) -> RuleSet:
    """Read and check a routing file (default the ``routing_rules_path`` setting); rules by theme
    find thematic cells in ``hierarchy`` (default the ``hierarchy_path`` setting)."""
    if path is None:
        from core.settings import load_settings

        path = load_settings().routing_rules_path
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(str(path), "routing rules file not found", "create it (see cases/routing.toml)") from exc
    except UnicodeDecodeError as exc:
        raise InputError(str(path), "not UTF-8 text", "save the file as UTF-8") from exc
    rules = parse_rules(text, path=str(path))
    if not any(rule.theme for rule in rules.rules):
        return rules
    if hierarchy is None:
        from core.settings import load_settings

        hierarchy = load_settings().hierarchy_path
    return RuleSet(rules.rules, rules.departments, rules.path, rules.admission, ThemeLocator(hierarchy))


def load_directory(session: Session) -> Directory:
    """The active workers (first by staff number per grid), chiefs and departments in the store."""
    directory = Directory()
    workers = session.execute(
        select(Worker.id, Worker.role, Worker.grid_code, Worker.community_code)
        .where(Worker.active.is_(True)).order_by(Worker.id)
    ).all()
    directory.workers = frozenset(str(w[0]) for w in workers)
    for wid, role, grid, community in workers:
        if role == "worker" and grid:
            directory.grid_workers.setdefault(grid, wid)
        elif role == "chief" and community:
            directory.community_chiefs.setdefault(community, wid)
    directory.departments = frozenset(session.scalars(select(Department.name).where(Department.active.is_(True))))
    return directory


def _resolve(target: str, case: Mapping[str, Any], directory: Directory, rule: Rule | None = None,
             rules: RuleSet | None = None) -> tuple[str | None, str | None, str]:
    if target == THEME_OWNER and rule is not None and rule.theme:
        return resolve_owner(case, rule.theme, directory, rules.themes if rules is not None else None)
    if target == "grid_worker":
        grid = case.get("grid_code")
        if not grid:
            return None, None, f"location is outside every grid (join status {case.get('join_status') or 'unknown'})"
        worker = directory.grid_workers.get(grid)
        return ("worker", worker, "") if worker else (None, None, f"grid {grid} has no worker")
    if target == "community_chief":
        community = case.get("community_code")
        if not community:
            return None, None, "case has no community (location outside the district)"
        chief = directory.community_chiefs.get(community)
        return ("chief", chief, "") if chief else (None, None, f"community {community} has no chief")
    name = target.split(":", 1)[1]
    if name in directory.departments:
        return "department", name, ""
    return None, None, f"department {name} is not in the store (or inactive)"


def route(case: Mapping[str, Any], rules: RuleSet, directory: Directory) -> Route:
    """Decide the assignee of one case.

    Parameters
    ----------
    case : mapping
        Case columns: ``category``, ``subcategory``, ``source``, ``street_code``,
        ``community_code``, ``grid_code``, ``join_status``.
    rules : RuleSet
        From :func:`load_rules` or :func:`parse_rules`.
    directory : Directory
        From :func:`load_directory`.

    Returns
    -------
    Route
        ``assignee_kind`` ``worker`` | ``chief`` | ``department`` and ``assignee_id``, or both
        None with ``reason`` saying why (the unrouted queue). ``reason`` of a routed case names
        the rule.
    """
    for rule in rules.rules:
        if not rule.matches(case):
            continue
        admission = rules.admission
        if rule.target == "grid_worker" and admission and not admission.admits(case.get("category"),
                                                                             case.get("subcategory")):
            kind, ident, why = _resolve(f"department:{admission.department}", case, directory)
            matter = admission.matter(case)
            if ident is not None:
                return Route(kind, ident, rule.number, f"{matter} is not admitted to grids (网格事项准入), "
                                                       f"rule {rule.number} '{rule.name}'")
            return Route(None, None, rule.number, f"{matter} is not admitted to grids and {why}")
        kind, ident, why = _resolve(rule.target, case, directory, rule, rules)
        if ident is None and rule.fallback:
            kind, ident, why2 = _resolve(rule.fallback, case, directory, rule, rules)
            why = f"{why}; fallback: {why2}" if ident is None else why
        if ident is not None:
            return Route(kind, ident, rule.number, f"rule {rule.number} '{rule.name}'")
        return Route(None, None, rule.number, f"{why} (rule {rule.number} '{rule.name}')")
    attrs = ", ".join(f"{k}={case.get(k)}" for k in ("category", "subcategory", "source"))
    return Route(None, None, None, f"no routing rule matches ({attrs})")


def matching_rule(case: Mapping[str, Any], rules: RuleSet) -> Rule | None:
    """The first rule whose conditions ``case`` meets (the one :func:`route` follows), or None."""
    return next((rule for rule in rules.rules if rule.matches(case)), None)


def route_many(cases: Iterable[Mapping[str, Any]], rules: RuleSet, directory: Directory) -> list[Route]:
    """:func:`route` for many cases, in order."""
    return [route(case, rules, directory) for case in cases]


def sync_departments(session: Session, rules: RuleSet) -> int:
    """Add the rule file's departments that the store lacks; return how many were added."""
    existing = set(session.scalars(select(Department.name)))
    missing = [name for name in rules.departments if name not in existing]
    session.add_all(Department(name=name, active=True) for name in missing)
    session.flush()
    return len(missing)
