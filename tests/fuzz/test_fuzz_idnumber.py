"""Fuzzing the resident ID number check (registry.idnumber, GB 11643-1999): read only here, the
module belongs to the registry work in progress."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from registry.idnumber import check_character, id_number_problem, normalise_id_number
from tests.fuzz.helpers import examples, odd_cells

KEYS = {"missing_id", "bad_id_format", "bad_check_digit"}
ASCII_ID = re.compile(r"[0-9]{17}[0-9X]")
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")

digits17 = st.text(alphabet="0123456789", min_size=17, max_size=17)


@st.composite
def id_like(draw: st.DrawFn) -> str:
    """Valid numbers, as typed (spaces, lower-case x, full-width), cut, padded, or one digit changed."""
    first = draw(digits17)
    number = first + check_character(first)
    edit = draw(st.sampled_from(("as is", "spaces", "lower", "full", "cut", "pad", "change", "odd")))
    if edit == "spaces":
        return " ".join((number[:6], number[6:14], number[14:]))
    if edit == "lower":
        return number.lower()
    if edit == "full":
        return number.translate(FULL_WIDTH)
    if edit == "cut":
        return number[: draw(st.integers(0, 17))]
    if edit == "pad":
        return number + draw(st.sampled_from(("0", "X", "\u3000", "\t", "١")))
    if edit == "change":
        i = draw(st.integers(0, 17))
        return number[:i] + draw(st.sampled_from("0123456789X")) + number[i + 1:]
    return draw(odd_cells) if edit == "odd" else number


@settings(max_examples=examples(500))
@given(value=st.one_of(id_like(), odd_cells, st.text(max_size=20)))
@example(value="11010519491231002X")
def test_id_number_problem_answers_every_value(value: str) -> None:
    found = id_number_problem(value)
    number = normalise_id_number(value)
    if found is None:
        assert len(number) == 18 and number[17] == check_character(number[:17])
        return
    key, reason = found
    assert key in KEYS and isinstance(reason, str) and "\n" not in reason
    assert (key == "missing_id") == (number == "")


@settings(max_examples=examples(300))
@given(first=digits17, i=st.integers(0, 16), digit=st.sampled_from("0123456789"))
def test_one_wrong_digit_is_always_caught(first: str, i: int, digit: str) -> None:
    number = first + check_character(first)
    assert id_number_problem(number) is None
    changed = number[:i] + digit + number[i + 1:]
    assert (id_number_problem(changed) is None) == (digit == number[i])


@settings(max_examples=examples(50))
@given(first=digits17, script=st.sampled_from(("０１２３４５６７８９", "٠١٢٣٤٥٦٧٨٩")))
def test_full_width_digits_are_read_as_ascii_and_other_scripts_refused(first: str, script: str) -> None:
    ascii_number = first + check_character(first)
    typed = ascii_number.translate(str.maketrans("0123456789", script))
    if script.startswith("０"):  # what a Chinese input method types in full-width mode
        assert id_number_problem(typed) is None and normalise_id_number(typed) == ascii_number
    else:
        assert id_number_problem(typed)[0] == "bad_id_format"
    assert id_number_problem(ascii_number) is None and ASCII_ID.fullmatch(normalise_id_number(ascii_number))
