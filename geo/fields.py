"""Find the code, name and parent fields of a delivered layer, and turn codes into text.

Field names in real deliveries are English or Chinese (编码/代码/编号/code, 名称/name,
所属…/上级…/parent). A field that names the level itself (网格编码 for grids) beats a generic
one; a field that names the parent level (社区编码 in a grid layer, 所属社区) is the parent.
An explicit mapping always wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd

from core.constants import LEVELS
from core.errors import InputError, few

#: Words that name each level (Chinese substrings, English tokens).
LEVEL_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "streets": (("街道", "乡镇", "镇街", "街办"),
                ("street", "streets", "subdistrict", "town", "township", "borough", "jd")),
    "communities": (("社区", "村", "居委"), ("community", "communities", "village", "sq", "cd")),
    "grids": (("网格", "格"), ("grid", "grids", "wg")),
    "buildings": (("楼栋", "楼宇", "建筑", "楼"), ("building", "buildings", "bldg", "ld")),
}
_CODE_ZH = ("编码", "代码", "编号", "代号")
_CODE_EN = ("code", "id", "no", "num", "number", "bm", "dm", "geoid")
_NAME_ZH = ("名称", "名字", "名")
_NAME_EN = ("name", "mc", "label", "title")
_PARENT_ZH = ("所属", "上级", "父级", "隶属", "归属")
_PARENT_EN = ("parent", "pcode", "belong", "upper", "sj", "ss")
_IGNORED = {"fid", "objectid", "ogc_fid", "shape_area", "shape_leng", "shape_length", "shape_len", "id_"}


@dataclass
class FieldChoice:
    """The source fields chosen for one layer (None when absent)."""

    code: str | None
    name: str | None
    parent: str | None
    #: True when the parent field was given explicitly with ``--map`` (then used as is).
    parent_explicit: bool = False
    notes: list[str] = field(default_factory=list)


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[^0-9a-z]+", name.lower()) if t]


def _mentions(name: str, level: str) -> bool:
    zh, en = LEVEL_WORDS[level]
    return any(w in name for w in zh) or any(t in en for t in _tokens(name))


def _is_code(name: str) -> bool:
    return any(w in name for w in _CODE_ZH) or any(t in _CODE_EN for t in _tokens(name))


def _is_name(name: str) -> bool:
    return any(w in name for w in _NAME_ZH) or any(t in _NAME_EN for t in _tokens(name))


def _is_parent(name: str) -> bool:
    return any(w in name for w in _PARENT_ZH) or any(t in _PARENT_EN for t in _tokens(name))


def _other_levels(level: str) -> list[str]:
    return [lv for lv in LEVELS if lv != level]


def choose_fields(columns: list[str], *, level: str, mapping: dict[str, str] | None = None,
                  source: str = "") -> FieldChoice:
    """Choose the code, name and parent fields of a layer.

    Parameters
    ----------
    columns : list of str
        The layer's attribute fields (not the geometry).
    level : str
        One of ``streets``, ``communities``, ``grids``, ``buildings``.
    mapping : dict, optional
        Explicit choices ``{"code"|"name"|"parent": source_field}``; they win.
    source : str
        File name for messages.

    Returns
    -------
    FieldChoice
    """
    mapping = dict(mapping or {})
    for key, src in mapping.items():
        if src not in columns:
            msg = f"--map {level}.{key}={src}: no field {src!r} (fields: {few(columns, 10)})"
            raise InputError(source, msg, "use one of the fields listed")
    usable = [c for c in columns if c.lower() not in _IGNORED]
    others = _other_levels(level)
    lower_levels = LEVELS[LEVELS.index(level) + 1:]

    def names_other_level(c: str) -> bool:
        return any(_mentions(c, lv) for lv in others) and not _mentions(c, level)

    # Parent: explicit, else a parent-ish field, else a code field naming a higher level.
    parent = mapping.get("parent")
    if parent is None:
        cands = [c for c in usable if _is_parent(c)]
        cands += [c for c in usable if _is_code(c) and names_other_level(c)
                  and not any(_mentions(c, lv) for lv in lower_levels)]
        parent = cands[0] if cands else None
    code = mapping.get("code")
    if code is None:
        cands = [c for c in usable if _is_code(c) and not _is_parent(c) and c != parent
                 and not names_other_level(c)]
        cands.sort(key=lambda c: (not _mentions(c, level), _tokens(c) == ["id"]))
        code = cands[0] if cands else None
    name = mapping.get("name")
    if name is None:
        cands = [c for c in usable if _is_name(c) and not _is_parent(c) and c not in (code, parent)
                 and not names_other_level(c)]
        cands.sort(key=lambda c: (not _mentions(c, level),
                                  not ("名称" in c or "name" in _tokens(c) or "mc" in _tokens(c))))
        if not cands:
            zh, en = LEVEL_WORDS[level]
            cands = [c for c in usable if (c in zh or c.lower() in en) and c not in (code, parent)]
        name = cands[0] if cands else None
    return FieldChoice(code=code, name=name, parent=parent, parent_explicit="parent" in mapping)


_SCI = re.compile(r"^[+-]?\d+(\.\d*)?[eE][+-]?\d+$")
_TRAILING_ZEROS = re.compile(r"^([+-]?\d+)\.0*$")


def _text_code(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return ""
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    text = str(value).strip()
    if text.lower() in ("nan", "none", "null", "<na>"):
        return ""
    m = _TRAILING_ZEROS.match(text)
    if m:
        return m.group(1)
    if _SCI.match(text):
        try:
            dec = Decimal(text)
        except InvalidOperation:
            return text
        if dec == dec.to_integral_value():
            return str(int(dec))
    return text


def codes_to_text(values: pd.Series) -> pd.Series:
    """Codes as strings, never floats: ``370891004001.0`` and ``3.70891004001e11`` become
    ``"370891004001"``; text keeps its leading zeros; missing values become ``""``.
    """
    if pd.api.types.is_integer_dtype(values.dtype) and not values.isna().any():
        return values.astype("int64").astype(str).astype(object)
    return pd.Series([_text_code(v) if not (v is pd.NA or v is pd.NaT) else "" for v in values],
                     index=values.index, dtype=object)


def names_to_text(values: pd.Series) -> pd.Series:
    """Names as stripped strings; missing values become ``""``."""
    return pd.Series(["" if (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)))
                      else str(v).strip() for v in values], index=values.index, dtype=object)
