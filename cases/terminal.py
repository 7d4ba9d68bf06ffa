"""Cases and tables on a terminal for ``python -m cases``: aligned columns (Chinese characters count
double), times to the minute, rates as percentages, one case's summary and detail lines.
Personal data arrives masked (``cases.queries``)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from core import constants

Out = Callable[[str], None]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], out: Out) -> None:
    """Write ``rows`` under ``headers`` as aligned columns (``-`` for None)."""
    cells = [[("-" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=True)).rstrip()

    out(line(list(headers)))
    for row in cells:
        out(line(row))


def minute(value: datetime | None) -> str | None:
    """``YYYY-MM-DD HH:MM``, or None."""
    return value.strftime("%Y-%m-%d %H:%M") if value else None


def text_or_none(value: Any) -> str | None:
    """``value`` when it is text, else None (pandas fills missing text with NaN)."""
    return value if isinstance(value, str) else None


def percent(value: float | None) -> str:
    """A rate 0..1 as ``12.3%`` (``-`` without a value)."""
    return "-" if value is None else f"{value * 100:.1f}%"


def number(value: float | None, digits: int = 1) -> str:
    """A number with ``digits`` decimals (``-`` without a value)."""
    return "-" if value is None else f"{value:.{digits}f}"


def case_summary(c: Any, now: datetime) -> dict[str, Any]:
    """The list line of a case (a ``cases.queries.CaseView``) as a dict, its due status at ``now``."""
    from cases.deadlines import due_status

    return {"id": c.id, "source": c.source, "source_id": c.source_id, "category": c.category,
            "subcategory": c.subcategory, "state": c.state, "grid_code": c.grid_code,
            "assignee": f"{c.assignee_kind}:{c.assignee_id}" if c.assignee_id else None,
            "reported_at": minute(c.reported_at), "due": due_status(c, now), "supervised": c.supervised,
            "unrouted_reason": c.unrouted_reason}


def case_detail(c: Any, now: datetime) -> dict[str, Any]:
    """:func:`case_summary` plus every field ``show`` prints and the actions legal now."""
    from cases.actions import available_actions

    detail = case_summary(c, now)
    detail.update({"text": c.text, "address": c.address, "reporter_name": c.reporter_name,
                   "reporter_phone": c.reporter_phone, "lon": c.lon, "lat": c.lat,
                   "street_code": c.street_code, "community_code": c.community_code,
                   "building_code": c.building_code, "join_status": c.join_status, "priority": c.priority,
                   "respond_due": minute(c.respond_due), "arrive_due": minute(c.arrive_due),
                   "close_due": minute(c.close_due),
                   "extension_state": c.extension_state, "extended_close_due": minute(c.extended_close_due),
                   "arrival_distance_m": c.arrival_distance_m, "satisfaction": c.satisfaction,
                   "rework_count": c.rework_count, "void_reason": c.void_reason, "version": c.version,
                   "available_actions": available_actions(c)})
    return detail


def show_lines(c: Any, detail: dict[str, Any]) -> list[tuple[str, Any]]:
    """The labelled lines of ``show``, in Chinese, from a case and its :func:`case_detail`."""
    from cases.actions import ACTIONS

    sub = constants.SUBCATEGORIES.get(c.category, ())
    sub_label = next((s.zh for s in sub if s.key == c.subcategory), c.subcategory or "")
    close = detail["extended_close_due"] if c.extension_state == "approved" else detail["close_due"] or "-"
    return [
        ("类别", f"{constants.CATEGORIES[c.category].zh} {sub_label}".strip()),
        ("内容", c.text), ("地址", c.address), ("诉求人", detail["reporter_name"]), ("电话", detail["reporter_phone"]),
        ("位置", f"{c.lon:.6f}, {c.lat:.6f} (EPSG:4490)" if c.lon is not None else None),
        ("网格", f"{c.grid_code} ({c.join_status})" if c.grid_code else c.join_status),
        ("处置人", detail["assignee"] or f"未派单: {c.unrouted_reason}"),
        ("时限", f"响应 {detail['respond_due'] or '-'} / 到场 {detail['arrive_due'] or '-'} / 办结 {close}"
                 f"  [{detail['due']}]"),
        ("满意度", constants.SATISFACTION[c.satisfaction].zh if c.satisfaction else None),
        ("可执行", ", ".join(f"{a}({ACTIONS[a].zh})" for a in detail["available_actions"]) or "-"),
    ]


