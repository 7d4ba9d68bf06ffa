"""Open311 GeoReport v2 against a real server: services, definitions, the client flow (services →
post → get status) in JSON and XML, filters, positions from lat/long, GCJ-02 and address_string,
a photo as media, the spec's error format, and each key reading only its own channel's requests."""

from __future__ import annotations

import io
from xml.etree import ElementTree as ET

import pytest
from PIL import Image

from access.scope import Scope
from cases.commands import act
from geo.coords import gcj02_to_wgs84, wgs84_to_gcj02
from store.models import Case, CasePhoto
from tests.api.conftest import EAST, WEST, jpeg

BASE = "/open311/v2"


def _post(client, key, fmt="json", **fields):
    data = {"api_key": key, "service_code": "hazard.fire_safety", "lat": str(WEST[1]), "long": str(WEST[0]),
            "description": "楼道堆放杂物", **fields}
    return client.post(f"{BASE}/requests.{fmt}", data={k: v for k, v in data.items() if v is not None})


def test_services_in_json_and_xml(api) -> None:
    with api.client() as client:
        services = client.get(f"{BASE}/services.json").json()
        xml = ET.fromstring(client.get(f"{BASE}/services.xml").content)
    codes = [s["service_code"] for s in services]
    assert "hazard.fire_safety" in codes and len(codes) == 21
    first = services[0]
    assert set(first) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
    assert xml.tag == "services" and [e.findtext("service_code") for e in xml.findall("service")] == codes


def test_service_definition_lists_the_priority_attribute(api) -> None:
    with api.client() as client:
        definition = client.get(f"{BASE}/services/hazard.fire_safety.json").json()
        xml = ET.fromstring(client.get(f"{BASE}/services/hazard.fire_safety.xml").content)
        unknown = client.get(f"{BASE}/services/nothing.json")
        unknown_xml = client.get(f"{BASE}/services/nothing.xml")
    assert definition["service_code"] == "hazard.fire_safety"
    attribute = definition["attributes"][0]
    assert attribute["code"] == "priority" and [v["key"] for v in attribute["values"]] == ["urgent", "high", "normal"]
    assert xml.find("attributes/attribute/values/value/key").text == "urgent"
    assert unknown.status_code == 404
    assert unknown.json()[0]["code"] == 404 and "service_code" in unknown.json()[0]["description"]
    error = ET.fromstring(unknown_xml.content)
    assert error.tag == "errors" and error.findtext("error/code") == "404"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_client_flow_services_post_status(api, key, fmt) -> None:
    with api.client() as client:
        code = client.get(f"{BASE}/services.{fmt}").status_code
        posted = _post(client, key, fmt, **{"attribute[priority]": "high", "jurisdiction_id": "test.gov"})
        if fmt == "json":
            request_id = posted.json()[0]["service_request_id"]
        else:
            request_id = ET.fromstring(posted.content).findtext("request/service_request_id")
        one = client.get(f"{BASE}/requests/{request_id}.{fmt}", params={"api_key": key})
    assert code == 200 and posted.status_code == 201
    if fmt == "json":
        row = one.json()[0]
    else:
        element = ET.fromstring(one.content).find("request")
        row = {child.tag: child.text for child in element}
    assert row["service_request_id"] == request_id and row["status"] == "open"
    assert row["status_notes"].startswith("已上报 Reported")
    assert row["service_code"] == "hazard.fire_safety" and row["description"] == "楼道堆放杂物"
    assert float(row["long"]) == pytest.approx(WEST[0]) and float(row["lat"]) == pytest.approx(WEST[1])
    with api.store.Session() as session:
        case = session.get(Case, int(request_id))
        assert (case.category, case.subcategory, case.priority, case.grid_code) == (
            "hazard", "fire_safety", "high", "370811004001001")
        assert case.source == "snapshot" and case.source_id.startswith("t")


def test_status_follows_the_case_timeline(api, key) -> None:
    with api.client() as client:
        request_id = int(_post(client, key).json()[0]["service_request_id"])
        with api.store.Session() as session, session.begin():
            act(session, Scope("commander", username="cmd"), request_id, "void", 1, reason="重复上报")
        row = client.get(f"{BASE}/requests/{request_id}.json", params={"api_key": key}).json()[0]
        closed = client.get(f"{BASE}/requests.json", params={"api_key": key, "status": "closed"}).json()
        still_open = client.get(f"{BASE}/requests.json", params={"api_key": key, "status": "open"}).json()
    assert row["status"] == "closed"
    assert row["status_notes"].startswith("已作废 Voided — 作废 Void") and "重复上报" in row["status_notes"]
    assert [r["service_request_id"] for r in closed] == [str(request_id)] and still_open == []


