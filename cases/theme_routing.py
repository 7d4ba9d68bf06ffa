"""Routing by theme (多网合一): a rule's ``target = "theme_owner"`` sends the case to the owner of
the thematic cell (of the rule's ``theme``) in which the case lies.

The cell comes from the case itself when it carries ``theme_cells`` (``{theme: (cell code,
owner)}``), else from its ``lon``/``lat`` (EPSG:4490 degrees) and the thematic layers stored in
the hierarchy GeoPackage (``python -m geo themes add``), read on first use and again when the file
changes. The owner is a department (``应急管理`` or ``department:应急管理``) or a staff number
(工号) of an active worker or chief.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.errors import InputError

#: The target of a thematic rule.
THEME_OWNER = "theme_owner"


class ThemeLocator:
    """The thematic cell of a point, per theme, from the thematic layers of ``hierarchy``.

    Parameters
    ----------
    hierarchy : str or Path
        ``hierarchy.gpkg`` holding the thematic layers.
    """

    def __init__(self, hierarchy: str | Path) -> None:
        self.path = Path(hierarchy)
        self._index: Any = None
        self._stamp: int | None = None

    def __getstate__(self) -> dict[str, Any]:  # pickled (e.g. cached) without the index
        return {"path": self.path, "_index": None, "_stamp": None}

    def _current(self) -> Any:
        from geo.themes import ThemeIndex, read_themes

        stamp = self.path.stat().st_mtime_ns if self.path.exists() else None
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._index = ThemeIndex(read_themes(self.path)) if stamp is not None else None
            except InputError:
                self._index = None
        return self._index

    def cell(self, theme: str, lon: Any, lat: Any) -> tuple[str, str] | None:
        """``(cell code, owner)`` of the ``theme`` cell holding (lon, lat), or None."""
        import numpy as np

        index = self._current()
        if index is None or not _finite(lon) or not _finite(lat):
            return None
        found = index.locate(np.array([float(lon)]), np.array([float(lat)]), theme).iloc[0]
        return (str(found["code"]), str(found["owner"])) if found["code"] else None

    def themes(self) -> list[str]:
        """The themes the hierarchy holds (empty when it holds none or is missing)."""
        index = self._current()
        return [] if index is None else index.themes


def _finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def theme_cell(case: Mapping[str, Any], theme: str, locator: ThemeLocator | None) -> tuple[str, str] | None:
    """The case's cell of ``theme``: from ``case["theme_cells"]`` when given, else located by its
    ``lon``/``lat``; None when the case lies in no cell."""
    given = case.get("theme_cells")
    if isinstance(given, Mapping):
        value = given.get(theme)
        return (str(value[0]), str(value[1])) if value else None
    return locator.cell(theme, case.get("lon"), case.get("lat")) if locator is not None else None


def resolve_owner(case: Mapping[str, Any], theme: str, directory: Any,
                  locator: ThemeLocator | None) -> tuple[str | None, str | None, str]:
    """``(kind, id, "")`` of the owner of the case's ``theme`` cell, or ``(None, None, why)``.

    Parameters
    ----------
    case : mapping
        Case columns (``lon``, ``lat`` or ``theme_cells``).
    theme : str
    directory : cases.routing.Directory
        Active departments, grid workers, chiefs and workers.
    locator : ThemeLocator, optional
    """
    cell = theme_cell(case, theme, locator)
    if cell is None:
        held = locator.themes() if locator is not None and not isinstance(case.get("theme_cells"), Mapping) else None
        if held is not None and theme not in held:
            return None, None, f"the hierarchy holds no thematic layer {theme!r}"
        return None, None, f"location is in no {theme} cell"
    code, owner = cell
    name = owner.split(":", 1)[1].strip() if owner.startswith("department:") else owner
    if not name:
        return None, None, f"{theme} cell {code} has no owner"
    if name in directory.departments:
        return "department", name, ""
    if name in set(directory.community_chiefs.values()):
        return "chief", name, ""
    if name in set(directory.grid_workers.values()) | set(getattr(directory, "workers", ())):
        return "worker", name, ""
    return None, None, f"owner {name!r} of {theme} cell {code} is neither an active department nor a worker"
