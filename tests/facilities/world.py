"""The small world the facility, volunteer and honour tests share (each folder in a database of its
own): two communities of one street, community A with grids g1 and g2 of households and persons, and
bearer tokens for the admin of A, a grid worker of g1, a grid worker of g2 and a viewer of the street."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest

from gis.access import accounts
from tests.conftest import unused_street

X0, Y0 = 113.2, 25.6


def build_world(database_url: str, settings) -> dict:
    tag = uuid.uuid4().hex[:6]
    with psycopg.connect(database_url) as conn:
        n = unused_street(conn, "430103")
    # a place of its own: the worlds of a folder's modules share its database
    x0, y0 = X0 + (n - 100) * 0.05, Y0
    street = f"430103{n:03d}"
    a, b = street + "001", street + "002"
    g1, g2 = a + "001", a + "002"
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO community (code, name, geom) VALUES"
            " (%s, 'A', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326))),"
            " (%s, 'B', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)))",
            [a, x0, y0, x0 + 0.02, y0 + 0.01, b, x0 + 0.02, y0, x0 + 0.04, y0 + 0.01],
        )
        conn.execute(
            "INSERT INTO grid (code, community_code, name, geom) VALUES"
            " (%s, %s, 'g1', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326))),"
            " (%s, %s, 'g2', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)))",
            [g1, a, x0, y0, x0 + 0.01, y0 + 0.01, g2, a, x0 + 0.01, y0, x0 + 0.02, y0 + 0.01],
        )
        households, persons = {}, {}
        for grid, x in ((g1, x0 + 0.005), (g2, x0 + 0.015)):
            households[grid] = [
                r[0]
                for r in conn.execute(
                    "INSERT INTO household (ref, address, building, grid_code, placement, geom)"
                    " SELECT %s || '-' || i, '幸福路' || i || '号', i || '号楼', %s, 'inside',"
                    " ST_Point(%s, %s + i * 0.001, 4326)"
                    " FROM generate_series(1, 5) i RETURNING id",
                    [f"{tag}-{grid}", grid, x, y0],
                ).fetchall()
            ]
            persons[grid] = [
                r[0]
                for r in conn.execute(
                    "INSERT INTO person (household_id, name, relation)"
                    " SELECT h, '张' || chr(19968 + (h %% 500)::int) || '明', 'head'"
                    " FROM unnest(%s::bigint[]) h"
                    " ORDER BY h RETURNING id",
                    [households[grid]],
                ).fetchall()
            ]
        tokens, users, passwords = {}, {}, {}
        for name, role, scope in (
            ("admin", "admin", a),
            ("worker", "grid_worker", g1),
            ("other_worker", "grid_worker", g2),
            ("viewer", "viewer", street),
            ("admin_b", "admin", b),
        ):
            username, password = f"c-{tag}-{name.replace('_', '-')}", uuid.uuid4().hex
            accounts.create_user(conn, username, password)
            accounts.grant(conn, username, role, scope)
            tokens[name], _ = accounts.issue_token(
                conn, username, password, settings.secret_key, timedelta(hours=1)
            )
            users[name] = username
            passwords[name] = password
        conn.commit()
    return {
        "street": street,
        "a": a,
        "b": b,
        "g1": g1,
        "g2": g2,
        "households": households,
        "persons": persons,
        "tokens": tokens,
        "passwords": passwords,
        "users": users,
        "tag": tag,
        "x0": x0,
        "y0": y0,
    }


def fixtures():
    """The world, the app and a header per user, as this folder's fixtures."""

    @pytest.fixture(scope="module")
    def world(database_url: str, settings) -> dict:
        return build_world(database_url, settings)

    @pytest.fixture(scope="module")
    def api(settings) -> Iterator:
        from fastapi.testclient import TestClient

        from api.app import create_app

        with TestClient(create_app(settings)) as c:
            yield c

    @pytest.fixture
    def as_user(world):
        return lambda name: {"Authorization": f"Bearer {world['tokens'][name]}"}

    return world, api, as_user
