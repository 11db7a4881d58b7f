"""Communities (社区): create, read, list, update, delete; and the checks every division area shares."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import psycopg
import shapely
from psycopg.rows import dict_row
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.validation import explain_validity

from gis.codes import community_code_problem
from gis.crs import BBox, normalise_crs_name, to_wgs84
from gis.errors import Conflict, InvalidInput, NotFound, Problem, text_problems

# Geometry as bound WKB; the column type (MultiPolygon, 4326) is enforced by the table.
GEOM_PARAM = "ST_Multi(ST_GeomFromWKB(%(geom)s, 4326))"


def refuse_nul(**fields: Any) -> None:
    """PostgreSQL text cannot hold NUL characters: name the field instead of failing in the driver."""
    if problems := text_problems(fields):
        raise InvalidInput(problems)


def checked_name(name: str, **text: str | None) -> str:
    """``name`` stripped, once neither it nor the other ``text`` fields hold NUL and it is not blank."""
    refuse_nul(name=name, **text)
    if not name.strip():
        raise InvalidInput.one("name", "must not be blank")
    return name.strip()


def area_polygon(geometry: Any, field: str = "geometry", crs: str | None = None,
                 bbox: BBox | None = None) -> bytes:
    """A GeoJSON (Multi)Polygon checked and converted to EPSG:4326 MultiPolygon WKB.

    Validity is checked here, not only by the table's CHECK, so that the caller learns why
    (self-intersection at x y) instead of a constraint name.
    """
    try:
        geom = shape(geometry)
    except Exception as exc:  # shapely raises several types for malformed GeoJSON
        raise InvalidInput.one(field, f"not a GeoJSON geometry ({type(exc).__name__})") from None
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    if not isinstance(geom, MultiPolygon) or geom.is_empty:
        raise InvalidInput.one(field, f"must be a non-empty Polygon or MultiPolygon, got {geom.geom_type}")
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        raise InvalidInput.one(field, "coordinates must be finite numbers")
    try:
        name = normalise_crs_name(crs)
    except ValueError as exc:
        raise InvalidInput.one("crs", str(exc)) from None
    if name != "EPSG:4326":
        geom = shapely.transform(geom, lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], name)))
    if bbox is not None:
        minx, miny, maxx, maxy = geom.bounds
        if minx < bbox[0] or miny < bbox[1] or maxx > bbox[2] or maxy > bbox[3]:
            raise InvalidInput.one(field, f"extends outside the region {bbox} (lon/lat expected)")
    if not geom.is_valid:
        raise InvalidInput.one(field, f"invalid polygon: {explain_validity(geom)}")
    return shapely.to_wkb(geom)


# The database's rules of the division (gis/migrations/010): a grid lies within its community, a
# community keeps its grids and stays out of communities beyond the writer's scope, a grid keeps its code.
DIVISION_RULES = frozenset({"grid_within_community", "community_within_scope", "grid_code_is_fixed"})


@contextmanager
def division_rules(conn: psycopg.Connection) -> Iterator[None]:
    """Run a write of the division in its own savepoint, reporting a broken division rule as bad
    input on the field the database names (``geom``, ``code``) instead of a bare constraint error."""
    try:
        with conn.transaction():
            yield
    except psycopg.errors.CheckViolation as exc:
        if exc.diag.constraint_name not in DIVISION_RULES:
            raise
        raise InvalidInput.one(exc.diag.column_name or "geom", exc.diag.message_primary or "") from None


def insert_area(conn: psycopg.Connection, table: str, row: dict[str, Any]) -> None:
    """Insert a community or grid (``row`` by column, ``geom`` as WKB) in its own savepoint;
    an existing code is a Conflict. ``table`` and the column names are code, never input."""
    columns = ", ".join(row)
    values = ", ".join(GEOM_PARAM if c == "geom" else f"%({c})s" for c in row)
    try:
        with division_rules(conn):
            conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({values})", row)
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"{table} {row['code']} already exists") from None


_COMMUNITY_COLUMNS = """c.code, c.name, c.street_name, c.ref,
    ST_Area(c.geom::geography) AS area_m2,
    (SELECT count(*) FROM grid g WHERE g.community_code = c.code) AS grids"""


def list_communities(conn: psycopg.Connection) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(f"SELECT {_COMMUNITY_COLUMNS} FROM community c ORDER BY c.code").fetchall()


def get_community(conn: psycopg.Connection, code: str) -> dict:
    """A community with its boundary as a GeoJSON geometry."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"SELECT {_COMMUNITY_COLUMNS}, ST_AsGeoJSON(c.geom, 7)::json AS geometry "
            "FROM community c WHERE c.code = %s", [code]).fetchone()
    if row is None:
        raise NotFound("community", code)
    return row


def create_community(conn: psycopg.Connection, code: str, name: str, geometry: Any,
                     street_name: str | None = None, ref: str | None = None,
                     crs: str | None = None, bbox: BBox | None = None) -> dict:
    refuse_nul(name=name, street_name=street_name, ref=ref)
    problems = []
    if (reason := community_code_problem(code)) is not None:
        problems.append(Problem("code", reason))
    if not name.strip():
        problems.append(Problem("name", "must not be blank"))
    if problems:
        raise InvalidInput(problems)
    geom = area_polygon(geometry, crs=crs, bbox=bbox)
    insert_area(conn, "community", {"code": code, "name": name.strip(), "street_name": street_name,
                                    "ref": ref, "geom": geom})
    return get_community(conn, code)


def update_community(conn: psycopg.Connection, code: str, name: str, geometry: Any,
                     street_name: str | None = None, ref: str | None = None,
                     crs: str | None = None, bbox: BBox | None = None) -> dict:
    name = checked_name(name, street_name=street_name, ref=ref)
    geom = area_polygon(geometry, crs=crs, bbox=bbox)
    with division_rules(conn):
        row = conn.execute(
            "UPDATE community SET name = %(name)s, street_name = %(street)s, ref = %(ref)s, "
            f"geom = {GEOM_PARAM} WHERE code = %(code)s RETURNING code",
            {"code": code, "name": name, "street": street_name, "ref": ref, "geom": geom}).fetchone()
    if row is None:
        raise NotFound("community", code)
    return get_community(conn, code)


def delete_community(conn: psycopg.Connection, code: str) -> None:
    try:
        with conn.transaction():
            row = conn.execute("DELETE FROM community WHERE code = %s RETURNING code", [code]).fetchone()
    except psycopg.errors.ForeignKeyViolation:
        raise Conflict(f"community {code} still has grids: delete them first") from None
    if row is None:
        raise NotFound("community", code)
