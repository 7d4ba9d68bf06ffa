"""Rate limits per key (429 with Retry-After), request size limits (413, declared or streamed), every
accepted or refused request in the audit log, errors as JSON naming the field and the fix, the
OpenAPI document served."""

from __future__ import annotations

from sqlalchemy import select

from store.models import ApiKey, AuditEntry
from tests.api.conftest import WEST, audit_after, audit_marker, jpeg


def _form(key: str) -> dict[str, str]:
    return {"api_key": key, "service_code": "request.municipal", "lat": str(WEST[1]), "long": str(WEST[0])}


def test_rate_limit_per_key(api) -> None:
    slow = api.key(rate=3)
    fast = api.key()
    marker = audit_marker(api.store)
    with api.client() as client:
        answers = [client.get("/open311/v2/requests.json", params={"api_key": slow}) for _ in range(6)]
        other = client.get("/open311/v2/requests.json", params={"api_key": fast})
    codes = [a.status_code for a in answers]
    assert codes[:3] == [200, 200, 200] and set(codes[3:]) == {429}
    limited = answers[3]
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()[0]["description"].startswith("api_key: rate limit of 3 requests per minute")
    assert other.status_code == 200  # the limit is per key
    refused = audit_after(api.store, marker, "api_refused")
    # a flood of refusals is folded: one entry per caller and 10 s (the later ones are counted)
    assert [e.detail["reason"] for e in refused] == ["rate_limited"]
    assert len(audit_after(api.store, marker, "api_request")) == 4


def test_body_size_limits(api, key) -> None:
    marker = audit_marker(api.store)
    with api.client() as client:
        big_form = client.post("/open311/v2/requests.json", data={**_form(key), "description": "x" * 20_000})

        def chunks():
            yield b"api_key=" + key.encode() + b"&description="
            for _ in range(40):
                yield b"y" * 1024

        streamed = client.post("/open311/v2/requests.json", content=chunks(),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        upload = client.post("/snap/v1/reports", data={"api_key": key, "category": "hazard"},
                             files=[("photos", (f"{i}.jpg", jpeg() + b"\0" * 600_000, "image/jpeg")) for i in range(8)])
    assert big_form.status_code == 413 and big_form.json()[0]["description"].startswith("body:")
    assert streamed.status_code == 413
    assert upload.status_code == 413 and upload.json()["error"]["field"] == "body"
    assert [e.detail["reason"] for e in audit_after(api.store, marker, "api_refused")] == ["too_large"] * 3


def test_every_request_is_audited_without_the_key(api, key) -> None:
    marker = audit_marker(api.store)
    with api.client() as client:
        posted = client.post("/open311/v2/requests.json", data=_form(key), headers={"Idempotency-Key": "a-1"})
        client.post("/open311/v2/requests.json", data=_form(key), headers={"Idempotency-Key": "a-1"})
        client.get("/open311/v2/services.json")
        client.get("/open311/v2/requests.json", params={"api_key": key})
        client.post("/open311/v2/requests.json", data={**_form(key), "lat": "north"})
        client.get("/nothing/here")
    entries = audit_after(api.store, marker)
    api_entries = [e for e in entries if e.action.startswith("api_")]
    assert [(e.action, e.detail["status"]) for e in api_entries] == [
        ("api_request", 201), ("api_request", 201), ("api_request", 200), ("api_request", 200),
        ("api_refused", 400), ("api_refused", 404)]
    case_id = int(posted.json()[0]["service_request_id"])
    first = api_entries[0]
    assert first.target_kind == "case" and first.target_id == str(case_id) and first.ip == "127.0.0.1"
    assert first.actor.startswith("api:t") and first.detail["outcome"] == "added"
    assert api_entries[1].detail["outcome"] == "replayed" and api_entries[1].target_id == str(case_id)
    assert api_entries[4].detail["field"] == "lat"
    # the intake pipeline's own entry for the new case
    assert any(e.action == "import" and e.detail["channel"].startswith("api:") for e in entries)
    with api.store.Session() as session:
        stored = session.scalars(select(AuditEntry).where(AuditEntry.id > marker)).all()
        hashes = session.scalars(select(ApiKey.key_hash)).all()
    assert all(key not in str(e.detail) for e in stored)
    assert key not in hashes and all(len(h) == 64 for h in hashes)


def test_errors_are_json_naming_the_field_and_the_fix(api, key) -> None:
    with api.client() as client:
        bad_page = client.get("/open311/v2/requests.json", params={"api_key": key, "page": 0})
        bad_format = client.get("/open311/v2/services.csv")
        not_form = client.post("/snap/v1/reports", json={"api_key": key})
        wrong_method = client.delete("/snap/v1/reports")
    assert bad_page.status_code == 400 and bad_page.json()[0]["description"].startswith("page:")
    assert bad_format.status_code == 404 and "Fix:" in bad_format.json()[0]["description"]
    error = not_form.json()["error"]
    assert not_form.status_code == 400 and error["field"] == "body" and "multipart/form-data" in error["fix"]
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["field"] == "method"


def test_openapi_document_is_served(api) -> None:
    with api.client() as client:
        document = client.get("/openapi.json").json()
        docs = client.get("/docs")
    paths = document["paths"]
    for path in ("/open311/v2/services.{fmt}", "/open311/v2/services/{service_code}.{fmt}",
                 "/open311/v2/requests.{fmt}", "/open311/v2/requests/{service_request_id}.{fmt}",
                 "/snap/v1/reports", "/alarms/v1/events", "/hotline/v1/changes"):
        assert path in paths, path
    assert "multipart/form-data" in paths["/snap/v1/reports"]["post"]["requestBody"]["content"]
    assert docs.status_code == 404  # no docs page: it would load its scripts from a CDN


def test_the_access_log_never_shows_a_key() -> None:
    import logging

    from api.app import _RedactKeys

    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/hotline/v1/changes?cursor=3&api_key=gc_k1_secret", "1.1", 200),
                               None)
    assert _RedactKeys().filter(record)
    assert "secret" not in record.getMessage() and "api_key=***" in record.getMessage()
