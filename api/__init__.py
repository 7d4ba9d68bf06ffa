"""The intake API beside the dashboard (FastAPI on uvicorn, its own port; ``python -m api serve``).

Channels that report into the store without a person at the dashboard:

- Open311 GeoReport v2 under ``/open311/v2/`` (:mod:`api.open311`): services, service
  definitions, POST requests (lat/long or address_string, a photo as ``media``), GET requests
  with their status and status notes, JSON and XML;
- 随手拍 (:mod:`api.snap`): one to nine photos, GCJ-02 positions as WeChat gives them, the photo's
  EXIF position when the report has none;
- signed IoT / video alarms (:mod:`api.alarms`), merged per device within a few minutes;
- the 12345 back-channel (:mod:`api.backchannel`): status changes since a cursor.

Every new case goes through :func:`intake.pipeline.submit` (batched by one writer thread per
process, :mod:`api.writer`); keys per channel are stored hashed (:mod:`api.keys`); repeated POSTs
with the same ``Idempotency-Key`` get the first answer; every accepted or refused request is
audited (:mod:`api.requestlog`). Positions are stored in EPSG:4490 (CGCS2000) degrees.
"""
