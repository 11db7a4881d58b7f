"""A small community for the map tests, written set-based into the maps tests' own database.

Community 439901007001 (a county code no real place uses), a square of about 1 km with three grids:
001 the west half, 002 the south-east quarter, 003 the north-east quarter but 20 m short of 001, so
the division has a gap. 240 households on a lattice, plus one on the 001/002 border, one in the gap,
one 40 m outside the community and one far away (shown on no map). One to three members each, tags
by modulo. The data is committed (the app's pool cannot see a rolled-back fixture) and deleted at
the end of the session.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from types import SimpleNamespace

import psycopg
import pytest

from tests.conftest import own_database

# A database of this folder's own: the map fixture is committed for the app's pool.
database_url, settings, admin_token = own_database("gridmap_maps")

COMMUNITY = "439901007001"
GRIDS = (f"{COMMUNITY}001", f"{COMMUNITY}002", f"{COMMUNITY}003")
REF = "mapstest-"
LATTICE = 240

_SETUP = f"""
INSERT INTO community (code, name, street_name, geom) VALUES
    ('{COMMUNITY}', '测试社区', '测试街道',
     ST_Multi(ST_MakeEnvelope(112.900, 28.200, 112.910, 28.208, 4326)));
INSERT INTO grid (code, community_code, name, geom)
SELECT code, '{COMMUNITY}', name, ST_Multi(ST_MakeEnvelope(x0, y0, x1, y1, 4326))
FROM (VALUES ('{GRIDS[0]}', '西区网格', 112.900, 28.200, 112.905, 28.208),
             ('{GRIDS[1]}', '东南网格', 112.905, 28.200, 112.910, 28.204),
             ('{GRIDS[2]}', '东北网格', 112.9052, 28.204, 112.910, 28.208)) AS g (code, name, x0, y0, x1, y1);
INSERT INTO grid_worker (name, phone, ref) VALUES
    ('张伟', '13900000001', '{REF}w1'), ('李娜', '13900000002', '{REF}w2'),
    ('王芳', '13900000003', '{REF}w3');
INSERT INTO grid_worker_grid (worker_id, grid_code, role)
SELECT w.id, g.code, g.role
FROM (VALUES ('{REF}w1', '{GRIDS[0]}', 'worker'), ('{REF}w3', '{GRIDS[0]}', 'team'),
             ('{REF}w2', '{GRIDS[1]}', 'worker'), ('{REF}w2', '{GRIDS[2]}', 'worker')) AS g (ref, code, role)
JOIN grid_worker w ON w.ref = g.ref;

WITH points AS (
    SELECT i, ST_SetSRID(ST_MakePoint(112.9003 + (i % 20) * 0.0005, 28.2003 + (i / 20) * 0.00065), 4326)
              AS geom,
           '测试路' || i || '号' AS address
    FROM generate_series(0, {LATTICE - 1}) AS i
    UNION ALL VALUES
        ({LATTICE}, ST_SetSRID(ST_MakePoint(112.905, 28.202), 4326), '边界路1号'),
        ({LATTICE + 1}, ST_SetSRID(ST_MakePoint(112.9051, 28.206), 4326), '缝隙路1号'),
        ({LATTICE + 2}, ST_SetSRID(ST_MakePoint(112.9104, 28.203), 4326), '界外路1号'),
        ({LATTICE + 3}, ST_SetSRID(ST_MakePoint(113.0, 28.3), 4326), '远方路1号')
)
INSERT INTO household (ref, address, grid_code, placement, geom)
SELECT '{REF}' || p.i, p.address, a.grid_code, a.placement, p.geom
FROM points p CROSS JOIN LATERAL grid_for_point(p.geom) a;

WITH members AS (
    SELECT h.id AS household_id, substr(h.ref, {len(REF) + 1})::int AS i, k
    FROM household h CROSS JOIN LATERAL generate_series(1, 1 + substr(h.ref, {len(REF) + 1})::int % 3) AS k
    WHERE h.ref LIKE '{REF}%'
)
INSERT INTO person (ref, household_id, name, id_number, phone, relation, residence, poverty,
                    elderly_alone, disabled, activist, volunteer)
SELECT '{REF}p' || i || '-' || k, household_id, '居民' || i || '-' || k,
       '439901' || '19800101' || lpad((i * 3 + k)::text, 4, '0'),
       '139' || lpad((i * 3 + k)::text, 8, '0'),
       CASE WHEN k = 1 THEN 'head' WHEN k = 2 THEN 'spouse' ELSE 'child' END,
       CASE WHEN i % 5 = 0 THEN 'floating' ELSE 'registered' END,
       CASE WHEN i % 11 = 0 AND k = 1 THEN 'dibao' END,
       i % 3 = 0 AND i % 13 = 0, i % 17 = 0 AND k = 2, i % 19 = 0 AND k = 1, i % 23 = 0
FROM members;

INSERT INTO key_person (person_id, category)
SELECT p.id, 'community_correction' FROM person p WHERE p.ref LIKE '{REF}p%' AND p.ref ~ '^{REF}p[0-9]*7-1$';
"""

_TEARDOWN = f"""
DELETE FROM household WHERE ref LIKE '{REF}%';
DELETE FROM grid_worker WHERE ref LIKE '{REF}%';
DELETE FROM grid WHERE community_code = '{COMMUNITY}';
DELETE FROM community WHERE code = '{COMMUNITY}';
"""


@dataclass(frozen=True)
class MapFixture:
    community: str
    grids: tuple[str, ...]
    households: int  # all fixture households, including the far one no map shows
    persons: int


@pytest.fixture(scope="session")
def map_fixture(database_url: str) -> Iterator[MapFixture]:
    with psycopg.connect(database_url) as conn:
        conn.execute(_SETUP)  # type: ignore[arg-type]
        n_h, n_p = conn.execute(
            "SELECT count(DISTINCT h.id), count(p.id) FROM household h"
            " LEFT JOIN person p ON p.household_id = h.id WHERE h.ref LIKE %s", [REF + "%"]).fetchone()  # type: ignore[misc]
        conn.commit()
    yield MapFixture(COMMUNITY, GRIDS, n_h, n_p)
    with psycopg.connect(database_url) as conn:
        conn.execute(_TEARDOWN)  # type: ignore[arg-type]


# Every URL a page would fetch, read with the standard HTML parser (URLs inside scripts are not
# fetched: Leaflet's own source mentions leafletjs.com in its attribution text).


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def page_urls(page: str) -> list[str]:
    """The src and href of every element of the page (not URLs inside scripts)."""
    parser = _Links()
    parser.feed(page)
    return parser.urls


def remote_urls(page: str) -> list[str]:
    return [u for u in page_urls(page) if u.lower().startswith(("http:", "https:", "//"))]


@pytest.fixture(scope="session")
def links() -> SimpleNamespace:
    return SimpleNamespace(page_urls=page_urls, remote_urls=remote_urls)
