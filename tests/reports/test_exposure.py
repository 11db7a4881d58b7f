"""The public exposure board (曝光台): an admin publishes a closed report, redacted; the public page and
JSON hold only what she wrote and chose (no names, no reporter, no unit), photos served without EXIF or
GPS; only closed reports, only the report's photos, only admins over the area; unpublishing keeps the
history and takes the photos down."""

from __future__ import annotations

import io
import uuid

import psycopg
import pytest
from PIL import Image

from gis.media import store as media
from tests.reports.conftest import ROAD_Y, X0
from tests.reports.isolation import forget_world

NEAR = (X0 + 0.004, ROAD_Y + 8 / 110_700)
HTML = {"Accept": "text/html"}
SECRET = "张三家门口 13800138000"  # the reporter's description: never public


@pytest.fixture(scope="module", autouse=True)
def alone(world, database_url):
    """This module's community and road are removed when it ends (tests/reports/isolation.py)."""
    yield
    forget_world(database_url, world)


def gps_jpeg(seed: int) -> bytes:
    """A JPEG whose EXIF names a camera and a GPS position (as a phone's does)."""
    image = Image.new("RGB", (64, 48), (seed % 256, 90, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "PhoneModel"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (26.0, 0.0, 30.0), 3: "E", 4: (114.0, 0.0, 15.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def closed_report(api, as_user, database_url, settings, photos: int = 2) -> tuple[int, list[str]]:
    """A report filed by the reporter with GPS-tagged photos, closed (the workflow is test_workflow.py's;
    the photos stored as the media store keeps a phone's)."""
    r = api.post(
        "/reports",
        json={
            "category": "street_vending",
            "lon": NEAR[0],
            "lat": NEAR[1],
            "description": SECRET,
            "client_id": uuid.uuid4().hex,
        },
        headers=as_user("reporter"),
    )
    assert r.status_code == 201, r.text
    report_id = r.json()["id"]
    with psycopg.connect(database_url) as conn:
        shas = [
            media.store(conn, settings.data_dir, gps_jpeg(report_id * 10 + i), "reporter").sha256
            for i in range(photos)
        ]
        conn.execute(
            "INSERT INTO report_photo (report_id, sha256, kind, file_name, added_by)"
            " SELECT %s, s, 'before', 'p.jpg', 0 FROM unnest(%s::text[]) s",
            [report_id, shas],
        )
        conn.execute("UPDATE report SET state = 'closed' WHERE id = %s", [report_id])
        conn.commit()
    return report_id, shas


def publish(api, as_user, report_id, photos, who="admin", **extra):
    body = {
        "title": "占道经营已整改",
        "public_text": "某路段占道经营，经责任单位处置已恢复通行。",
        "redaction_note": "已遮挡人脸和车牌",
        "photos": photos,
        **extra,
    }
    return api.post(f"/reports/{report_id}/exposure", json=body, headers=as_user(who))


def test_published_items_hold_no_name_and_photos_no_exif(api, as_user, world, database_url, settings) -> None:
    rid, shas = closed_report(api, as_user, database_url, settings)
    r = publish(api, as_user, rid, shas[:1])
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["live"] and made["redaction_note"] and made["photos"] == shas[:1]
    # the original keeps its EXIF (evidence): the test's photo does carry a GPS position
    original = media.read(settings.data_dir, shas[0], "original")
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    board = api.get("/public/exposure")
    assert board.status_code == 200
    item = next(i for i in board.json() if i["id"] == made["id"])
    assert set(item) == {
        "id",
        "title",
        "public_text",
        "category",
        "category_zh",
        "category_en",
        "community_name",
        "report_day",
        "published_at",
        "photos",
    }
    page = api.get("/exposure", headers=HTML)
    assert page.status_code == 200 and "占道经营已整改" in page.text
    public = board.text + page.text
    for private in (
        world["users"]["reporter"],
        world["users"]["admin"],
        SECRET,
        "13800138000",
        f"{world['tag']} unit",
        "已遮挡人脸和车牌",
        shas[1],
    ):
        assert private not in public, private
    for url in (item["photos"][0]["url"], item["photos"][0]["thumbnail"]):
        served = api.get(url)
        assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
        assert (
            b"Exif" not in served.content
            and b"GPS" not in served.content
            and b"PhoneMaker" not in served.content
        )
        shown = Image.open(io.BytesIO(served.content))
        assert not shown.getexif() and not shown.getexif().get_ifd(0x8825)
    # a photo of the report that was not picked is not served
    assert api.get(f"/exposure/{made['id']}/photos/{shas[1]}").status_code == 404


def test_unpublish_keeps_the_history_and_takes_the_photos_down(api, as_user, database_url, settings) -> None:
    rid, shas = closed_report(api, as_user, database_url, settings, photos=1)
    first = publish(api, as_user, rid, shas).json()
    again = publish(api, as_user, rid, shas)
    assert again.status_code == 409  # published already
    r = api.post(f"/exposure/{first['id']}/unpublish", json={"note": "当事人申请"}, headers=as_user("admin2"))
    assert r.status_code == 200 and not r.json()["live"] and r.json()["unpublished_by_name"]
    assert (
        api.post(f"/exposure/{first['id']}/unpublish", json={}, headers=as_user("admin")).status_code == 409
    )
    assert first["id"] not in {i["id"] for i in api.get("/public/exposure").json()}
    assert api.get(f"/exposure/{first['id']}/photos/{shas[0]}").status_code == 404
    second = publish(api, as_user, rid, [])
    assert second.status_code == 201
    history = api.get(f"/reports/{rid}/exposure", headers=as_user("admin")).json()
    assert [h["live"] for h in history] == [True, False] and history[1]["unpublish_note"] == "当事人申请"


def test_only_closed_reports_own_photos_and_admins_over_the_area(
    api, as_user, database_url, settings
) -> None:
    r = api.post(
        "/reports",
        json={"category": "litter", "lon": NEAR[0], "lat": NEAR[1], "client_id": uuid.uuid4().hex},
        headers=as_user("reporter"),
    )
    open_id = r.json()["id"]
    assert publish(api, as_user, open_id, []).status_code == 409
    rid, shas = closed_report(api, as_user, database_url, settings, photos=1)
    other, other_shas = closed_report(api, as_user, database_url, settings, photos=1)
    bad = publish(api, as_user, rid, other_shas)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "photos"
    empty = publish(api, as_user, rid, [], public_text="")
    assert empty.status_code == 422 and "public_text" in empty.text
    for who in ("worker", "unit_b", "viewer", "reporter"):
        assert publish(api, as_user, rid, shas, who=who).status_code == 403, who
    assert api.post(f"/reports/{rid}/exposure", json={}).status_code == 401


def test_the_publish_form_answers_beside_the_field(api, as_user, database_url, settings) -> None:
    rid, shas = closed_report(api, as_user, database_url, settings, photos=1)
    headers = {**as_user("admin"), **HTML}
    form = api.get(f"/reports/{rid}/exposure", headers=headers)
    assert form.status_code == 200 and 'name="public_text"' in form.text and shas[0] in form.text
    refused = api.post(
        f"/reports/{rid}/exposure",
        data={"title": "t", "public_text": " ", "redaction_note": "ok", "photos": shas},
        headers=headers,
    )
    assert refused.status_code == 422 and 'id="public_text-error"' in refused.text
    done = api.post(
        f"/reports/{rid}/exposure",
        data={"title": "t", "public_text": "公开文字", "redaction_note": "ok", "photos": shas},
        headers=headers,
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "公开文字" in api.get("/exposure", headers=HTML).text
