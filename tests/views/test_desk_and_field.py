"""The chief's desk and the worker's phone page through the router (AppTest, real SQLite store)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from tests.views.pages import COMMUNITY_A, GRID_A

ROOT = Path(__file__).resolve().parents[2]


def _as(role: str, area: str = "", worker_id: str | None = None) -> AppTest:
    from core import clock

    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.session_state["auth"] = {
        "user": {"username": f"{role}1", "display_name": role, "role": role, "area_codes": area,
                 "worker_id": worker_id},
        "last_activity": clock.now(),
    }
    return at.run()


def _page(at: AppTest, name: str) -> AppTest:
    at.switch_page(f"views/{name}.py").run()
    assert not at.exception, at.exception
    return at


def test_the_desk_lists_the_chiefs_queue_with_suggestions(actions_store) -> None:
    at = _page(_as("chief", COMMUNITY_A, "C001"), "desk")
    assert at.title[0].value == "派单台"
    labels = [tab.label for tab in at.tabs]
    assert labels[:2] == ["待派遣 (2)", "未分派 (1)"]  # cases 1 (reported) and 3 (registered) of community A
    first = at.dataframe[0].value
    assert set(first["#"]) == {1, 3}
    assert set(first["建议人选"]) == {"worker:W001"}
    # W001 carries 3 of the 3 open cases (over 1.5 × the mean of 1.5) and the only other worker's grid
    # lies outside the chief's community: the routing rules decide, and the desk says so
    assert set(first["建议理由"]) == {"按派单规则"}
    workloads = next(d.value for d in at.dataframe if "在办" in d.value.columns)
    assert list(workloads["网格员"]) == ["W001"]  # the chief's community only
    assert any("基尼系数" in c.value for c in at.caption)


def test_the_desk_dispatches_a_selection_as_suggested(actions_store) -> None:
    from store.models import Case, CaseEvent

    at = _page(_as("chief", COMMUNITY_A, "C001"), "desk")
    at.session_state["desk_to_dispatch"] = {"selection": {"rows": [0, 1], "columns": []}}
    at.run()
    next(b for b in at.button if b.label == "按建议派遣所选案件").click().run()
    assert not at.exception, at.exception
    assert any("已处理 2 件" in s.value for s in at.success)
    with Session(actions_store) as session:
        states = dict(session.execute(select(Case.id, Case.state).where(Case.id.in_((1, 3)))).all())
        actors = set(session.scalars(select(CaseEvent.actor).where(CaseEvent.action == "dispatch")))
    assert states == {1: "dispatched", 3: "dispatched"} and actors == {"chief1"}


def test_the_worker_page_lists_my_cases_and_opens_one(actions_store) -> None:
    at = _page(_as("worker", GRID_A, "W001"), "field")
    assert at.title[0].value == "工作通"
    labels = [b.label for b in at.button if b.label.startswith("#")]
    assert labels[0].startswith("#4 突发事件") and any(label.startswith("#3 ") for label in labels)
    next(b for b in at.button if b.label.startswith("#4 ")).click().run()
    assert not at.exception, at.exception
    assert at.session_state["field_case"] == 4
    assert any(m.value.startswith("**#4 · 突发事件") for m in at.markdown)
    assert [b for b in at.button if b.label == "到场"]


@pytest.mark.parametrize(("role", "area", "page"), [("worker", GRID_A, "desk"), ("leader", "", "desk"),
                                                     ("chief", COMMUNITY_A, "field")])
def test_the_menu_offers_the_desk_to_dispatchers_and_the_phone_page_to_workers(actions_store, role, area,
                                                                              page) -> None:
    at = _as(role, area, "W001" if role == "worker" else None)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(f"views/{page}.py")
