"""Resident ID numbers (居民身份证号码, GB 11643-1999): format and check digit.

An ID number has 17 digits and a check character: the weighted sum of the 17 digits (weights
``2^(17-i) mod 11``) modulo 11 picks the check character from ``1 0 X 9 8 7 6 5 4 3 2``. The
region code and the birth date are not checked (a registry may hold people born anywhere).

>>> check_character("11010519491231002")
'X'
>>> id_number_problem("11010519491231002X") is None
True
"""

from __future__ import annotations

import re
import unicodedata

#: Weights of the 17 digits.
WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
#: Check character by the weighted sum modulo 11.
CHECK_CHARACTERS = "10X98765432"
_FORMAT = re.compile(r"[0-9]{17}[0-9X]")  # ASCII only: \d would take any script's digits


def normalise_id_number(value: str) -> str:
    """``value`` without spaces, full-width characters as ASCII (NFKC: ``１２３Ｘ`` → ``123X``, as a
    Chinese input method types them) and a lower-case ``x`` as ``X``."""
    return "".join(unicodedata.normalize("NFKC", str(value)).split()).upper()


def check_character(first17: str) -> str:
    """The check character of the 17 digits ``first17``."""
    total = sum(map(int.__mul__, map(int, first17), WEIGHTS))
    return CHECK_CHARACTERS[total % 11]


def id_number_problem(value: str) -> tuple[str, str] | None:
    """What is wrong with an ID number, as ``(problem key, reason)``; None when it is valid.

    Keys: ``missing_id`` (empty), ``bad_id_format`` (not 17 digits and a digit or X),
    ``bad_check_digit``.
    """
    number = normalise_id_number(value)
    if not number:
        return "missing_id", "身份证号 is empty"
    if not _FORMAT.fullmatch(number):
        return "bad_id_format", f"身份证号 has {len(number)} characters, not 17 digits and a check digit or X"
    expected = check_character(number[:17])
    if number[17] != expected:
        return "bad_check_digit", f"bad check digit: 身份证号 ends in {number[17]}, GB 11643 gives {expected}"
    return None
