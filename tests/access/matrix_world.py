"""The roads and perimeter objects the permission matrix adds beside the access world
(tests/access/conftest.py holds the division and the register): a school, two places, a rule, a
violation, an inspection, a road with a section held by a unit, a building and two grid workers (one
in g1, one in g3); and the vector tile the matrix reads."""

from __future__ import annotations

import math
from dataclasses import dataclass

import psycopg


@dataclass
class Extras:
    """Objects beside the access world, and the world's geometry (x0, y0: its south-west corner)."""

    x0: float
    y0: float
    school: int
    place: str  # ref
    place_id: int
    rule: int
    violation: int
    inspection: int
    road: str  # ref
    section: int
    unit: int
    spare_unit: int  # holds no section
    assignment: int
    building: int
    worker_in: int  # serves g1
    worker_out: int  # serves g3
    geometry: dict[str, dict]  # community or grid code -> GeoJSON
    households: dict[int, tuple[float, float, int]]  # id -> lon, lat, version
    persons: dict[int, tuple[int, int]]  # id -> household id, version
    report: int = 0  # reports (issue 14): a noise report in g1, filed by the admin


def build_extras(conn: psycopg.Connection, w) -> Extras:
    x0, y0 = conn.execute(
        "SELECT ST_XMin(geom), ST_YMin(geom) FROM community WHERE code = %s", [w.community]
    ).fetchone()
    one = lambda q, p: conn.execute(q, p).fetchone()[0]  # noqa: E731
    school = one(
        "INSERT INTO school (ref, name, level, geom) VALUES (%s, 'school', 'primary',"
        " ST_Point(%s, %s, 4326)) RETURNING id",
        [f"{w.tag}-school", x0 + 0.015, y0 + 0.015],
    )
    place_id = one(
        "INSERT INTO place (ref, name, category, geom) VALUES (%s, 'cafe', 'internet_cafe',"
        " ST_Point(%s, %s, 4326)) RETURNING id",
        [f"{w.tag}-place", x0 + 0.0152, y0 + 0.0152],
    )
    conn.execute(
        "INSERT INTO place (ref, name, category, geom) VALUES (%s, 'bar', 'bar', ST_Point(%s, %s, 4326))",
        [f"{w.tag}-place-b", x0 + 0.06, y0 + 0.015],
    )
    rule = one(
        "INSERT INTO perimeter_rule (region, category, school_levels, distance_m, kind)"
        " VALUES (%s, 'internet_cafe', '{primary}', 200, 'forbidden') RETURNING id",
        [w.street],
    )
    violation = one(
        "INSERT INTO violation (place_id, rule_id, school_id, distance_m, reason, found_on)"
        " VALUES (%s, %s, %s, 30, 'near a school', current_date) RETURNING id",
        [place_id, rule, school],
    )
    inspection = one(
        "INSERT INTO inspection (place_id, inspector, result) VALUES (%s, 'Li', 'violation') RETURNING id",
        [place_id],
    )
    line = f"SRID=4326;LINESTRING({x0} {y0 + 0.01},{x0 + 0.02} {y0 + 0.01})"
    road = one(
        "INSERT INTO road (ref, name, geom) VALUES (%s, 'road', %s) RETURNING id", [f"{w.tag}-road", line]
    )
    section = one(
        "INSERT INTO road_section (road_id, code, road_name, length_m, community_code, grid_code,"
        " grid_codes, geom) VALUES (%s, %s, 'road', ST_Length(%s::geography), %s, %s, %s, %s)"
        " RETURNING id",
        [road, f"{w.tag}-road-001", line, w.community, w.g1, [w.g1, w.g2], line],
    )
    unit = one(
        "INSERT INTO responsible_unit (name, contact, phone) VALUES (%s, 'Zhang', '13800000000')"
        " RETURNING id",
        [f"{w.tag} unit"],
    )
    spare = one("INSERT INTO responsible_unit (name) VALUES (%s) RETURNING id", [f"{w.tag} spare unit"])
    assignment = one(
        "INSERT INTO road_section_assignment (section_id, unit_id, valid)"
        " VALUES (%s, %s, daterange(current_date - 10, NULL)) RETURNING id",
        [section, unit],
    )
    building = one(
        "INSERT INTO building (ref, name, grid_code, geom) VALUES (%s, 'b', %s,"
        " ST_Buffer(ST_Point(%s, %s, 4326), 0.0002)) RETURNING id",
        [f"{w.tag}-building", w.g1, x0 + 0.002, y0 + 0.018],
    )
    workers = [
        one(
            "WITH w AS (INSERT INTO grid_worker (name, ref) VALUES (%s, %s) RETURNING id)"
            " INSERT INTO grid_worker_grid (worker_id, grid_code) SELECT id, %s FROM w RETURNING worker_id",
            [f"{w.tag} worker {g}", f"{w.tag}-worker-{g}", g],
        )
        for g in (w.g1, w.g3)
    ]
    # duties and compounds (issue 16 part A): a duty, a compound with its helper, a frontage agreement;
    # their ids on the world by path parameter (tests/access/matrix_cases.py reads w.campaign)
    from tests.duties.campaign_world import matrix_objects

    w.campaign = matrix_objects(conn, w, unit, section, x0, y0)
    # the workbench forms of duties and compounds (issue 16): a duty record two Fridays back, a frontage
    # check and a compound task, each holding the matrix's PNG (the photo routes read it through them;
    # its media row here, its files stored by tests/access/conftest.py); written as the owner
    from tests.access.matrix_cases import PNG, PNG_SHA256

    conn.execute("INSERT INTO media (sha256, mime, bytes, width, height, stored_by)"
                 " VALUES (%s, 'image/png', %s, 1, 1, 'matrix') ON CONFLICT DO NOTHING",
                 [PNG_SHA256, len(PNG)])
    made = conn.execute(
        """WITH r AS (INSERT INTO duty_record (duty_id, duty_day, status, recorder)
                      VALUES (%(duty)s,
                              current_date - (mod(extract(isodow FROM current_date)::int + 2, 7) + 14),
                              'done', 'matrix') RETURNING id),
                rp AS (INSERT INTO duty_record_photo (record_id, sha256) SELECT id, %(sha)s FROM r),
                c AS (INSERT INTO frontage_check (agreement_id, checked_on, result, checker)
                      VALUES (%(agreement)s, current_date - 2, 'fail', 'matrix') RETURNING id),
                cp AS (INSERT INTO frontage_check_photo (check_id, sha256) SELECT id, %(sha)s FROM c),
                t AS (INSERT INTO compound_task (compound_id, unit_id, kind, title, done_on, recorder)
                      SELECT h.compound_id, h.unit_id, 'greening', 'hedge', current_date - 2, 'matrix'
                      FROM compound_helper h WHERE h.id = %(helper)s RETURNING id),
                tp AS (INSERT INTO compound_task_photo (task_id, sha256, stage)
                       SELECT id, %(sha)s, 'after' FROM t)
           SELECT (SELECT id FROM r), (SELECT id FROM c), (SELECT id FROM t)""",
        {"duty": w.campaign["duty_id"], "agreement": w.campaign["agreement_id"],
         "helper": w.campaign["helper_id"], "sha": PNG_SHA256}).fetchone()
    w.campaign.update(zip(("record_id", "check_id", "task_id"), made, strict=True))
    geometry = dict(
        conn.execute(
            "SELECT code, ST_AsGeoJSON(geom)::json FROM community WHERE code = ANY(%(c)s)"
            " UNION ALL SELECT code, ST_AsGeoJSON(geom)::json FROM grid WHERE code = ANY(%(c)s)",
            {"c": [w.community, w.other_community, w.g1, w.g2, w.g3]},
        ).fetchall()
    )
    households = {
        r[0]: (r[1], r[2], r[3])
        for r in conn.execute(
            "SELECT id, ST_X(geom), ST_Y(geom), version FROM household WHERE id = ANY(%s)",
            [sorted(w.all("households"))],
        )
    }
    persons = {
        r[0]: (r[1], r[2])
        for r in conn.execute(
            "SELECT id, household_id, version FROM person WHERE id = ANY(%s)", [sorted(w.all("persons"))]
        )
    }
    # reports (issue 14): a noise report in g1 (a grid matter: g1's worker owns it), filed by the admin;
    # the reporter is stamped from the acting user, named for this transaction only
    from gis.reports.file import NewReport, file_report

    conn.execute("SELECT set_config('gridmap.user_id', %s, true)", [str(w.users["admin"].user_id)])
    report, _ = file_report(conn, NewReport("noise", x0 + 0.005, y0 + 0.015))
    # its 'before' photo, the matrix's PNG (the workbench's photo routes read it through the report): the
    # media row here, its files when tests/access/conftest.py stores the same PNG for the inspection
    from gis.media.store import examine
    from tests.access.matrix_cases import PNG

    png = examine(PNG)[0].as_row()
    conn.execute("INSERT INTO media (sha256, mime, bytes, width, height, stored_by)"
                 " VALUES (%(sha256)s, %(mime)s, %(bytes)s, %(width)s, %(height)s, 'matrix')"
                 " ON CONFLICT (sha256) DO NOTHING", png)
    conn.execute("INSERT INTO report_photo (report_id, sha256, kind) VALUES (%s, %s, 'before')",
                 [report, png["sha256"]])
    conn.execute("SELECT set_config('gridmap.user_id', '', true)")
    return Extras(
        x0,
        y0,
        school,
        f"{w.tag}-place",
        place_id,
        rule,
        violation,
        inspection,
        f"{w.tag}-road",
        section,
        unit,
        spare,
        assignment,
        building,
        workers[0],
        workers[1],
        geometry,
        households,
        persons,
        report,
    )


