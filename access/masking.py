"""Masking of personal data: names, phone numbers and ID numbers.

Every output of personal data goes through this module unless the caller holds an unmask
permission for that one record (see :mod:`cases.queries`). The functions are pure: they take a
value and return its masked form; ``None`` stays ``None`` and an empty string stays empty.

Examples
--------
>>> mask_name("张三明"), mask_name("张三"), mask_phone("13812341234"), mask_id("370102199001011234")
('张*明', '张*', '138****1234', '370***********1234')
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import partial

import pandas as pd

MASK = "*"

#: Column names (English store names and Chinese file headers) that hold personal data,
#: with the kind of masking each needs: ``name``, ``phone`` or ``id``.
PERSONAL_COLUMNS: dict[str, str] = {
    "name": "name",
    "head_name": "name",
    "reporter_name": "name",
    "display_name": "name",
    "姓名": "name",
    "户主姓名": "name",
    "联系人": "name",
    "反映人": "name",
    "phone": "phone",
    "reporter_phone": "phone",
    "reporter_contact": "phone",
    "contact": "phone",
    "联系电话": "phone",
    "电话": "phone",
    "手机号": "phone",
    "id_number": "id",
    "身份证号": "id",
    "证件号码": "id",
}

_MOBILE = re.compile(r"^(?P<prefix>(?:\+|00)?86[\s-]?)?(?P<number>1\d{10})$")
_LANDLINE = re.compile(r"^(?P<area>0\d{2,3})(?P<sep>[\s-]?)(?P<local>\d{7,8})(?P<ext>(?:[\s-]\d{1,6})?)$")


def mask_name(value: str | None) -> str | None:
    """Mask a person's name, keeping its first and (for three or more characters) last character.

    Parameters
    ----------
    value : str or None
        A name in any script: ``"张三明"``, ``"欧阳娜娜"``, ``"John Smith"``.

    Returns
    -------
    str or None
        ``"张*明"``, ``"欧**娜"``, ``"J********h"``; two characters keep the first
        (``"张*"``), one character becomes ``"*"``. ``None`` and ``""`` are returned unchanged.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return text
    if len(text) == 1:
        return MASK
    if len(text) == 2:
        return text[0] + MASK
    return text[0] + MASK * (len(text) - 2) + text[-1]


def _mask_digits(text: str, keep_head: int, keep_tail: int) -> str:
    """Replace every digit of ``text`` by ``*`` except the first ``keep_head`` and last ``keep_tail``."""
    positions = [i for i, ch in enumerate(text) if ch.isdigit()]
    hidden = set(positions[keep_head : len(positions) - keep_tail])
    return "".join(MASK if i in hidden else ch for i, ch in enumerate(text))


def mask_phone(value: str | None) -> str | None:
    """Mask a phone number: mobiles keep 3 + 4 digits, landlines their area code and last 4.

    Parameters
    ----------
    value : str or None
        ``"13812341234"``, ``"+86 13812341234"``, ``"0531-88776655"``, ``"88776655"`` or any
        other text with digits.

    Returns
    -------
    str or None
        ``"138****1234"``, ``"+86 138****1234"``, ``"0531-****6655"``, ``"****6655"``; other
        text keeps at most its last 4 digits (none when it has fewer than 7), text without
        digits is masked like a name. ``None``/``""`` unchanged.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return text
    if len(text) == 11 and text.isdigit() and text[0] == "1":  # fast path: a plain mobile number
        return f"{text[:3]}****{text[-4:]}"
    compact = re.sub(r"[\s-]", "", text)
    mobile = _MOBILE.match(compact)
    if mobile:
        # the number is the last 11 digits; hide its 4th to 7th digit, keep the layout
        digits = [i for i, ch in enumerate(text) if ch.isdigit()]
        hidden = set(digits[-8:-4])
        return "".join(MASK if i in hidden else ch for i, ch in enumerate(text))
    landline = _LANDLINE.match(text)
    if landline:
        local = landline["local"]
        ext = landline["ext"]
        masked_ext = re.sub(r"\d", MASK, ext)
        return f"{landline['area']}{landline['sep']}{MASK * (len(local) - 4)}{local[-4:]}{masked_ext}"
    n_digits = sum(ch.isdigit() for ch in text)
    if n_digits == 0:
        return mask_name(text)
    if n_digits < 7:
        return re.sub(r"\d", MASK, text)
    return _mask_digits(text, keep_head=0, keep_tail=4)


def mask_id(value: str | None) -> str | None:
    """Mask an ID number (居民身份证号), keeping the first 3 and last 4 characters.

    Parameters
    ----------
    value : str or None
        An 18-character (or old 15-digit) ID number, or any other identifier.

    Returns
    -------
    str or None
        ``"370***********1234"`` for 18 characters; values shorter than 8 characters are
        masked entirely. ``None``/``""`` unchanged.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return text
    if len(text) < 8:
        return MASK * len(text)
    return text[:3] + MASK * (len(text) - 7) + text[-4:]


