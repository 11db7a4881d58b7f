"""Fixtures of the assessment tests: the folder's own database, the shared small world of the campaign
tests (tests/facilities/world.py: community A with grids g1, g2, an admin of A, grid workers, a viewer
of the street, an admin of B), and the records of the current quarter that the live figures count."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest

from gis.assessment.quarters import of_day
from tests.conftest import own_database
from tests.facilities.world import fixtures

database_url, settings, admin_token = own_database("gridmap_assessment")
world, api, as_user = fixtures()
PNG = bytes.fromhex(  # a 1x1 PNG that decodes (photos are judged by their content)
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de000"
    "0000c49444154789c6338a1a1010002d4011905508fa40000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def quarter():
    return of_day(datetime.now(ZoneInfo("Asia/Shanghai")).date())


@pytest.fixture(scope="module")
def records(world, database_url, api, quarter) -> dict:
    """In community A this quarter: a 道德讲堂 with a session and its photo (through the API), a volunteer
    team with two members and hours, two compounds (one helped), households taking part in the honour
    selection, visits and reports (one closed, one overdue), two road sections (one held by a unit) and
    two internet cafés beside a primary school (breaking the national 200 m rule)."""
    from gis.reports.file import NewReport, file_report

    a, x0, y0 = world["a"], world["x0"], world["y0"]
    admin = {"Authorization": f"Bearer {world['tokens']['admin']}"}
    hall = api.post("/facilities", json={"kind": "moral_lecture_hall", "name": "道德讲堂", "lon": x0 + 0.003,
                                         "lat": y0 + 0.003, "owner_community": a}, headers=admin)
    assert hall.status_code == 201, hall.text
    session = api.post(f"/facilities/{hall.json()['id']}/sessions", headers=admin,
                       json={"held_on": str(datetime.now(ZoneInfo("Asia/Shanghai")).date()),
                             "topic": "孝道", "attendance": 30})
    assert session.status_code == 201, session.text
    photo = api.post(f"/facility-sessions/{session.json()['id']}/photos", headers=admin,
                     files=[("photos", ("hall.png", PNG, "image/png"))])
    assert photo.status_code == 201, photo.text
    with psycopg.connect(database_url) as conn:
        one = lambda q, p: conn.execute(q, p).fetchone()[0]  # noqa: E731
        uid = one("SELECT id FROM app_user WHERE username = %s", [world["users"]["admin"]])
        conn.execute("SELECT set_config('gridmap.user_id', %s, true)", [str(uid)])
        team = one("INSERT INTO volunteer_team (name, scope) VALUES (%s, %s) RETURNING id", ["学雷锋队", a])
        members = [one("INSERT INTO volunteer_member (team_id, person_id) VALUES (%s, %s) RETURNING id",
                       [team, p]) for p in world["persons"][world["g1"]][:2]]
        activity = one("INSERT INTO volunteer_activity (team_id, held_on, title, recorder_id, recorder)"
                       " VALUES (%s, current_date, '清扫', 0, '') RETURNING id", [team])
        conn.execute("INSERT INTO volunteer_hours (activity_id, team_id, member_id, hours) VALUES"
                     " (%s, %s, %s, 2.5), (%s, %s, %s, 3)",
                     [activity, team, members[0], activity, team, members[1]])
        unit = one("INSERT INTO responsible_unit (name) VALUES (%s) RETURNING id",
                   [f"{world['tag']} 帮扶单位"])
        for i, helped in ((0, True), (1, False)):
            compound = one("INSERT INTO compound (name, geom) VALUES (%s,"
                           " ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326))) RETURNING id",
                           [f"小区{i}", x0 + 0.002 + i * 0.003, y0 + 0.006, x0 + 0.004 + i * 0.003,
                            y0 + 0.008])
            if helped:
                conn.execute("INSERT INTO compound_helper (compound_id, unit_id, valid) VALUES"
                             " (%s, %s, daterange(%s, NULL))", [compound, unit, quarter.start])
        conn.execute("INSERT INTO honour_participation (household_id, year) SELECT unnest(%s::bigint[]), %s",
                     [world["households"][world["g1"]][:4], quarter.year])
        for n, h in enumerate(world["households"][world["g1"]][:3] + world["households"][world["g2"]][:1]):
            conn.execute(
                "INSERT INTO visit (household_id, county, visitor_id, visitor, visited_at, kind, outcome,"
                " position, position_crs, distance_m, far_limit_m, far, client_id)"
                " SELECT h.id, left(h.grid_code, 6), 0, '', now() - interval '1 minute', 'routine', 'met',"
                " h.geom, 'EPSG:4326', 0, 100, false, %s FROM household h WHERE h.id = %s",
                [f"{world['tag']}-visit-{n}", h])
        reports = [file_report(conn, NewReport("litter", x0 + 0.005 + i * 0.001, y0 + 0.004))[0]
                   for i in range(3)]
        conn.execute("UPDATE report SET state = 'closed' WHERE id = %s", [reports[0]])
        conn.execute("UPDATE report SET accept_by = current_date - 3 WHERE id = %s", [reports[1]])
        # 责任路段: 300 m held by the unit, 200 m nobody holds (GET /roads/coverage: 60 %)
        for i, (x1, x2, held) in enumerate(((0.001, 0.004, True), (0.005, 0.007, False))):
            line = f"SRID=4326;LINESTRING({x0 + x1} {y0 + 0.009},{x0 + x2} {y0 + 0.009})"
            road = one("INSERT INTO road (ref, name, geom) VALUES (%s, '文明路', %s) RETURNING id",
                       [f"{world['tag']}-road-{i}", line])
            section = one("INSERT INTO road_section (road_id, code, road_name, length_m, community_code,"
                          " grid_code, geom) VALUES (%s, %s, '文明路', ST_Length(%s::geography), %s, %s, %s)"
                          " RETURNING id", [road, f"{world['tag']}-road-{i}-001", line, a, world["g1"], line])
            if held:
                conn.execute("INSERT INTO road_section_assignment (section_id, unit_id, valid)"
                             " VALUES (%s, %s, daterange(%s, NULL))", [section, unit, quarter.start])
        # 校园周边: a primary school and two internet cafés within 200 m of it
        conn.execute("INSERT INTO school (ref, name, level, geom) VALUES (%s, '文明小学', 'primary',"
                     " ST_Buffer(ST_Point(%s, %s, 4326), 0.0003))",
                     [f"{world['tag']}-school", x0 + 0.012, y0 + 0.002])
        conn.execute("INSERT INTO place (ref, name, category, address, geom) VALUES"
                     " (%s, '网吧一', 'internet_cafe', '学府路 1 号', ST_Point(%s, %s, 4326)),"
                     " (%s, '网吧二', 'internet_cafe', '学府路 3 号', ST_Point(%s, %s, 4326))",
                     [f"{world['tag']}-cafe-1", x0 + 0.012, y0 + 0.0028,
                      f"{world['tag']}-cafe-2", x0 + 0.0125, y0 + 0.0027])
        conn.commit()
    return {"hall": hall.json()["id"], "session": session.json()["id"], "team": team, "reports": reports,
            "unit": unit}


@pytest.fixture(scope="module")
def demo_sheet(world, api, quarter, records, admin_token) -> dict:
    """The 30-item demo sheet (gis/demo/scoring.py) imported for the world's street by an admin of
    everything (the street's 创建办)."""
    from gis.demo.scoring import demo_sheet_xlsx

    r = api.post("/assessment/sheets", headers={"Authorization": f"Bearer {admin_token}"},
                 files={"file": ("评分细则.xlsx", demo_sheet_xlsx(), "application/octet-stream")},
                 data={"quarter": quarter.code, "scope": world["street"], "title": "考核评分细则"})
    assert r.status_code == 201, r.text
    return r.json()
