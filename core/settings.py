"""Configuration: one file (``gridcommand.toml``) over built-in defaults.

Lookup order for each value: environment variable (where one is named below), then the file
named by ``GRIDCOMMAND_CONFIG`` (default ``gridcommand.toml`` at the project root), then the
defaults in :class:`Settings`. Paths in the file are relative to the project root.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from core import constants
from core.errors import InputError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class BasemapSettings:
    """Basemap choice. ``kind`` is one of ``none``, ``xyz``, ``tianditu``, ``amap``, ``osm``."""

    kind: str = "none"
    #: Tile URL template for ``xyz`` (a local or intranet tile server).
    url: str = ""
    #: Tianditu key (天地图 token) for ``tianditu``.
    key: str = ""
    attribution: str = ""


@dataclass(frozen=True)
class CalendarSettings:
    """Local changes to China's working calendar (``[calendar]``; see :mod:`cases.calendar`)."""

    #: Extra days off, e.g. ``holidays = ["2026-10-09"]``: deadlines skip them.
    holidays: tuple[date, ...] = ()
    #: Extra working days, e.g. ``workdays = ["2026-10-10"]`` (a make-up Saturday): deadlines count them.
    workdays: tuple[date, ...] = ()


@dataclass(frozen=True)
class RegistrySettings:
    """The key-population registry and its visits (``[registry]``; read by :mod:`registry.groups`)."""

    #: A visit is verified on site within this distance (m) of the person's building.
    on_site_m: float = constants.VISIT_ON_SITE_M
    #: Consecutive visits of one worker faster than this (km/h) are suspicious.
    max_speed_kmh: float = constants.VISIT_MAX_SPEED_KMH
    #: Visits of one worker to this many different persons from one position are suspicious.
    shared_position_visits: int = constants.VISIT_SHARED_POSITION_VISITS
    #: Visit frequency per group key over ``constants.GROUP_FREQUENCIES``, e.g. ``frequency =
    #: {disabled = "monthly"}``.
    frequency: dict[str, str] = field(default_factory=dict)
    #: More key groups: ``[registry.groups.veteran] zh = "退役军人", en = "Veteran", frequency = "quarterly"``.
    groups: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """Every configurable value, with its default."""

    #: SQLAlchemy URL of the case store; env ``DATABASE_URL``.
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'data' / 'gridcommand.db'}"
    #: Folder of the generated demo district.
    demo_dir: Path = PROJECT_ROOT / "data" / "demo"
    #: The normalised hierarchy the dashboard and the intake use.
    hierarchy_path: Path = PROJECT_ROOT / "data" / "demo" / "hierarchy.gpkg"
    #: Routing rules (TOML).
    routing_rules_path: Path = PROJECT_ROOT / "cases" / "routing.toml"
    #: Metric CRS for areas and distances.
    metric_crs: str = constants.DEFAULT_METRIC_CRS
    sliver_tolerance_m2: float = constants.SLIVER_TOLERANCE_M2
    snap_distance_m: float = constants.SNAP_DISTANCE_M
    #: Dashboard host and port; env ``GRIDCOMMAND_HOST`` / ``GRIDCOMMAND_PORT``.
    host: str = "127.0.0.1"
    port: int = 8501
    #: UI language by default: ``zh`` or ``en``.
    language: str = "zh"
    #: Live map refresh interval in seconds.
    refresh_seconds: int = 30
    #: Largest age (minutes) of a worker's GPS fix that "arrive" records as the arrival position.
    arrival_fix_max_age_minutes: int = constants.ARRIVAL_FIX_MAX_AGE_MINUTES
    #: Sign-in session timeout in minutes, and lock-out after this many failures.
    session_timeout_minutes: int = 30
    lockout_failures: int = 5
    lockout_minutes: int = 15
    #: Largest accepted upload, in MiB.
    upload_max_mb: int = 20
    basemap: BasemapSettings = field(default_factory=BasemapSettings)
    #: SLA overrides per category, e.g. ``[sla.emergency] arrive_minutes = 20`` (keys as in
    #: ``core.constants.Sla``); unset values keep ``constants.SLA_DEFAULTS``.
    sla: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Local days off and working days over the national calendar (``[calendar]``).
    calendar: CalendarSettings = field(default_factory=CalendarSettings)
    #: Key groups, visit frequencies and the rules that verify visits (``[registry]``).
    registry: RegistrySettings = field(default_factory=RegistrySettings)


