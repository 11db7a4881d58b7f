"""Fixtures of the perimeter tests: a small world of schools and places built with pyproj.Geod, and a
database of our own for tests that need committed data (API, CLI, imports)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import psycopg
import pytest
import shapely
from pyproj import Geod

from gis.settings import Settings

GEOD = Geod(ellps="WGS84")
DAY = date(2026, 6, 1)
CHENZHOU = (113.015, 25.770)
HARBIN = (126.635, 45.757)
SANYA = (109.512, 18.253)


def offset(lon: float, lat: float, azimuth: float, metres: float) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, azimuth, metres)
    return float(x), float(y)


def campus(lon: float, lat: float, width: float = 200, height: float = 160) -> shapely.Polygon:
    """A campus whose north and south edges run along parallels (so due north of an edge the
    distance to it is the meridian arc, exactly what Geod.fwd walks)."""
    west = offset(lon, lat, 270, width / 2)[0]
    east = offset(lon, lat, 90, width / 2)[0]
    south = offset(lon, lat, 180, height / 2)[1]
    north = offset(lon, lat, 0, height / 2)[1]
    return shapely.box(west, south, east, north)


class World:
    """Rows inserted in the test's transaction (rolled back afterwards), by ref."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def school(self, ref: str, geom: shapely.Geometry, level: str = "primary",
               gates: list[tuple[float, float]] | None = None) -> int:
        gates_wkt = shapely.MultiPoint(gates).wkt if gates else None
        row = self.conn.execute(
            "INSERT INTO school (ref, name, level, geom, gates) VALUES (%s, %s, %s,"
            " ST_GeomFromText(%s, 4326), ST_GeomFromText(%s, 4326)) RETURNING id",
            [ref, f"School {ref}", level, geom.wkt, gates_wkt]).fetchone()
        assert row is not None
        return int(row[0])

    def places(self, rows: list[dict[str, Any]]) -> None:
        """Places in one statement (one refresh of ruled_place): ref, category, lon, lat, and
        optionally licences: [(valid_until, displayed), ...]."""
        self.conn.execute(
            "INSERT INTO place (ref, name, category, geom)"
            " SELECT r, 'Place ' || r, c, ST_SetSRID(ST_MakePoint(x, y), 4326)"
            " FROM unnest(%s::text[], %s::text[], %s::float8[], %s::float8[]) AS t(r, c, x, y)",
            [[r["ref"] for r in rows], [r["category"] for r in rows], [r["lon"] for r in rows],
             [r["lat"] for r in rows]])
        licences = [(r["ref"], until, shown) for r in rows for until, shown in r.get("licences", [])]
        if licences:
            self.conn.execute(
                "INSERT INTO licence (place_id, kind, number, valid_until, displayed)"
                " SELECT p.id, 'business', 'L-' || p.ref, t.u, t.d"
                " FROM unnest(%s::text[], %s::date[], %s::bool[]) AS t(r, u, d) JOIN place p ON p.ref = t.r",
                [[x[0] for x in licences], [x[1] for x in licences], [x[2] for x in licences]])

    def place(self, ref: str, category: str, lon: float, lat: float,
              licences: list[tuple[date | None, bool]] | None = None) -> None:
        self.places([{"ref": ref, "category": category, "lon": lon, "lat": lat, "licences": licences or []}])

    def community(self, code: str, geom: shapely.Geometry) -> None:
        self.conn.execute("INSERT INTO community (code, name, geom) VALUES (%s, %s,"
                          " ST_Multi(ST_GeomFromText(%s, 4326)))", [code, f"Community {code}", geom.wkt])

    def grid(self, code: str, geom: shapely.Geometry) -> None:
        self.conn.execute("INSERT INTO grid (code, community_code, name, geom) VALUES (%s, %s, %s,"
                          " ST_Multi(ST_GeomFromText(%s, 4326)))",
                          [code, code[:12], f"Grid {code}", geom.wkt])


@pytest.fixture
def world(conn: psycopg.Connection) -> World:
    return World(conn)


@pytest.fixture(scope="session")
def perimeter_url(fresh_database) -> str:
    """A database of the perimeter tests' own, for committed data."""
    return fresh_database("gridmap_perimeter")


@pytest.fixture(scope="session")
def perimeter_settings(perimeter_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(database_url=perimeter_url, data_dir=tmp_path_factory.mktemp("perimeter"),
                    _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def clean(perimeter_url: str) -> Callable[[], None]:
    """Empty the perimeter tables of the committed database (before a test that fills them)."""
    def run() -> None:
        with psycopg.connect(perimeter_url) as c:
            # the assessment's append-only tables (migration 027) refuse TRUNCATE, and the cascade from
            # community reaches them: lift the refusal inside this transaction only
            guards = (("evidence_item", "evidence_item_no_truncate"),
                      ("assessment_freeze", "assessment_freeze_no_truncate"))
            for table, trigger in guards:
                c.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
            c.execute("TRUNCATE violation_event, violation, inspection, licence, place, school, grid,"
                      " community RESTART IDENTITY CASCADE")
            for table, trigger in guards:
                c.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
            c.execute("DELETE FROM perimeter_rule WHERE region <> 'national'")
    run()
    return run
