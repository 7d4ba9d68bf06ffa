"""The notes the app composes into case events read in Chinese in the Chinese UI: a case driven
through the closed loop (send back, reassign, arrival, extension, rework, dissatisfied follow-up,
escalation) and the routing reasons of unrouted cases; what a person typed is kept as typed."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from cases import routing
from cases.lifecycle import transition
from cases.notes import actor_text, event_label, note_text
from cases.routing import Directory, parse_rules
from store.models import Case, CaseEvent
from tests.factories import CASE_LAT, CASE_LON, T0, add_people, new_case

#: Latin words that are not staff numbers, codes or file names (an English phrase left over).
ENGLISH_WORD = re.compile(r"(?<![A-Za-z0-9_.])[a-z]{2,}(?![A-Za-z0-9_.])")

LOOP = [
    ("register", {}), ("dispatch", {}), ("return", {"reason": "不属于本网格"}),
    ("dispatch", {"assignee_kind": "worker", "assignee_id": "W001"}),
    ("reassign", {"assignee_kind": "worker", "assignee_id": "W002", "reason": "W001 休假"}),
    ("accept", {}), ("arrive", {"lon": CASE_LON + 0.0001, "lat": CASE_LAT}),
    ("request_extension", {"until": T0 + timedelta(days=9)}), ("refuse_extension", {}),
    ("request_extension", {"until": T0 + timedelta(days=8)}), ("approve_extension", {}),
    ("handle", {}), ("rework", {"reason": "未清理干净"}), ("handle", {}), ("verify", {}),
    ("follow_up", {"satisfaction": "dissatisfied"}), ("reopen", {}),
    ("escalate", {"level": 1, "to": "chief C001"}), ("escalate", {"level": 2, "to": "commander"}),
]


def test_every_note_of_the_closed_loop_reads_in_chinese_and_keeps_what_people_typed(store):
    with store.Session() as s, s.begin():
        add_people(s)
        case = new_case(s, source_id="N1")
        for i, (action, fields) in enumerate(LOOP):
            transition(s, case.id, action, actor="op1", at=T0 + timedelta(minutes=i), **fields)
        events = s.execute(select(CaseEvent.action, CaseEvent.note).where(CaseEvent.case_id == case.id)
                           .order_by(CaseEvent.seq)).all()
    notes = {action: [] for action, _ in events}
    for action, note in events:
        notes[action].append(note_text(note, "zh"))
    shown = [text for texts in notes.values() for text in texts]
    assert [w for text in shown for w in ENGLISH_WORD.findall(text)] == []
    assert "退自网格员 W001；原因：不属于本网格" in notes["return"]
    assert "由网格员 W001 改派给网格员 W002（W001 休假）" in notes["reassign"]
    assert any(re.fullmatch(r"距案发位置 \d+ 米", n) for n in notes["arrive"])
    assert "满意度：不满意" in notes["follow_up"] and "原因：未清理干净" in notes["rework"]
    assert notes["escalate"] == ["升级至网格长 C001（第 1 级）", "升级至指挥中心（第 2 级）"]
    assert [note_text(note, "en") for _, note in events] == [note or "" for _, note in events]


def test_a_case_sent_back_shows_who_sent_it_back_in_the_desk_reason(store):
    with store.Session() as s, s.begin():
        add_people(s)
        case = new_case(s, source_id="N2")
        for action, fields in LOOP[:3]:
            transition(s, case.id, action, actor="W001", at=T0, **fields)
        reason = s.scalars(select(Case.unrouted_reason).where(Case.id == case.id)).one()
    assert note_text(reason, "zh") == "W001 退单：不属于本网格"


RULES = """
departments = ["应急管理", "城管"]

[[rule]]
name = "消防"
category = ["emergency"]
target = "department:城管"

[[rule]]
name = "本网格"
category = ["request"]
target = "grid_worker"
fallback = "community_chief"
"""


def test_unrouted_reasons_read_in_chinese():
    rules = parse_rules(RULES)
    directory = Directory(grid_workers={}, community_chiefs={}, departments=frozenset({"应急管理"}))
    cases = [{"category": "emergency", "grid_code": "370811004001001", "community_code": "370811004001"},
             {"category": "request", "grid_code": "370811004001001", "community_code": "370811004001"},
             {"category": "dispute", "grid_code": "370811004001001", "source": "hotline_12345"}]
    reasons = [routing.route(case, rules, directory).reason for case in cases]
    shown = [note_text(f"unrouted: {reason}", "zh") for reason in reasons]
    assert shown[0] == "未能派单：部门 城管 不存在或已停用（规则1「消防」）"
    assert shown[1] == ("未能派单：网格 370811004001001 没有网格员；备选：社区 370811004001 没有网格长"
                        "（规则2「本网格」）")
    assert shown[2].startswith("未能派单：没有匹配的派单规则（category=dispute")


def test_the_report_event_and_the_escalation_job_have_labels_in_both_languages():
    assert (event_label("report", "zh"), event_label("report", "en")) == ("上报", "Reported")
    assert (event_label("dispatch", "zh"), event_label("dispatch", "en")) == ("派遣", "Dispatch")
    assert actor_text("system:escalation", "zh") == "系统（超期升级）"
    assert actor_text("chief1", "zh") == "chief1"
    assert note_text("我自己写的; 备注", "zh") == "我自己写的; 备注"