MASKERS: dict[str, Callable[[str | None], str | None]] = {
    "name": mask_name,
    "phone": mask_phone,
    "id": mask_id,
}


def mask_value(kind: str, value: str | None) -> str | None:
    """Mask ``value`` as ``kind`` (``"name"``, ``"phone"`` or ``"id"``)."""
    try:
        masker = MASKERS[kind]
    except KeyError:
        msg = f"unknown personal-data kind {kind!r}; use one of {', '.join(MASKERS)}"
        raise ValueError(msg) from None
    return masker(value)


def _mask_cell(masker: Callable[[str | None], str | None], value: object) -> object:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return value
    except (TypeError, ValueError):
        pass
    return masker(str(value))


def personal_columns(columns: Iterable[object]) -> dict[str, str]:
    """The personal-data columns among ``columns`` with their kind (see :data:`PERSONAL_COLUMNS`)."""
    return {str(c): PERSONAL_COLUMNS[str(c)] for c in columns if str(c) in PERSONAL_COLUMNS}


def mask_frame(
    frame: pd.DataFrame, columns: Mapping[str, str] | None = None, *, blank: bool = False
) -> pd.DataFrame:
    """A copy of ``frame`` with its personal-data columns masked.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any table; its index and other columns are kept unchanged.
    columns : mapping of str to str, optional
        Column name → kind (``"name"``, ``"phone"``, ``"id"``). Default: every column whose name
        is in :data:`PERSONAL_COLUMNS`.
    blank : bool, default False
        Replace the personal values by ``None`` instead of masking them (for roles that may
        see no personal data at all).

    Returns
    -------
    pandas.DataFrame
        A new frame; ``frame`` itself is not modified. Missing values stay missing.
    """
    targets = dict(columns) if columns is not None else personal_columns(frame.columns)
    out = frame.copy()
    for column, kind in targets.items():
        if column not in out.columns:
            continue
        if blank:
            out[column] = pd.Series([None] * len(out), index=out.index, dtype=object)
            continue
        masker = MASKERS[kind] if kind in MASKERS else None
        if masker is None:
            msg = f"column {column!r}: unknown personal-data kind {kind!r}; use one of {', '.join(MASKERS)}"
            raise ValueError(msg)
        out[column] = map_unique(out[column], partial(_mask_cell, masker))
    return out


def map_unique(series: pd.Series, func: Callable[[object], object]) -> pd.Series:
    """``series.map(func)`` computing ``func`` once per distinct value (missing values kept)."""
    values = series.astype(object)
    present = values.notna()
    out = values.copy()
    if present.any():
        mapping = {v: func(v) for v in pd.unique(values[present])}
        out[present] = values[present].map(mapping)
    return out


_DIGIT_RUN = re.compile(r"\d{3}")
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d[\s-]?\d{4}[\s-]?\d{4})(?!\d)")
_LANDLINE_IN_TEXT = re.compile(r"(?<!\d)(0\d{2,3}-\d{7,8})(?!\d)")


def scrub_text(value: str | None, *, redact: bool = False) -> str | None:
    """Mask ID numbers and phone numbers written inside free text (case descriptions, notes).

    Parameters
    ----------
    value : str or None
        E.g. ``"联系人13812341234，身份证370102199001011234"``.

    Returns
    -------
    str or None
        ``"联系人138****1234，身份证370***********1234"``; with ``redact=True`` every such
        number becomes ``"***"``. Names inside free text cannot be recognised reliably and are
        left as written. ``None``/``""`` unchanged.
    """
    if not value or not _DIGIT_RUN.search(value):
        return value

    def sub(masker: Callable[[str | None], str | None]) -> Callable[[re.Match[str]], str]:
        return lambda m: MASK * 3 if redact else (masker(m.group(1)) or "")

    text = _ID_IN_TEXT.sub(sub(mask_id), str(value))
    text = _MOBILE_IN_TEXT.sub(sub(mask_phone), text)
    return _LANDLINE_IN_TEXT.sub(sub(mask_phone), text)