def remove_extras(conn: psycopg.Connection, w) -> None:
    like = f"{w.tag}-%"
    conn.execute("DELETE FROM road WHERE ref LIKE %s", [like])  # sections and assignments cascade
    conn.execute("DELETE FROM responsible_unit WHERE name LIKE %s", [f"{w.tag} %"])
    conn.execute("DELETE FROM place WHERE ref LIKE %s", [like])  # violations, inspections cascade
    conn.execute("DELETE FROM school WHERE ref LIKE %s", [like])
    conn.execute("DELETE FROM perimeter_rule WHERE region = %s", [w.street])
    conn.execute("DELETE FROM building WHERE ref LIKE %s", [like])
    conn.execute("DELETE FROM grid_worker WHERE ref LIKE %s", [like])


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return z, int((lon + 180) / 360 * n), int(y)


TILE_ZOOM = 12


# Issue 16 part B (facilities, volunteers, honour lists, migration 026): a 道德讲堂 with a session in
# the world's community, a team with a resident and an outsider (and an activity), a drafted list of
# households with an entry. Kept by world tag beside Extras; build_extras and remove_extras wrap the
# originals so that the fixtures of tests/access/conftest.py make and remove them too.
CAMPAIGN: dict[str, dict[str, int]] = {}
_build_extras, _remove_extras = build_extras, remove_extras


