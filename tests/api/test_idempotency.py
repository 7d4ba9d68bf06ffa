"""Idempotent retries against a real server: a repeated POST with the same Idempotency-Key answers
the first result and adds no case (in either format, also when the retries race), the same key
with another request is refused, and keys of different channels do not collide."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from xml.etree import ElementTree as ET

from sqlalchemy import func, select

from store.models import ApiSubmission, Case
from tests.api.conftest import WEST, jpeg

URL = "/open311/v2/requests"


def _form(key: str, text: str = "路灯不亮") -> dict[str, str]:
    return {"api_key": key, "service_code": "request.municipal", "lat": str(WEST[1]), "long": str(WEST[0]),
            "description": text}


def _cases(api) -> int:
    with api.store.Session() as session:
        return int(session.scalar(select(func.count()).select_from(Case)))


def test_a_repeated_post_returns_the_first_result(api, key) -> None:
    headers = {"Idempotency-Key": "5b3f1c9e-0001"}
    with api.client() as client:
        first = client.post(f"{URL}.json", data=_form(key), headers=headers)
        again = client.post(f"{URL}.json", data=_form(key), headers=headers)
        as_xml = client.post(f"{URL}.xml", data=_form(key), headers=headers)
        other = client.post(f"{URL}.json", data=_form(key, "另一件事"), headers=headers)
        fresh = client.post(f"{URL}.json", data=_form(key), headers={"Idempotency-Key": "5b3f1c9e-0002"})
    request_id = first.json()[0]["service_request_id"]
    assert first.status_code == again.status_code == 201 and "idempotent-replayed" not in first.headers
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert ET.fromstring(as_xml.content).findtext("request/service_request_id") == request_id
    assert other.status_code == 422 and other.json()[0]["description"].startswith("Idempotency-Key:")
    assert fresh.json()[0]["service_request_id"] != request_id
    assert _cases(api) == 2


def test_racing_retries_make_one_case(api, key) -> None:
    def post(i: int):
        with api.client() as client:
            return client.post(f"{URL}.json", data=_form(key), headers={"Idempotency-Key": f"race-{i % 5}"})

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(post, range(40)))
    assert {a.status_code for a in answers} == {201}
    ids = {}
    for i, answer in enumerate(answers):
        ids.setdefault(i % 5, set()).add(answer.json()[0]["service_request_id"])
    assert all(len(v) == 1 for v in ids.values()) and len(set().union(*ids.values())) == 5
    assert _cases(api) == 5
    with api.store.Session() as session:
        assert session.scalar(select(func.count()).select_from(ApiSubmission)) == 5


def test_keys_are_per_channel_and_photos_are_part_of_the_request(api, key) -> None:
    other = api.key()
    headers = {"Idempotency-Key": "same-token"}
    with api.client() as client:
        mine = client.post(f"{URL}.json", data=_form(key), headers=headers).json()
        theirs = client.post(f"{URL}.json", data=_form(other), headers=headers).json()
        snap = {"api_key": key, "category": "hazard", "lon": str(WEST[0]), "lat": str(WEST[1]), "coords": "wgs84"}
        photo = client.post("/snap/v1/reports", data=snap, files={"photos": ("a.jpg", jpeg(), "image/jpeg")},
                            headers={"Idempotency-Key": "snap-1"})
        same = client.post("/snap/v1/reports", data=snap, files={"photos": ("a.jpg", jpeg(), "image/jpeg")},
                           headers={"Idempotency-Key": "snap-1"})
        changed = client.post("/snap/v1/reports", data=snap,
                              files={"photos": ("a.jpg", jpeg(size=(80, 60)), "image/jpeg")},
                              headers={"Idempotency-Key": "snap-1"})
    assert mine[0]["service_request_id"] != theirs[0]["service_request_id"]
    assert photo.status_code == 201 and same.json()["case_id"] == photo.json()["case_id"]
    assert same.json()["replayed"] is True and changed.status_code == 422
    assert _cases(api) == 3


def test_bad_idempotency_keys_are_refused(api, key) -> None:
    with api.client() as client:
        long = client.post(f"{URL}.json", data=_form(key), headers={"Idempotency-Key": "x" * 129})
        blank = client.post(f"{URL}.json", data=_form(key), headers={"Idempotency-Key": "two words"})
    assert long.status_code == blank.status_code == 400
    assert long.json()[0]["description"].startswith("Idempotency-Key:")
    assert _cases(api) == 0
