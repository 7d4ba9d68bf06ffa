"""Reports as PDF for the demo district: real Chinese text in the embedded CJK font (no tofu), the
map drawn, and every figure equal to what metrics/ returns for the same period and area."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import and_, func, select
from sqlalchemy import case as sql_case

from cases.queries import CaseFilter, count_cases
from core.constants import CATEGORIES
from metrics.coverage import visit_coverage
from metrics.kpi import kpi_table
from metrics.periods import parse_period
from reports.fonts import cjk_font_path
from reports.make import make_report
from reports.wording import GRADE_COLOURS
from store.models import Case
from tests import system
from tests.reports.demo_store import DEMO_NOW, require_poppler

pytestmark = pytest.mark.slow
METRIC_CRS = "EPSG:4548"


@pytest.fixture(scope="module", autouse=True)
def _system_parts():
    system.require_system("cjk_font")
    require_poppler()


def _report(session, scope, layers, period, fmt="pdf", area=None):
    return make_report(session, scope, parse_period(period), fmt=fmt, now=DEMO_NOW, hierarchy=layers,
                       metric_crs=METRIC_CRS, area=area)


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def _font_characters() -> set[int]:
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(cjk_font_path()))
    return set(collection.fonts[0].getBestCmap())


def _pct(value: float) -> str:
    return f"{100 * value:.2f}%"


def test_monthly_pdf_is_real_chinese_text_with_the_figures_of_metrics(demo_session, leader, demo_layers,
                                                                        artifacts_dir):
    report = _report(demo_session, leader, demo_layers, "2026-10")
    path = artifacts_dir / "report-monthly-2026-10.pdf"
    path.write_bytes(report.data)
    text = _pdf_text(path)
    flat = "".join(text.split())  # the summary paragraph wraps

    assert report.data.startswith(b"%PDF")
    assert "锦川街道2026年10月月报" in text and "结案率" in text and "按期结案率" in text and "综述" in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    listed = fonts.splitlines()[2:]
    assert listed and all("WenQuanYiMicroHei" in line and " yes yes yes " in line for line in listed), fonts
    glyphs = _font_characters()
    missing = {ch for ch in text if not ch.isspace() and ord(ch) not in glyphs}
    assert missing == set(), f"characters the font cannot draw (tofu): {missing}"
    assert "\ufffd" not in text

    # the headline equals the KPI table and the coverage of metrics/ for October, evaluated at DEMO_NOW
    total = kpi_table(demo_session, by=None, since=datetime(2026, 10, 1), until=datetime(2026, 11, 1), now=DEMO_NOW,
                      scope=leader).total
    before = kpi_table(demo_session, by=None, since=datetime(2026, 9, 1), until=datetime(2026, 10, 1), now=DEMO_NOW,
                       scope=leader).total
    coverage = visit_coverage(demo_session, leader, (datetime(2026, 10, 1), datetime(2026, 11, 1)), by="community")
    assert total["reported"] > 500
    assert f"共受理案件{total['reported']:,}件" in flat
    relative = (total["reported"] - before["reported"]) / before["reported"] * 100
    assert f"环比{'上升' if relative > 0 else '下降'}{abs(relative):.1f}%" in flat
    for key in ("closure_rate", "on_time_rate", "satisfaction_rate", "arrival_rate"):
        assert _pct(total[key]) in text, key
    assert _pct(coverage["visited"].sum() / coverage["households_due"].sum()) in text

    # every ranked community is listed by name, with the figures of the KPI table
    names = dict(zip(demo_layers["communities"]["code"], demo_layers["communities"]["name"], strict=True))
    ranked = kpi_table(demo_session, by="community", since=datetime(2026, 10, 1), until=datetime(2026, 11, 1),
                       now=DEMO_NOW, scope=leader).rows
    lines = [line for line in text.splitlines() if any(names[r["code"]] in line for r in ranked)]
    for row in ranked:
        assert any(names[row["code"]] in line and f"{row['reported']:,}" in line and _pct(row["on_time_rate"]) in line
                   for line in lines), row["code"]

    # categories, overdue and reworked: counted straight from the cases
    window = (Case.reported_at >= datetime(2026, 10, 1), Case.reported_at < datetime(2026, 11, 1))
    per_category = dict(demo_session.execute(select(Case.category, func.count()).where(*window)
                                             .group_by(Case.category)).all())
    assert dict(report.content.categories) == {CATEGORIES[k].zh: per_category.get(k, 0) for k in CATEGORIES}
    extended = and_(Case.extension_state == "approved", Case.extended_close_due.is_not(None))
    deadline = sql_case((extended, Case.extended_close_due), else_=Case.close_due)
    overdue = demo_session.scalar(select(func.count()).where(
        *window, Case.dispatched_at.is_not(None), Case.closed_at.is_(None), deadline <= DEMO_NOW))
    reworked = demo_session.scalar(select(func.count()).where(*window, Case.handled_at.is_not(None),
                                                              Case.rework_count > 0))
    assert f"本期超期未结{overdue}件，返工{reworked}件" in flat

    # leaders see counts and rates: no reporter's name or phone, in clear or masked
    people = demo_session.execute(select(Case.reporter_name, Case.reporter_phone).where(
        Case.reporter_name.is_not(None)).limit(50)).all()
    assert people
    for name, phone in people:
        assert name not in text and (not phone or phone not in text)


def test_pdf_pages_and_the_map_image(demo_session, leader, demo_layers, artifacts_dir, tmp_path):
    report = _report(demo_session, leader, demo_layers, "2026-10")
    path = tmp_path / "monthly.pdf"
    path.write_bytes(report.data)
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in images.splitlines()[2:]]
    assert len(rows) >= 2  # the map and the category chart
    page, width = int(rows[0][0]), int(rows[0][3])
    assert page == 1 and width >= 1000  # the district map, on the first page, at print resolution

    subprocess.run(["pdftoppm", "-r", "60", "-png", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert 2 <= len(pages) <= 4
    first = np.asarray(Image.open(pages[0]).convert("RGB")).reshape(-1, 3)
    green = np.array([int(GRADE_COLOURS["green"][0][i:i + 2], 16) for i in (1, 3, 5)])
    assert (np.abs(first.astype(int) - green).sum(axis=1) < 30).sum() > 2000  # grids graded 优 drawn
    Image.open(pages[0]).save(artifacts_dir / "report-monthly-page1.png")


@pytest.mark.parametrize(("period", "title", "running"), [
    ("2026-W46", "锦川街道2026年第46周周报", False),
    ("2026-Q4", "锦川街道2026年第4季度季报", True),
])
def test_weekly_and_quarterly(demo_session, leader, demo_layers, tmp_path, period, title, running):
    report = _report(demo_session, leader, demo_layers, period)
    path = tmp_path / "report.pdf"
    path.write_bytes(report.data)
    text = _pdf_text(path)
    assert title in text
    assert ("截至2026-11-23" in text) == running  # a running quarter counts up to today
    assert report.briefing.window.until == (datetime(2026, 11, 24) if running else datetime(2026, 11, 16))


def test_area_report_counts_that_area_only(demo_session, leader, demo_layers, tmp_path):
    community = "370811004001"
    report = _report(demo_session, leader, demo_layers, "2026-10", area=community)
    counted = count_cases(demo_session, leader, CaseFilter(area_codes=(community,), since=datetime(2026, 10, 1),
                                                           until=datetime(2026, 11, 1)), by="community")
    assert report.briefing.figures["reported"].value == int(counted["cases"].sum())
    coverage = visit_coverage(demo_session, leader, (datetime(2026, 10, 1), datetime(2026, 11, 1)), by="community")
    own = coverage.loc[coverage["code"] == community].iloc[0]
    assert report.briefing.figures["period_coverage"].value == pytest.approx(own["visited"] / own["households_due"])
    assert report.content.title == "锦绣社区2026年10月月报"
    assert [row[1] for row in report.content.ranking.rows] == ["锦绣社区"]
