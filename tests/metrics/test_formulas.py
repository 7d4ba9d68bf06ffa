"""Every formula reads in the page's language: Chinese texts in Chinese, English in English."""

from __future__ import annotations

import re

from metrics.formulas import FORMULAS, describe

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_every_formula_reads_in_chinese_and_in_english() -> None:
    chinese = {key: describe(key, "zh") for key in FORMULAS}
    english = {key: describe(key, "en") for key in FORMULAS}
    assert len(chinese) > 20
    not_chinese = [(k, part) for k, texts in chinese.items() for part in texts if part != "—" and not HAN.search(part)]
    not_english = [(k, part) for k, texts in english.items() for part in texts if HAN.search(part)]
    assert not_chinese == [] and not_english == []
    assert describe("closure_rate", "zh") == ("结案数", "应结案数", "未到结案时限的案件（见应结案数）")
    assert describe("closure_rate", "en")[1] == "due to be closed"