def build_extras(conn: psycopg.Connection, w) -> Extras:  # type: ignore[no-redef]
    ex = _build_extras(conn, w)
    one = lambda q, p: conn.execute(q, p).fetchone()[0]  # noqa: E731
    facility = one("INSERT INTO facility (kind, name, owner_community, geom) VALUES ('moral_lecture_hall',"
                   " %s, %s, ST_Point(%s, %s, 4326)) RETURNING id",
                   [f"{w.tag} 讲堂", w.community, ex.x0 + 0.004, ex.y0 + 0.004])
    conn.execute("SELECT set_config('gridmap.user_id', %s, true)", [str(w.users["admin"].user_id)])
    session = one("INSERT INTO facility_session (facility_id, held_on, topic, attendance, recorder_id,"
                  " recorder)"
                  " VALUES (%s, current_date, 'topic', 10, 0, '') RETURNING id", [facility])
    # the workbench's session photo routes (issue 16 forms): the matrix's PNG, its media row made above
    from tests.access.matrix_cases import PNG_SHA256

    conn.execute("INSERT INTO facility_session_photo (session_id, sha256, file_name)"
                 " VALUES (%s, %s, 'p.png')", [session, PNG_SHA256])
    team = one("INSERT INTO volunteer_team (name, scope) VALUES (%s, %s) RETURNING id",
               [f"{w.tag} 队", w.community])
    member = one("INSERT INTO volunteer_member (team_id, person_id) VALUES (%s, %s) RETURNING id",
                 [team, w.persons[w.g1][0]])
    outsider = one("INSERT INTO volunteer_member (team_id, outsider_name) VALUES (%s, 'outsider')"
                   " RETURNING id",
                   [team])
    honour = one("INSERT INTO honour_list (kind, scope, series, title, drafted_by) VALUES"
                 " ('civilised_household', %s, %s, 'list', '') RETURNING id", [w.community, w.tag])
    entry = one("INSERT INTO honour_entry (list_id, colour, household_id, label, public_label)"
                " VALUES (%s, 'red', %s, '', '') RETURNING id", [honour, w.households[w.g1][1]])
    conn.execute("SELECT set_config('gridmap.user_id', '', true)")
    CAMPAIGN[w.tag] = {"facility": facility, "session": session, "team": team, "member": member,
                       "outsider": outsider, "list": honour, "entry": entry}
    return ex


