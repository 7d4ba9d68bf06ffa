"""The four-visit page through the router (AppTest, real SQLite store): coverage tiles and per-area
table from cases.queries, households still due listed masked, nothing personal for leaders."""

from __future__ import annotations

import pytest

from core import clock
from store.models import Household, Visit
from tests.views.pages import first_grid_store, open_page

NAMES = ["赵建国", "钱秀英", "孙志强"]


@pytest.fixture()
def visits_store(tmp_path, monkeypatch):
    """Three households in the sample's first grid: one visited on site this month, one visited
    from far away (a paper visit), one not visited."""
    from sqlalchemy.orm import Session

    engine, holder = first_grid_store(tmp_path, monkeypatch)
    now = clock.now()
    with Session(engine) as session, session.begin():
        for i, name in enumerate(NAMES):
            session.add(Household(id=f"H{i}", head_name=name, phone=f"1390000000{i}", category="empty_nest",
                                  building_code=f"{holder['grid']}0001", grid_code=holder["grid"],
                                  community_code=holder["community"], street_code="370811004",
                                  lon=holder["point"].x, lat=holder["point"].y))
        session.flush()
        for i, on_site in ((0, True), (1, False)):
            session.add(Visit(id=f"V{i}", household_id=f"H{i}", worker_id="WG0001", at=now, lon=holder["point"].x,
                              lat=holder["point"].y, outcome="情况稳定", distance_m=5.0 if on_site else 400.0,
                              on_site=on_site, grid_code=holder["grid"], community_code=holder["community"],
                              street_code="370811004"))
    yield holder["grid"]
    engine.dispose()


def test_coverage_and_households_still_due(visits_store) -> None:
    at = open_page("views/visits.py", role="commander")
    tiles = {m.label: m.value for m in at.metric}
    assert (tiles["应访户数"], tiles["已访户数"]) == ("3", "2")
    assert tiles["走访覆盖率"].startswith("66.7 %") and tiles["到户覆盖率"].startswith("33.3 %")  # then the grade word
    by_area = at.dataframe[0].value
    assert list(by_area["编码"]) == [visits_store] and list(by_area["到户核实"]) == [1]
    todo = at.dataframe[1].value
    assert len(todo) == 1 and todo["户主"].iloc[0] != NAMES[2] and "*" in todo["户主"].iloc[0]
    assert not any(name in str(todo.to_dict()) for name in NAMES)
    at.toggle(key="visits_credible").set_value(True).run()
    assert len(at.dataframe[1].value) == 2  # the paper visit does not count
    at.selectbox(key="visits_category").set_value("hardship").run()
    assert {m.label: m.value for m in at.metric}["应访户数"] == "0"


def test_leader_sees_coverage_but_no_households(visits_store) -> None:
    at = open_page("views/visits.py", role="leader")
    assert {m.label: m.value for m in at.metric}["应访户数"] == "3"
    assert len(at.dataframe) == 1 and not at.toggle
    assert not any(name in str(at.dataframe[0].value.to_dict()) for name in NAMES)
