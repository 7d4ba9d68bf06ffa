"""Field photos (intake.photos): JPEG/PNG/HEIC in, upright JPEG without metadata and a thumbnail out;
a handled case keeps them (cases.commands.act, cases.queries.case_photos) in the caller's scope."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from access.scope import Scope
from cases import lifecycle, queries
from cases.commands import act
from core.errors import InputError, NotFound
from intake.photos import MAX_SIDE, THUMB_SIDE, exif_position, photo_kind, prepare_photo, prepare_photos
from tests.factories import T0, add_people, new_case

WORKER = Scope(role="worker", area_codes="370811004001001", username="w1", worker_id="W001")


def _jpeg_with_gps(width: int = 300, height: int = 200, *, orientation: int | None = None) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (35.0, 24.0, 54.0), 3: "E", 4: (116.0, 35.0, 13.2)})
    if orientation:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def test_exif_gps_is_read_then_stripped():
    data = _jpeg_with_gps()
    lon, lat = exif_position(data)
    assert lon == pytest.approx(116 + 35 / 60 + 13.2 / 3600) and lat == pytest.approx(35 + 24 / 60 + 54 / 3600)
    photo = prepare_photo(data, "IMG_0001.JPG")
    stored = Image.open(io.BytesIO(photo.jpeg))
    assert stored.format == "JPEG" and not stored.getexif() and b"Exif" not in photo.jpeg[:200]
    assert exif_position(photo.jpeg) is None
    assert (photo.filename, photo.width, photo.height) == ("IMG_0001.jpg", 300, 200)


def test_orientation_is_applied_and_sizes_are_bounded():
    rotated = prepare_photo(_jpeg_with_gps(4000, 1000, orientation=6), "a.jpg")  # 6: rotate 90° on display
    assert (rotated.width, rotated.height) == (MAX_SIDE // 4, MAX_SIDE)
    thumb = Image.open(io.BytesIO(rotated.thumbnail))
    assert max(thumb.size) == THUMB_SIDE and thumb.size[1] > thumb.size[0]


def test_png_and_heic_become_jpeg():
    buffer = io.BytesIO()
    Image.new("RGBA", (64, 48), (0, 128, 0, 128)).save(buffer, format="PNG")
    png = prepare_photo(buffer.getvalue(), "screen.png")
    assert photo_kind(png.jpeg) == "jpeg" and png.filename == "screen.jpg"
    from pillow_heif import from_pillow

    heif = io.BytesIO()
    from_pillow(Image.new("RGB", (80, 60), (10, 20, 200))).save(heif, format="HEIF")
    assert photo_kind(heif.getvalue()) == "heif"
    converted = prepare_photo(heif.getvalue(), "IMG_0002.HEIC")
    assert (converted.filename, converted.width, converted.height) == ("IMG_0002.jpg", 80, 60)


@pytest.mark.parametrize(("data", "message"), [
    (b"GIF89a....", "not a JPEG, PNG or HEIC photo"),
    (b"\xff\xd8\xff\xe0 broken", "cannot be read"),
])
def test_bad_photos_are_named(data, message):
    with pytest.raises(InputError, match=message):
        prepare_photo(data, "x.jpg")


def test_size_and_count_limits():
    with pytest.raises(InputError, match="more than 0.01 MiB"):
        prepare_photo(_jpeg_with_gps(800, 800), "big.jpg", max_mb=0.01)
    with pytest.raises(InputError, match="at most 9"):
        prepare_photos([("p.jpg", _jpeg_with_gps())] * 10)


def test_a_handled_case_keeps_its_photos_in_scope(store):
    with store.Session() as s, s.begin():
        add_people(s)
        case = new_case(s, source_id="PH1")
        for action in ("register", "dispatch", "accept"):
            lifecycle.transition(s, case.id, action, actor="duty", at=T0)
        lifecycle.transition(s, case.id, "arrive", actor="W001", at=T0, no_fix=True)
        version = s.get(type(case), case.id).version
    with store.Session() as s, s.begin():
        after = act(s, WORKER, case.id, "handle", version, at=T0 + timedelta(hours=1), note="已清理",
                    photos=[("a.jpg", _jpeg_with_gps()), ("b.jpg", _jpeg_with_gps(120, 90))])
    assert after.state == "handled"
    with store.Session() as s:
        photos = queries.case_photos(s, WORKER, case.id)
        timeline = queries.case_timeline(s, WORKER, case.id)
        assert [p.filename for p in photos] == ["a.jpg", "b.jpg"] and photos[0].event_seq == after.version
        assert Image.open(io.BytesIO(queries.photo_image(s, WORKER, photos[0].id))).size == (300, 200)
        assert "2 photo(s)" in timeline["note"].iloc[-1] and "已清理" in timeline["note"].iloc[-1]
        other = Scope(role="worker", area_codes="370811004001002", username="w2", worker_id="W002")
        with pytest.raises(NotFound):
            queries.case_photos(s, other, case.id)
        with pytest.raises(NotFound):
            queries.photo_image(s, other, photos[0].id)


def test_a_bad_photo_refuses_the_whole_action(store):
    with store.Session() as s, s.begin():
        add_people(s)
        case = new_case(s, source_id="PH2")
        for action in ("register", "dispatch", "accept"):
            lifecycle.transition(s, case.id, action, actor="duty", at=T0)
        lifecycle.transition(s, case.id, "arrive", actor="W001", at=T0, no_fix=True)
    with store.Session() as s, pytest.raises(InputError, match="not a JPEG"):
        act(s, WORKER, case.id, "handle", 5, photos=[("a.gif", b"GIF89a")])
    with store.Session() as s:
        assert queries.get_case(s, WORKER, case.id).state == "on_site"
