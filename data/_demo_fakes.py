"""Fictional personal data (names, phone and ID numbers) and weighted random choices."""

from __future__ import annotations

import datetime as dt

import numpy as np

#: Common surnames and given-name characters the fictional names are drawn from.
SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
            "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
            "顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰凤春梅海燕桂芝"
         "德福淑珍丽娟新民文博子涵浩然雨轩欣怡思远嘉琪立新保国宏伟晓东晓燕玉梅")


def person_name(rng: np.random.Generator) -> str:
    """A Chinese name: a common surname and one or two given-name characters."""
    surname = SURNAMES[int(rng.integers(len(SURNAMES)))]
    n = 1 if rng.random() < 0.35 else 2
    return surname + "".join(GIVEN[int(rng.integers(len(GIVEN)))] for _ in range(n))


def fake_phone(prefix: str, number: int) -> str:
    """An obviously fake mobile number: ``prefix`` and the last four digits of ``number``."""
    return f"{prefix}{number % 10000:04d}"


def wrong_id(rng: np.random.Generator, birth: dt.date) -> str:
    """An 18-character ID of region 370811 whose check digit is deliberately wrong."""
    body = f"370811{birth:%Y%m%d}{int(rng.integers(1, 999)):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(body, weights, strict=True))
    checks = "10X98765432"
    right = checks[total % 11]
    wrong = checks[(total % 11 + 1 + int(rng.integers(0, 9))) % 11]
    if wrong == right:  # cannot happen (offset 1..9 of 11), kept as a guard
        wrong = checks[(total % 11 + 1) % 11]
    return body + wrong


def weighted_choice(rng: np.random.Generator, weights: dict[str, float]) -> str:
    """One key of ``weights``, drawn with probability proportional to its weight."""
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]
