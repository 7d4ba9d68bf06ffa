"""Deadlines per category and priority (working days on China's calendar), and the computed due status."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from cases import deadlines
from cases.deadlines import add_working_days, compute_deadlines, due_status
from core import constants
from core.errors import InputError

MON_9 = datetime(2026, 11, 16, 9, 0)
FRI_9 = datetime(2026, 11, 20, 9, 0)


def test_working_days_skip_weekends():
    assert add_working_days(MON_9, 1) == datetime(2026, 11, 17, 9, 0)
    assert add_working_days(FRI_9, 1) == datetime(2026, 11, 23, 9, 0)
    assert add_working_days(FRI_9, 5) == datetime(2026, 11, 27, 9, 0)
    assert add_working_days(datetime(2026, 11, 21, 15, 0), 1) == datetime(2026, 11, 24, 0, 0)
    assert add_working_days(FRI_9, 0.5) == datetime(2026, 11, 20, 21, 0)
    assert add_working_days(datetime(2026, 11, 20, 20, 0), 0.5) == datetime(2026, 11, 23, 8, 0)


def test_deadlines_follow_sla_and_priority():
    sla = constants.SLA_DEFAULTS["emergency"]
    d = compute_deadlines("emergency", "normal", MON_9, sla=constants.SLA_DEFAULTS)
    assert d.arrive_due == MON_9 + timedelta(minutes=sla.arrive_minutes)
    assert d.respond_due == MON_9 + timedelta(minutes=sla.respond_minutes)
    urgent = compute_deadlines("emergency", "urgent", MON_9, sla=constants.SLA_DEFAULTS)
    assert urgent.arrive_due - MON_9 == (d.arrive_due - MON_9) * constants.PRIORITY_FACTORS["urgent"]
    req = compute_deadlines("request", "normal", FRI_9, sla=constants.SLA_DEFAULTS)
    assert req.close_due == add_working_days(FRI_9, constants.SLA_DEFAULTS["request"].close_working_days)
    with pytest.raises(ValueError, match="unknown priority 'asap'"):
        compute_deadlines("request", "asap", MON_9, sla=constants.SLA_DEFAULTS)


def test_close_deadline_skips_national_day_and_counts_the_make_up_saturday(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDCOMMAND_CONFIG", str(tmp_path / "absent.toml"))  # no local [calendar] overrides
    wed_9 = datetime(2026, 9, 30, 9, 0)
    # weekends only this was Wed Oct 7 09:00 (Oct 1, 2, 5, 6, 7), inside the 国庆 holiday (Oct 1-7 off);
    # now Sep 30 (15 h), Oct 8, 9, Sat Oct 10 (调休 working day), Oct 12 and Oct 13 until 09:00
    d = compute_deadlines("request", "normal", wed_9, sla=constants.SLA_DEFAULTS)
    assert d.close_due == datetime(2026, 10, 13, 9, 0)
    # emergency, 1 working day: the day after the holiday, not Thursday Oct 1
    assert compute_deadlines("emergency", "normal", wed_9, sla=constants.SLA_DEFAULTS).close_due == datetime(
        2026, 10, 8, 9, 0)
    # respond/arrive are clock minutes and ignore the calendar
    assert d.respond_due == wed_9 + timedelta(minutes=constants.SLA_DEFAULTS["request"].respond_minutes)


def test_sla_overrides_and_bad_overrides():
    table = deadlines.sla_table({"emergency": {"arrive_minutes": 20}})
    assert table["emergency"].arrive_minutes == 20
    assert table["emergency"].respond_minutes == constants.SLA_DEFAULTS["emergency"].respond_minutes
    with pytest.raises(InputError, match=r"\[sla.weather\] is not a category"):
        deadlines.sla_table({"weather": {"arrive_minutes": 20}})
    with pytest.raises(InputError, match="unknown key"):
        deadlines.sla_table({"emergency": {"arrive_hours": 1}})
    with pytest.raises(InputError, match="positive integer"):
        deadlines.sla_table({"emergency": {"arrive_minutes": -5}})


def case_at(state, **kw):
    base = dict(state=state, category="request", dispatched_at=MON_9, accepted_at=None, arrived_at=None,
                respond_due=MON_9 + timedelta(hours=4), arrive_due=MON_9 + timedelta(hours=8),
                close_due=MON_9 + timedelta(days=4), extension_state=None, extended_close_due=None)
    base.update(kw)
    return SimpleNamespace(**base)


@pytest.mark.parametrize(
    ("case", "now", "expected"),
    [
        (case_at("dispatched"), MON_9 + timedelta(hours=1), "ok"),
        (case_at("dispatched"), MON_9 + timedelta(hours=3, minutes=30), "soon"),
        (case_at("dispatched"), MON_9 + timedelta(hours=5), "overdue"),
        (case_at("accepted"), MON_9 + timedelta(hours=5), "ok"),
        (case_at("accepted"), MON_9 + timedelta(hours=9), "overdue"),
        (case_at("on_site", arrived_at=MON_9), MON_9 + timedelta(hours=9), "ok"),
        (case_at("handled"), MON_9 + timedelta(days=3, hours=12), "soon"),
        (case_at("handled"), MON_9 + timedelta(days=5), "overdue"),
        (case_at("handled", extension_state="approved", extended_close_due=MON_9 + timedelta(days=10)),
         MON_9 + timedelta(days=5), "ok"),
        (case_at("handled", extension_state="requested", extended_close_due=MON_9 + timedelta(days=10)),
         MON_9 + timedelta(days=5), "overdue"),
        (case_at("closed"), MON_9 + timedelta(days=50), "ok"),
        (case_at("registered", dispatched_at=None), MON_9 + timedelta(days=50), "ok"),
    ],
)
def test_due_status(case, now, expected):
    assert due_status(case, now) == expected


def test_configured_sla_follows_the_settings_file(tmp_path, monkeypatch):
    config = tmp_path / "gridcommand.toml"
    config.write_text("[sla.emergency]\narrive_minutes = 20\n", encoding="utf-8")
    monkeypatch.setenv("GRIDCOMMAND_CONFIG", str(config))
    assert deadlines.sla_table()["emergency"].arrive_minutes == 20
    config.write_text("[sla.emergency]\narrive_minutes = 25\n", encoding="utf-8")
    os.utime(config, ns=(config.stat().st_atime_ns, config.stat().st_mtime_ns + 10**9))
    assert deadlines.sla_table()["emergency"].arrive_minutes == 25
