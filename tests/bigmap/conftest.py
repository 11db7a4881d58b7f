"""A small street for the street-map tests (street 439902003, a county code no real place uses):
two communities of 4 x 5 grids each (~400 m squares), 40 households on a lattice in every grid plus
one outside every grid, one or two persons each, 2,000 places scattered over the street. Written
set-based and committed (the app's pool cannot see a rolled-back fixture) into a database of its own,
so that tests comparing whole tables elsewhere never see it; dropped at the end.

Also an admin account and a token: the page's data requests carry it as the login cookie.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import psycopg
import pytest

from gis.access import accounts
from gis.settings import Settings

STREET = "439902003"
COMMUNITIES = (STREET + "001", STREET + "002")
COLS, ROWS, SIDE = 4, 5, 0.004
WEST, SOUTH = 113.2, 28.3
PER_GRID = 40
PLACES = 2_000
REF = "bigmaptest-"
USER, PASSWORD = "bigmap-test-admin", "bigmap test password 1"

_SETUP = f"""
INSERT INTO community (code, ref, name, street_name, geom)
SELECT '{STREET}' || lpad(c::text, 3, '0'), '{REF}c' || c, '大图社区' || c, '大图街道',
       ST_Multi(ST_MakeEnvelope({WEST} + (c - 1) * {COLS * SIDE}, {SOUTH},
                                {WEST} + c * {COLS * SIDE}, {SOUTH} + {ROWS * SIDE}, 4326))
FROM generate_series(1, 2) AS c;
INSERT INTO grid (code, community_code, ref, name, geom)
SELECT '{STREET}' || lpad(c::text, 3, '0') || lpad((i + 1)::text, 3, '0'),
       '{STREET}' || lpad(c::text, 3, '0'), '{REF}g' || c || '-' || i,
       '第' || (i + 1) || '网格',
       ST_Multi(ST_MakeEnvelope(x, y, x + {SIDE}, y + {SIDE}, 4326))
FROM generate_series(1, 2) AS c CROSS JOIN generate_series(0, {COLS * ROWS - 1}) AS i
CROSS JOIN LATERAL (SELECT {WEST} + ((c - 1) * {COLS} + i % {COLS}) * {SIDE} AS x,
                           {SOUTH} + (i / {COLS}) * {SIDE} AS y) AS o;
WITH p AS (
    SELECT g.code, k, ST_SetSRID(ST_MakePoint(
               ST_XMin(g.geom) + {SIDE} * (0.1 + 0.8 * (k % 8) / 7.0),
               ST_YMin(g.geom) + {SIDE} * (0.1 + 0.8 * (k / 8) / 4.0)), 4326) AS geom
    FROM grid g CROSS JOIN generate_series(0, {PER_GRID - 1}) AS k
    WHERE g.code LIKE '{STREET}%'
    UNION ALL
    SELECT NULL, 0, ST_SetSRID(ST_MakePoint({WEST} - 0.0005, {SOUTH} + 0.001), 4326)
)
INSERT INTO household (ref, address, grid_code, placement, geom)
SELECT '{REF}' || coalesce(p.code, 'none') || '-' || p.k, '大图路' || p.k || '号',
       a.grid_code, a.placement, p.geom
FROM p CROSS JOIN LATERAL grid_for_point(p.geom) a;
INSERT INTO person (ref, household_id, name, relation)
SELECT h.ref || '-p' || k, h.id, '居民' || h.id || '-' || k, CASE k WHEN 1 THEN 'head' ELSE 'spouse' END
FROM household h CROSS JOIN LATERAL generate_series(1, 1 + (h.id % 2)::int) AS k
WHERE h.ref LIKE '{REF}%';
INSERT INTO place (ref, name, category, address, geom)
SELECT '{REF}' || i, '大图商店' || i,
       (ARRAY['internet_cafe', 'food_shop', 'small_shop', 'restaurant'])[1 + i % 4],
       '大图路' || i || '号门面',
       ST_SetSRID(ST_MakePoint({WEST} + {2 * COLS * SIDE} * ((i * 0.618034) % 1),
                               {SOUTH} + {ROWS * SIDE} * ((i * 0.414214) % 1)), 4326)
FROM generate_series(1, {PLACES}) AS i;
"""

@dataclass(frozen=True)
class Street:
    code: str
    grids: int
    households: int  # inside the street's grids
    places: int
    token: str  # an admin's bearer token (also the login cookie)


@pytest.fixture(scope="session")
def bigmap_url(fresh_database) -> str:
    """A migrated database of the street-map tests' own."""
    return fresh_database("gridmap_bigmap")


@pytest.fixture(scope="session")
def bigmap_settings(bigmap_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(database_url=bigmap_url, data_dir=tmp_path_factory.mktemp("bigmap"),  # type: ignore[call-arg]
                    _env_file=None)


@pytest.fixture(scope="session")
def street(bigmap_url: str, bigmap_settings: Settings) -> Street:
    with psycopg.connect(bigmap_url) as conn:
        conn.execute(_SETUP)  # type: ignore[arg-type]
        accounts.create_user(conn, USER, PASSWORD)
        accounts.grant(conn, USER, "admin", "")
        token, _ = accounts.issue_token(conn, USER, PASSWORD, bigmap_settings.secret_key, timedelta(hours=2))
        conn.commit()
    return Street(STREET, 2 * COLS * ROWS, 2 * COLS * ROWS * PER_GRID, PLACES, token)


@pytest.fixture
def street_client(bigmap_settings: Settings, street: Street) -> Iterator:
    """The app on the street's database over HTTP, signed in as its admin."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(bigmap_settings), headers={"Authorization": f"Bearer {street.token}"}) as c:
        yield c
