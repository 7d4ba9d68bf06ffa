"""Reports as slides (PPTX, 16:9): they open with python-pptx, have the expected slides, name the CJK
font, show the map and carry the figures of metrics/."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from pptx import Presentation
from pptx.oxml.ns import qn
from pptx.util import Inches

from metrics.kpi import kpi_table
from metrics.periods import parse_period
from reports.fonts import FAMILY
from reports.make import make_report
from tests import system
from tests.reports.demo_store import DEMO_NOW

pytestmark = pytest.mark.slow

EXPECTED_TITLES = ["锦川街道2026年10月月报", "核心指标", "辖区地图：按期结案率", "社区/村排名（按{by}）", "案件分类",
                   "四访覆盖率（按社区/村）"]


def _texts(slide) -> list[str]:
    return [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame and shape.text_frame.text]


def test_monthly_slides(demo_session, leader, demo_layers, artifacts_dir):
    system.require_system("cjk_font")
    report = make_report(demo_session, leader, parse_period("2026-10"), fmt="pptx", now=DEMO_NOW, hierarchy=demo_layers,
                         metric_crs="EPSG:4548")
    (artifacts_dir / "report-monthly-2026-10.pptx").write_bytes(report.data)
    prs = Presentation(io.BytesIO(report.data))

    assert (prs.slide_width, prs.slide_height) == (Inches(13.333), Inches(7.5))  # 16:9
    by = report.content.ranking.title.split("按")[-1].rstrip("）")
    expected = [title.replace("{by}", by) for title in EXPECTED_TITLES]
    assert [_texts(slide)[0] for slide in prs.slides] == expected

    total = kpi_table(demo_session, by=None, since=datetime(2026, 10, 1), until=datetime(2026, 11, 1), now=DEMO_NOW,
                      scope=leader).total
    headline = " ".join(_texts(prs.slides[1]))
    assert f"{total['reported']:,}" in headline
    for key in ("closure_rate", "on_time_rate", "satisfaction_rate", "arrival_rate"):
        assert f"{100 * total[key]:.2f}%" in headline, key
    assert "环比" in headline and "同比" in headline

    pictures = [shape for shape in prs.slides[2].shapes if shape.shape_type == 13]  # MSO_SHAPE_TYPE.PICTURE
    assert len(pictures) == 1 and pictures[0].image.size[0] >= 1000  # the district map
    ranking = next(shape.table for shape in prs.slides[3].shapes if shape.has_table)
    ranked = kpi_table(demo_session, by="community", since=datetime(2026, 10, 1), until=datetime(2026, 11, 1),
                       now=DEMO_NOW, scope=leader).rows
    assert len(ranking.rows) == len(ranked) + 1
    assert {ranking.cell(r, len(ranking.columns) - 1).text for r in range(1, len(ranking.rows))} <= {"优", "良", "差"}

    runs = [run for slide in prs.slides for shape in slide.shapes if shape.has_text_frame
            for paragraph in shape.text_frame.paragraphs for run in paragraph.runs]
    assert runs and all(run._r.rPr.find(qn("a:ea")).get("typeface") == FAMILY for run in runs)
