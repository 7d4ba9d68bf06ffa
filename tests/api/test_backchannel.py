"""The 12345 back-channel against a real server: a hotline system pulls the state changes of its
cases after a cursor (办结 and 满意 included), page by page, nothing skipped or repeated; other
sources are not in the feed; only keys with the hotline grant read it."""

from __future__ import annotations

from cases.lifecycle import transition
from intake.pipeline import submit
from tests.api.conftest import WEST
from tests.factories import T0, add_people

URL = "/hotline/v1/changes"
CLOSED = [("register", {}), ("dispatch", {"assignee_kind": "department", "assignee_id": "城管"}), ("accept", {}),
          ("arrive", {"lon": WEST[0], "lat": WEST[1]}), ("handle", {}), ("verify", {}),
          ("follow_up", {"satisfaction": "satisfied"}), ("close", {})]


def _hotline_cases(api, small_hierarchy) -> dict[str, int]:
    records = [{"source": "12345", "source_id": f"GD2026110{i}", "category": "request", "subcategory": "noise",
                "text": f"噪音 13812345678 第{i}件", "lon": str(WEST[0]), "lat": str(WEST[1]),
                "reported_at": "2026-11-16 08:00:00"} for i in (1, 2)]
    records.append({**records[0], "source": "随手拍", "source_id": "SNAP-1"})
    with api.store.Session() as session, session.begin():
        add_people(session)
        result = submit(session, records, "file", hierarchy=small_hierarchy)
        ids = {r["source_id"]: o.case_id for r, o in zip(records, result.outcomes, strict=True)}
        for i, (action, fields) in enumerate(CLOSED, start=1):
            transition(session, ids["GD20261101"], action, actor="op1", at=T0.replace(minute=i), **fields)
        transition(session, ids["GD20261102"], "void", actor="op1", at=T0.replace(minute=30), reason="重复工单")
        transition(session, ids["SNAP-1"], "void", actor="op1", at=T0.replace(minute=31), reason="重复")
    return ids


def test_changes_since_a_cursor_with_closure_and_satisfaction(api, small_hierarchy) -> None:
    ids = _hotline_cases(api, small_hierarchy)
    key = api.key(allow="hotline")
    with api.client() as client:
        answer = client.get(URL, params={"api_key": key, "cursor": 0}).json()
        tail = client.get(URL, params={"api_key": key, "cursor": answer["next_cursor"]}).json()
    changes = answer["changes"]
    assert {c["order_id"] for c in changes} == {"GD20261101", "GD20261102"}  # no 随手拍 case
    first = [c for c in changes if c["order_id"] == "GD20261101"]
    assert [c["action"] for c in first] == ["report"] + [a for a, _ in CLOSED]
    closed = first[-1]
    assert closed["state"] == "closed" and closed["status"] == "closed" and closed["concluded"] is True
    assert closed["satisfaction"] == "satisfied" and closed["satisfaction_label"] == "满意 Satisfied"
    assert closed["case_id"] == ids["GD20261101"] and closed["at"].endswith("+08:00")
    void = [c for c in changes if c["order_id"] == "GD20261102"][-1]
    assert void["state"] == "voided" and void["status"] == "closed" and void["concluded"] is False
    assert [c["cursor"] for c in changes] == sorted(c["cursor"] for c in changes)
    assert all("13812345678" not in (c["note"] or "") for c in changes)
    assert tail == {"changes": [], "next_cursor": answer["next_cursor"], "more": False}


def test_paging_skips_and_repeats_nothing(api, small_hierarchy) -> None:
    _hotline_cases(api, small_hierarchy)
    key = api.key(allow="hotline,report")
    seen, cursor, pages = [], 0, 0
    with api.client() as client:
        everything = client.get(URL, params={"api_key": key}).json()["changes"]
        while True:
            page = client.get(URL, params={"api_key": key, "cursor": cursor, "limit": 3}).json()
            seen += [c["cursor"] for c in page["changes"]]
            cursor, pages = page["next_cursor"], pages + 1
            if not page["more"]:
                break
    assert seen == [c["cursor"] for c in everything] and pages == 4  # 11 changes, 3 a page


def test_only_hotline_keys_read_the_feed(api) -> None:
    with api.client() as client:
        report_only = client.get(URL, params={"api_key": api.key(allow="report")})
        none = client.get(URL)
        bad_cursor = client.get(URL, params={"api_key": api.key(allow="hotline"), "cursor": -1})
    assert report_only.status_code == 403 and "--allow hotline" in report_only.json()["error"]["fix"]
    assert none.status_code == 401
    assert bad_cursor.status_code == 400 and bad_cursor.json()["error"]["field"] == "cursor"


def test_young_events_wait_for_the_lag(api_server, store, small_hierarchy) -> None:
    from api.backchannel import changes

    _hotline_cases(api_server, small_hierarchy)  # first events "now", the later steps back-dated to T0
    with store.Session() as session:
        everything, _, more = changes(session, 0, 100, 0)
        held, cursor, held_more = changes(session, 0, 100, 3600)
    assert len(everything) == 11 and not more
    # the first event (a report, "now") is younger than an hour: the page stops before it, so
    # the back-dated events after it are not jumped over either
    assert held == [] and cursor == 0 and held_more
