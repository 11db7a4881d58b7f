"""The media store: one file per content, type judged by the bytes, EXIF time and position kept as
evidence and absent from every copy served, read only through the inspection by its readers.

Independent checks: the files are counted on disk, the hashes computed here with hashlib, the rows
read back as the owner, the served images opened with Pillow."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime

import psycopg
import pytest
from PIL import Image

from gis.media import store

GPS = {"lat": 25.791736, "lon": 113.017361}  # 25°47'30.25" N, 113°1'2.5" E


def jpeg(colour: tuple[int, int, int] = (200, 30, 30), *, gps: bool = False, size=(640, 480)) -> bytes:
    """A JPEG built here, with a camera's EXIF (make, time taken, GPS) when asked."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    if gps:
        exif[0x010F] = "TestCam"
        details = exif.get_ifd(0x8769)
        details[0x9003] = "2026:05:04 10:11:12"
        details[0x9011] = "+08:00"
        g = exif.get_ifd(0x8825)
        g[1], g[2], g[3], g[4] = "N", (25.0, 47.0, 30.25), "E", (113.0, 1.0, 2.5)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (32, 20), (0, 90, 200, 128)).save(out, "PNG")
    return out.getvalue()


def media_files(settings) -> list:
    root = settings.data_dir / "media"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def upload(api, headers, inspection: int, *files: tuple[str, bytes, str]):
    return api.post(f"/perimeter/inspections/{inspection}/photos", headers=headers,
                    files=[("photos", f) for f in files])


def test_same_photo_twice_is_one_file(api, as_role, world, settings, database_url):
    photo = jpeg((10, 200, 10))
    sha = hashlib.sha256(photo).hexdigest()
    before = media_files(settings)
    r = upload(api, as_role("inspector"), world["inspection"], ("a.jpg", photo, "image/jpeg"),
               ("b.jpg", photo, "image/jpeg"))
    assert r.status_code == 201, r.text
    r = upload(api, as_role("inspector"), world["inspection"], ("again.jpg", photo, "image/jpeg"))
    assert r.status_code == 201, r.text
    new = [p for p in media_files(settings) if p not in before]
    originals = [p for p in new if "." not in p.name]
    assert [p.parent.name + p.name for p in originals] == [sha]  # media/ab/cdef...: one copy
    assert originals[0].read_bytes() == photo
    assert len(new) == 3  # the original, its thumbnail, its published copy
    with psycopg.connect(database_url) as c:
        assert c.execute("SELECT count(*) FROM media WHERE sha256 = %s", [sha]).fetchone()[0] == 1
        assert c.execute("SELECT count(*) FROM inspection_photo WHERE sha256 = %s AND inspection_id = %s",
                         [sha, world["inspection"]]).fetchone()[0] == 1


def test_type_is_judged_by_content(api, as_role, world, database_url):
    content = png()
    r = upload(api, as_role("inspector"), world["inspection"], ("renamed.jpg", content, "image/jpeg"))
    assert r.status_code == 201, r.text
    assert r.json()[0]["mime"] == "image/png"
    with psycopg.connect(database_url) as c:
        mime = c.execute("SELECT mime FROM media WHERE sha256 = %s",
                         [hashlib.sha256(content).hexdigest()]).fetchone()[0]
    assert mime == "image/png"


@pytest.mark.parametrize("name,content,kind", [
    ("notes.jpg", "巡查记录 not a photo\n".encode(), "image/jpeg"),
    ("empty.png", b"", "image/png"),
    ("cut.jpg", jpeg()[:400], "image/jpeg"),  # a truncated JPEG fails to decode
])
def test_what_is_not_a_photo_is_refused(api, as_role, world, database_url, name, content, kind):
    with psycopg.connect(database_url) as c:
        before = c.execute("SELECT count(*) FROM inspection_photo").fetchone()[0]
    r = upload(api, as_role("inspector"), world["inspection"], (name, content, kind))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "photos"
    with psycopg.connect(database_url) as c:
        assert c.execute("SELECT count(*) FROM inspection_photo").fetchone()[0] == before


def test_too_large_is_refused(monkeypatch):
    monkeypatch.setattr(store, "MAX_BYTES", 1000)
    with pytest.raises(store.InvalidInput) as refused:
        store.examine(jpeg(size=(400, 300)) + b"\0" * 1000)
    assert "larger than" in refused.value.problems[0].reason