def test_list_filters_and_channel_isolation(api, key) -> None:
    other = api.key()
    with api.client() as client:
        a = _post(client, key).json()[0]["service_request_id"]
        b = _post(client, key, service_code="request.noise", lat=str(EAST[1]), long=str(EAST[0])).json()[0][
            "service_request_id"]
        c = _post(client, other).json()[0]["service_request_id"]
        mine = client.get(f"{BASE}/requests.json", params={"api_key": key}).json()
        noise = client.get(f"{BASE}/requests.json", params={"api_key": key, "service_code": "request.noise"}).json()
        by_id = client.get(f"{BASE}/requests.json", params={"api_key": key, "service_request_id": f"{a},{c}"}).json()
        theirs = client.get(f"{BASE}/requests/{a}.json", params={"api_key": other})
        window = client.get(f"{BASE}/requests.json", params={"api_key": key, "start_date": "2001-01-01T00:00:00Z",
                                                            "end_date": "2001-02-01T00:00:00+08:00"}).json()
    assert [r["service_request_id"] for r in mine] == [b, a]  # newest first
    assert [r["service_request_id"] for r in noise] == [b]
    assert [r["service_request_id"] for r in by_id] == [a]  # c belongs to the other channel
    assert theirs.status_code == 404 and "service_request_id" in theirs.json()[0]["description"]
    assert window == []


def test_gcj02_positions_are_converted(api, key) -> None:
    lon, lat = (float(v) for v in wgs84_to_gcj02(*EAST))
    with api.client() as client:
        request_id = _post(client, key, lat=repr(lat), long=repr(lon), coords="gcj02").json()[0]["service_request_id"]
    with api.store.Session() as session:
        case = session.get(Case, int(request_id))
    expected = gcj02_to_wgs84(lon, lat)
    assert (case.lon, case.lat) == pytest.approx((float(expected[0]), float(expected[1])), abs=1e-7)
    assert case.grid_code == "370811004001002"


def test_address_string_places_the_report_in_the_named_community(api, key) -> None:
    with api.client() as client:
        posted = _post(client, key, lat=None, long=None, address_string="锦川街道民生社区幸福路3号")
        nowhere = _post(client, key, lat=None, long=None, address_string="北京市海淀区")
        nothing = _post(client, key, lat=None, long=None)
    with api.store.Session() as session:
        case = session.get(Case, int(posted.json()[0]["service_request_id"]))
    assert case.community_code == "370811004001" and "民生社区" in case.text
    assert 116.58 < case.lon < 116.60 and 35.41 < case.lat < 35.42
    assert nowhere.status_code == 400 and nowhere.json()[0]["description"].startswith("address_string:")
    assert nothing.status_code == 400 and "lat" in nothing.json()[0]["description"]


def test_media_upload_is_stored_without_metadata_and_served(api, key) -> None:
    with api.client() as client:
        posted = client.post(f"{BASE}/requests.json", data={"api_key": key, "service_code": "request.sanitation",
                                                            "lat": str(WEST[1]), "long": str(WEST[0])},
                             files={"media": ("scene.jpg", jpeg((116.6, 35.5)), "image/jpeg")})
        request_id = posted.json()[0]["service_request_id"]
        row = client.get(f"{BASE}/requests/{request_id}.json", params={"api_key": key}).json()[0]
        image = client.get(row["media_url"].replace(api.url, ""), params={"api_key": key})
        stranger = client.get(row["media_url"].replace(api.url, ""), params={"api_key": api.key()})
    assert posted.status_code == 201 and row["media_url"].endswith(".jpg")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert not Image.open(io.BytesIO(image.content)).getexif()
    assert stranger.status_code == 404
    with api.store.Session() as session:
        photo = session.query(CasePhoto).filter_by(case_id=int(request_id)).one()
        assert photo.event_seq == 1 and b"Exif" not in photo.image


@pytest.mark.parametrize(("fields", "named"), [
    ({"service_code": "nothing"}, "service_code"),
    ({"lat": "abc"}, "lat"),
    ({"lat": "95"}, "lat"),
    ({"long": None}, "long"),
    ({"coords": "mars"}, "coords"),
    ({"attribute[priority]": "soon"}, "attribute[priority]"),
    ({"attribute[colour]": "red"}, "attribute[colour]"),
    ({"jurisdiction_id": "elsewhere.gov"}, "jurisdiction_id"),
    ({"description": "x" * 2001}, "description"),
    ({"phone": "call me"}, "phone"),
])
def test_refusals_name_the_field_and_the_fix(api, key, fields, named) -> None:
    with api.client() as client:
        answer = _post(client, key, **fields)
        as_xml = _post(client, key, fmt="xml", **fields)
    assert answer.status_code in (400, 404)
    error = answer.json()[0]
    assert error["code"] == answer.status_code
    assert error["description"].startswith(f"{named}:") and "Fix:" in error["description"]
    assert ET.fromstring(as_xml.content).findtext("error/description").startswith(f"{named}:")


def test_keys_are_required_and_checked(api) -> None:
    with api.client() as client:
        none = client.post(f"{BASE}/requests.json", data={"service_code": "hazard.fire_safety"})
        wrong = client.post(f"{BASE}/requests.json", data={"api_key": "gc_k00000000_" + "x" * 43})
        read = client.get(f"{BASE}/requests.json")
    assert none.status_code == 401 and none.json()[0]["description"].startswith("api_key:")
    assert wrong.status_code == 403 and read.status_code == 401
