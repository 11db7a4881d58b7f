"""Fixtures of the visit tests: the folder's own database (its tests commit visits), one community with
two grids of households (a key person, an elderly person living alone, a poor household, plain ones),
and a bearer token per user: the worker of g1, the worker of g2, the community's admin, a viewer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest

from gis.access import accounts
from tests.conftest import own_database, unused_street

database_url, settings, admin_token = own_database("gridmap_visits")
X0, Y0 = 113.0, 25.8


@pytest.fixture(scope="module")
def world(database_url: str, settings) -> dict:
    tag = uuid.uuid4().hex[:6]
    with psycopg.connect(database_url) as conn:
        n = unused_street(conn, "430102")
    community = f"430102{n:03d}001"
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
        households = {}
        for grid, x in ((g1, X0 + 0.005), (g2, X0 + 0.015)):
            households[grid] = [r[0] for r in conn.execute(
                "INSERT INTO household (ref, address, grid_code, placement, geom)"
                " SELECT %s || '-' || i, 'road ' || i, %s, 'inside', ST_Point(%s, %s + i * 0.001, 4326)"
                " FROM generate_series(1, 5) i RETURNING id", [f"{tag}-{grid}", grid, x, Y0]).fetchall()]
        h = households[g1]
        people = conn.execute(
            "INSERT INTO person (household_id, name, elderly_alone, poverty) VALUES"
            " (%s, 'key', false, NULL), (%s, 'old', true, NULL), (%s, 'poor', false, 'dibao'),"
            " (%s, 'plain', false, NULL) RETURNING id", [h[0], h[1], h[2], h[3]]).fetchall()
        conn.execute("INSERT INTO key_person (person_id, category) VALUES (%s, 'petitioner')", [people[0][0]])
        tokens, users = {}, {}
        for name, role, scope in (("worker", "grid_worker", g1), ("other_worker", "grid_worker", g2),
                                  ("admin", "admin", community), ("viewer", "viewer", community)):
            username, password = f"v-{tag}-{name.replace('_', '-')}", uuid.uuid4().hex
            accounts.create_user(conn, username, password)
            accounts.grant(conn, username, role, scope)
            tokens[name], _ = accounts.issue_token(conn, username, password, settings.secret_key,
                                                   timedelta(hours=1))
            users[name] = username
        conn.commit()
    return {"community": community, "g1": g1, "g2": g2, "households": households, "tokens": tokens,
            "users": users, "tag": tag}


@pytest.fixture(scope="module")
def api(settings) -> Iterator:
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def as_user(world):
    return lambda name: {"Authorization": f"Bearer {world['tokens'][name]}"}
