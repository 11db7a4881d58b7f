"""A visit's photo and its thumbnail, read through the visit under its row-level security: the
household's grid worker and admin read them (EXIF-free copies), another grid's worker gets 404, a
viewer 403; a photo of another visit is not served through this one."""

from __future__ import annotations

import io
import uuid

import psycopg
from PIL import Image


def gps_jpeg(seed: int) -> bytes:
    image = Image.new("RGB", (80, 60), (seed % 256, 120, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (25.0, 48.0, 30.0), "E", (113.0, 0.0, 18.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def visit_with_photo(api, as_user, world, database_url, index: int, seed: int) -> tuple[int, str]:
    household = world["households"][world["g1"]][index]
    with psycopg.connect(database_url) as c:
        lon, lat = c.execute(
            "SELECT ST_X(geom), ST_Y(geom) FROM household WHERE id = %s", [household]
        ).fetchone()
    r = api.post(
        f"/households/{household}/visits",
        headers=as_user("worker"),
        data={
            "lon": str(lon),
            "lat": str(lat),
            "kind": "routine",
            "outcome": "met",
            "client_id": f"photo-{uuid.uuid4().hex}",
        },
        files=[("photos", ("door.jpg", gps_jpeg(seed), "image/jpeg"))],
    )
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["photos"][0]["sha256"]


def test_a_visits_photo_through_the_visit(api, as_user, world, database_url) -> None:
    visit, sha = visit_with_photo(api, as_user, world, database_url, 3, 40)
    other_visit, other_sha = visit_with_photo(api, as_user, world, database_url, 2, 200)
    assert other_sha != sha
    for who in ("worker", "admin"):
        for suffix in ("", "/thumbnail"):
            r = api.get(f"/visits/{visit}/photos/{sha}{suffix}", headers=as_user(who))
            assert r.status_code == 200, (who, suffix, r.text)
            assert r.headers["content-type"] == "image/jpeg" and "no-store" in r.headers["cache-control"]
            assert b"GPS" not in r.content and b"PhoneMaker" not in r.content
            assert not Image.open(io.BytesIO(r.content)).getexif()
    thumb = Image.open(
        io.BytesIO(api.get(f"/visits/{visit}/photos/{sha}/thumbnail", headers=as_user("worker")).content)
    )
    assert max(thumb.size) <= 320
    # another grid's worker: the visit is not hers to read (404, not a hint that it exists)
    assert api.get(f"/visits/{visit}/photos/{sha}", headers=as_user("other_worker")).status_code == 404
    assert api.get(f"/visits/{visit}/photos/{sha}", headers=as_user("viewer")).status_code == 403
    assert api.get(f"/visits/{visit}/photos/{sha}").status_code == 401
    # a photo of another visit is not served through this one
    assert api.get(f"/visits/{visit}/photos/{other_sha}", headers=as_user("worker")).status_code == 404
    assert api.get(f"/visits/{other_visit}/photos/{other_sha}", headers=as_user("worker")).status_code == 200
    assert api.get(f"/visits/{visit}/photos/{'0' * 64}", headers=as_user("worker")).status_code == 404
    assert api.get(f"/visits/{visit}/photos/nothex", headers=as_user("worker")).status_code == 422
