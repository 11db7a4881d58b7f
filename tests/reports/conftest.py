"""Fixtures of the report tests: the folder's own database (its tests commit reports), one community of
two grids (g1 with a worker, g2 without), a road along g1 whose one section is held by unit A and, from
CHANGE on, by unit B, and a bearer token per account: a reporter, a second reporter, an account of each
unit, the worker of g1, two admins of the community and a viewer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import psycopg
import pytest

from gis.access import accounts
from tests.conftest import own_database, unused_street

database_url, settings, admin_token = own_database("gridmap_reports")
X0, Y0 = 114.0, 26.0
ROAD_Y = Y0 + 0.005  # an east-west road through the middle of the community
CHANGE = date.today() - timedelta(days=5)  # unit A held the section before, unit B from this day
ACCOUNTS = (("reporter", "reporter", None), ("reporter2", "reporter", None), ("unit_a", "unit", None),
            ("unit_b", "unit", None), ("worker", "grid_worker", "g1"), ("admin", "admin", "community"),
            ("admin2", "admin", "community"), ("viewer", "viewer", "community"))


@pytest.fixture(scope="module")
def world(database_url: str, settings) -> dict:
    tag = uuid.uuid4().hex[:6]
    with psycopg.connect(database_url) as conn:
        n = unused_street(conn, "440103")
    community = f"440103{n:03d}001"
    g1, g2 = community + "001", community + "002"
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO community (code, name, geom) VALUES"
                     " (%s, 'C', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)))",
                     [community, X0, Y0, X0 + 0.02, Y0 + 0.01])
        conn.execute("INSERT INTO grid (code, community_code, name, geom) VALUES"
                     " (%s, %s, 'g1', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326))),"
                     " (%s, %s, 'g2', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)))",
                     [g1, community, X0, Y0, X0 + 0.01, Y0 + 0.01, g2, community, X0 + 0.01, Y0, X0 + 0.02,
                      Y0 + 0.01])
        line = f"SRID=4326;LINESTRING({X0} {ROAD_Y},{X0 + 0.01} {ROAD_Y})"
        road = conn.execute("INSERT INTO road (ref, name, geom) VALUES (%s, 'R', %s) RETURNING id",
                            [f"{tag}-road", line]).fetchone()[0]
        section = conn.execute(
            "INSERT INTO road_section (road_id, code, road_name, length_m, community_code, grid_code, geom)"
            " VALUES (%s, %s, 'R', ST_Length(%s::geography), %s, %s, %s) RETURNING id",
            [road, f"{tag}-road-001", line, community, g1, line]).fetchone()[0]
        units = {}
        for name in ("a", "b"):
            units[name] = conn.execute("INSERT INTO responsible_unit (name) VALUES (%s) RETURNING id",
                                       [f"{tag} unit {name}"]).fetchone()[0]
        conn.execute("INSERT INTO road_section_assignment (section_id, unit_id, valid) VALUES"
                     " (%s, %s, daterange(%s - 60, %s)), (%s, %s, daterange(%s, NULL))",
                     [section, units["a"], CHANGE, CHANGE, section, units["b"], CHANGE])
        tokens, users, ids = {}, {}, {}
        scopes = {"g1": g1, "community": community, None: community[:6]}
        for name, role, scope in ACCOUNTS:
            username, password = f"r-{tag}-{name.replace('_', '-')}", uuid.uuid4().hex
            ids[name] = accounts.create_user(conn, username, password)
            accounts.grant(conn, username, role, scopes[scope])
            tokens[name], _ = accounts.issue_token(conn, username, password, settings.secret_key,
                                                   timedelta(hours=1))
            users[name] = username
        for name in ("a", "b"):
            conn.execute("INSERT INTO unit_account (user_id, unit_id) VALUES (%s, %s)",
                         [ids[f"unit_{name}"], units[name]])
        conn.execute("WITH w AS (INSERT INTO grid_worker (name, ref, user_id) VALUES ('W', %s, %s)"
                     " RETURNING id)"
                     " INSERT INTO grid_worker_grid (worker_id, grid_code) SELECT id, %s FROM w",
                     [f"{tag}-w", ids["worker"], g1])
        conn.commit()
    return {"community": community, "g1": g1, "g2": g2, "section": section, "units": units,
            "tokens": tokens, "users": users, "ids": ids, "tag": tag}


@pytest.fixture(scope="module")
def api(settings) -> Iterator:
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def as_user(world):
    return lambda name: {"Authorization": f"Bearer {world['tokens'][name]}"}
