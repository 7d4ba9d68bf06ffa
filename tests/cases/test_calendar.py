"""China's working calendar: 国庆 and 春节 2026 with their make-up working days (调休), the
weekends-only fallback for years without data, and local overrides from the settings file."""

from __future__ import annotations

import logging
import os
from datetime import date, datetime, timedelta

import pytest

from cases import calendar, deadlines
from cases.calendar import WorkingCalendar
from core.errors import InputError
from core.settings import load_settings


@pytest.fixture(autouse=True)
def no_settings_file(tmp_path, monkeypatch):
    """The national calendar without local overrides unless a test writes a settings file."""
    monkeypatch.setenv("GRIDCOMMAND_CONFIG", str(tmp_path / "absent.toml"))


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_national_day_2026_week_and_its_make_up_working_days():
    # chinese-calendar 1.11.0 (State Council notice for 2026): 中秋 Sep 25-27, 国庆 Oct 1-7 off;
    # Sunday Sep 20 and Saturday Oct 10 are make-up working days; Thursday Oct 8 is a working day.
    cal = WorkingCalendar()
    off = {*days_between(date(2026, 9, 25), date(2026, 9, 27)), *days_between(date(2026, 10, 1), date(2026, 10, 7))}
    for day in days_between(date(2026, 9, 19), date(2026, 10, 12)):
        expected = day not in off and (day.weekday() < 5 or day in {date(2026, 9, 20), date(2026, 10, 10)})
        assert cal.is_working_day(day) is expected, day
    assert not cal.is_working_day(date(2026, 9, 19))  # an ordinary Saturday
    # dispatched Wednesday Sep 30 09:00, 5 working days: Sep 30 (15 h), Oct 8, 9, 10 (Sat, 调休), 12, 13 until 09:00
    assert cal.add_working_days(datetime(2026, 9, 30, 9, 0), 5) == datetime(2026, 10, 13, 9, 0)
    assert cal.add_working_days(datetime(2026, 9, 30, 9, 0), 1) == datetime(2026, 10, 8, 9, 0)
    # a start inside the holiday counts from the first working day after it, 00:00
    assert cal.add_working_days(datetime(2026, 10, 3, 14, 0), 1) == datetime(2026, 10, 9, 0, 0)


def test_make_up_saturday_counts_as_a_working_day():
    cal = WorkingCalendar()
    assert date(2026, 10, 10).weekday() == 5 and cal.is_working_day(date(2026, 10, 10))
    assert cal.add_working_days(datetime(2026, 10, 9, 9, 0), 1) == datetime(2026, 10, 10, 9, 0)
    assert cal.add_working_days(datetime(2026, 10, 9, 9, 0), 2) == datetime(2026, 10, 12, 9, 0)
    # a dispatch on the make-up Saturday itself starts the clock at once
    assert cal.add_working_days(datetime(2026, 10, 10, 9, 0), 0.5) == datetime(2026, 10, 10, 21, 0)
    # 春节 2026: Sat Feb 14 works, Feb 15-23 off, Sat Feb 28 works
    assert cal.is_working_day(date(2026, 2, 14)) and cal.is_working_day(date(2026, 2, 28))
    assert not any(cal.is_working_day(d) for d in days_between(date(2026, 2, 15), date(2026, 2, 23)))
    assert cal.add_working_days(datetime(2026, 2, 13, 10, 0), 3) == datetime(2026, 2, 25, 10, 0)


def test_year_without_data_falls_back_to_weekends_with_one_warning_per_year(caplog):
    cal = WorkingCalendar()
    caplog.set_level(logging.WARNING, logger="cases.calendar")
    # 2040-10-01 is a Monday: National Day, but the package has no 2040 data, so it is a working day
    assert cal.is_working_day(date(2040, 10, 1))
    assert not cal.is_working_day(date(2040, 10, 6)) and not cal.is_working_day(date(2040, 10, 7))
    assert cal.add_working_days(datetime(2040, 10, 5, 9, 0), 1) == datetime(2040, 10, 8, 9, 0)
    warnings = [r for r in caplog.records if r.name == "cases.calendar"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    message = warnings[0].getMessage()
    assert "no holiday data for 2040" in message and "[calendar]" in message
    cal.is_working_day(date(2041, 1, 1))
    messages = [r.getMessage() for r in caplog.records if r.name == "cases.calendar"]
    assert len(messages) == 2 and "no holiday data for 2041" in messages[1]
    # covered years never warn
    caplog.clear()
    cal.is_working_day(date(2026, 10, 1))
    assert not caplog.records


def test_overrides_from_the_settings_file(tmp_path, monkeypatch):
    config = tmp_path / "gridcommand.toml"
    config.write_text('[calendar]\nholidays = ["2026-10-09"]\n', encoding="utf-8")
    monkeypatch.setenv("GRIDCOMMAND_CONFIG", str(config))
    assert load_settings().calendar.holidays == (date(2026, 10, 9),)
    assert not calendar.is_working_day(date(2026, 10, 9)) and calendar.is_working_day(date(2026, 10, 8))
    start = datetime(2026, 9, 30, 9, 0)
    # Sep 30 (15 h), Oct 8, 10 (调休), 12, 13, 14 until 09:00: the local day off pushes it by one day
    assert deadlines.add_working_days(start, 5) == datetime(2026, 10, 14, 9, 0)
    assert deadlines.compute_deadlines("request", "normal", start).close_due == datetime(2026, 10, 14, 9, 0)
    # TOML dates work too; a Sunday made a working day counts (the file is re-read when it changes)
    config.write_text('[calendar]\nholidays = ["2026-10-09"]\nworkdays = [2026-10-11]\n', encoding="utf-8")
    os.utime(config, ns=(config.stat().st_atime_ns, config.stat().st_mtime_ns + 10**9))
    assert calendar.is_working_day(date(2026, 10, 11))
    assert deadlines.add_working_days(start, 5) == datetime(2026, 10, 13, 9, 0)
    # an override in a year without package data wins over the weekday fallback
    cal = WorkingCalendar(holidays=[date(2040, 10, 1)], workdays=[datetime(2040, 10, 6, 12, 0)])
    assert not cal.is_working_day(date(2040, 10, 1)) and cal.is_working_day(date(2040, 10, 6))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[calendar]\nholidays = "2026-10-09"\n', "[calendar] holidays must be a list of dates"),
        ('[calendar]\nworkdays = ["2026-13-01"]\n', "[calendar] workdays has '2026-13-01', which is not a date"),
        ('[calendar]\nholidays = [20261009]\n', "[calendar] holidays has 20261009, which is not a date"),
        ('[calendar]\nrestdays = ["2026-10-09"]\n', "[calendar] has unknown key(s) restdays"),
        ('[calendar]\nholidays = ["2026-10-09"]\nworkdays = [2026-10-09]\n',
         "[calendar] 2026-10-09 is listed in both holidays and workdays"),
        ('calendar = ["2026-10-09"]\n', "calendar must be a table"),
    ],
)
def test_bad_calendar_settings_are_one_line_errors(tmp_path, text, problem):
    config = tmp_path / "gridcommand.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_settings(config)
    message = str(info.value)
    assert problem in message and str(config) in message and "Fix: " in message and "\n" not in message
