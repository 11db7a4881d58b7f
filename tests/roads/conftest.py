"""Fixtures for the road-section tests: one community of two grids and a small street network."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import own_database

# A database of this folder's own: the API, CLI and assignment tests commit.
database_url, settings, admin_token = own_database("gridmap_roads")

COMMUNITY = "430702001001"
GRID_WEST, GRID_EAST = COMMUNITY + "001", COMMUNITY + "002"

# 人民路 runs west-east along 29.000; 建设路 and 朝阳路 cross it; 解放路 starts on it (a T-junction).
ROADS = [
    ("R1", "人民路", "LINESTRING(111.700 29.000, 111.720 29.000)"),
    ("R2", "建设路", "LINESTRING(111.705 28.995, 111.705 29.005)"),
    ("R3", "朝阳路", "LINESTRING(111.712 28.995, 111.712 29.005)"),
    ("R4", "解放路", "LINESTRING(111.716 29.000, 111.716 29.004)"),
]


def add_division(conn: psycopg.Connection) -> None:
    conn.execute(
        """INSERT INTO community (code, name, street_name, geom) VALUES
           (%s, '丹阳社区', '武陵街道', ST_Multi(ST_MakeEnvelope(111.69, 28.99, 111.73, 29.01, 4326)))""",
        [COMMUNITY])
    conn.execute(
        """INSERT INTO grid (code, community_code, name, geom) VALUES
           (%s, %s, '西网格', ST_Multi(ST_MakeEnvelope(111.69, 28.99, 111.71, 29.01, 4326))),
           (%s, %s, '东网格', ST_Multi(ST_MakeEnvelope(111.71, 28.99, 111.73, 29.01, 4326)))""",
        [GRID_WEST, COMMUNITY, GRID_EAST, COMMUNITY])


def add_roads(conn: psycopg.Connection, roads: list[tuple[str, str, str]]) -> None:
    with conn.cursor().copy("COPY road (ref, name, geom) FROM STDIN") as copy:
        for ref, name, wkt in roads:
            copy.write_row((ref, name, f"SRID=4326;{wkt}"))


@pytest.fixture
def network(conn: psycopg.Connection) -> psycopg.Connection:
    """The division and the four roads, not cut yet (rolled back after the test)."""
    add_division(conn)
    add_roads(conn, ROADS)
    return conn


def section_id(conn: psycopg.Connection, code: str) -> int:
    row = conn.execute("SELECT id FROM road_section WHERE code = %s AND retired_on IS NULL",
                       [code]).fetchone()
    assert row is not None, code
    return row[0]


def add_unit(conn: psycopg.Connection, name: str, kind: str = "government") -> int:
    row = conn.execute(
        "INSERT INTO responsible_unit (name, kind, contact, phone) VALUES (%s, %s, '张三', '0736-7221234')"
        " RETURNING id", [name, kind]).fetchone()
    assert row is not None
    return row[0]
