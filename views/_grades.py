"""Grades (green / yellow / red) as coloured badges with a word, never emoji.

Government PCs often have no emoji font, so a grade is a coloured box with 优 / 良 / 差 (good /
fair / poor) in it: Streamlit's ``:color-badge[...]`` in Markdown, and a cell style in tables.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from core.i18n import t

#: Streamlit Markdown colour of each grade.
BADGE_COLOUR: dict[str, str] = {"green": "green", "yellow": "orange", "red": "red"}
#: Cell background and text colour of each grade in tables (readable on a projector).
CELL_STYLE: dict[str, str] = {
    "green": "background-color: #d3f0d8; color: #14532d",
    "yellow": "background-color: #fdf0c2; color: #713f12",
    "red": "background-color: #fbd5d5; color: #7f1d1d",
}


def grade_word(grade: str | None, language: str) -> str:
    """优 / 良 / 差 (good / fair / poor) for a grade; empty without one."""
    return t(f"grade_{grade}", language) if grade in BADGE_COLOUR else ""


def badge(grade: str | None, language: str) -> str:
    """The grade as a Markdown badge (``:green-badge[优]``); empty without a grade."""
    if grade not in BADGE_COLOUR:
        return ""
    return f":{BADGE_COLOUR[grade]}-badge[{grade_word(grade, language)}]"


def graded_cell(text: str, grade: str | None, language: str) -> str:
    """A table cell: the value followed by its grade word ("92.0 % 优")."""
    word = grade_word(grade, language)
    return f"{text} {word}" if word else text


def style_grades(table: pd.DataFrame, grades: dict[str, list[str | None]]) -> Any:
    """A Styler colouring each cell of the columns in ``grades`` by its grade.

    Parameters
    ----------
    table : DataFrame
        What is shown.
    grades : dict
        Column of ``table`` -> the grade of each of its rows, in order.
    """
    def colour(column: pd.Series) -> list[str]:
        marks = grades.get(str(column.name))
        if marks is None:
            return [""] * len(column)
        return [CELL_STYLE.get(g or "", "") for g in marks]

    return table.style.apply(colour, axis=0)
