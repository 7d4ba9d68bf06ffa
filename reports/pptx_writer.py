"""The report as slides (16:9, python-pptx): summary, headline figures, map with hotspots,
rankings, categories with overdue and reworked cases, four-visit coverage with emergencies.

Text names the CJK font for Latin and East Asian script alike (a slide cannot embed it; a
machine without it shows its own CJK font); the pictures are drawn with it.
"""

from __future__ import annotations

import io
from typing import Any

from lxml import etree
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from core.i18n import t
from reports.content import HeadlineRow, ReportContent, Table
from reports.fonts import FAMILY
from reports.pdf_writer import TONES
from reports.wording import GRADE_COLOURS, grade_word, label

SLIDE_WIDTH, SLIDE_HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
_HEAD = RGBColor(0x1F, 0x3A, 0x5F)
_INK = RGBColor(0x1F, 0x29, 0x33)
_MUTED = RGBColor(0x5F, 0x6B, 0x7A)


def _rgb(hex_colour: str) -> RGBColor:
    return RGBColor.from_string(hex_colour.lstrip("#").upper())


def _style_run(run: Any, size: float, colour: RGBColor = _INK, *, bold: bool = False) -> None:
    """Size, colour, weight and the CJK font for Latin and East Asian text of one run."""
    font = run.font
    font.size, font.bold, font.name = Pt(size), bold, FAMILY
    font.color.rgb = colour
    properties = run._r.get_or_add_rPr()
    latin = properties.find(qn("a:latin"))
    east_asian = properties.find(qn("a:ea"))
    if east_asian is None:
        east_asian = etree.SubElement(properties, qn("a:ea"))
        latin.addnext(east_asian)
    east_asian.set("typeface", FAMILY)


def _text(slide: Any, text: str, left: int, top: int, width: int, height: int, size: float, *,
          colour: RGBColor = _INK, bold: bool = False, align: Any = PP_ALIGN.LEFT) -> Any:
    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    paragraph = frame.paragraphs[0]
    paragraph.alignment = align
    _style_run(paragraph.add_run(), size, colour, bold=bold)
    paragraph.runs[0].text = text
    return box


def _slide(prs: Any, title: str) -> Any:
    slide = prs.slides.add_slide(prs.slide_layouts[6])  # blank
    _text(slide, title, MARGIN, Inches(0.3), SLIDE_WIDTH - 2 * MARGIN, Inches(0.7), 28, colour=_HEAD, bold=True)
    return slide


def _badge(slide: Any, grade: str | None, left: int, top: int, lang: str, size: float = 14) -> None:
    if grade not in GRADE_COLOURS:
        return
    fill, ink = GRADE_COLOURS[grade]
    shape = slide.shapes.add_shape(MSO_SHAPE.ROUNDED_RECTANGLE, left, top, Inches(0.6), Inches(0.4))
    shape.fill.solid()
    shape.fill.fore_color.rgb = _rgb(fill)
    shape.line.fill.background()
    paragraph = shape.text_frame.paragraphs[0]
    paragraph.alignment = PP_ALIGN.CENTER
    run = paragraph.add_run()
    run.text = grade_word(grade, lang)
    _style_run(run, size, _rgb(ink), bold=True)


def _table(slide: Any, table: Table, left: int, top: int, width: int, *, lang: str, size: float = 11,
           max_rows: int = 18, titled: bool = True) -> None:
    """``table`` at (left, top), under its own title unless the slide's title is the table's."""
    if titled:
        _text(slide, table.title, left, top, width, Inches(0.45), 16, colour=_HEAD, bold=True)
        top += Inches(0.5)
    if not table.rows:
        _text(slide, table.empty, left, top, width, Inches(0.4), 14, colour=_MUTED)
        return
    rows = table.rows[:max_rows]
    shape = slide.shapes.add_table(len(rows) + 1, len(table.header), left, top, width, Inches(0.3) * (len(rows) + 1))
    grid = shape.table
    weights = [2.0 if name == t("brief_col_name", lang) else 1.0 for name in table.header]
    for col, weight in enumerate(weights):
        grid.columns[col].width = int(width * weight / sum(weights))
    for col, name in enumerate(table.header):
        _cell(grid.cell(0, col), name, size, RGBColor(0xFF, 0xFF, 0xFF), _HEAD, bold=True)
    for r, row in enumerate(rows, start=1):
        grade = table.grades[r - 1] if table.grades else None
        for col, value in enumerate(row):
            graded = table.grades and col == len(row) - 1 and grade in GRADE_COLOURS
            fill, ink = GRADE_COLOURS[grade] if graded and grade else ("#ffffff", "#1f2933")
            _cell(grid.cell(r, col), value, size, _rgb(ink), _rgb(fill))
        grid.rows[r].height = Inches(0.3)


