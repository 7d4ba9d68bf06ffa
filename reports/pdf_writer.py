"""The report as a PDF (A4 portrait, ReportLab), with the CJK font embedded so that the Chinese
is real, searchable text."""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Image, PageBreak, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from core.i18n import t
from reports.content import HeadlineRow, ReportContent, Table
from reports.fonts import register_pdf_font
from reports.wording import GRADE_COLOURS, grade_word, label

MARGIN = 15 * mm
WIDTH = A4[0] - 2 * MARGIN
#: Colours of a change that goes the better way, the worse way, or neither.
TONES: dict[str, str] = {"good": "#2f9e44", "bad": "#d6336c", "neutral": "#5f6b7a"}
_HEAD = colors.HexColor("#1f3a5f")
_GRID = colors.HexColor("#c9d2dc")


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=10, leading=15, wordWrap="CJK", alignment=TA_LEFT)
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=20, leading=26, textColor=_HEAD),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=11, textColor=colors.HexColor("#5f6b7a")),
        "h2": ParagraphStyle("h2", parent=base, fontSize=13, leading=18, textColor=_HEAD, spaceBefore=8,
                             spaceAfter=4),
        "body": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
        "head": ParagraphStyle("head", parent=base, fontSize=8.5, leading=11, textColor=colors.white),
        "note": ParagraphStyle("note", parent=base, fontSize=8, leading=11, textColor=colors.HexColor("#5f6b7a")),
    }


def _headline(rows: list[HeadlineRow], styles: dict[str, ParagraphStyle], lang: str) -> PdfTable:
    def change(text: str, arrow: str, tone: str) -> Paragraph:
        return Paragraph(f'<font color="{TONES[tone]}">{escape(f"{arrow} {text}".strip())}</font>', styles["cell"])

    header = [*(t(k, lang) for k in ("brief_col_figure", "brief_col_value", "brief_col_grade")),
              label("change_mom", lang), label("change_yoy", lang)]
    data: list[list[Any]] = [header]
    for row in rows:
        data.append([row.label, row.value, grade_word(row.grade, lang),
                     change(row.mom, row.mom_arrow, row.mom_tone), change(row.yoy, row.yoy_arrow, row.yoy_tone)])
    table = PdfTable(data, colWidths=[38 * mm, 28 * mm, 16 * mm, (WIDTH - 82 * mm) / 2, (WIDTH - 82 * mm) / 2])
    table.setStyle(_table_style(styles["cell"].fontName, [r.grade for r in rows], grade_column=2))
    return table


def _table_style(font: str, grades: list[str | None], *, grade_column: int | None) -> TableStyle:
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("BACKGROUND", (0, 0), (-1, 0), _HEAD), ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("GRID", (0, 0), (-1, -1), 0.4, _GRID), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if grade_column is not None:
        for index, grade in enumerate(grades, start=1):
            if grade in GRADE_COLOURS:
                fill, ink = GRADE_COLOURS[grade]
                cell = (grade_column, index)
                commands += [("BACKGROUND", cell, cell, colors.HexColor(fill)),
                             ("TEXTCOLOR", cell, cell, colors.HexColor(ink)), ("ALIGN", cell, cell, "CENTER")]
    return TableStyle(commands)


def _widths(header: list[str], width: float, lang: str) -> list[float]:
    """Column widths filling ``width``: the name column twice as wide as the others."""
    weights = [2.0 if name == t("brief_col_name", lang) else 1.0 for name in header]
    return [width * w / sum(weights) for w in weights]


def _table(table: Table, styles: dict[str, ParagraphStyle], lang: str, width: float = WIDTH) -> list[Any]:
    """A titled table (or its "nothing" line) ``width`` wide."""
    title = Paragraph(escape(table.title), styles["h2"])
    if not table.rows:
        return [title, Paragraph(escape(table.empty), styles["body"])]
    header = [Paragraph(escape(name), styles["head"]) for name in table.header]
    body = PdfTable([header, *table.rows], colWidths=_widths(table.header, width, lang), repeatRows=1, hAlign="LEFT")
    graded = len(table.header) - 1 if table.grades else None
    body.setStyle(_table_style(styles["cell"].fontName, table.grades, grade_column=graded))
    return [title, body]


def _side_by_side(left: list[Any], right: list[Any], font: str) -> PdfTable:
    """Two columns of flowables, each half the page wide."""
    pair = PdfTable([[left, right]], colWidths=[WIDTH / 2, WIDTH / 2], hAlign="LEFT")
    pair.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                              ("LEFTPADDING", (0, 0), (-1, -1), 0),
                              ("RIGHTPADDING", (0, 0), (0, 0), 4 * mm), ("RIGHTPADDING", (1, 0), (1, 0), 0)]))
    return pair


def _image(data: bytes, width: float) -> Image:
    reader = ImageReader(io.BytesIO(data))
    w, h = reader.getSize()
    return Image(io.BytesIO(data), width=width, height=width * h / w)


def write_pdf(content: ReportContent, *, lang: str = "zh") -> bytes:
    """The report as PDF bytes (A4 portrait)."""
    font = register_pdf_font()
    styles = _styles(font)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN, initialFontName=font, title=content.title, author=t("app_title", lang),
                            creator=t("app_title", lang), subject=content.subtitle)
    half = WIDTH / 2 - 4 * mm
    chart = [Paragraph(escape(t("brief_categories", lang)), styles["h2"]), _image(content.chart_png, half)]
    story: list[Any] = [
        Paragraph(escape(content.title), styles["title"]), Paragraph(escape(content.subtitle), styles["subtitle"]),
        Spacer(1, 4 * mm), Paragraph(escape(t("brief_summary", lang)), styles["h2"]),
        Paragraph(escape(content.summary), styles["body"]), Paragraph(escape(t("brief_headline", lang)), styles["h2"]),
        _headline(content.headline, styles, lang), Paragraph(escape(content.map_title), styles["h2"]),
        _image(content.map_png, WIDTH * 0.86), PageBreak(),
        *_table(content.ranking, styles, lang),
        _side_by_side(chart, _table(content.hotspots, styles, lang, half), font),
        _side_by_side(_table(content.backlog, styles, lang, half), _table(content.coverage, styles, lang, half), font),
        *_table(content.emergencies, styles, lang, half), Spacer(1, 4 * mm),
        Paragraph(escape(content.note), styles["note"]),
    ]

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#5f6b7a"))
        canvas.drawString(MARGIN, 8 * mm, f"{content.title} · {t('app_title', lang)}")
        canvas.drawRightString(A4[0] - MARGIN, 8 * mm, str(document.page))
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
