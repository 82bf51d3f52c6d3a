"""Issue "Hardening": strict numbers and dates, NUL characters, bodies, URLs, lookups,
idempotency, photo pixels and contact data in free text (Open311 side, core middleware and
core.files)."""

from __future__ import annotations

import io
import json
import struct
import time
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone
from PIL import Image

from urbangrid.cases.models import Attachment, Case
from urbangrid.open311.models import ServiceRequest
from urbangrid.open311.parsing import parse_decimal, parse_int, parse_w3c

from .conftest import jpeg_with_exif
from .test_georeport import BASE, errors, post, report


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def base_data(world, i: int = 0, **extra) -> dict:
    lon, lat = world.point(i)
    return {"service_code": "0102", "lat": lat, "long": lon, "description": "路边有垃圾", **extra}


# --- 1. numbers and dates: ASCII digits only, bounded ----------------------------------------


def test_parse_int_accepts_ascii_digits_only_and_bounds():
    assert parse_int("12") == 12 and parse_int(" 007 ") == 7
    for bad in ("²", "１２", "٣", "-1", "+1", "1_000", "1e3", "", None, "9" * 40):
        assert parse_int(bad) is None, bad
    assert parse_int("0", 1, 10) is None and parse_int("11", 1, 10) is None and parse_int("10", 1, 10) == 10
    assert parse_int(str(2**63)) is None and parse_int(str(2**63 - 1)) == 2**63 - 1
    assert parse_decimal("-30.5") == -30.5
    for bad in ("nan", "inf", "１.5", "1_0", "1e5", "²"):
        assert parse_decimal(bad) is None, bad


def test_parse_w3c_minutes_only_fraction_and_bounds():
    assert parse_w3c("2026-11-28T04:10Z").isoformat() == "2026-11-28T04:10:00+00:00"
    assert parse_w3c("2026-11-28T04:10+08:00").utcoffset() == timedelta(hours=8)
    assert parse_w3c("2026-11-28T04:10:05.123456789Z").microsecond == 123456
    for bad in ("2026-11-28", "2026-11-28T04Z", "２０２６-11-28T04:10Z", "2026-11-28T04:10", "2026-13-01T00:00Z"):
        assert parse_w3c(bad) is None, bad
    assert parse_w3c("0001-01-01T00:00:00Z") is None and parse_w3c("9999-12-31T23:59:59+14:00") is None
    assert parse_w3c("0001-01-01T00:00:00Z", bounded=False).year == 1


@pytest.mark.parametrize("value", ["²", "１２", "9" * 40, str(2**63), "-1", "0"])
def test_address_id_odd_numbers_answer_400(client, world, key, value):
    r = post(client, key, service_code="0102", description="x", address_id=value)
    assert r.status_code == 400 and "address_id" in errors(r)[0]


