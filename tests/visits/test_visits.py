"""Visits (走访): the distance on the ellipsoid (pyproj's Geod as the reference), the far flag at
100 m, GCJ-02 and BD-09 positions converted (prcoords as the reference), one row per client id, the
households' rules (another grid's worker 404, a viewer 403), the overdue list against a Python
evaluation of rows read as the owner, the figures summing to the lists, photos with EXIF kept."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import prcoords
import psycopg
from openpyxl import load_workbook
from PIL import Image
from pyproj import Geod

GEOD = Geod(ellps="WGS84")
CHINA = ZoneInfo("Asia/Shanghai")


def home(database_url: str, household: int) -> tuple[float, float]:
    with psycopg.connect(database_url) as c:
        row = c.execute("SELECT ST_X(geom), ST_Y(geom) FROM household WHERE id = %s", [household]).fetchone()
    assert row is not None
    return row[0], row[1]


def post(api, headers, household: int, **body):
    body = {"kind": "routine", "outcome": "met", **body}
    return api.post(f"/households/{household}/visits", headers=headers, json=body)


def test_distance_on_the_ellipsoid_and_far_flag_at_100_m(api, as_user, world, database_url):
    household = world["households"][world["g1"]][4]
    lon0, lat0 = home(database_url, household)
    for metres, azimuth, far in ((99.95, 45.0, False), (100.05, 45.0, True), (37.3, 200.0, False),
                                 (99.95, 300.0, False), (100.05, 130.0, True), (2500.0, 10.0, True)):
        lon, lat, _ = GEOD.fwd(lon0, lat0, azimuth, metres)
        r = post(api, as_user("worker"), household, lon=lon, lat=lat, accuracy_m=5)
        assert r.status_code == 201, r.text
        visit = r.json()
        _, _, reference = GEOD.inv(lon0, lat0, visit["lon"], visit["lat"])
        assert abs(visit["distance_m"] - reference) < 0.05, (visit["distance_m"], reference)
        assert abs(visit["distance_m"] - metres) < 0.05
        assert visit["far"] is far and visit["far_limit_m"] == 100
        assert visit["visitor"] == world["users"]["worker"]


def test_gcj02_and_bd09_positions_are_converted(api, as_user, world, database_url):
    household = world["households"][world["g2"]][4]
    lon0, lat0 = home(database_url, household)
    gcj = prcoords.wgs_gcj(prcoords.Coords(lat0, lon0))
    bd = prcoords.wgs_bd(prcoords.Coords(lat0, lon0))
    assert abs(gcj.lon - lon0) > 0.001 and abs(bd.lon - lon0) > 0.005  # the shifts are real
    for crs, point in (("GCJ-02", gcj), ("gcj02", gcj), ("BD-09", bd)):
        r = post(api, as_user("other_worker"), household, lon=point.lon, lat=point.lat, crs=crs)
        assert r.status_code == 201, r.text
        visit = r.json()
        assert visit["position_crs"] == crs.upper().replace("GCJ02", "GCJ-02")
        assert abs(visit["lon"] - lon0) < 1e-6 and abs(visit["lat"] - lat0) < 1e-6, visit
        assert visit["distance_m"] < 0.1 and visit["far"] is False
    # BD-09 back to WGS 84 as prcoords' precise inverse has it, from a point that is not a round trip
    r = post(api, as_user("other_worker"), household, lon=lon0 + 0.0115, lat=lat0 + 0.0058, crs="BD-09")
    ref = prcoords.bd_wgs_bored(prcoords.Coords(lat0 + 0.0058, lon0 + 0.0115))
    assert abs(r.json()["lon"] - ref.lon) < 1e-7 and abs(r.json()["lat"] - ref.lat) < 1e-7
    r = post(api, as_user("other_worker"), household, lon=lon0, lat=lat0, crs="EPSG:3857")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "crs"


def test_same_client_id_twice_is_stored_once(api, as_user, world, database_url):
    household = world["households"][world["g2"]][3]
    lon, lat = home(database_url, household)
    client_id = str(uuid.uuid4())
    first = post(api, as_user("other_worker"), household, lon=lon, lat=lat, client_id=client_id)
    again = post(api, as_user("other_worker"), household, lon=lon + 0.001, lat=lat, client_id=client_id,
                 outcome="not_home")
    assert first.status_code == 201 and again.status_code == 200, (first.text, again.text)
    assert again.json() == first.json()
    other = post(api, as_user("other_worker"), world["households"][world["g2"]][2], lon=lon, lat=lat,
                 client_id=client_id)
    assert other.status_code == 409
    with psycopg.connect(database_url) as c:
        assert c.execute("SELECT count(*) FROM visit WHERE client_id = %s", [client_id]).fetchone()[0] == 1


def test_who_may_visit(api, as_user, world, database_url):
    household = world["households"][world["g1"]][3]
    lon, lat = home(database_url, household)
    assert post(api, as_user("other_worker"), household, lon=lon, lat=lat).status_code == 404
    assert api.get(f"/households/{household}/visits", headers=as_user("other_worker")).status_code == 404
    assert post(api, as_user("viewer"), household, lon=lon, lat=lat).status_code == 403
    assert api.get("/visits/overdue", headers=as_user("viewer")).status_code == 403
    # the visitor is the token's user: a body naming one is refused, not believed
    r = post(api, as_user("worker"), household, lon=lon, lat=lat, visitor="someone-else")
    assert r.status_code == 422
    r = post(api, as_user("worker"), household, lon=lon, lat=lat, kind="sermon")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"
    r = post(api, as_user("worker"), household, lon=lon, lat=lat, outcome="not_home")
    assert r.status_code == 201 and r.json()["visitor"] == world["users"]["worker"]
    listed = api.get(f"/households/{household}/visits", headers=as_user("admin"))
    assert listed.status_code == 200 and [v["id"] for v in listed.json()][:1] == [r.json()["id"]]


def _expected_overdue(database_url: str, households: list[int], on: date) -> dict[int, int | None]:
    """The overdue households and their days since the last visit that counts, in Python, from rows
    read as the owner."""
    with psycopg.connect(database_url) as c:
        policy = dict(c.execute("SELECT coalesce(key_category, kind), interval_days FROM visit_policy"))
        persons = c.execute("SELECT p.household_id, k.category, p.elderly_alone, p.poverty IS NOT NULL"
                            " FROM person p LEFT JOIN key_person k ON k.person_id = p.id"
                            " WHERE p.household_id = ANY (%s)", [households]).fetchall()
        visits = c.execute("SELECT v.household_id, v.visited_at FROM visit v JOIN visit_outcome o"
                           " ON o.code = v.outcome WHERE o.resets_clock AND v.household_id = ANY (%s)",
                           [households]).fetchall()
    interval = dict.fromkeys(households, policy["household"])
    for h, category, elderly, poor in persons:
        for applies, group in ((category is not None, category), (elderly, "elderly_alone"),
                               (poor, "poverty")):
            if applies:
                interval[h] = min(interval[h], policy[group])
    last: dict[int, date] = {}
    for h, at in visits:
        day = at.astimezone(CHINA).date()
        if day <= on:
            last[h] = max(last.get(h, day), day)
    out: dict[int, int | None] = {}
    for h in households:
        since = (on - last[h]).days if h in last else None
        if since is None or since > interval[h]:
            out[h] = since
    return out


def test_overdue_list_and_figures(api, as_user, world, database_url):
    g1 = world["g1"]
    h = world["households"][g1]
    now = datetime.now(UTC)
    for household, days_ago, outcome in ((h[1], 10, "met"), (h[2], 10, "met"), (h[3], 1, "not_home"),
                                         (h[0], 20, "refused")):
        lon, lat = home(database_url, household)
        r = post(api, as_user("worker"), household, lon=lon, lat=lat, outcome=outcome,
                 visited_at=(now - timedelta(days=days_ago)).isoformat())
        assert r.status_code == 201, r.text
    today = datetime.now(CHINA).date()
    everyone = h + world["households"][world["g2"]]
    for who, area, households in (("worker", {"grid": g1}, h), ("admin", {"community": world["community"]},
                                                                 everyone)):
        r = api.get("/visits/overdue", headers=as_user(who), params={**area, "on": str(today)})
        assert r.status_code == 200, r.text
        got = {row["household_id"]: row["days_since"] for row in r.json()}
        assert got == _expected_overdue(database_url, households, today)
    got = {row["household_id"]: row for row in api.get("/visits/overdue", headers=as_user("worker"),
                                                        params={"grid": g1}).json()}
    assert got[h[1]]["interval_days"] == 7 and got[h[1]]["group_zh"] == "独居老人"  # 10 days > 7
    assert h[2] not in got and h[0] not in got  # poor (30 days) and a key person (30) seen 10 and 20 days ago
    assert got[h[3]]["days_since"] is None  # nobody home does not count
    # the workbook: Chinese headers, the same households
    x = api.get("/visits/overdue.xlsx", headers=as_user("worker"), params={"grid": g1})
    sheet = load_workbook(io.BytesIO(x.content)).active
    rows = list(sheet.values)
    assert rows[0][:4] == ("户ID", "户编号", "网格编码", "地址")
    assert sorted(r[0] for r in rows[1:]) == sorted(got)
    # figures: per grid the lengths of the lists, summing to the community's list
    start = today - timedelta(days=29)
    f = api.get("/visits/figures", headers=as_user("admin"),
                params={"community": world["community"], "from": str(start), "to": str(today)})
    assert f.status_code == 200, f.text
    figures = f.json()
    community_list = api.get("/visits/overdue", headers=as_user("admin"),
                             params={"community": world["community"], "on": str(today)}).json()
    assert figures["total"]["overdue"] == len(community_list) == sum(g["overdue"] for g in figures["grids"])
    for g in figures["grids"]:
        listed = api.get("/visits/overdue", headers=as_user("admin"), params={"grid": g["grid_code"]}).json()
        assert g["overdue"] == len(listed)
        visits = api.get("/visits", headers=as_user("admin"), params={
            "grid": g["grid_code"], "from": str(start), "to": str(today), "limit": 1000}).json()
        assert g["visits"] == visits["total"] == len(visits["items"])
        assert g["households_visited"] == len({v["household_id"] for v in visits["items"]})
        assert g["far_visits"] == sum(v["far"] for v in visits["items"])
    workers = {w["username"]: w for w in figures["workers"]}
    assert sum(w["visits"] for w in workers.values()) == figures["total"]["visits"]
    mine = workers[world["users"]["worker"]]
    assert mine["grids"] == [g1] and mine["overdue"] == next(g["overdue"] for g in figures["grids"]
                                                              if g["grid_code"] == g1)
    by_her = api.get("/visits", headers=as_user("admin"), params={
        "visitor": world["users"]["worker"], "from": str(start), "to": str(today), "limit": 1000}).json()
    assert mine["visits"] == by_her["total"]


def test_photos_kept_with_their_exif_position(api, as_user, world, database_url):
    household = world["households"][world["g1"]][4]
    lon, lat = home(database_url, household)
    image = Image.new("RGB", (64, 48), (20, 120, 30))
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (25.0, 48.0, 30.0), "E", (113.0, 0.0, 18.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    r = api.post(f"/households/{household}/visits", headers=as_user("worker"),
                 data={"lon": str(lon), "lat": str(lat), "kind": "elderly_care", "outcome": "met",
                       "note": "", "client_id": f"photo-{uuid.uuid4().hex}"},
                 files=[("photos", ("door.jpg", out.getvalue(), "image/jpeg"))])
    assert r.status_code == 201, r.text
    [photo] = r.json()["photos"]
    assert photo["file_name"] == "door.jpg"
    assert abs(photo["lat"] - (25 + 48 / 60 + 30 / 3600)) < 1e-9
    assert abs(photo["lon"] - (113 + 18 / 3600)) < 1e-9
    with psycopg.connect(database_url) as c:
        stored = c.execute("SELECT ST_Y(m.position), m.stored_by FROM visit_photo vp JOIN media m"
                           " ON m.sha256 = vp.sha256 WHERE vp.visit_id = %s", [r.json()["id"]]).fetchone()
    assert stored is not None and abs(stored[0] - photo["lat"]) < 1e-9
    assert stored[1] == world["users"]["worker"]
    r = api.post(f"/households/{household}/visits", headers=as_user("worker"),
                 data={"lon": str(lon), "lat": str(lat), "kind": "routine", "outcome": "met"},
                 files=[("photos", ("x.jpg", b"not a photo", "image/jpeg"))])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "photos"
