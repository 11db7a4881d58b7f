"""Fixtures for the OGC API and tiles: an own migrated database with fixture rows inserted in SQL,
and the app served by uvicorn on a free loopback port so real clients (GDAL) can talk to it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
import pytest
from psycopg import sql

from gis.settings import Settings
from tests.conftest import sign_in_admin

CENTRE = (113.015, 25.770)  # Chenzhou (郴州)
N_PLACES = 2_500  # more than GDAL's 1,000-feature page, so reading everything needs the next links

FIXTURE_SQL = """
INSERT INTO community (code, name, street_name, geom) VALUES
  ('431002001001', 'Beihu community', 'Renmin street',
   ST_Multi(ST_MakeEnvelope(112.98, 25.74, 113.05, 25.80, 4326)));
INSERT INTO grid (code, community_code, name, geom)
SELECT '431002001001' || lpad(i::text, 3, '0'), '431002001001', 'Grid ' || i,
       ST_Multi(ST_MakeEnvelope(112.98 + (i - 1) * 0.0175, 25.74, 112.98 + i * 0.0175, 25.80, 4326))
FROM generate_series(1, 4) AS i;
INSERT INTO building (ref, name, floors, grid_code, geom)
SELECT 'B' || i, 'Building ' || i, 1 + i % 20, '431002001001' || lpad((1 + i % 4)::text, 3, '0'),
       ST_Buffer(ST_Point(112.99 + (i % 30) * 0.002, 25.75 + (i / 30) * 0.002, 4326), 0.0002, 2)
FROM generate_series(1, 120) AS i;
INSERT INTO household (ref, address, grid_code, placement, geom)
SELECT 'H' || i, 'Secret road ' || i, '431002001001001', 'inside',
       ST_Point(112.985 + (i % 10) * 0.001, 25.745 + (i / 10) * 0.001, 4326)
FROM generate_series(1, 50) AS i;
INSERT INTO person (household_id, name, id_number, relation)
SELECT h.id, 'Person ' || h.id, NULL, 'head' FROM household h;
INSERT INTO school (ref, name, level, geom) VALUES
  ('S1', 'No. 1 Primary', 'primary', ST_MakeEnvelope(113.000, 25.760, 113.002, 25.762, 4326)),
  ('S2', 'No. 2 Middle', 'middle', ST_MakeEnvelope(113.020, 25.780, 113.023, 25.782, 4326)),
  ('S3', 'Sunny Kindergarten', 'kindergarten', ST_Point(113.04, 25.79, 4326));
-- Deterministic pseudo-random spread over the community; every 10th is a bar, every 25th an internet cafe.
INSERT INTO place (ref, name, category, address, geom)
SELECT 'P' || i, 'Place ' || i,
       CASE WHEN i % 25 = 0 THEN 'internet_cafe' WHEN i % 10 = 0 THEN 'bar' WHEN i % 3 = 0 THEN 'restaurant'
            ELSE 'small_shop' END,
       'No. ' || i || ' Some road',
       ST_Point(112.98 + ((i * 7919) % 7000) / 100000.0, 25.74 + ((i * 104729) % 6000) / 100000.0, 4326)
FROM generate_series(1, {places}) AS i;
INSERT INTO road (ref, name, geom) VALUES
  ('R1', 'Renmin Road', ST_MakeLine(ST_Point(112.98, 25.77, 4326), ST_Point(113.05, 25.77, 4326)));
INSERT INTO road_section (road_id, code, road_name, length_m, geom, retired_on)
SELECT r.id, 'R1-' || lpad(i::text, 3, '0'), r.name, 700,
       ST_MakeLine(ST_Point(112.98 + (i - 1) * 0.007, 25.77, 4326),
                   ST_Point(112.98 + i * 0.007, 25.77, 4326)),
       CASE WHEN i = 10 THEN current_date END  -- one retired section: never served