def test_exif_time_and_gps_are_kept(api, as_role, world, database_url):
    photo = jpeg((30, 30, 200), gps=True)
    r = upload(api, as_role("inspector"), world["inspection"], ("gps.jpg", photo, "image/jpeg"))
    assert r.status_code == 201, r.text
    with psycopg.connect(database_url) as c:
        row = c.execute("SELECT ST_X(position), ST_Y(position), taken_at, taken_offset, exif->>'make',"
                        " stored_by FROM media WHERE sha256 = %s",
                        [hashlib.sha256(photo).hexdigest()]).fetchone()
        inspector = c.execute("SELECT username FROM app_user WHERE username LIKE %s",
                              ["%-inspector"]).fetchall()
    lon, lat, taken_at, offset, make, stored_by = row
    assert lon == pytest.approx(113 + 1 / 60 + 2.5 / 3600, abs=1e-9)
    assert lat == pytest.approx(25 + 47 / 60 + 30.25 / 3600, abs=1e-9)
    assert (lat, lon) == pytest.approx((GPS["lat"], GPS["lon"]), abs=1e-6)
    assert taken_at == datetime(2026, 5, 4, 10, 11, 12) and offset == "+08:00" and make == "TestCam"
    assert stored_by in {u for (u,) in inspector}
    listed = api.get(f"/perimeter/inspections/{world['inspection']}/photos", headers=as_role("viewer")).json()
    mine = next(p for p in listed if p["sha256"] == hashlib.sha256(photo).hexdigest())
    assert (mine["lat"], mine["lon"]) == pytest.approx((lat, lon))


def test_served_copies_carry_no_exif(api, as_role, world):
    photo = jpeg((120, 120, 0), gps=True, size=(2400, 1200))
    sha = hashlib.sha256(photo).hexdigest()
    r = upload(api, as_role("inspector"), world["inspection"], ("p.jpg", photo, "image/jpeg"))
    assert r.status_code == 201, r.text
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(0x8825)  # the original has GPS
    base = f"/perimeter/inspections/{world['inspection']}/photos/{sha}"
    for url, longest in ((base + "/thumbnail", store.THUMBNAIL_PX), (base, store.PUBLISHED_PX)):
        r = api.get(url, headers=as_role("viewer"))
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
        served = Image.open(io.BytesIO(r.content))
        assert served.format == "JPEG" and max(served.size) == longest
        assert len(served.getexif()) == 0 and "exif" not in served.info
        assert b"Exif\x00\x00" not in r.content and b"TestCam" not in r.content


def test_photo_read_only_through_its_inspection_by_its_readers(api, as_role, world, database_url):
    photo = jpeg((1, 2, 3))
    sha = hashlib.sha256(photo).hexdigest()
    r = upload(api, as_role("inspector"), world["inspection"], ("x.jpg", photo, "image/jpeg"))
    assert r.status_code == 201, r.text
    url = f"/perimeter/inspections/{world['inspection']}/photos/{sha}/thumbnail"
    assert api.get(url, headers=as_role("viewer")).status_code == 200
    for role in ("planner",):  # no perimeter right: refused
        assert api.get(url, headers=as_role(role)).status_code == 403
        assert api.get(f"/perimeter/inspections/{world['inspection']}/photos",
                       headers=as_role(role)).status_code == 403
    assert api.get(url).status_code == 401
    # through another inspection (one that does not hold it): not found, though the file exists
    with psycopg.connect(database_url) as c:
        other = c.execute("INSERT INTO inspection (place_id, inspector, result) SELECT place_id, 'x',"
                          " 'compliant' FROM inspection WHERE id = %s RETURNING id",
                          [world["inspection"]]).fetchone()[0]
        c.commit()
    r = api.get(f"/perimeter/inspections/{other}/photos/{sha}/thumbnail", headers=as_role("viewer"))
    assert r.status_code == 404
    assert api.get(f"/perimeter/inspections/{world['inspection']}/photos/{'0' * 64}",
                   headers=as_role("viewer")).status_code == 404
    assert api.get(f"/perimeter/inspections/{world['inspection']}/photos/..%2F..%2Fetc",
                   headers=as_role("viewer")).status_code in (404, 422)
    # a viewer may read, not add
    r = upload(api, as_role("viewer"), world["inspection"], ("v.jpg", photo, "image/jpeg"))
    assert r.status_code == 403


def test_the_service_cannot_change_or_remove_evidence(database_url):
    with psycopg.connect(database_url) as c:
        grants = {r[0] for r in c.execute(
            "SELECT privilege_type FROM information_schema.role_table_grants"
            " WHERE grantee = 'gridmap_app' AND table_name IN ('media', 'inspection_photo')")}
    assert grants == {"SELECT", "INSERT"}
