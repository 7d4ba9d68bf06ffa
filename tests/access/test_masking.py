"""Masking of names, phones and ID numbers, and of whole tables."""

from __future__ import annotations

import pandas as pd
import pytest

from access.masking import mask_frame, mask_id, mask_name, mask_phone, mask_value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("张三明", "张*明"),
        ("张三", "张*"),
        ("欧阳娜娜", "欧**娜"),
        ("张", "*"),
        (" 李四 ", "李*"),
        ("John Smith", "J********h"),
        ("阿卜杜·热合曼", "阿*****曼"),
        (None, None),
        ("", ""),
    ],
)
def test_mask_name(value, expected):
    assert mask_name(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812341234", "138****1234"),
        ("+86 13812341234", "+86 138****1234"),
        ("138 1234 5678", "138 **** 5678"),
        ("0531-88776655", "0531-****6655"),
        ("010-12345678-123", "010-****5678-***"),
        ("88776655", "****6655"),
        ("12345", "*****"),
        (None, None),
        ("", ""),
    ],
)
def test_mask_phone(value, expected):
    assert mask_phone(value) == expected


def test_mask_phone_never_shows_the_middle_digits():
    for number in ("13912345678", "0531-87654321", "18600001111"):
        masked = mask_phone(number)
        digits = [c for c in masked if c.isdigit()]
        assert len(digits) <= 8
        assert masked != number and "*" in masked


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("370102199001011234", "370***********1234"),
        ("37010219900101123X", "370***********123X"),
        ("370102900101123", "370********1123"),
        ("1234567", "*******"),
        (None, None),
        ("", ""),
    ],
)
def test_mask_id(value, expected):
    assert mask_id(value) == expected


def test_mask_value_rejects_unknown_kind():
    with pytest.raises(ValueError, match="unknown personal-data kind 'email'"):
        mask_value("email", "a@b.c")


def test_mask_frame_masks_known_columns_and_keeps_the_rest():
    frame = pd.DataFrame(
        {
            "户主姓名": ["张三明", None, "王五"],
            "联系电话": ["13812341234", "0531-88776655", pd.NA],
            "身份证号": ["370102199001011234", "", None],
            "类别": ["hardship", "rehab", "empty_nest"],
        },
        index=[10, 11, 12],
    )
    out = mask_frame(frame)
    assert list(out.index) == [10, 11, 12]
    assert out["户主姓名"].tolist()[0] == "张*明"
    assert out["户主姓名"].tolist()[2] == "王*"
    assert out["户主姓名"].isna().tolist()[1]
    assert out["联系电话"].tolist()[:2] == ["138****1234", "0531-****6655"]
    assert pd.isna(out["联系电话"].tolist()[2])
    assert out["身份证号"].tolist()[:2] == ["370***********1234", ""]
    assert out["类别"].tolist() == frame["类别"].tolist()
    # the input is untouched
    assert frame.loc[10, "户主姓名"] == "张三明"


def test_mask_frame_blank_and_explicit_columns():
    frame = pd.DataFrame({"who": ["张三明"], "tel": ["13812341234"], "phone": ["13900000000"]})
    out = mask_frame(frame, {"who": "name", "tel": "phone"})
    assert out.loc[0, "who"] == "张*明" and out.loc[0, "tel"] == "138****1234"
    assert out.loc[0, "phone"] == "13900000000"  # not named, so left alone
    blank = mask_frame(frame, blank=True)
    assert blank.loc[0, "phone"] is None and blank.loc[0, "who"] == "张三明"
    with pytest.raises(ValueError, match="column 'who'"):
        mask_frame(frame, {"who": "bogus"})
