"""网格事项准入 (grid admission list): which matters may be pushed down to grid workers.

Grid workers are not a catch-all: a district lists the categories and sub-categories a grid worker
may be given (information, mediation, inspections ...). A case a routing rule would hand to the
grid's worker but whose matter is not on the list goes to the list's department instead, and the
routing reason says so. The list is the ``[grid_admission]`` table of ``cases/routing.toml``::

    [grid_admission]
    categories = ["request"]                        # whole categories admitted
    subcategories = ["neighbour", "fire_safety"]    # single sub-categories admitted
    department = "综合执法"                          # where the others go

Without the table every matter is admitted (the rules alone decide).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core import constants
from core.errors import InputError

_KEYS = frozenset({"categories", "subcategories", "department"})
_SUBCATEGORIES = {s.key: cat for cat, subs in constants.SUBCATEGORIES.items() for s in subs}


@dataclass(frozen=True)
class Admission:
    """The admission list: admitted categories and sub-categories, and the department for the rest."""

    categories: frozenset[str]
    subcategories: frozenset[str]
    department: str

    def admits(self, category: str | None, subcategory: str | None) -> bool:
        """Whether a case of ``category``/``subcategory`` may be given to a grid worker."""
        return category in self.categories or (subcategory is not None and subcategory in self.subcategories)

    def matter(self, case: Mapping[str, Any]) -> str:
        """The case's matter as the reason names it: its sub-category, else its category."""
        return str(case.get("subcategory") or case.get("category") or "")


def parse_admission(raw: Any, *, departments: tuple[str, ...], path: str) -> Admission:
    """The ``[grid_admission]`` table, checked (errors name the key and the fix)."""
    where = "[grid_admission]"
    if not isinstance(raw, dict):
        raise InputError(path, "grid_admission must be a table", "write [grid_admission] with lists", where=where)
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise InputError(path, f"unknown key(s) {', '.join(unknown)}", f"use only {', '.join(sorted(_KEYS))}",
                         where=where)
    categories = _keys(raw.get("categories", []), constants.CATEGORIES, "categories", path)
    subcategories = _keys(raw.get("subcategories", []), _SUBCATEGORIES, "subcategories", path)
    department = raw.get("department")
    if department not in departments:
        raise InputError(path, f"department {department!r} is not in the departments list",
                         f"use one of {', '.join(departments)}", where=where)
    return Admission(categories, subcategories, str(department))


def _keys(value: Any, allowed: Mapping[str, Any], key: str, path: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(path, f"{key} must be a list of keys", f'write {key} = ["..."]', where="[grid_admission]")
    bad = [v for v in value if v not in allowed]
    if bad:
        raise InputError(path, f"{key} {', '.join(map(repr, bad))} unknown", f"use keys from {', '.join(allowed)}",
                         where="[grid_admission]")
    return frozenset(value)
