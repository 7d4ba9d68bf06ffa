"""Checking the rows of a registry file (:mod:`registry.roster`): every row is either a candidate
person or a reject naming its row, the problem and the fix.

Problems (``Reject.problem``): ``missing_id``, ``bad_id_format``, ``bad_check_digit`` (GB 11643),
``duplicate_in_file`` (the ID number of an earlier row: the first one counts), ``missing_name``,
``unknown_category``, ``unknown_building``, ``bad_coordinates``, ``outside_grids``, ``no_location``,
``grid_mismatch`` (网格编码 is not the grid of the building or position), ``unknown_worker``,
``too_long``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from registry.groups import Group, group_names, group_of
from registry.idnumber import id_number_problem, normalise_id_number
from registry.places import Place, Places
from registry.roster import Roster

#: Longest values the store keeps.
_LIMITS = {"name": ("户主姓名", 64), "phone": ("联系电话", 32), "household_no": ("户编号", 32)}


@dataclass(frozen=True)
class Reject:
    """A refused row: its number in the file, the problem key, the column, the reason and the fix."""

    row: int
    problem: str
    column: str
    reason: str
    fix: str


@dataclass(frozen=True)
class Candidate:
    """A row that passed every check."""

    row: int
    id_number: str
    name: str
    phone: str | None
    category: str
    household_no: str | None
    place: Place
    worker_id: str | None


def _coordinate(text: str, limit: float) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) and abs(number) <= limit else None


def _place(cells: dict[str, str], places: Places) -> tuple[Place | None, tuple[str, str, str, str] | None]:
    """The home of a row (the building's position when 楼栋编码 is given, else 经度/纬度), or
    ``(None, (problem, column, reason, fix))``."""
    if cells["building_code"]:
        place = places.building(cells["building_code"])
        if place is None:
            return None, ("unknown_building", "楼栋编码", f"unknown building 楼栋编码 {cells['building_code']!r}",
                          "use a building code of the hierarchy (hierarchy.gpkg), or give 经度/纬度 instead")
        return place, None
    if not (cells["lon"] or cells["lat"]):
        return None, ("no_location", "楼栋编码", "neither 楼栋编码 nor 经度/纬度",
                      "give the building code or the position")
    lon, lat = _coordinate(cells["lon"], 180), _coordinate(cells["lat"], 90)
    if lon is None or lat is None:
        return None, ("bad_coordinates", "经度/纬度", f"经度/纬度 {cells['lon']!r}, {cells['lat']!r} are not "
                      "decimal degrees", "write both as decimal degrees (EPSG:4490), or give 楼栋编码")
    place = places.at(lon, lat)
    if place is None:
        return None, ("outside_grids", "经度/纬度", f"position {lon}, {lat} lies outside every grid",
                      "check the coordinates (EPSG:4490 degrees, 经度 first) or give 楼栋编码")
    return place, None


def _problems(cells: dict[str, str], places: Places, groups: dict[str, Group], names: dict[str, str],
              workers: set[str] | None, check_digits: bool
              ) -> tuple[list[tuple[str, str, str, str]], Place | None, str | None]:
    problems = []
    found = id_number_problem(cells["id_number"])
    if found and (check_digits or found[0] != "bad_check_digit"):
        problems.append((found[0], "身份证号", found[1],
                         "check every digit against the ID card (the last one checks the 17 before it)"))
    if not cells["name"]:
        problems.append(("missing_name", "户主姓名", "户主姓名 is empty", "fill in the person's name"))
    category = group_of(cells["category"], groups, names=names)
    if category is None:
        problems.append(("unknown_category", "类别", f"unknown category 类别 {cells['category']!r}",
                         f"use one of {', '.join(g.zh for g in groups.values())}"))
    for key, (column, limit) in _LIMITS.items():
        if len(cells[key]) > limit:
            problems.append(("too_long", column, f"{column} has {len(cells[key])} characters, more than {limit}",
                             f"shorten it to {limit}"))
    if cells["worker_id"] and workers is not None and cells["worker_id"] not in workers:
        problems.append(("unknown_worker", "工号", f"unknown worker 工号 {cells['worker_id']!r}",
                         "use the staff number of an active grid worker, or leave it empty for the grid's"))
    place, wrong = _place(cells, places)
    if wrong:
        problems.append(wrong)
    elif place is not None and cells["grid_code"] and cells["grid_code"] != place.grid_code:
        problems.append(("grid_mismatch", "网格编码", f"网格编码 {cells['grid_code']} is not the grid of the home "
                         f"({place.grid_code})", "correct 网格编码 or 楼栋编码/经度纬度, or leave 网格编码 empty"))
    return problems, place, category


def check_rows(roster: Roster, places: Places, groups: dict[str, Group], *, workers: set[str] | None = None,
               check_digits: bool = True, on_row: Callable[[], object] | None = None,
               ) -> tuple[list[Candidate], list[Reject]]:
    """Every row of ``roster`` as a candidate or a reject (all its problems, the first one's key).

    Parameters
    ----------
    roster : Roster
    places : Places
        Buildings and grids of the hierarchy.
    groups : dict of str to Group
        The registry's groups (:func:`registry.groups.registry_groups`).
    workers : set of str, optional
        Staff numbers a 工号 cell may name (not checked when None).
    check_digits : bool
        Check the GB 11643 check digit (the demo seeding's fake ID numbers fail it on purpose).
    on_row : callable, optional
        Called once per row checked (a progress bar's tick).
    """
    candidates: list[Candidate] = []
    rejects: list[Reject] = []
    first_row: dict[str, int] = {}
    names = group_names(groups)
    columns = {key: roster.cells[key].tolist() for key in roster.cells.columns}  # plain lists: fast to walk
    for i, row in enumerate(roster.rows):
        if on_row is not None:
            on_row()
        cells = {key: values[i] for key, values in columns.items()}
        problems, place, category = _problems(cells, places, groups, names, workers, check_digits)
        number = normalise_id_number(cells["id_number"])
        if number and number in first_row:
            problems.insert(0, ("duplicate_in_file", "身份证号", f"duplicate in file: 身份证号 also in row "
                                f"{first_row[number]}", "keep one row per person"))
        if number:
            first_row.setdefault(number, row)
        if problems or place is None or category is None:
            rejects.append(_reject(row, problems))
            continue
        candidates.append(Candidate(row, number, cells["name"], cells["phone"] or None, category,
                                    cells["household_no"] or None, place, cells["worker_id"] or None))
    return candidates, rejects


def _reject(row: int, problems: list[tuple[str, str, str, str]]) -> Reject:
    """One reject for all the row's problems (each text once), keyed by the first."""
    columns, reasons, fixes = ("; ".join(dict.fromkeys(p[k] for p in problems)) for k in (1, 2, 3))
    return Reject(row, problems[0][0], columns, reasons, fixes)