def remove_extras(conn: psycopg.Connection, w) -> None:  # type: ignore[no-redef]
    made = CAMPAIGN.pop(w.tag, None)
    if made:  # as the owner, who may remove what the service only adds
        conn.execute("DELETE FROM honour_list WHERE id = %s", [made["list"]])
        conn.execute("DELETE FROM volunteer_team WHERE id = %s", [made["team"]])
        conn.execute("DELETE FROM facility_session_photo WHERE session_id = %s", [made["session"]])
        conn.execute("DELETE FROM facility_session WHERE facility_id = %s", [made["facility"]])
        conn.execute("DELETE FROM facility WHERE id = %s", [made["facility"]])
    _remove_extras(conn, w)


# Issue 14, the reports' map, trend and 曝光台 and the visits' leftovers: a visit in g1 with the
# matrix's photo (GET /visits/{visit_id}/photos/...), and a closed report in g1 with that photo,
# published by the admin (the exposure routes). The photo's media row is made here; the extras fixture
# stores its files after (its insert of the row then does nothing). Kept by world tag like CAMPAIGN.
FIELD: dict[str, dict[str, int]] = {}
_build_extras_field, _remove_extras_field = build_extras, remove_extras


def build_extras(conn: psycopg.Connection, w) -> Extras:  # type: ignore[no-redef]
    from gis.reports.file import NewReport, file_report
    from tests.access.matrix_cases import PNG, PNG_SHA256

    ex = _build_extras_field(conn, w)
    one = lambda q, p: conn.execute(q, p).fetchone()[0]  # noqa: E731
    admin = w.users["admin"].user_id
    conn.execute("INSERT INTO media (sha256, mime, bytes, width, height, stored_by)"
                 " VALUES (%s, 'image/png', %s, 1, 1, 'matrix') ON CONFLICT DO NOTHING",
                 [PNG_SHA256, len(PNG)])
    conn.execute("SELECT set_config('gridmap.user_id', %s, true)", [str(admin)])
    household = w.households[w.g1][0]
    visit = one("INSERT INTO visit (household_id, county, visitor_id, visitor, visited_at, kind, outcome,"
                " position, position_crs, distance_m, far_limit_m, far, client_id)"
                " SELECT h.id, left(h.grid_code, 6), 0, '', now(), 'routine', 'met', h.geom, 'EPSG:4326', 0,"
                " 100, false, %s FROM household h WHERE h.id = %s RETURNING id",
                [f"{w.tag}-visit", household])
    conn.execute("INSERT INTO visit_photo (visit_id, sha256, file_name) VALUES (%s, %s, 'p.png')",
                 [visit, PNG_SHA256])
    report, _ = file_report(conn, NewReport("litter", ex.x0 + 0.004, ex.y0 + 0.014))
    conn.execute("UPDATE report SET state = 'closed' WHERE id = %s", [report])
    conn.execute("INSERT INTO report_photo (report_id, sha256, kind, added_by) VALUES (%s, %s, 'before', %s)",
                 [report, PNG_SHA256, admin])
    exposure = one("SELECT exposure_publish(%s, 't', 'text', 'faces checked', %s)", [report, [PNG_SHA256]])
    conn.execute("SELECT set_config('gridmap.user_id', '', true)")
    FIELD[w.tag] = {"visit": visit, "closed_report": report, "exposure": exposure}
    # the path values of these routes (tests/access/matrix_cases.py path_values)
    setattr(ex, "field", {"visit_id": visit, "exposure_id": exposure, "group_code": "household"})  # noqa: B010
    return ex


def remove_extras(conn: psycopg.Connection, w) -> None:  # type: ignore[no-redef]
    made = FIELD.pop(w.tag, None)
    if made:  # as the owner, who may remove what the service only adds
        conn.execute("DELETE FROM report_exposure_photo WHERE exposure_id IN"
                     " (SELECT id FROM report_exposure WHERE report_id = %s)", [made["closed_report"]])
        conn.execute("DELETE FROM report_exposure WHERE report_id = %s", [made["closed_report"]])
        conn.execute("DELETE FROM report WHERE id = %s", [made["closed_report"]])
        conn.execute("DELETE FROM visit WHERE id = %s", [made["visit"]])
    _remove_extras_field(conn, w)


# The campaign's record exports (issue 16): a 十文明户 list of the world's community, published and public,
# for GET /exports/campaign/honours/{honour_list_id} (the full version for the register's roles who see
# it, the public one for the others). A published list is never removed: it stays, tagged.
_build_extras_exchange = build_extras


