"""Signed IoT / video alarms against a real server: a registered device's alarm becomes a case at its
position, later alarms within the merge window join it, and badly signed, stale, replayed or
foreign alarms are refused and audited."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from sqlalchemy import select

from access.scope import Scope
from api.devices import add_device
from api.signing import sign
from cases.commands import act
from core import clock
from store.models import ApiDevice, Case
from tests.api.conftest import WEST, audit_after, audit_marker

URL = "/alarms/v1/events"


def _device(api, key: str, device_id: str = "CAM-1", **options) -> None:
    channel = _channel(api, key)
    with api.store.Session() as session, session.begin():
        add_device(session, device_id, channel=channel, lon=WEST[0], lat=WEST[1], name="北门摄像头",
                   category="emergency", subcategory="fire", actor="test", now=clock.now(), **options)


def _channel(api, key: str) -> str:
    from api.keys import find_caller

    with api.store.Session() as session:
        return find_caller(session, key).channel


def _signed(key: str, payload: dict, *, at: int | None = None, signature: str | None = None):
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    stamp = str(at if at is not None else int(time.time()))
    headers = {"X-GC-Key-Id": key.split("_")[1], "X-GC-Timestamp": stamp, "Content-Type": "application/json",
               "X-GC-Signature": signature or sign(key, stamp, body)}
    return body, headers


def _send(client, key, payload, **options):
    body, headers = _signed(key, payload, **options)
    return client.post(URL, content=body, headers=headers)


@pytest.fixture
def alarm_key(api) -> str:
    key = api.key(allow="alarm,report")
    _device(api, key)
    return key


def test_alarm_becomes_a_case_and_repeats_merge(api, alarm_key) -> None:
    with api.client() as client:
        first = _send(client, alarm_key, {"device_id": "CAM-1", "alarm_id": "A1", "type": "smoke", "text": "烟雾"})
        second = _send(client, alarm_key, {"device_id": "CAM-1", "alarm_id": "A2", "type": "smoke"})
        # a resend of A1, signed afresh (another timestamp): the first answer, no new case
        again = _send(client, alarm_key, {"device_id": "CAM-1", "alarm_id": "A1", "type": "smoke", "text": "烟雾"},
                      at=int(time.time()) + 1)
    assert first.status_code == 201 and first.json()["merged"] is False
    assert second.status_code == 200 and second.json() == {**second.json(), "case_id": first.json()["case_id"],
                                                           "merged": True, "alarms_in_case": 2}
    assert again.json()["case_id"] == first.json()["case_id"] and again.json()["replayed"] is True
    with api.store.Session() as session:
        cases = session.scalars(select(Case)).all()
        device = session.get(ApiDevice, "CAM-1")
    assert len(cases) == 1
    case = cases[0]
    assert (case.source, case.category, case.subcategory, case.priority) == ("video", "emergency", "fire", "high")
    assert (case.lon, case.lat) == pytest.approx(WEST) and case.grid_code == "370811004001001"
    assert "[smoke] 北门摄像头 (CAM-1) 烟雾" == case.text
    assert (device.merge_case_id, device.merge_count, device.alarms_total) == (case.id, 2, 2)


def test_a_closed_case_or_an_old_one_is_not_merged_into(api, alarm_key) -> None:
    with api.client() as client:
        first = _send(client, alarm_key, {"device_id": "CAM-1", "alarm_id": "1", "type": "smoke"}).json()
        with api.store.Session() as session, session.begin():
            act(session, Scope("commander", username="cmd"), first["case_id"], "void", 1, reason="误报")
        after_void = _send(client, alarm_key, {"device_id": "CAM-1", "alarm_id": "2", "type": "smoke"}).json()
        with api.store.Session() as session, session.begin():
            device = session.get(ApiDevice, "CAM-1")
            device.merge_last_at = clock.now().replace(year=2020)  # the previous alarm long ago
        after_window = _send(client, alarm_key, {"device_id": "CAM-1", "alarm_id": "3", "level": "urgent"}).json()
    assert after_void["merged"] is False and after_void["case_id"] != first["case_id"]
    assert after_window["merged"] is False and after_window["case_id"] != after_void["case_id"]
    with api.store.Session() as session:
        assert session.get(Case, after_window["case_id"]).priority == "urgent"


def test_bad_signatures_are_refused_and_audited(api, alarm_key) -> None:
    payload = {"device_id": "CAM-1", "type": "smoke"}
    marker = audit_marker(api.store)
    with api.client() as client:
        forged = _send(client, alarm_key, payload, signature="sha256=" + "0" * 64)
        other_key = _send(client, api.key(allow="alarm"), payload)  # another channel's key: its device is unknown
        stale = _send(client, alarm_key, payload, at=int(time.time()) - 3600)
        body, headers = _signed(alarm_key, payload)
        tampered = client.post(URL, content=body.replace(b"smoke", b"flood"), headers=headers)
        fine = client.post(URL, content=body, headers=headers)
        replay = client.post(URL, content=body, headers=headers)
        unsigned = client.post(URL, content=body, headers={"Content-Type": "application/json"})
        no_grant_key = api.key(allow="report")
        no_grant = _send(client, no_grant_key, payload)
    assert forged.status_code == 401 and forged.json()["error"]["field"] == "X-GC-Signature"
    assert other_key.status_code == 404 and other_key.json()["error"]["field"] == "device_id"
    assert stale.status_code == 401 and stale.json()["error"]["field"] == "X-GC-Timestamp"
    assert tampered.status_code == 401 and fine.status_code == 201
    assert replay.status_code == 409 and "replay" in replay.json()["error"]["message"]
    assert unsigned.status_code == 401 and unsigned.json()["error"]["field"] == "X-GC-Key-Id"
    assert no_grant.status_code == 403
    refused = audit_after(api.store, marker, "api_refused")
    reasons = [e.detail["reason"] for e in refused]
    assert reasons == ["bad_signature", "unknown_device", "stale_timestamp", "bad_signature", "replay", "bad_key",
                       "not_allowed"]
    assert all(e.detail["path"] == URL for e in refused)
    accepted = audit_after(api.store, marker, "api_request")
    assert [e.detail["kind"] for e in accepted] == ["alarm"] and accepted[0].target_kind == "case"


@pytest.mark.parametrize(("payload", "named"), [
    ({"type": "smoke"}, "device_id"),
    ({"device_id": "CAM-1", "level": "soon"}, "level"),
    ({"device_id": "NOPE"}, "device_id"),
    ({"device_id": ["CAM-1"]}, "device_id"),
])
def test_alarm_body_errors(api, alarm_key, payload, named) -> None:
    with api.client() as client:
        answer = _send(client, alarm_key, payload)
        not_json = client.post(URL, content=b"{", headers=_signed(alarm_key, {})[1])
    assert answer.status_code in (400, 404) and answer.json()["error"]["field"] == named
    assert not_json.status_code == 401  # the signature covers the exact body: checked first


def test_removed_device_is_refused(api, alarm_key) -> None:
    from api.devices import remove_device

    with api.store.Session() as session, session.begin():
        remove_device(session, "CAM-1", actor="test", now=clock.now())
    with api.client() as client:
        answer = _send(client, alarm_key, {"device_id": "CAM-1"})
    assert answer.status_code == 404 and "python -m api devices add" in answer.json()["error"]["fix"]


def test_merge_window_setting(api_server) -> None:
    assert replace(api_server.ctx.settings).alarm_merge_minutes == 10
