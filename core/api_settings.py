"""Settings of the intake API (``[api]`` in ``gridcommand.toml``), with their defaults.

The API's own table is read here rather than in :mod:`core.settings` so that the dashboard's
settings stay as they are. Lookup order: environment variables ``GRIDCOMMAND_API_HOST`` and
``GRIDCOMMAND_API_PORT``, then the ``[api]`` table of the file named by ``GRIDCOMMAND_API_CONFIG``
(else of the settings file in force, :func:`core.settings.config_path`), then the defaults below.

Example::

    [api]
    port = 8502
    jurisdiction_id = "jinchuan.example.gov.cn"
    rate_per_minute = 120
    alarm_merge_minutes = 10

    [api.services."hazard.fire_safety"]          # an Open311 service_code and the case category it maps to
    name = "消防隐患"
    category = "hazard"
    subcategory = "fire_safety"
    group = "安全隐患"

Giving ``[api.services]`` replaces the default catalogue (one service per sub-category of
``core.constants.SUBCATEGORIES``, code ``<category>.<subcategory>``).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from core import constants
from core.errors import InputError


@dataclass(frozen=True)
class Service:
    """An Open311 service (``service_code``) and the case category it files reports under.

    Attributes
    ----------
    code : str
        The GeoReport ``service_code``.
    name, description, group : str
        Shown to the reporting app (``service_name``, ``description``, ``group``).
    category, subcategory : str
        Keys of ``core.constants.CATEGORIES`` / ``SUBCATEGORIES`` (subcategory may be empty).
    keywords : tuple of str
        GeoReport ``keywords``.
    """

    code: str
    name: str
    category: str
    subcategory: str = ""
    description: str = ""
    group: str = ""
    keywords: tuple[str, ...] = ()


def default_services() -> dict[str, Service]:
    """One service per sub-category of ``core.constants.SUBCATEGORIES`` (code ``category.subcategory``)."""
    out: dict[str, Service] = {}
    for category, subs in constants.SUBCATEGORIES.items():
        group = constants.CATEGORIES[category]
        for sub in subs:
            code = f"{category}.{sub.key}"
            out[code] = Service(code, sub.zh, category, sub.key, f"{group.zh} · {sub.zh} ({sub.en})", group.zh,
                                (sub.zh, sub.en.lower()))
    return out


@dataclass(frozen=True)
class ApiSettings:
    """Every setting of the intake API, with its default (sizes in KiB/MiB, times in seconds/minutes)."""

    #: Address and port of the API server; env ``GRIDCOMMAND_API_HOST`` / ``GRIDCOMMAND_API_PORT``.
    host: str = "127.0.0.1"
    port: int = 8502
    #: The GeoReport ``jurisdiction_id`` this server answers for (requests naming another are refused).
    jurisdiction_id: str = "gridcommand.local"
    #: Case source (``core.constants.SOURCES``) of Open311 reports, 随手拍 reports and device alarms.
    open311_source: str = "snapshot"
    snap_source: str = "snapshot"
    alarm_source: str = "video"
    #: Requests per minute per API key (a key may carry its own), and the burst allowed at once.
    rate_per_minute: int = 120
    rate_burst: int = 30
    #: Requests per minute per client address without a valid key.
    anonymous_per_minute: int = 60
    #: Largest body of a form or JSON request (KiB) and of a multipart upload with photos (MiB).
    max_body_kb: int = 64
    max_upload_mb: int = 60
    #: Largest photo (MiB); at most ``intake.photos.MAX_PHOTOS`` (9) per report.
    photo_max_mb: int = 10
    #: A signed alarm's timestamp may differ from the server clock by at most this (s).
    alarm_window_seconds: int = 300
    #: Alarms of one device less than this many minutes after its previous alarm join that case.
    alarm_merge_minutes: int = 10
    #: The 12345 change feed holds back events younger than this (s), so that a transaction still
    #: committing with a lower event id is never skipped by a reader's cursor.
    backchannel_lag_seconds: float = 2.0
    #: Most rows of one page of GET requests / the change feed.
    page_size_max: int = 200
    #: Longest wait (s) of a request for its report to be stored before it answers 503.
    submit_timeout_seconds: float = 30.0
    #: The Open311 catalogue: service_code -> :class:`Service`.
    services: dict[str, Service] = field(default_factory=default_services)


_INT_KEYS = ("port", "rate_per_minute", "rate_burst", "anonymous_per_minute", "max_body_kb", "max_upload_mb",
             "photo_max_mb", "alarm_window_seconds", "alarm_merge_minutes", "page_size_max")
_EXAMPLE = 'write e.g. [api] port = 8502, rate_per_minute = 120 and [api.services."hazard.fire_safety"] ' \
           'name = "消防隐患", category = "hazard", subcategory = "fire_safety"'


def api_config_path() -> Path:
    """The file whose ``[api]`` table is read (it need not exist)."""
    from core.settings import config_path

    named = os.environ.get("GRIDCOMMAND_API_CONFIG")
    return Path(named) if named else config_path()


def _service(source: str, code: str, value: Any) -> Service:
    if not isinstance(value, dict) or not str(value.get("name", "")).strip():
        raise InputError(source, f"[api.services.{code}] needs a name and a category", _EXAMPLE)
    category, sub = str(value.get("category", "")), str(value.get("subcategory", "") or "")
    if category not in constants.CATEGORIES:
        raise InputError(source, f"[api.services.{code}] category {category!r} is unknown",
                         f"use one of {', '.join(constants.CATEGORIES)}")
    subs = [s.key for s in constants.SUBCATEGORIES[category]]
    if sub and sub not in subs:
        raise InputError(source, f"[api.services.{code}] subcategory {sub!r} is not one of {category}",
                         f"use one of {', '.join(subs)} or leave it out")
    unknown = sorted(set(value) - {"name", "category", "subcategory", "description", "group", "keywords"})
    if unknown:
        raise InputError(source, f"[api.services.{code}] has unknown key(s) {', '.join(unknown)}",
                         "use name, category, subcategory, description, group, keywords")
    return Service(code, str(value["name"]), category, sub, str(value.get("description", "")),
                   str(value.get("group", "")), tuple(str(k) for k in value.get("keywords", ())))


def _checked(source: str, table: dict[str, Any]) -> dict[str, Any]:
    known = [f.name for f in fields(ApiSettings)]
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise InputError(source, f"[api] has unknown key(s) {', '.join(unknown)}", f"use only {', '.join(known)}")
    for key in _INT_KEYS:
        value = table.get(key, 1)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InputError(source, f"[api] {key} must be a positive whole number", _EXAMPLE)
    for key in ("open311_source", "snap_source", "alarm_source"):
        if key in table and table[key] not in constants.SOURCES:
            raise InputError(source, f"[api] {key} = {table[key]!r} is not a case source",
                             f"use one of {', '.join(constants.SOURCES)}")
    values = dict(table)
    if "services" in values:
        services = values["services"]
        if not isinstance(services, dict) or not services:
            raise InputError(source, "[api.services] must be a table of services", _EXAMPLE)
        values["services"] = {str(code): _service(source, str(code), v) for code, v in services.items()}
    return values


def load_api_settings(path: Path | None = None) -> ApiSettings:
    """Read the API settings.

    Parameters
    ----------
    path : Path, optional
        A TOML file whose ``[api]`` table is read; default :func:`api_config_path`. A missing
        file or table means all defaults.

    Returns
    -------
    ApiSettings

    Raises
    ------
    core.errors.InputError
        Unreadable TOML, unknown keys, non-positive limits, unknown categories (naming the fix).
    """
    path = Path(path) if path is not None else api_config_path()
    table: dict[str, Any] = {}
    if path.exists():
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8")).get("api", {})
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(str(path), f"not valid TOML ({exc})", "correct the syntax") from exc
    if not isinstance(table, dict):
        raise InputError(str(path), "api must be a table", _EXAMPLE)
    values = _checked(str(path), table)
    if os.environ.get("GRIDCOMMAND_API_HOST"):
        values["host"] = os.environ["GRIDCOMMAND_API_HOST"]
    if os.environ.get("GRIDCOMMAND_API_PORT"):
        try:
            values["port"] = int(os.environ["GRIDCOMMAND_API_PORT"])
        except ValueError:
            raise InputError("GRIDCOMMAND_API_PORT", f"{os.environ['GRIDCOMMAND_API_PORT']!r} is not a port number",
                             "give a whole number, e.g. 8502") from None
    return replace(ApiSettings(), **values)