def build_extras(conn: psycopg.Connection, w) -> Extras:  # type: ignore[no-redef]
    ex = _build_extras_exchange(conn, w)
    published = conn.execute("INSERT INTO honour_list (kind, scope, series, title, public, drafted_by) VALUES"
                             " ('civilised_household', %s, %s, 'published', true, '') RETURNING id",
                             [w.community, f"{w.tag}-published"]).fetchone()[0]
    conn.execute("INSERT INTO honour_entry (list_id, colour, household_id, label, public_label)"
                 " VALUES (%s, 'red', %s, 'label', 'public label')", [published, w.households[w.g1][1]])
    conn.execute("UPDATE honour_list SET state = 'approved' WHERE id = %s", [published])
    conn.execute("UPDATE honour_list SET state = 'published' WHERE id = %s", [published])
    CAMPAIGN[w.tag]["honour_list"] = published  # the path value honour_list_id
    return ex


# Issue 16 part C (evidence and the quarterly assessment, migration 027): the quarter's scoring sheet of
# the world's county (shared by the worlds of a session: made once per quarter), an evidence item of
# the world's community (the matrix's photo) and its frozen submission. Evidence and submissions are
# append-only (triggers refuse a DELETE, for the owner too): the owner lifts the trigger for the
# teardown only, in its own transaction. Path values: tests/access/matrix_cases.py ASSESSMENT.
ASSESSMENT: dict[str, dict[str, object]] = {}
_build_extras_assessment, _remove_extras_assessment = build_extras, remove_extras


def build_extras(conn: psycopg.Connection, w) -> Extras:  # type: ignore[no-redef]
    import hashlib
    import json

    from gis.assessment.figures import today
    from gis.assessment.quarters import of_day
    from tests.access.matrix_cases import PNG, PNG_SHA256

    ex = _build_extras_assessment(conn, w)
    quarter, county = of_day(today()), w.street[:6]
    source = b"matrix scoring sheet"
    conn.execute("INSERT INTO evidence_file (sha256, mime, bytes, stored_by) VALUES (%s, 'text/plain', %s,"
                 " 'matrix') ON CONFLICT DO NOTHING", [hashlib.sha256(source).hexdigest(), len(source)])
    digest = hashlib.sha256(source).hexdigest()
    made = conn.execute("INSERT INTO assessment_sheet (quarter, scope, title, source_sha256, imported_by)"
                        " VALUES (%s, %s, 'matrix', %s, 'matrix') ON CONFLICT (quarter, scope) DO NOTHING"
                        " RETURNING id", [quarter.code, county, digest]).fetchone()
    if made:
        conn.execute("INSERT INTO assessment_item (sheet_id, item_no, position, section, content, points,"
                     " measure, figure, target, direction, evidence_from) VALUES"
                     " (%s, '1', 1, '组织领导', '领导小组', 3, '查看文件', NULL, NULL, NULL, '{}'),"
                     " (%s, '2', 2, '道德讲堂', '道德讲堂', 4, '系统统计', 'moral_lecture_halls', 1, '>=',"
                     "  '{facility_session}')", [made[0], made[0]])
    sheet = conn.execute("SELECT id FROM assessment_sheet WHERE quarter = %s AND scope = %s",
                         [quarter.code, county]).fetchone()[0]
    evidence = conn.execute(
        "INSERT INTO evidence_item (quarter, community_code, sha256, kind, mime, title, item_no, recorded_by)"
        " VALUES (%s, %s, %s, 'photo', 'image/png', 'matrix', '1', 'matrix') RETURNING id",
        [quarter.code, w.community, PNG_SHA256]).fetchone()[0]
    files = [{"path": f"evidence/{PNG_SHA256}.png", "sha256": PNG_SHA256, "mime": "image/png",
              "bytes": len(PNG), "evidence": []}]
    frozen = conn.execute(
        "INSERT INTO assessment_freeze (sheet_id, community_code, measured_on, figures, evidence,"
        " manifest_sha256, frozen_by) VALUES (%s, %s, current_date, '[]', %s, %s, 'matrix') RETURNING id",
        [sheet, w.community, json.dumps(files), "0" * 64]).fetchone()[0]
    ASSESSMENT[w.tag] = {"quarter": quarter.code, "sheet_id": sheet, "evidence_id": evidence,
                         "freeze_id": frozen}
    return ex


def remove_extras(conn: psycopg.Connection, w) -> None:  # type: ignore[no-redef]
    if ASSESSMENT.pop(w.tag, None):
        for table, trigger in (("assessment_freeze", "assessment_freeze_append_only"),
                               ("evidence_item", "evidence_item_append_only")):
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
            conn.execute(f"DELETE FROM {table} WHERE community_code = %s", [w.community])
            conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
    _remove_extras_assessment(conn, w)
