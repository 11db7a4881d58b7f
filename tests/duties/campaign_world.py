"""The small world of the campaign tests (duties, compounds): one street with a community of two grids,
two responsible units, a road section, and one user per campaign role with a bearer token: an admin, a
planner, a viewer, an inspector and an account of each unit (role unit, linked by unit_account).

And the objects the permission matrix needs for these routes (``matrix_objects``)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import psycopg

from gis.access import accounts
from tests.conftest import unused_street

X0, Y0 = 113.2, 25.9


def build(conn: psycopg.Connection, settings) -> dict:
    tag = uuid.uuid4().hex[:6]
    n = unused_street(conn, "430103")
    street = f"430103{n:03d}"
    community = street + "001"
    g1, g2 = community + "001", community + "002"
    conn.execute(
        "INSERT INTO community (code, name, geom) VALUES"
        " (%s, 'C', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)))",
        [community, X0, Y0, X0 + 0.02, Y0 + 0.01],
    )
    conn.execute(
        "INSERT INTO grid (code, community_code, name, geom) VALUES"
        " (%s, %s, 'g1', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326))),"
        " (%s, %s, 'g2', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)))",
        [g1, community, X0, Y0, X0 + 0.01, Y0 + 0.01, g2, community, X0 + 0.01, Y0, X0 + 0.02, Y0 + 0.01],
    )
    units = {
        k: conn.execute(
            "INSERT INTO responsible_unit (name) VALUES (%s) RETURNING id", [f"{tag} unit {k}"]
        ).fetchone()[0]
        for k in ("a", "b")
    }
    line = f"SRID=4326;LINESTRING({X0} {Y0 + 0.005},{X0 + 0.02} {Y0 + 0.005})"
    road = conn.execute(
        "INSERT INTO road (ref, name, geom) VALUES (%s, 'road', %s) RETURNING id", [f"{tag}-road", line]
    ).fetchone()[0]
    section = conn.execute(
        "INSERT INTO road_section (road_id, code, road_name, length_m, community_code, grid_code, geom)"
        " VALUES (%s, %s, 'road', ST_Length(%s::geography), %s, %s, %s) RETURNING id",
        [road, f"{tag}-road-001", line, community, g1, line],
    ).fetchone()[0]
    tokens, users = {}, {}
    for name, role in (
        ("admin", "admin"),
        ("planner", "planner"),
        ("viewer", "viewer"),
        ("inspector", "inspector"),
        ("unit_a", "unit"),
        ("unit_b", "unit"),
    ):
        username, password = f"c-{tag}-{name.replace('_', '-')}", uuid.uuid4().hex
        accounts.create_user(conn, username, password)
        accounts.grant(conn, username, role, "" if role in ("planner", "inspector") else street)
        if role == "unit":
            conn.execute(
                "INSERT INTO unit_account (user_id, unit_id) VALUES (%s, %s)",
                [accounts.user_id(conn, username), units[name[-1]]],
            )
        tokens[name], _ = accounts.issue_token(
            conn, username, password, settings.secret_key, timedelta(hours=1)
        )
        users[name] = username
    conn.commit()
    return {
        "tag": tag,
        "street": street,
        "community": community,
        "g1": g1,
        "g2": g2,
        "units": units,
        "section": section,
        "tokens": tokens,
        "users": users,
    }


def square(x: float, y: float, size: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]],
    }


def matrix_objects(conn: psycopg.Connection, w, unit: int, section: int, x0: float, y0: float) -> dict:
    """A duty of ``unit`` on ``section`` (cascades away with the section's road), a compound helped by
    its own unit (tagged, left behind: the helper's unit is kept with its history), and a frontage agreement
    of a shop's owner; their ids by path parameter name."""
    one = lambda q, p: conn.execute(q, p).fetchone()[0]  # noqa: E731
    duty = one(
        "INSERT INTO duty (name, unit_id, recurrence, weekday, section_id, valid)"
        " VALUES ('weekly', %s, 'weekly', 5, %s, daterange(current_date - 60, NULL)) RETURNING id",
        [unit, section],
    )
    helper_unit = one(
        "INSERT INTO responsible_unit (name) VALUES (%s) RETURNING id", [f"{w.tag}-helper unit"]
    )
    compound = one(
        "INSERT INTO compound (ref, name, geom) VALUES (%s, 'compound',"
        " ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326))) RETURNING id",
        [f"{w.tag}-compound", x0 + 0.004, y0 + 0.004, x0 + 0.005, y0 + 0.005],
    )
    helper = one(
        "INSERT INTO compound_helper (compound_id, unit_id, valid)"
        " VALUES (%s, %s, daterange(current_date - 30, NULL)) RETURNING id",
        [compound, helper_unit],
    )
    agreement = one(
        "INSERT INTO frontage_agreement (shop_name, geom, owner, valid)"
        " VALUES ('shop', ST_Point(%s, %s, 4326), 'Wang', daterange(current_date - 30, NULL))"
        " RETURNING id",
        [x0 + 0.003, y0 + 0.003],
    )
    return {"duty_id": duty, "compound_id": compound, "helper_id": helper, "agreement_id": agreement}