FROM road r, generate_series(1, 10) AS i;
INSERT INTO responsible_unit (name, kind) VALUES ('District Bureau', 'government');
INSERT INTO road_section_assignment (section_id, unit_id, valid)
SELECT s.id, u.id, daterange(current_date - 10, NULL) FROM road_section s, responsible_unit u
WHERE s.code IN ('R1-001', 'R1-002');
INSERT INTO violation (place_id, school_id, distance_m, reason, status, found_on)
SELECT p.id, s.id, 120.5, 'internet cafe within 200 m', 'open', current_date
FROM place p, school s WHERE p.ref IN ('P25', 'P50') AND s.ref = 'S1';
INSERT INTO violation (place_id, school_id, distance_m, reason, status, found_on)
SELECT p.id, s.id, 150, 'closed long ago', 'closed', current_date - 100
FROM place p, school s WHERE p.ref = 'P75' AND s.ref = 'S1';
-- The campaign's records (issue 16): nine compounds in a row along the community's north edge, every third
-- self-managed; K1 and K2 helped today by the bureau, K3's helper ended ten days ago. Six facilities,
-- two of them 道德讲堂, one owned by the unit, one closed.
INSERT INTO compound (ref, name, management, households, geom)
SELECT 'K' || i, 'Compound ' || i, CASE WHEN i % 3 = 0 THEN 'self' ELSE 'none' END, 10 * i,
       ST_Multi(ST_MakeEnvelope(112.985 + i * 0.004, 25.792, 112.987 + i * 0.004, 25.794, 4326))
FROM generate_series(1, 9) AS i;
INSERT INTO compound_helper (compound_id, unit_id, valid)
SELECT k.id, u.id, CASE WHEN k.ref = 'K3' THEN daterange(current_date - 30, current_date - 10)
                        ELSE daterange(current_date - 5, NULL) END
FROM compound k, responsible_unit u WHERE k.ref IN ('K1', 'K2', 'K3');
INSERT INTO facility (kind, name, address, owner_community, owner_unit, geom, active)
SELECT kind, 'Facility ' || i, 'No. ' || i || ' Hall road', CASE WHEN i <> 5 THEN '431002001001' END,
       CASE WHEN i = 5 THEN (SELECT id FROM responsible_unit LIMIT 1) END,
       ST_Point(112.99 + i * 0.005, 25.745, 4326), i <> 6
FROM (VALUES (1, 'moral_lecture_hall'), (2, 'moral_lecture_hall'), (3, 'volunteer_station'),
             (4, 'civic_school'), (5, 'notice_board'), (6, 'exposure_board')) AS v (i, kind);
ANALYZE;
"""


@pytest.fixture(scope="session")
def ogc_database_url(fresh_database) -> str:
    """An own database, so the fixture rows never disturb other test folders' counts."""
    url = fresh_database("gridmap_ogc")
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL(FIXTURE_SQL).format(places=sql.Literal(N_PLACES)))  # type: ignore[arg-type]
        conn.commit()
    return url


@pytest.fixture
def db(ogc_database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(ogc_database_url) as c:
        yield c
        c.rollback()


@dataclass
class LiveServer:
    url: str
    token: str | None = None  # an admin's bearer token
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)  # (path, query, headers)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


class _Recorder:
    """ASGI wrapper that records each request's path, query and headers (to prove what GDAL sends)."""

    def __init__(self, app, seen: list) -> None:
        self.app, self.seen = app, seen

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            self.seen.append((scope["path"], scope["query_string"].decode(), headers))
        await self.app(scope, receive, send)


@pytest.fixture(scope="session")
def live(ogc_database_url: str, tmp_path_factory: pytest.TempPathFactory, serve_app) -> Iterator[LiveServer]:
    """The app on the OGC database served by uvicorn, recording every request, with an admin's token
    (the tests read as a signed-in GIS client would)."""
    from api.app import create_app

    settings = Settings(database_url=ogc_database_url, data_dir=tmp_path_factory.mktemp("ogcdata"),
                        _env_file=None)
    token = sign_in_admin(ogc_database_url, settings)
    seen: list[tuple[str, str, dict[str, str]]] = []
    with serve_app(_Recorder(create_app(settings), seen)) as url:
        yield LiveServer(url, token, seen)