def _cell(cell: Any, text: str, size: float, ink: RGBColor, fill: RGBColor, *, bold: bool = False) -> None:
    cell.fill.solid()
    cell.fill.fore_color.rgb = fill
    cell.margin_top = cell.margin_bottom = Emu(Inches(0.03))
    paragraph = cell.text_frame.paragraphs[0]
    run = paragraph.add_run()
    run.text = text
    _style_run(run, size, ink, bold=bold)


def _headline_tile(slide: Any, row: HeadlineRow, left: int, top: int, lang: str) -> None:
    width, height = Inches(4.0), Inches(2.7)
    tile = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, left, top, width, height)
    tile.fill.solid()
    tile.fill.fore_color.rgb = RGBColor(0xF1, 0xF4, 0xF8)
    tile.line.fill.background()
    inner = left + Inches(0.25)
    _text(slide, row.label, inner, top + Inches(0.15), width - Inches(1.2), Inches(0.5), 18, colour=_MUTED)
    _badge(slide, row.grade, left + width - Inches(0.85), top + Inches(0.2), lang)
    _text(slide, row.value, inner, top + Inches(0.65), width - Inches(0.5), Inches(0.9), 40, bold=True)
    changes = ((label("change_mom", lang), row.mom, row.mom_arrow, row.mom_tone),
               (label("change_yoy", lang), row.yoy, row.yoy_arrow, row.yoy_tone))
    for offset, (name, text, arrow, tone) in enumerate(changes):
        _text(slide, " ".join(p for p in (name, arrow, text) if p), inner, top + Inches(1.6 + 0.45 * offset),
              width - Inches(0.5), Inches(0.4), 15, colour=_rgb(TONES[tone]))


def _picture(slide: Any, data: bytes, left: int, top: int, *, height: int) -> int:
    """Put a picture ``height`` high; returns its width."""
    return int(slide.shapes.add_picture(io.BytesIO(data), left, top, height=height).width)


def write_pptx(content: ReportContent, *, lang: str = "zh") -> bytes:
    """The report as PPTX bytes (six 16:9 slides)."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    prs.core_properties.title = content.title
    prs.core_properties.author = t("app_title", lang)
    full = SLIDE_WIDTH - 2 * MARGIN
    half = (full - Inches(0.4)) // 2
    right = MARGIN + half + Inches(0.4)

    cover = _slide(prs, content.title)
    _text(cover, content.subtitle, MARGIN, Inches(1.05), full, Inches(0.5), 18, colour=_MUTED)
    _text(cover, t("brief_summary", lang), MARGIN, Inches(1.8), full, Inches(0.5), 20, colour=_HEAD, bold=True)
    _text(cover, content.summary, MARGIN, Inches(2.4), full, Inches(3.4), 18)
    _text(cover, content.note, MARGIN, Inches(6.2), full, Inches(0.9), 11, colour=_MUTED)

    figures = _slide(prs, t("brief_headline", lang))
    for index, row in enumerate(content.headline):
        column, line = index % 3, index // 3
        _headline_tile(figures, row, MARGIN + column * Inches(4.2), Inches(1.3) + line * Inches(2.95), lang)

    mapped = _slide(prs, content.map_title)
    beside = MARGIN + _picture(mapped, content.map_png, MARGIN, Inches(1.1), height=Inches(5.9)) + Inches(0.3)
    rest = SLIDE_WIDTH - MARGIN - beside
    _table(mapped, content.hotspots, beside, Inches(1.1), rest, lang=lang, size=12)
    _table(mapped, content.emergencies, beside, Inches(4.4), rest, lang=lang, size=12, max_rows=6)

    ranking = _slide(prs, content.ranking.title)
    _table(ranking, content.ranking, MARGIN, Inches(1.1), full, lang=lang, titled=False)

    cases = _slide(prs, t("brief_categories", lang))
    _picture(cases, content.chart_png, MARGIN, Inches(1.3), height=Inches(2.8))
    _table(cases, content.backlog, right, Inches(1.1), half, lang=lang, max_rows=16)

    coverage = _slide(prs, content.coverage.title)
    _table(coverage, content.coverage, MARGIN, Inches(1.1), full, lang=lang, titled=False)

    buffer = io.BytesIO()
    prs.save(buffer)
    return buffer.getvalue()