_PATH_FIELDS = {"demo_dir", "hierarchy_path", "routing_rules_path"}
_ENV = {"database_url": "DATABASE_URL", "host": "GRIDCOMMAND_HOST", "port": "GRIDCOMMAND_PORT"}


def config_path() -> Path:
    """The configuration file in force (it need not exist)."""
    return Path(os.environ.get("GRIDCOMMAND_CONFIG", PROJECT_ROOT / "gridcommand.toml"))


#: The settings of :func:`current_settings`, by (file, modification time).
_CURRENT: dict[tuple[str, int | None], Settings] = {}


def current_settings() -> Settings:
    """The settings file's values, re-read only when the file changes (for hot paths such as
    every dispatch's deadlines); the same object while the file is unchanged."""
    path = config_path()
    try:
        stamp: int | None = path.stat().st_mtime_ns
    except OSError:
        stamp = None
    key = (str(path), stamp)
    if key not in _CURRENT:
        _CURRENT.clear()
        _CURRENT[key] = load_settings(path)
    return _CURRENT[key]


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings.

    Parameters
    ----------
    path : Path, optional
        A TOML file; default :func:`config_path`. A missing file means all defaults.

    Returns
    -------
    Settings
    """
    path = Path(path) if path is not None else config_path()
    values: dict[str, Any] = {}
    if path.exists():
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(str(path), f"not valid TOML ({exc})", "correct the syntax") from exc
    known = {f.name for f in fields(Settings)} | {"api"}  # [api] is read by the intake API (core.api_settings)
    unknown = sorted(set(values) - known)
    if unknown:
        raise InputError(
            str(path), f"unknown setting(s) {', '.join(unknown)}", f"use only {', '.join(sorted(known))}"
        )
    settings = Settings()
    updates: dict[str, Any] = {}
    values.pop("api", None)  # read by the intake API itself (core.api_settings)
    for name, value in values.items():
        if name == "basemap":
            updates[name] = BasemapSettings(**value)
        elif name == "calendar":
            updates[name] = _calendar_settings(str(path), value)
        elif name == "registry":
            updates[name] = _registry_settings(str(path), value)
        elif name in _PATH_FIELDS:
            updates[name] = (PROJECT_ROOT / value).resolve()
        else:
            updates[name] = value
    for name, env in _ENV.items():
        if os.environ.get(env):
            updates[name] = int(os.environ[env]) if name == "port" else os.environ[env]
    if "demo_dir" in updates and "hierarchy_path" not in updates:
        updates["hierarchy_path"] = updates["demo_dir"] / "hierarchy.gpkg"
    return replace(settings, **updates)


_CALENDAR_EXAMPLE = 'write e.g. [calendar] holidays = ["2026-10-09"] and workdays = ["2026-10-10"]'


def _dates(source: str, key: str, value: Any) -> tuple[date, ...]:
    """The dates of ``[calendar] key``: TOML dates or ``"YYYY-MM-DD"`` strings."""
    if not isinstance(value, list):
        raise InputError(source, f"[calendar] {key} must be a list of dates", _CALENDAR_EXAMPLE)
    days = [_as_date(item) for item in value]
    bad = [item for item, day in zip(value, days, strict=True) if day is None]
    if bad:
        raise InputError(source, f"[calendar] {key} has {bad[0]!r}, which is not a date",
                         'write dates as "YYYY-MM-DD", e.g. "2026-10-09"')
    return tuple(sorted({day for day in days if day is not None}))


def _as_date(item: Any) -> date | None:
    """A TOML date or a ``"YYYY-MM-DD"`` string as a date; None for anything else."""
    if isinstance(item, date) and not isinstance(item, datetime):
        return item
    if isinstance(item, str):
        try:
            return datetime.strptime(item.strip(), "%Y-%m-%d").date()
        except ValueError:
            return None
    return None


def _calendar_settings(source: str, value: Any) -> CalendarSettings:
    """The ``[calendar]`` table, checked: only ``holidays`` and ``workdays``, lists of dates, no
    date in both."""
    if not isinstance(value, dict):
        raise InputError(source, "calendar must be a table", _CALENDAR_EXAMPLE)
    unknown = sorted(set(value) - {"holidays", "workdays"})
    if unknown:
        raise InputError(source, f"[calendar] has unknown key(s) {', '.join(unknown)}",
                         "use only holidays and workdays")
    holidays = _dates(source, "holidays", value.get("holidays", []))
    workdays = _dates(source, "workdays", value.get("workdays", []))
    both = sorted(set(holidays) & set(workdays))
    if both:
        raise InputError(source, f"[calendar] {', '.join(map(str, both))} is listed in both holidays and workdays",
                         "keep each date in one of the two lists")
    return CalendarSettings(holidays=holidays, workdays=workdays)


_REGISTRY_EXAMPLE = ('write e.g. [registry] on_site_m = 50, frequency = {disabled = "monthly"} and '
                     '[registry.groups.veteran] zh = "退役军人", frequency = "quarterly"')


def _registry_groups(source: str, groups: Any) -> dict[str, dict[str, str]]:
    """``[registry.groups]``: each new group with a Chinese label, a frequency and a key of at most 16
    characters (as stored), optionally an English label."""
    frequencies = sorted(constants.VISIT_FREQUENCIES)
    if not isinstance(groups, dict):
        raise InputError(source, "[registry] groups must be a table of tables", _REGISTRY_EXAMPLE)
    for key, group in groups.items():
        fine = (isinstance(group, dict) and str(group.get("zh", "")).strip() and len(key) <= 16
                and group.get("frequency") in frequencies and not set(group) - {"zh", "en", "frequency"})
        if not fine:
            raise InputError(source, f"[registry.groups.{key}] needs zh and frequency ({', '.join(frequencies)}), "
                             "may have en, and its key at most 16 characters", _REGISTRY_EXAMPLE)
    return {str(k): {f: str(v) for f, v in g.items()} for k, g in groups.items()}


def _registry_settings(source: str, value: Any) -> RegistrySettings:
    """The ``[registry]`` table, checked: positive limits, known groups and frequencies."""
    if not isinstance(value, dict):
        raise InputError(source, "registry must be a table", _REGISTRY_EXAMPLE)
    known = [f.name for f in fields(RegistrySettings)]
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise InputError(source, f"[registry] has unknown key(s) {', '.join(unknown)}", f"use only {', '.join(known)}")
    for key in ("on_site_m", "max_speed_kmh", "shared_position_visits"):
        number = value.get(key, 1)
        if isinstance(number, bool) or not isinstance(number, int | float) or number <= 0:
            raise InputError(source, f"[registry] {key} must be a positive number", _REGISTRY_EXAMPLE)
    groups = _registry_groups(source, value.get("groups", {}))
    frequency = value.get("frequency", {})
    names = sorted(set(constants.GROUP_FREQUENCIES) | set(groups))
    bad = ([f"{k} = {v!r}" for k, v in frequency.items() if k not in names or v not in constants.VISIT_FREQUENCIES]
           if isinstance(frequency, dict) else [repr(frequency)])
    if bad:
        raise InputError(source, f"[registry] frequency has {', '.join(bad)}",
                         f"map a group ({', '.join(names)}) to one of {', '.join(constants.VISIT_FREQUENCIES)}")
    return replace(RegistrySettings(), **{**value, "groups": groups, "frequency": dict(frequency)})
