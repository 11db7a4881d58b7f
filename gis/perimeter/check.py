"""The school-perimeter check (校园周边200米): places that break a rule, with the nearest school."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg import sql

from gis.areas import Area, by_geometry
from gis.errors import InvalidInput, NotFound
from gis.local_tm import local_tm_srid
from gis.perimeter.export import Column, Listing, rows
from gis.sql_files import sql_text

CHECK_SQL = sql.SQL(sql_text("gis.perimeter", "check")).format(
    place_in_area=sql.SQL(by_geometry("p.geom")))
CSV_COLUMNS = ("place_ref", "place_name", "category", "school_ref", "school_name", "rule", "distance_m")
COLUMNS = tuple(Column(c, c, 2 if c == "distance_m" else None) for c in CSV_COLUMNS)
XLSX_EXTRA = tuple(Column(c, c) for c in ("licence_state", "kind", "method", "lon", "lat"))
PROPERTIES = ("place_id", "place_ref", "place_name", "category", "address", "school_id", "school_ref",
              "school_name", "school_level", "rule_id", "rule", "kind", "method", "distance_m",
              "licence_state")


@dataclass(frozen=True)
class Scope:
    """Which violations to list: all (the district), a community, a grid or one school (ref or id)."""

    community: str | None = None
    grid: str | None = None
    school: str | None = None
    place_id: int | None = None  # one place only: the re-check after an inspection

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.community, self.grid, self.school)) > 1:
            raise InvalidInput.one("scope", "give at most one of community, grid, school")


def resolve_school(conn: psycopg.Connection, key: str) -> int:
    """A school's id from its ref (the id in the imported file) or, failing that, its numeric id."""
    row = conn.execute("SELECT id FROM school WHERE ref = %s", [key]).fetchone()
    if row is None and key.isdigit():
        row = conn.execute("SELECT id FROM school WHERE id = %s", [int(key)]).fetchone()
    if row is None:
        raise NotFound("school", key)
    return int(row[0])


def check_centre(conn: psycopg.Connection, scope: Scope, school_id: int | None) -> tuple[float, float]:
    """Centre of the data being checked, for the local TM (any point near it will do)."""
    if scope.community or scope.grid:
        table, code = ("community", scope.community) if scope.community else ("grid", scope.grid)
        query = sql.SQL("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM {} WHERE code = %s) x")
        row = conn.execute(query.format(sql.Identifier(table)), [code]).fetchone()
        if row is None:
            raise NotFound(table, code)
    else:
        row = conn.execute(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)::geometry) c FROM school"
            " WHERE %(id)s::bigint IS NULL OR id = %(id)s::bigint) x", {"id": school_id}).fetchone()
    if row is None or row[0] is None:
        return (0.0, 0.0)  # no schools: nothing to measure, any SRID does
    return float(row[0]), float(row[1])


def violation_listing(conn: psycopg.Connection, day: date | None = None,
                      scope: Scope | None = None) -> Listing:
    """The check for ``day`` (default today) in ``scope``, ready to run: resolves the school and the
    area first, so that an unknown one is a NotFound before any output starts."""
    scope = scope or Scope()
    day = day or date.today()
    school_id = resolve_school(conn, scope.school) if scope.school else None
    srid = local_tm_srid(conn, *check_centre(conn, scope, school_id))
    params = {"day": day, "srid": srid, "school": school_id, "place": scope.place_id,
              **Area(scope.community, scope.grid).params()}
    return Listing(CHECK_SQL, params, ("distance_m", "place_id"), COLUMNS, PROPERTIES, "place_id",
                   "violations", {"date": day.isoformat()}, sheet="violations", xlsx_extra=XLSX_EXTRA)


def perimeter_violations(conn: psycopg.Connection, day: date | None = None,
                         scope: Scope | None = None) -> list[dict[str, Any]]:
    """Every place breaking a rule on ``day`` (default today) in ``scope``, nearest first.

    One set-based statement (gis/perimeter/check.sql); rows are dicts with the place, the school,
    the rule and its label (``rule``), ``distance_m`` (ellipsoid, metres, 0 inside a campus),
    ``licence_state``, ``lon`` and ``lat``.
    """
    return rows(conn, violation_listing(conn, day, scope))
