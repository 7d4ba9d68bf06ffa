"""The person card, visit plans, the month's visits with verdicts, notes, the responsible worker and
visit photos, on the small world (tests/fixtures/world.py: in each grid one household visited on site
and one visited from 420 m away on 17 November 2026, two open cases at the households' point);
scoped, masked, audited; SQLite and PostGIS."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from access.scope import Scope
from core.errors import InputError, NotFound, PermissionDenied
from registry.cards import person_card
from registry.commands import record_visit
from registry.person_commands import add_note, set_worker
from registry.plans import visit_plan
from registry.queries import households_to_visit
from registry.visit_log import checked_visits
from store.models import Household, Visit
from store.models.people import VisitPhoto
from tests.fixtures.world import C1, G1, G2, POINTS, SCOPES, SECRETS, STREET, T0, audit_marker, audit_since

NOW = T0 + timedelta(days=2)  # 18 November 2026
WORKER = Scope("worker", frozenset({G1}), username="w1", worker_id="W001")


def _petitioner(session, *, visited_on: datetime | None = None) -> str:
    """A petitioner (visited fortnightly) in G1, visited on site once when asked."""
    session.add(Household(id="PET1", head_name="信访人", id_number="370811195001011234", category="petitioner",
                          building_code=G1 + "0001", grid_code=G1, community_code=C1, street_code=STREET,
                          lon=POINTS[G1][0], lat=POINTS[G1][1]))
    session.flush()
    if visited_on:
        record_visit(session, WORKER, "PET1", lon=POINTS[G1][0], lat=POINTS[G1][1], at=visited_on)
    return "PET1"


def test_the_plan_puts_the_overdue_first_with_their_due_dates(world):
    with world.store.Session() as s, s.begin():
        _petitioner(s)
        plan = visit_plan(s, WORKER, "2026-11", now=NOW)
        with pytest.raises(PermissionDenied):
            visit_plan(s, SCOPES["leader"], "2026-11", now=NOW)
    assert plan[["id", "status", "due_by", "worker_id"]].values.tolist() == [
        ["PET1", "overdue", date(2026, 11, 15), "W001"],  # the first half of November passed unvisited
        [world.household_ids[G1][1], "visited", date(2026, 11, 30), "W001"],  # from 420 m away
        [world.household_ids[G1][0], "verified", date(2026, 11, 30), "W001"],
    ]
    assert plan["head_name"].str.contains(r"\*").all() and plan["id_number"].iloc[0] == "370***********1234"


def test_a_fortnightly_person_stays_due_until_both_halves_are_visited(world):
    with world.store.Session() as s, s.begin():
        _petitioner(s, visited_on=datetime(2026, 11, 5, 10))
        todo = households_to_visit(s, WORKER, "2026-11")
    assert todo[["id", "due_by"]].values.tolist() == [["PET1", date(2026, 11, 30)]]


def test_the_months_visits_with_their_verdicts(world):
    with world.store.Session() as s:
        chief = checked_visits(s, SCOPES["chief_c1"], "2026-11")
        mine = checked_visits(s, WORKER, "2026-11")
        with pytest.raises(PermissionDenied):
            checked_visits(s, SCOPES["leader"], "2026-11")
    assert sorted(chief["grid_code"]) == [G1, G1, G2, G2] and set(mine["grid_code"]) == {G1}
    verdicts = mine.set_index("household_id")[["on_site", "suspicious", "verified"]]
    assert verdicts.loc[world.household_ids[G1][0]].tolist() == [True, False, True]
    assert verdicts.loc[world.household_ids[G1][1]].tolist() == [False, False, False]
    assert not any(name in str(chief.to_dict()) for name in SECRETS["names"])


def test_the_card_shows_history_open_cases_at_the_address_and_notes(world):
    hid = world.household_ids[G1][0]
    with world.store.Session() as s, s.begin():
        marker = audit_marker(s)
        add_note(s, WORKER, hid, "老人独居，联系女儿 13811112222", now=NOW)
        card = person_card(s, WORKER, hid)
        entries = audit_since(s, marker)
    assert card.person["head_name"] == "张*明" and card.person["phone"] == "138****2222"
    assert card.worker_id == "W001" and not card.worker_by_hand
    assert card.household.empty and card.moves.empty
    assert card.visits[["on_site", "verified", "distance_m"]].values.tolist() == [[True, True, 8.0]]
    assert sorted(card.open_cases["id"]) == sorted(world.case_ids[G1])
    assert (card.open_cases["distance_m"] == 0).all() and "13811112222" not in str(card.open_cases.to_dict())
    assert card.notes["text"].tolist() == ["老人独居，联系女儿 138****2222"] and card.notes["author"].tolist() == ["w1"]
    assert [(e.action, e.target_id) for e in entries] == [("note", hid)]


def test_card_and_changes_stay_inside_the_scope(world):
    hid_g2 = world.household_ids[G2][0]
    with world.store.Session() as s, s.begin():
        with pytest.raises(NotFound):
            person_card(s, WORKER, hid_g2)
        with pytest.raises(PermissionDenied):
            person_card(s, SCOPES["leader"], hid_g2)
        with pytest.raises(NotFound):
            add_note(s, WORKER, hid_g2, "x", now=NOW)
        with pytest.raises(PermissionDenied):
            add_note(s, SCOPES["leader"], hid_g2, "x", now=NOW)
        with pytest.raises(PermissionDenied):
            set_worker(s, WORKER, world.household_ids[G1][0], "W002", now=NOW)
        with pytest.raises(NotFound):
            set_worker(s, SCOPES["chief_c1"], hid_g2, "W404", now=NOW)


def test_a_chief_chooses_the_responsible_worker(world):
    hid = world.household_ids[G1][1]
    with world.store.Session() as s, s.begin():
        set_worker(s, SCOPES["chief_c1"], hid, "W002", now=NOW)
        card = person_card(s, SCOPES["chief_c1"], hid)
        plan = visit_plan(s, SCOPES["chief_c1"], "2026-11", worker_id="W002", now=NOW)
        set_worker(s, SCOPES["chief_c1"], hid, None, now=NOW)
        back = person_card(s, SCOPES["chief_c1"], hid)
    assert (card.worker_id, card.worker_by_hand) == ("W002", True)
    assert hid in set(plan["id"]) and (back.worker_id, back.worker_by_hand) == ("W001", False)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def test_visit_photos_are_kept_and_a_bad_one_refuses_the_visit(world):
    hid = world.household_ids[G1][1]
    lon, lat = POINTS[G1]
    with world.store.Session() as s, s.begin():
        with pytest.raises(InputError, match="not a JPEG, PNG or HEIC"):
            record_visit(s, WORKER, hid, lon=lon, lat=lat, at=NOW, photos=[("note.txt", b"hello")])
        visit = record_visit(s, WORKER, hid, lon=lon, lat=lat, at=NOW, photos=[("door.png", _png())])
        card = person_card(s, WORKER, hid)
        stored = s.scalars(select(VisitPhoto)).one()
        visits = s.scalars(select(Visit).where(Visit.household_id == hid)).all()
    assert (stored.visit_id, stored.filename, stored.width) == (visit.id, "door.jpg", 40)
    assert stored.image[:3] == b"\xff\xd8\xff" and len(visits) == 2
    assert card.visits["photos"].tolist() == [1, 0]
