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
