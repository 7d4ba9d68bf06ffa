"""The 四访走访 page with the registry (AppTest, real SQLite store): a fortnightly person, the visit plan,
the month's visits with their verdicts, the person card masked with unmasking per field (audited)
and a note; a leader gets the figures only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import clock
from store.models import AuditEntry, Household, Visit
from store.models.people import PersonNote
from tests.views.pages import first_grid_store, open_page

NAMES = {"H0": "赵建国", "H1": "钱秀英"}


@pytest.fixture()
def registry_store(tmp_path, monkeypatch):
    """In the sample's first grid: H0 (empty-nest) visited on site today, H1 a petitioner (visited
    twice a month) not visited yet."""
    from sqlalchemy.orm import Session

    engine, holder = first_grid_store(tmp_path, monkeypatch)
    now = clock.now()
    with Session(engine) as session, session.begin():
        for (hid, name), category in zip(NAMES.items(), ("empty_nest", "petitioner"), strict=True):
            session.add(Household(id=hid, head_name=name, phone="13900000001", id_number="370811195001011234",
                                  category=category, building_code=f"{holder['grid']}0001", grid_code=holder["grid"],
                                  community_code=holder["community"], street_code="370811004",
                                  lon=holder["point"].x, lat=holder["point"].y))
        session.flush()
        session.add(Visit(id="V0", household_id="H0", worker_id="WG0001", at=now, lon=holder["point"].x,
                          lat=holder["point"].y, outcome="情况稳定", distance_m=5.0, on_site=True,
                          grid_code=holder["grid"], community_code=holder["community"], street_code="370811004"))
    yield engine
    engine.dispose()


def test_plan_visits_and_the_card_for_a_chief_like_role(registry_store) -> None:
    at = open_page("views/visits.py", role="commander")
    tiles = {m.label: m.value for m in at.metric}
    assert (tiles["应访户数"], tiles["已访户数"], tiles["存疑走访人数"]) == ("2", "1", "0")
    plan = at.dataframe[2].value
    assert sorted(plan["状态"]) == sorted(["已核实", "逾期" if clock.now().day > 15 else "待访"])
    assert set(plan["走访频次"]) == {"每月", "每半月"} and not any(n in str(plan.to_dict()) for n in NAMES.values())
    latest = at.table[0].value
    assert list(latest["核验"]) == ["在场核验通过"] and "*" in latest["户主"].iloc[0]
    at.selectbox(key="visits_card_person").set_value("H0").run()
    assert not any(n in " ".join(t.value for t in at.text) for n in NAMES.values())
    at.button(key="visits_unmask_head_name_H0").click().run()
    assert any(t.value == "姓名: 赵建国" for t in at.text)
    at.text_area[0].set_value("家属电话 13811112222")
    next(b for b in at.button if b.label == "添加备注").click().run()
    with registry_store.connect() as conn:
        actions = [(r.action, r.target_id, (r.detail or {}).get("field")) for r in conn.execute(
            select(AuditEntry.action, AuditEntry.target_id, AuditEntry.detail).order_by(AuditEntry.id))]
        notes = conn.execute(select(PersonNote.text)).scalars().all()
    assert actions[-2:] == [("unmask", "H0", "head_name"), ("note", "H0", None)] and notes == ["家属电话 13811112222"]
    assert any(t.value.endswith("家属电话 138****2222") for t in at.text)


def test_a_leader_gets_no_plan_no_visits_no_card(registry_store) -> None:
    at = open_page("views/visits.py", role="leader")
    assert {m.label: m.value for m in at.metric}["应访户数"] == "2"
    assert len(at.dataframe) == 1 and len(at.table) == 0
    assert all(s.key != "visits_card_person" for s in at.selectbox)
