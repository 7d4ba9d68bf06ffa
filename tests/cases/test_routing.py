"""Routing rules: order, areas, sources, fallback, unrouted reasons, bad files."""

from __future__ import annotations

import pytest

from cases import routing
from cases.routing import Directory, parse_rules, route
from core.errors import InputError
from tests.factories import add_people

RULES = """
departments = ["应急管理", "市场监管"]

[[rule]]
name = "fires"
category = ["emergency"]
subcategory = ["fire"]
target = "department:应急管理"

[[rule]]
name = "street 370811005 disputes to chief"
category = "dispute"
area = ["370811005"]
target = "community_chief"

[[rule]]
name = "superior"
source = ["superior"]
target = "community_chief"

[[rule]]
name = "requests"
category = ["request"]
target = "grid_worker"
fallback = "community_chief"

[[rule]]
name = "the rest"
category = ["emergency", "dispute"]
target = "grid_worker"
"""

DIRECTORY = Directory(
    grid_workers={"370811004001001": "W001", "370811005001001": "W101"},
    community_chiefs={"370811004001": "C001", "370811005001": "C101"},
    departments=frozenset({"应急管理", "市场监管"}),
)


def case(**kw):
    base = dict(category="request", subcategory="noise", source="hotline_12345", street_code="370811004",
                community_code="370811004001", grid_code="370811004001001", join_status="ok")
    base.update(kw)
    return base


def test_first_matching_rule_wins():
    rules = parse_rules(RULES)
    r = route(case(category="emergency", subcategory="fire"), rules, DIRECTORY)
    assert (r.assignee_kind, r.assignee_id, r.rule) == ("department", "应急管理", 1)
    r = route(case(category="emergency", subcategory="flooding"), rules, DIRECTORY)
    assert (r.assignee_kind, r.assignee_id, r.rule) == ("worker", "W001", 5)
    r = route(case(category="request", source="superior"), rules, DIRECTORY)
    assert (r.assignee_kind, r.assignee_id, r.rule) == ("chief", "C001", 3)


def test_area_prefix_matches_any_level():
    rules = parse_rules(RULES)
    inside = case(category="dispute", street_code="370811005", community_code="370811005001",
                  grid_code="370811005001001")
    assert route(inside, rules, DIRECTORY).assignee_id == "C101"
    assert route(case(category="dispute"), rules, DIRECTORY).assignee_id == "W001"


def test_fallback_and_unrouted_reasons():
    rules = parse_rules(RULES)
    orphan = case(grid_code="370811004001009")
    r = route(orphan, rules, DIRECTORY)
    assert (r.assignee_kind, r.assignee_id) == ("chief", "C001")
    r = route(case(category="dispute", grid_code="370811004001009"), rules, DIRECTORY)
    assert not r.routed and "grid 370811004001009 has no worker" in r.reason and "rule 5" in r.reason
    r = route(case(category="hazard"), rules, DIRECTORY)
    assert not r.routed and r.reason.startswith("no routing rule matches (category=hazard")
    outside = case(category="dispute", street_code=None, community_code=None, grid_code=None, join_status="outside")
    r = route(outside, rules, DIRECTORY)
    assert not r.routed and "outside every grid (join status outside)" in r.reason


def test_shipped_rules_file_is_valid_and_ends_with_a_catch_all():
    rules = routing.load_rules()
    assert rules.rules[-1].target == "grid_worker"
    assert not (rules.rules[-1].category or rules.rules[-1].area or rules.rules[-1].source)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[[rule]]\ntarget = 'grid_worker'\ncategory = ['weather']\n",
         r"rule 1 \(line 1\): category 'weather' unknown"),
        ("departments=[]\n[[rule]]\ntarget='grid_worker'\n\n[[rule]]\ntarget = 'department:水务'\n",
         r"rule 2 \(line 5\): target names department '水务'.*Fix: add '水务' to departments"),
        ("[[rule]]\nname = 'x'\n", r"rule 1 \(line 1\): has no target"),
        ("[[rule]]\ntarget='grid_worker'\nwhere='x'\n", r"rule 1 \(line 1\): unknown key\(s\) where"),
        ("[[rule]]\ntarget='grid_worker'\narea=['37a']\n", r"area '37a' is not a code prefix"),
        ("[[rule]\ntarget='x'\n", r"not valid TOML .*line 1"),
        ("departments = ['a']\n", r"no \[\[rule\]\] tables"),
        ("[[rule]]\ntarget='boss'\n", r"target 'boss' is not a target"),
    ],
)
def test_bad_rule_files_name_rule_line_and_fix(tmp_path, text, match):
    path = tmp_path / "routing.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=match) as info:
        routing.load_rules(path)
    assert str(path) in str(info.value) and "Fix:" in str(info.value)


def test_directory_from_store(store):
    with store.Session() as s, s.begin():
        add_people(s)
        added = routing.sync_departments(s, parse_rules(RULES))
        directory = routing.load_directory(s)
    assert added == 0
    assert directory.grid_workers == {"370811004001001": "W001", "370811004001002": "W002"}
    assert directory.community_chiefs == {"370811004001": "C001"}
    assert directory.departments == {"应急管理", "市场监管"}


ADMISSION_RULES = """
departments = ["综合执法", "应急管理"]
[grid_admission]
categories = ["request"]
subcategories = ["neighbour"]
department = "综合执法"
[[rule]]
category = ["emergency"]
target = "department:应急管理"
[[rule]]
target = "grid_worker"
"""


def test_grid_admission_sends_other_matters_to_its_department():
    rules = parse_rules(ADMISSION_RULES)
    directory = Directory(grid_workers={"G1": "W1"}, departments=frozenset({"综合执法", "应急管理"}))
    admitted = route({"category": "dispute", "subcategory": "neighbour", "grid_code": "G1"}, rules, directory)
    assert (admitted.assignee_kind, admitted.assignee_id) == ("worker", "W1")
    noise = route({"category": "request", "subcategory": "noise", "grid_code": "G1"}, rules, directory)
    assert noise.assignee_id == "W1"
    refused = route({"category": "dispute", "subcategory": "labour", "grid_code": "G1"}, rules, directory)
    assert (refused.assignee_kind, refused.assignee_id) == ("department", "综合执法")
    assert "labour is not admitted to grids" in refused.reason
    # a rule that names a department is not affected by the list
    fire = route({"category": "emergency", "subcategory": "fire", "grid_code": "G1"}, rules, directory)
    assert fire.assignee_id == "应急管理"


@pytest.mark.parametrize(("table", "match"), [
    ('[grid_admission]\ncategories = ["weather"]\ndepartment = "综合执法"\n', "categories 'weather' unknown"),
    ('[grid_admission]\ndepartment = "消防"\n', "department '消防' is not in the departments list"),
    ('[grid_admission]\nwho = 1\ndepartment = "综合执法"\n', "unknown key"),
])
def test_grid_admission_mistakes_are_named(table, match):
    text = 'departments = ["综合执法"]\n' + table + '[[rule]]\ntarget = "grid_worker"\n'
    with pytest.raises(InputError, match=match):
        parse_rules(text)
