"""Visit cycles by frequency, the suspicion rules, ID number check digits and the [registry] settings,
each against values worked out by hand."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from pyproj import Geod

from core.errors import InputError
from core.settings import RegistrySettings, load_settings
from registry.groups import group_of, registry_groups
from registry.idnumber import check_character, id_number_problem
from registry.schedule import cycles, lookback
from registry.suspicion import flag_suspicious

NOV, DEC = datetime(2026, 11, 1), datetime(2026, 12, 1)
GEOD = Geod(ellps="GRS80")


def _spans(frequency, start, end):
    return [(c.start.date(), c.end.date(), c.due_by) for c in cycles(frequency, start, end)]


def test_cycles_by_frequency():
    assert _spans("monthly", NOV, DEC) == [(date(2026, 11, 1), date(2026, 12, 1), date(2026, 11, 30))]
    assert _spans("fortnightly", NOV, DEC) == [(date(2026, 11, 1), date(2026, 11, 16), date(2026, 11, 15)),
                                              (date(2026, 11, 16), date(2026, 12, 1), date(2026, 11, 30))]
    assert _spans("quarterly", NOV, DEC) == []  # due in December, the quarter's last month
    assert _spans("quarterly", DEC, datetime(2027, 1, 1)) == [(date(2026, 10, 1), date(2027, 1, 1),
                                                               date(2026, 12, 31))]
    assert len(cycles("monthly", datetime(2026, 1, 1), datetime(2027, 1, 1))) == 12
    assert len(cycles("quarterly", datetime(2026, 1, 1), datetime(2027, 1, 1))) == 4
    window = (datetime(2026, 11, 1), datetime(2026, 11, 16, 9))  # the month so far: one cycle for everybody
    assert _spans("quarterly", *window) == [(date(2026, 11, 1), date(2026, 11, 16), date(2026, 11, 16))]
    assert lookback(DEC, datetime(2027, 1, 1)) == datetime(2026, 10, 1)


def _at(lon, lat, metres, bearing=90.0):
    x, y, _ = GEOD.fwd(lon, lat, bearing, metres)
    return x, y


def test_an_impossible_speed_flags_both_visits_of_the_pair():
    a = (116.56, 35.43)
    b = _at(*a, 2000)  # 2 km east
    visits = pd.DataFrame([
        ("V1", "P1", "W1", datetime(2026, 11, 20, 9, 0), *a),
        ("V2", "P2", "W1", datetime(2026, 11, 20, 9, 1, 10), *b),  # 2 km in 70 s: 103 km/h
        ("V3", "P3", "W1", datetime(2026, 11, 20, 9, 1, 40), *_at(*a, 5)),  # 2 km back in 30 s: 240 km/h
        ("V4", "P4", "W2", datetime(2026, 11, 20, 9, 1, 41), *b),  # another worker: no pair with V3
        ("V5", "P5", "W1", datetime(2026, 11, 20, 9, 1, 40), None, None),  # no position: never flagged
        ("V6", "P6", "W1", datetime(2026, 11, 20, 12, 0), *_at(*a, 40)),  # 40 m: one place
        ("V7", "P7", "W1", datetime(2026, 11, 20, 12, 0), *_at(*a, 10, 0)),
    ], columns=["id", "household_id", "worker_id", "at", "lon", "lat"])
    flagged = flag_suspicious(visits).set_index("id")
    assert flagged["suspicion"].to_dict() == {"V1": "", "V2": "speed", "V3": "speed", "V4": "", "V5": "",
                                              "V6": "", "V7": ""}
    assert flagged["suspicious"].sum() == 2


def test_many_persons_visited_from_one_position_are_suspicious():
    a = (116.56, 35.43)
    rows = [(f"V{i}", f"P{i}", "W1", datetime(2026, 11, 2 + i, 9), *a) for i in range(3)]
    rows += [("V9", "P0", "W1", datetime(2026, 11, 9, 9), *a),  # the same person again: not another person
             ("V8", "P8", "W2", datetime(2026, 11, 9, 9), *a)]  # another worker there once
    visits = pd.DataFrame(rows, columns=["id", "household_id", "worker_id", "at", "lon", "lat"])
    assert flag_suspicious(visits).set_index("id")["suspicion"].to_dict() == {
        "V0": "shared_position", "V1": "shared_position", "V2": "shared_position", "V9": "shared_position", "V8": ""}
    assert flag_suspicious(visits, shared_position_visits=4)["suspicious"].sum() == 0


def test_gb_11643_check_digits():
    assert check_character("11010519491231002") == "X"  # the standard's example
    assert id_number_problem("11010519491231002x") is None
    assert id_number_problem("110105194912310021")[0] == "bad_check_digit"
    assert id_number_problem("1101051949123100")[0] == "bad_id_format"
    assert id_number_problem(" ")[0] == "missing_id"


def test_groups_and_their_frequencies_come_from_the_settings(tmp_path):
    groups = registry_groups()
    assert [groups[k].frequency for k in ("hardship", "petitioner", "disabled")] == ["monthly", "fortnightly",
                                                                                     "quarterly"]
    assert group_of("留守儿童", groups) == "left_behind" and group_of(" Petitioner ", groups) == "petitioner"
    config = tmp_path / "gridcommand.toml"
    config.write_text('[registry]\non_site_m = 30\nfrequency = {disabled = "monthly"}\n'
                      '[registry.groups.veteran]\nzh = "退役军人"\nfrequency = "quarterly"\n', encoding="utf-8")
    rules = load_settings(config).registry
    assert rules.on_site_m == 30 and rules.max_speed_kmh == RegistrySettings().max_speed_kmh
    configured = registry_groups(rules)
    assert configured["disabled"].frequency == "monthly" and configured["veteran"].text("en") == "退役军人"
    assert group_of("退役军人", configured) == "veteran"
    config.write_text('[registry]\nfrequency = {disabled = "weekly"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"\[registry\] frequency has disabled = 'weekly'"):
        load_settings(config)