@pytest.mark.parametrize(
    "params",
    [
        {"page": "²"},
        {"page_size": "²"},
        {"page": "１"},
        {"page": "9" * 400},
        {"page_size": str(2**64)},
        {"end_date": "0001-01-01T00:00:00Z"},
        {"start_date": "9999-12-31T23:59:59+14:00"},
        {"start_date": "9999-12-31T23:59:59-14:00"},
        {"start_date": "0001-01-01T00:00:00Z", "end_date": "0001-01-02T00:00:00Z"},
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_odd_numbers_and_dates_in_searches_answer_400(client, world, params, fmt):
    r = client.get(f"{BASE}requests.{fmt}", params)
    assert r.status_code == 400 and errors(r)
    assert next(iter(params)) in errors(r)[0]


def test_lat_long_take_plain_decimals_only(client, world, key):
    lon, _lat = world.point(0)
    for bad_lat in ("nan", "３０.6", "1_0"):
        r = post(client, key, service_code="0102", description="x", lat=bad_lat, long=lon)
        assert r.status_code == 400 and "decimal degrees" in errors(r)[0]


def test_number_attribute_takes_ascii_digits_only(client, world, key):
    from urbangrid.open311.models import Datatype, Service, ServiceAttribute

    svc = Service.objects.create(category=world.garbage)
    ServiceAttribute.objects.create(service=svc, code="count", datatype=Datatype.NUMBER, order=1, description="n")
    for bad in ("１２", "²", "1e5"):
        r = post(client, key, **base_data(world), **{"attribute[count]": bad})
        assert r.status_code == 400 and "decimal number" in errors(r)[0]
    assert post(client, key, **base_data(world), **{"attribute[count]": "12.5"}).status_code == 200


# --- 2. NUL characters: a middleware for every area ---------------------------------------------


@pytest.mark.parametrize("field", ["description", "first_name", "last_name", "address_string", "device_id"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_nul_in_open311_post_fields_400_in_georeport_format(client, world, key, field, fmt):
    data = base_data(world, **{field: "垃圾\x00堆"})
    r = post(client, key, fmt=fmt, **data)
    assert r.status_code == 400 and "NUL" in errors(r)[0]
    assert r["Content-Type"].startswith("application/json" if fmt == "json" else "text/xml")
    assert Case.objects.count() == 0


def test_nul_in_multipart_text_field_400_but_binary_files_pass(client, world, key, settings):
    photo = SimpleUploadedFile("IMG.jpg", jpeg_with_exif(), content_type="image/jpeg")
    assert b"\x00" in photo.read() and photo.seek(0) == 0
    r = post(client, key, **base_data(world, description="a\x00b"), media=photo)
    assert r.status_code == 400 and "NUL" in errors(r)[0]
    assert stored_files(settings) == []
    photo.seek(0)
    assert post(client, key, **base_data(world), media=photo).status_code == 200  # NUL bytes in a file are fine


@pytest.mark.parametrize(
    "url",
    [
        f"{BASE}requests.json?service_request_id=1%00",
        f"{BASE}requests.json?service_code=%00",
        f"{BASE}requests/1%00.json",
        f"{BASE}services.json?jurisdiction_id=%00",
        f"{BASE}tokens/%00.json",
    ],
)
def test_nul_in_open311_query_or_path_400(client, world, url):
    r = client.get(url)
    assert r.status_code == 400 and r["Content-Type"].startswith("application/json") and "NUL" in errors(r)[0]


def test_nul_in_open311_query_without_suffix_answers_xml(client, world):
    r = client.get(f"{BASE}requests?service_request_id=%00")
    assert r.status_code == 400 and r["Content-Type"].startswith("text/xml") and errors(r)


def test_nul_in_staff_api_answers_the_api_error_format(client, world):
    r = client.get("/api/v1/cases", {"grid": "a\x00"})
    assert r.status_code == 400
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == "invalid" and body["error"]["fields"] == {}
    assert "NUL" in body["error"]["message"]
    assert client.get("/api/v1/cases", {"grid": "none"}).status_code == 401  # reaches the API
    raw = b'{"version": 1, "outcome": "satisfied", "note": "a\\u0000b"}'
    r = client.post("/api/v1/return-visits/1", raw, content_type="application/json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"
    r = client.post("/api/v1/return-visits/1", b'{"note": "a\x00b"}', content_type="application/json")
    assert r.status_code == 400
    # an escaped backslash followed by "u0000" is text, not a NUL
    ok = b'{"version": 1, "outcome": "satisfied", "note": "a\\\\u0000b"}'
    assert client.post("/api/v1/return-visits/1", ok, content_type="application/json").status_code != 400


def test_nul_elsewhere_answers_a_plain_translated_page(client, world):
    r = client.get("/portal/track/", {"number": "1\x00"})
    assert r.status_code == 400 and r["Content-Type"].startswith("text/html") and "NUL" in r.content.decode()
    r = client.get("/portal/track/1%00/")
    assert r.status_code == 400
    r = client.get("/portal/track/", {"number": "1\x00"}, headers={"accept-language": "zh-hans"})
    assert r.status_code == 400


def test_json_nul_detection():
    from urbangrid.core.middleware import json_has_nul

    assert json_has_nul(b'{"a": "\\u0000"}') and json_has_nul(b'{"\\u0000": 1}') and json_has_nul(b'["x\x00"]')
    assert json_has_nul(b'[[["\\u0000"]]]') and json_has_nul(b'{"a": "\\u0000')  # unparseable: refused
    assert not json_has_nul(b'{"a": "\\\\u0000"}') and not json_has_nul(b'{"a": "b"}')


# --- 2b. files written in a transaction that rolls back are removed -------------------------


def test_failed_submission_leaves_no_photo_in_storage(client, world, key, settings, monkeypatch):
    from urbangrid.open311 import actions

    def fail(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(actions, "_create", fail)
    photo = SimpleUploadedFile("IMG.jpg", jpeg_with_exif(), content_type="image/jpeg")
    client.raise_request_exception = False
    r = post(client, key, **base_data(world), media=photo)
    assert r.status_code == 500
    assert stored_files(settings) == [] and Attachment.objects.count() == 0


@pytest.mark.pg
def test_nul_reaching_postgresql_rolls_back_and_removes_the_photos(world, partner, settings):
    """Without the middleware (actions called directly) PostgreSQL refuses the NUL; the
    photos stored before the insert failed are deleted with the rollback."""
    from django.db import DataError

    from urbangrid.open311.actions import submit
    from urbangrid.open311.media import reencode
    from urbangrid.open311.validation import Submission

    app, _key = partner
    lon, lat = world.point(0)
    photo = reencode(jpeg_with_exif())
    sub = Submission(world.garbage, None, lon, lat, "", "", "垃圾\x00", {"name": "", "phone": "", "email": ""})
    sub.photos = [photo, photo]
    with pytest.raises(DataError):
        submit(sub, actor=app.user, application=app)
    assert stored_files(settings) == [] and Attachment.objects.count() == 0


def test_files_atomic_removes_files_of_a_failed_block(world, settings):
    from tests.factories import PNG_1PX
    from urbangrid.cases.actions import upload_attachment
    from urbangrid.core import files

    with pytest.raises(ZeroDivisionError), files.atomic():
        upload_attachment(world.operator, PNG_1PX, "a.png")
        assert len(stored_files(settings)) == 1
        1 / 0  # noqa: B018
    assert stored_files(settings) == []
    with files.atomic():
        kept = upload_attachment(world.operator, PNG_1PX, "b.png")
    assert [p.name for p in stored_files(settings)] == [Path(kept.file.name).name]


def test_sweep_notices_the_rollback_of_an_enclosing_transaction(world, settings):
    """Saved inside an inner block that succeeded, then the enclosing block rolled back: the
    next sweep (e.g. the middleware's, after the request) removes the file."""
    from tests.factories import PNG_1PX
    from urbangrid.cases.actions import upload_attachment
    from urbangrid.core import files

    with pytest.raises(ZeroDivisionError), transaction.atomic():
        with files.atomic():
            upload_attachment(world.operator, PNG_1PX, "a.png")
        assert files.sweep() == 0 and len(stored_files(settings)) == 1  # still open: kept
        1 / 0  # noqa: B018
    assert files.sweep() == 1 and stored_files(settings) == []


@pytest.mark.django_db(transaction=True)
def test_committed_files_stay_and_rolled_back_files_go(settings, tmp_path):
    from tests.factories import PNG_1PX, user
    from urbangrid.cases.actions import upload_attachment
    from urbangrid.core import files

    files.sweep_all()  # what earlier tests left behind
    settings.MEDIA_ROOT = tmp_path / "media"
    who = user("operator")
    with transaction.atomic():
        kept = upload_attachment(who, PNG_1PX, "a.png")
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        upload_attachment(who, PNG_1PX, "b.png")
        1 / 0  # noqa: B018
    outside = upload_attachment(who, PNG_1PX, "c.png")  # autocommit
    assert files.sweep_all() == 1
    names = sorted(p.name for p in stored_files(settings))
    assert names == sorted(Path(a.file.name).name for a in (kept, outside))
    assert not connection.__dict__.get("_urbangrid_pending_files")


# --- 3. oversized and malformed bodies answer in the GeoReport format ---------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_body_over_the_memory_limit_answers_413_georeport(client, world, key, fmt):
    body = f"api_key={key}&service_code=0102&description=" + "x" * (3 * 2**20)
    r = client.post(f"{BASE}requests.{fmt}", body, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 413 and errors(r)
    assert r["Content-Type"].startswith("application/json" if fmt == "json" else "text/xml")


def test_declared_length_over_the_open311_limit_is_refused_before_reading(client, world, key, settings):
    settings.URBANGRID = {**settings.URBANGRID, "OPEN311_MAX_MEDIA_BYTES": 1000, "OPEN311_MAX_MEDIA_FILES": 1}
    photo = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + b"\0" * (2 * 2**20))
    r = post(client, key, **base_data(world), media=photo)
    assert r.status_code == 413 and errors(r)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_multipart_without_boundary_answers_400_georeport(client, world, key, fmt):
    r = client.post(f"{BASE}requests.{fmt}", b"--x\r\n\r\n", content_type="multipart/form-data")
    assert r.status_code == 400 and errors(r)
    r = client.post(f"{BASE}requests.{fmt}", b"garbage", content_type="multipart/form-data; boundary=zz")
    assert r.status_code in (400, 403) and errors(r)


def test_too_many_fields_answers_400_georeport(client, world, key):
    body = "&".join(f"f{i}=1" for i in range(1100))
    r = client.post(f"{BASE}requests.json", body, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400 and errors(r)


# --- 4. URLs and formats ------------------------------------------------------------------------


def test_unknown_paths_answer_in_the_suffix_format(client, world):
    r = client.get(f"{BASE}servicez.json")
    assert r.status_code == 404 and r["Content-Type"].startswith("application/json") and errors(r)
    r = client.get(f"{BASE}servicez.xml")
    assert r.status_code == 404 and r["Content-Type"].startswith("text/xml") and errors(r)
    r = client.get(f"{BASE}servicez")
    assert r.status_code == 404 and r["Content-Type"].startswith("text/xml")
    r = client.get("/open311/v3/services.JSON")
    assert r.status_code == 404 and r["Content-Type"].startswith("application/json") and errors(r)
    r = client.get(f"{BASE}servicez.csv")
    assert r.status_code == 404 and r["Content-Type"].startswith("text/xml")


def test_format_suffix_is_case_insensitive_everywhere(client, world, key):
    r = client.get(f"{BASE}services/0102.JSON")
    assert r.status_code == 200 and r.json()["service_code"] == "0102"
    assert client.get(f"{BASE}services/0102.Xml")["Content-Type"].startswith("text/xml")
    number = report(client, world, key)
    assert client.get(f"{BASE}requests/{number}.JSON").json()[0]["service_request_id"] == number
    assert client.get(f"{BASE}services.JSON").status_code == 200


def test_unknown_format_on_single_items_is_400_like_lists(client, world, key):
    number = report(client, world, key)
    for url in (f"requests/{number}.csv", "services/0102.yaml", "tokens/abc.csv", "requests.csv"):
        r = client.get(BASE + url)
        assert r.status_code == 400 and r["Content-Type"].startswith("text/xml") and "format" in errors(r)[0], url


def test_w3c_datetimes_without_seconds_are_accepted(client, world, key):
    number = report(client, world, key)
    start = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%MZ")
    r = client.get(f"{BASE}requests.json", {"start_date": start})
    assert r.status_code == 200 and [x["service_request_id"] for x in r.json()] == [number]
    r = client.get(f"{BASE}requests.json", {"start_date": "2026-11-01T04:10Z", "end_date": "2026-11-28T04:10+08:00"})
    assert r.status_code == 200


# --- 6. lookups: throttled, capped, only published sources ----------------------------------------


def test_lookups_by_id_are_throttled_per_address(client, world, key, settings, one_rate_window):
    settings.URBANGRID = {**settings.URBANGRID, "OPEN311_LOOKUP_RATE_LIMIT": 5}
    number = report(client, world, key)
    codes = [client.get(f"{BASE}requests/{number}.json").status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    r = client.get(f"{BASE}requests/{number}.xml")
    assert r.status_code == 429 and int(r["Retry-After"]) == 30 and "try again" in errors(r)[0]
    assert client.get(f"{BASE}tokens/abc.json").status_code == 429
    other = client.get(f"{BASE}requests/{number}.json", REMOTE_ADDR="10.1.1.1")
    assert other.status_code == 200  # per client address
    assert client.get(f"{BASE}requests.json").status_code == 200  # searches by date are not lookups


def test_each_id_asked_for_counts_and_ids_are_capped(client, world, key, settings, one_rate_window):
    settings.URBANGRID = {**settings.URBANGRID, "OPEN311_LOOKUP_RATE_LIMIT": 10, "OPEN311_MAX_IDS": 4}
    ids = ",".join(str(330483000000000000 + i) for i in range(196))
    r = client.get(f"{BASE}requests.json", {"service_request_id": ids})
    assert r.status_code == 400 and "at most 4" in errors(r)[0]
    four = ",".join(str(330483000000000000 + i) for i in range(4))
    assert client.get(f"{BASE}requests.json", {"service_request_id": four}).status_code == 200
    assert client.get(f"{BASE}requests.json", {"service_request_id": four}).status_code == 200
    assert client.get(f"{BASE}requests.json", {"service_request_id": four}).status_code == 429  # 12 > 10


def test_staff_internal_reports_are_not_published_by_default(client, world, key, settings):
    from urbangrid.cases import actions

    lon, lat = world.point(0)
    internal = {}
    for source in ("collector", "hotline", "leader", "video", "sensor", "system", "media"):
        case = actions.create_case(
            world.collector if source == "collector" else world.operator,
            source=source,
            category=world.garbage,
            description=f"内部 {source}",
            lon=lon,
            lat=lat,
        )
        internal[case.number] = source
    public = report(client, world, key)
    listed = [r["service_request_id"] for r in client.get(f"{BASE}requests.json").json()]
    assert listed == [public]
    for number in internal:
        assert client.get(f"{BASE}requests/{number}.json").status_code == 404
        assert client.get(f"{BASE}requests.json", {"service_request_id": number}).json() == []
        assert client.get(f"/portal/track/{number}/").status_code == 404
    settings.URBANGRID = {**settings.URBANGRID, "OPEN311_PUBLIC_SOURCES": ["citizen", "partner", "collector"]}
    collector = next(n for n, s in internal.items() if s == "collector")
    assert client.get(f"{BASE}requests/{collector}.json").status_code == 200
    settings.URBANGRID = {**settings.URBANGRID, "OPEN311_PUBLIC_SOURCES": ["*"]}
    assert len(client.get(f"{BASE}requests.json").json()) == len(internal) + 1


# --- 7. idempotency keys bound to the content ------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_idempotency_key_with_another_body_answers_409(client, world, key, fmt):
    headers = {"Idempotency-Key": f"pay-{fmt}"}
    first = post(client, key, fmt=fmt, headers=headers, **base_data(world))
    assert first.status_code == 200
    again = post(client, key, fmt=fmt, headers=headers, **base_data(world))
    assert again.status_code == 200 and again.content == first.content
    other = post(client, key, fmt=fmt, headers=headers, **base_data(world, description="另一个问题"))
    assert other.status_code == 409 and "Idempotency-Key" in errors(other)[0]
    assert Case.objects.count() == 1
    assert ServiceRequest.objects.get().request_hash


def test_idempotency_key_compares_photos_and_ignores_field_order(client, world, key):
    headers = {"Idempotency-Key": "with-photo"}
    raw = jpeg_with_exif()
    first = post(client, key, headers=headers, **base_data(world), media=SimpleUploadedFile("a.jpg", raw))
    assert first.status_code == 200
    data = dict(reversed(list(base_data(world).items())))
    again = post(client, key, headers=headers, **data, media=SimpleUploadedFile("a.jpg", raw))
    assert again.status_code == 200 and again.json() == first.json()
    other = post(client, key, headers=headers, **data, media=SimpleUploadedFile("a.jpg", jpeg_with_exif((80, 60))))
    assert other.status_code == 409


def test_idempotency_key_must_be_printable_ascii(client, world, key):
    r = post(client, key, headers={"Idempotency-Key": "ключ"}, **base_data(world))
    assert r.status_code == 400 and "Idempotency-Key" in errors(r)[0]


def test_idempotency_race_with_another_body_is_409(world, partner):
    from urbangrid.open311.actions import submit
    from urbangrid.open311.errors import Open311Error
    from urbangrid.open311.validation import Submission

    app, _key = partner
    lon, lat = world.point(0)
    sub = Submission(world.garbage, None, lon, lat, "", "", "x", {"name": "", "phone": "", "email": ""})
    submit(sub, actor=app.user, application=app, idempotency_key="same", fingerprint="a" * 64)
    with pytest.raises(Open311Error) as exc:
        submit(sub, actor=app.user, application=app, idempotency_key="same", fingerprint="b" * 64)
    assert exc.value.status == 409


# --- 8. photo pixels ------------------------------------------------------------------------------


def png_header_only(width: int, height: int) -> bytes:
    """A structurally valid PNG claiming width x height pixels with almost no image data:
    what a decompression bomb looks like before it is decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 10)).save(out, "PNG")
    return out.getvalue()


def test_a_40_megapixel_png_is_refused_before_decoding(client, world, key):
    bomb = png_header_only(7000, 5670)  # 39.7 MP
    assert len(bomb) < 1000
    started = time.monotonic()
    r = post(client, key, **base_data(world), media=SimpleUploadedFile("bomb.png", bomb))
    assert r.status_code == 413 and "too many pixels" in errors(r)[0]
    assert time.monotonic() - started < 0.5
    assert Case.objects.count() == 0


def test_pixel_limits_per_photo_and_per_request(client, world, key, settings):
    limits = {"OPEN311_MAX_PHOTO_PIXELS": 10_000, "OPEN311_MAX_REQUEST_PIXELS": 25_000}
    settings.URBANGRID = {**settings.URBANGRID, **limits}
    r = post(client, key, **base_data(world), media=SimpleUploadedFile("a.png", png((101, 100))))
    assert r.status_code == 413 and "too many pixels" in errors(r)[0]
    three = [SimpleUploadedFile(f"{i}.png", png((100, 100))) for i in range(3)]
    r = post(client, key, **base_data(world), media=three)
    assert r.status_code == 413 and "together" in errors(r)[0]
    two = [SimpleUploadedFile(f"{i}.png", png((100, 100))) for i in range(2)]
    assert post(client, key, **base_data(world), media=two).status_code == 200


def test_large_jpegs_are_decoded_at_a_reduced_scale(settings):
    from urbangrid.open311.media import reencode

    settings.URBANGRID = {**settings.URBANGRID, "OPEN311_PHOTO_MAX_SIDE": 500, "OPEN311_MAX_PHOTO_PIXELS": 1_000_000}
    big = jpeg_with_exif((4000, 3000))  # 12 MP, decoded at 1/8: 500 x 375
    with Image.open(io.BytesIO(reencode(big))) as out:
        assert out.size == (500, 375)
    from urbangrid.open311.errors import Open311Error

    with pytest.raises(Open311Error) as exc:
        reencode(png((1500, 1000)))  # PNGs decode at full size: 1.5 MP > 1 MP
    assert exc.value.status == 413


# --- 9. contact data in free text --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("请打１３８１２３４５６７８联系", "１３８１２３４５６７８"),
        ("电话138.1234.5678", "138.1234.5678"),
        ("电话138-1234-5678", "1234-5678"),
        ("电话 +86 138 1234 5678", "1234 5678"),
        ("座机0573-88881234", "88881234"),
        ("座机(0573) 8888 1234转12", "8888 1234"),
        ("座机０５７３－８８８８１２３４", "８８８８１２３４"),
        ("北京010-88881234", "88881234"),
        ("邮箱zhang＠example.cn", "example"),
        ("邮箱ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｎ", "ｅｘａｍｐｌｅ"),
        ("邮箱 zhang.wei@example.cn", "zhang.wei"),
        ("身份证330483199001011234", "330483199001011234"),
        ("身份证３３０４８３１９９００１０１１２３Ｘ", "１９９００１０１"),
    ],
)
def test_contact_data_is_masked_in_every_form(text, secret):
    from urbangrid.open311.public import public_text

    masked = public_text(text)
    assert secret not in masked and "*" in masked, masked
    assert masked[:2] == text[:2]  # the rest of the text is kept as written


def test_masking_keeps_ordinary_text_and_numbers():
    from urbangrid.open311.public import public_text

    for text in (
        "人行道上有大量建筑垃圾，影响通行。",
        "2026-05-17 发现，面积12.5㎡，约1380元",
        "请参考编号330483000000000000",
        "坐标120.5501,30.6304",
        "全角标点：（注意）",
    ):
        assert public_text(text) == text


def test_masked_in_published_records(client, world, key):
    number = report(client, world, key, description="联系１３８１２３４５６７８或0573-88881234", address_string="")
    record = client.get(f"{BASE}requests/{number}.json").json()[0]
    assert "１３８１２３４５６７８" not in record["description"] and "88881234" not in record["description"]
    assert json.dumps(record, ensure_ascii=False).count("联系") == 1
