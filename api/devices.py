"""Registered alarm devices (cameras, smoke or water sensors): which channel owns each, where it
stands (EPSG:4490 degrees; a GCJ-02 or BD-09 position is converted when registered), and what
kind of case its alarms become. ``python -m api devices add|remove|list``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from access import audit
from api.keys import check_channel
from core import constants
from core.errors import InputError, NotFound
from geo.coords import to_wgs84
from store.models import ApiDevice


def _check(device_id: str, channel: str, category: str, subcategory: str, priority: str) -> None:
    if not 0 < len(device_id) <= 64:
        raise InputError("device id", "empty or longer than 64 characters", "give the id the device sends")
    check_channel(channel)
    if category not in constants.CATEGORIES:
        raise InputError("--category", f"unknown category {category!r}",
                         f"use one of {', '.join(constants.CATEGORIES)}")
    subs = [s.key for s in constants.SUBCATEGORIES[category]]
    if subcategory and subcategory not in subs:
        raise InputError("--subcategory", f"{subcategory!r} is not one of {category}", f"use one of {', '.join(subs)}")
    if priority not in constants.PRIORITIES:
        raise InputError("--priority", f"unknown priority {priority!r}",
                         f"use one of {', '.join(constants.PRIORITIES)}")


def add_device(session: Session, device_id: str, *, channel: str, lon: float, lat: float, name: str = "",
               category: str = "hazard", subcategory: str = "", priority: str = "high", coords: str = "wgs84",
               actor: str, now: datetime) -> ApiDevice:
    """Register (or move and re-describe) a device.

    Parameters
    ----------
    device_id : str
        The id the device sends as ``device_id`` (1-64 characters).
    channel : str
        The channel whose key may send its alarms.
    lon, lat : float
        Its position in degrees of ``coords`` (stored converted to EPSG:4490).
    category, subcategory, priority : str
        The case its alarms become (keys of ``core.constants``).

    Raises
    ------
    core.errors.InputError
        Bad id, channel, position, category or priority (naming the option and the fix).
    """
    device_id = device_id.strip()
    _check(device_id, channel, category, subcategory, priority)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError("--lon/--lat", f"({lon}, {lat}) is not a position",
                         "give decimal degrees, e.g. 116.587 35.415")
    if coords not in constants.COORD_SYSTEMS:
        raise InputError("--coords", f"unknown coordinate system {coords!r}", "use wgs84, gcj02 or bd09")
    x, y = (float(v) for v in to_wgs84(lon, lat, coords))
    device = session.get(ApiDevice, device_id) or ApiDevice(id=device_id, created_at=now, alarms_total=0,
                                                            merge_count=0)
    device.channel, device.name, device.lon, device.lat = channel, (name or device_id)[:128], x, y
    device.category, device.subcategory, device.priority, device.active = category, subcategory or None, priority, True
    session.add(device)
    session.flush()
    audit.record(session, actor=actor, action="api_device_add", at=now, target_kind="device", target_id=device_id,
                 detail={"channel": channel, "lon": round(x, 7), "lat": round(y, 7), "category": category})
    return device


def remove_device(session: Session, device_id: str, *, actor: str, now: datetime) -> ApiDevice:
    """Deactivate a device: its alarms are refused from now on."""
    device = session.get(ApiDevice, device_id)
    if device is None:
        raise NotFound(f"no device {device_id}; list them with `python -m api devices list`")
    device.active = False
    audit.record(session, actor=actor, action="api_device_remove", at=now, target_kind="device", target_id=device_id)
    return device


def list_devices(session: Session) -> list[ApiDevice]:
    """Every device, by id."""
    return list(session.scalars(select(ApiDevice).order_by(ApiDevice.id)))
