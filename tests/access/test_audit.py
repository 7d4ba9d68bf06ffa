"""The audit log is append-only in the store itself, and only an admin can search it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from access import audit
from access.scope import Scope
from cases import lifecycle
from core.errors import PermissionDenied
from tests.factories import insert_case
from tests.fixtures.world import SCOPES, T0, audit_marker


def test_update_delete_truncate_are_refused_by_the_store(people_store):
    with people_store.Session() as session, session.begin():
        entry = audit.record(session, actor="admin", action="export", at=T0, target_kind="cases",
                             detail={"rows": 3})
        entry_id = entry.id
    for statement in (f"UPDATE audit_log SET actor = 'someone' WHERE id = {entry_id}",
                      f"DELETE FROM audit_log WHERE id = {entry_id}",
                      *(["TRUNCATE audit_log"] if people_store.backend == "postgis" else [])):
        with pytest.raises(DBAPIError, match="append-only"):
            with people_store.engine.begin() as conn:
                conn.execute(text(statement))
    with people_store.engine.connect() as conn:
        assert conn.execute(text(f"SELECT actor FROM audit_log WHERE id = {entry_id}")).scalar() == "admin"


def test_module_offers_no_way_to_change_entries():
    public = {name for name in dir(audit) if not name.startswith("_") and callable(getattr(audit, name))}
    assert not {n for n in public if any(w in n for w in ("update", "delete", "remove", "edit", "purge"))}


def test_search_is_admin_only_and_filters(people_store):
    with people_store.Session() as session, session.begin():
        marker = audit_marker(session)
        audit.record(session, actor="zhao", action="export", at=T0, target_kind="cases", detail={"rows": 1})
        audit.record(session, actor="zhao", action="unmask", at=T0 + timedelta(hours=1), target_kind="household",
                     target_id="HH1", detail={"field": "phone"})
        audit.record(session, actor="qian", action="sign_in", at=T0 + timedelta(hours=2), target_kind="user",
                     target_id="qian", ip="10.1.1.1")
        for role in ("commander", "chief_c1", "worker_g1", "leader"):
            with pytest.raises(PermissionDenied):
                audit.search(session, SCOPES[role])
        admin = SCOPES["admin"]
        rows = [r for r in audit.search(session, admin, actor="zhao")]
        assert [r.action for r in rows] == ["unmask", "export"]  # newest first
        assert [r.target_id for r in audit.search(session, admin, action="unmask", target_kind="household")] == ["HH1"]
        window = audit.search(session, admin, since=T0 + timedelta(minutes=30), until=T0 + timedelta(hours=3),
                              include_case_events=False)
        assert {(r.actor, r.action) for r in window} >= {("zhao", "unmask"), ("qian", "sign_in")}
        assert ("zhao", "export") not in {(r.actor, r.action) for r in window}
        assert len(audit.search(session, admin, actor="zhao", limit=1)) == 1
        assert marker >= 0


def test_search_merges_case_transitions(people_store):
    with people_store.Session() as session, session.begin():
        case = insert_case(session, actor="op1", at=T0, source="patrol", source_id="P1", category="hazard",
                                text="消防通道堵塞", lon=116.58, lat=35.41, street_code="S", community_code="C",
                                grid_code="G", join_status="ok")
        lifecycle.transition(session, case.id, "register", actor="op1", at=T0 + timedelta(minutes=5))
        rows = audit.search(session, SCOPES["admin"], actor="op1")
        assert [r.action for r in rows][:2] == ["case:register", "case:report"]
        assert rows[0].target_kind == "case" and rows[0].target_id == str(case.id)
        assert rows[0].detail["to"] == "registered"
        only_cases = audit.search(session, SCOPES["admin"], action="case:")
        assert only_cases and all(r.source == "case_events" for r in only_cases)
        assert audit.search(session, Scope("admin"), target_id="not-a-number", action="case:") == []


def test_details_read_in_the_ui_language():
    from access.audit import detail_text

    detail = {"file": "tracks.csv", "rows": 3, "channel": "file", "role": "leader", "area_codes": "", "worker_id": None}
    assert detail_text(detail, "zh") == "文件：tracks.csv；行数：3；渠道：文件导入；角色：领导；辖区：—；网格员工号：—"
    assert detail_text(detail, "en") == ("file: tracks.csv; rows: 3; channel: file; role: Leader; area_codes: —; "
                                         "worker_id: —")
