"""随手拍 against a real server: photos checked by bytes and size, one to nine, the EXIF position used
when the report has none and then stripped, GCJ-02 positions converted, the phone stored as every
channel stores it and masked in every answer."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

from geo.coords import gcj02_to_wgs84, wgs84_to_gcj02
from store.models import Case, CasePhoto
from tests.api.conftest import EAST, WEST, jpeg

URL = "/snap/v1/reports"


def _send(client, key, photos, **fields):
    data = {"api_key": key, "category": "安全隐患", "subcategory": "消防隐患", "description": "电动车楼道充电",
            **fields}
    return client.post(URL, data={k: v for k, v in data.items() if v is not None},
                       files=[("photos", (name, body, "image/jpeg")) for name, body in photos])


def test_exif_position_is_used_then_stripped(api, key) -> None:
    with api.client() as client:
        answer = _send(client, key, [("a.jpg", jpeg(EAST)), ("b.jpg", jpeg())], reporter_phone="13812345678")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["position"]["from"] == "photo_exif" and body["position"]["crs"] == "EPSG:4490"
    assert (body["position"]["lon"], body["position"]["lat"]) == pytest.approx(EAST, abs=1e-6)
    assert body["grid_code"] == "370811004001002" and body["photos"] == 2
    assert body["reporter_phone"] == "138****5678"
    with api.store.Session() as session:
        case = session.get(Case, body["case_id"])
        photos = session.query(CasePhoto).filter_by(case_id=case.id).order_by(CasePhoto.id).all()
        assert case.source == "snapshot" and (case.category, case.subcategory) == ("hazard", "fire_safety")
        assert case.reporter_phone == "13812345678"  # stored as the hotline import stores it; masked on output
        assert len(photos) == 2 and all(p.event_seq == 1 for p in photos)
        for photo in photos:
            assert not Image.open(io.BytesIO(photo.image)).getexif()
            assert b"Exif" not in photo.image and b"Exif" not in photo.thumbnail


def test_gcj02_from_wechat_is_converted(api, key) -> None:
    lon, lat = (float(v) for v in wgs84_to_gcj02(*WEST))
    with api.client() as client:
        answer = _send(client, key, [("a.jpg", jpeg(EAST))], lon=repr(lon), lat=repr(lat))  # coords default gcj02
    body = answer.json()
    expected = [float(v) for v in gcj02_to_wgs84(lon, lat)]
    assert body["position"]["from"] == "request" and body["position"]["coords_received"] == "gcj02"
    assert (body["position"]["lon"], body["position"]["lat"]) == pytest.approx(expected, abs=1e-6)
    assert body["grid_code"] == "370811004001001"  # the request's position wins over the photo's


def test_service_code_and_english_keys_are_categories_too(api, key) -> None:
    with api.client() as client:
        by_code = _send(client, key, [("a.jpg", jpeg(WEST))], category="request.noise", subcategory=None)
        by_key = _send(client, key, [("a.jpg", jpeg(WEST))], category="dispute", subcategory="neighbour")
    with api.store.Session() as session:
        assert (session.get(Case, by_code.json()["case_id"]).subcategory) == "noise"
        assert (session.get(Case, by_key.json()["case_id"]).category) == "dispute"


def test_photo_checks(api, key) -> None:
    noise = Image.frombytes("RGB", (900, 900), os.urandom(900 * 900 * 3))
    big = io.BytesIO()
    noise.save(big, format="PNG")  # about 2.3 MiB, over the test limit of 1 MiB
    with api.client() as client:
        text = _send(client, key, [("a.txt", b"not a photo")], lon=str(WEST[0]), lat=str(WEST[1]))
        none = client.post(URL, data={"api_key": key, "category": "hazard", "lon": "116.585", "lat": "35.415"})
        ten = _send(client, key, [(f"{i}.jpg", jpeg()) for i in range(10)], lon=str(WEST[0]), lat=str(WEST[1]))
        large = _send(client, key, [("big.png", big.getvalue())], lon=str(WEST[0]), lat=str(WEST[1]))
        nowhere = _send(client, key, [("a.jpg", jpeg())])
    assert text.status_code == 400 and text.json()["error"]["field"] == "photos (a.txt)"
    assert "JPEG, PNG or HEIC" in text.json()["error"]["message"]
    assert none.status_code == 400 and none.json()["error"]["field"] == "photos"
    assert ten.status_code == 400 and ten.json()["error"]["field"] == "photos"
    assert large.status_code == 400 and "MiB" in large.json()["error"]["message"]
    assert nowhere.status_code == 400 and nowhere.json()["error"]["field"] == "lon"
    assert "wx.getLocation" in nowhere.json()["error"]["fix"]


@pytest.mark.parametrize(("fields", "named"), [
    ({"reporter_phone": "12345"}, "reporter_phone"),
    ({"category": "天气"}, "category"),
    ({"subcategory": "火星"}, "subcategory"),
    ({"lon": "116.585"}, "lat"),
    ({"coords": "utm"}, "coords"),
])
def test_refusals_name_the_field(api, key, fields, named) -> None:
    base = {"lon": str(WEST[0]), "lat": str(WEST[1])} if "lon" not in fields else {}
    with api.client() as client:
        answer = _send(client, key, [("a.jpg", jpeg())], **{**base, **fields})
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["field"] == named and error["fix"] and error["description"].startswith(f"{named}:")
