"""The small world of the exchange tests: two communities A and B of one street (A with grids g1, g2 and
households with persons), a responsible unit, and bearer tokens for an admin of A, a grid worker of g1,
a grid worker of g2, a viewer of the street and an admin of B. Placed inside China (the importer refuses
points outside the region), each world at a place of its own."""

from __future__ import annotations

import uuid
from datetime import timedelta

import psycopg

from gis.access import accounts
from tests.conftest import unused_street

X0, Y0 = 112.0, 27.0


def build(database_url: str, settings) -> dict:
    tag = uuid.uuid4().hex[:6]
    with psycopg.connect(database_url) as conn:
        n = unused_street(conn, "430104")
    x0, y0 = X0 + (n % 60) * 0.05, Y0 + (n // 60) * 0.02
    street = f"430104{n:03d}"
    a, b = street + "001", street + "002"
    g1, g2 = a + "001", a + "002"
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO community (code, name, geom) VALUES"
            " (%s, 'A', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326))),"
            " (%s, 'B', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)))",
            [a, x0, y0, x0 + 0.02, y0 + 0.01, b, x0 + 0.02, y0, x0 + 0.04, y0 + 0.01])
        conn.execute(
            "INSERT INTO grid (code, community_code, name, geom) VALUES"
            " (%s, %s, 'g1', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326))),"
            " (%s, %s, 'g2', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)))",
            [g1, a, x0, y0, x0 + 0.01, y0 + 0.01, g2, a, x0 + 0.01, y0, x0 + 0.02, y0 + 0.01])
        households, persons = {}, {}
        for grid, x in ((g1, x0 + 0.005), (g2, x0 + 0.015)):
            households[grid] = [r[0] for r in conn.execute(
                "INSERT INTO household (ref, address, building, grid_code, placement, geom)"
                " SELECT %s || '-' || i, '幸福路' || i || '号', i || '号楼', %s, 'inside',"
                " ST_Point(%s, %s + i * 0.001, 4326) FROM generate_series(1, 3) i RETURNING id",
                [f"{tag}-{grid}", grid, x, y0])]
            persons[grid] = [r[0] for r in conn.execute(
                "INSERT INTO person (household_id, name, relation)"
                " SELECT h, '李' || chr(19968 + (h %% 500)::int) || '华', 'head'"
                " FROM unnest(%s::bigint[]) h ORDER BY h RETURNING id", [households[grid]])]
        tokens, users = {}, {}
        for name, role, scope in (("admin", "admin", a), ("worker", "grid_worker", g1),
                                  ("other_worker", "grid_worker", g2), ("viewer", "viewer", street),
                                  ("admin_b", "admin", b)):
            username, password = f"x-{tag}-{name.replace('_', '-')}", uuid.uuid4().hex
            accounts.create_user(conn, username, password)
            accounts.grant(conn, username, role, scope)
            users[name] = accounts.user_id(conn, username)
            tokens[name], _ = accounts.issue_token(conn, username, password, settings.secret_key,
                                                   timedelta(hours=1))
        conn.commit()
    return {"street": street, "a": a, "b": b, "g1": g1, "g2": g2, "households": households,
            "persons": persons, "tokens": tokens, "users": users, "tag": tag, "x0": x0, "y0": y0}
