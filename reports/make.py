"""Making one report: the briefing of a period and area, laid out as PDF or PPTX bytes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import geopandas as gpd
from sqlalchemy.orm import Session

from access.scope import Scope
from core.errors import InputError
from metrics.briefing import MAP_MEASURES, Briefing, build_briefing
from metrics.periods import Period
from reports.content import ReportContent, build_content
from reports.fonts import cjk_font_path
from reports.wording import names

#: File suffix -> format.
FORMATS: dict[str, str] = {".pdf": "pdf", ".pptx": "pptx"}
#: MIME type of each format (downloads).
MIME: dict[str, str] = {"pdf": "application/pdf",
                        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}


def format_of(path: Path | str, *, argument: str = "--out") -> str:
    """``pdf`` or ``pptx`` from a file name's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(argument, f"cannot tell the format of {Path(path).name!r}",
                         "end the file name with .pdf or .pptx")
    return FORMATS[suffix]


def check_area(hierarchy: Mapping[str, gpd.GeoDataFrame], area: str | None, *, argument: str = "--area") -> None:
    """Refuse an area code that is no street, community or grid of the hierarchy."""
    if area and str(area) not in names(hierarchy):
        raise InputError(argument, f"no street, community or grid with code {area!r} in the hierarchy",
                         "give a street or community code, e.g. 370811004001, or leave it out for the district")


@dataclass(frozen=True)
class Report:
    """A made report: its bytes, what it says and the briefing behind it."""

    data: bytes
    fmt: str
    content: ReportContent
    briefing: Briefing


def make_report(session: Session, scope: Scope, period: Period, *, fmt: str, now: datetime,
                hierarchy: Mapping[str, gpd.GeoDataFrame], metric_crs: str, area: str | None = None,
                measure: str = "on_time_rate", lang: str = "zh") -> Report:
    """The report on ``period`` for ``area`` (default the caller's whole scope) as ``pdf`` or ``pptx``.

    Raises
    ------
    core.errors.InputError
        Unknown format, area or map measure, or no CJK font installed.
    """
    if fmt not in MIME:
        raise InputError("format", f"unknown report format {fmt!r}", "use pdf or pptx")
    if measure not in MAP_MEASURES:
        raise InputError("--measure", f"unknown map measure {measure!r}", f"use one of {', '.join(MAP_MEASURES)}")
    check_area(hierarchy, area)
    cjk_font_path()  # fail before the work when the font is missing
    briefing = build_briefing(session, scope, period, now=now, area=area)
    content = build_content(briefing, hierarchy, metric_crs=metric_crs, measure=measure, lang=lang)
    return Report(write(content, fmt, lang=lang), fmt, content, briefing)


def write(content: ReportContent, fmt: str, *, lang: str = "zh") -> bytes:
    """``content`` laid out as ``pdf`` or ``pptx`` bytes (each writer imported only when used)."""
    if fmt == "pdf":
        from reports.pdf_writer import write_pdf

        return write_pdf(content, lang=lang)
    from reports.pptx_writer import write_pptx

    return write_pptx(content, lang=lang)
