"""Communities (社区), grids (网格), grid workers (网格员); households re-assigned after grid changes."""

from __future__ import annotations

from typing import Any

import numpy as np
import psycopg
import shapely
from psycopg.rows import dict_row
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.validation import explain_validity

from gis.codes import community_code_problem, grid_code_problem, mask_phone
from gis.crs import BBox, normalise_crs_name, to_wgs84
from gis.errors import Conflict, InvalidInput, NotFound, Problem, text_problems

# Geometry as bound WKB; the column type (MultiPolygon, 4326) is enforced by the table.
_GEOM_PARAM = "ST_Multi(ST_GeomFromWKB(%(geom)s, 4326))"


def _text(**fields: Any) -> None:
    """PostgreSQL text cannot hold NUL characters: name the field instead of failing in the driver."""
    if problems := text_problems(fields):
        raise InvalidInput(problems)


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


# --- communities -------------------------------------------------------------------------------

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
    _text(name=name, street_name=street_name, ref=ref)
    problems = []
    if (reason := community_code_problem(code)) is not None:
        problems.append(Problem("code", reason))
    if not name.strip():
        problems.append(Problem("name", "must not be blank"))
    if problems:
        raise InvalidInput(problems)
    geom = area_polygon(geometry, crs=crs, bbox=bbox)
    try:
        with conn.transaction():
            conn.execute(
                f"INSERT INTO community (code, name, street_name, ref, geom) "
                f"VALUES (%(code)s, %(name)s, %(street)s, %(ref)s, {_GEOM_PARAM})",
                {"code": code, "name": name.strip(), "street": street_name, "ref": ref, "geom": geom})
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"community {code} already exists") from None
    return get_community(conn, code)


def update_community(conn: psycopg.Connection, code: str, name: str, geometry: Any,
                     street_name: str | None = None, ref: str | None = None,
                     crs: str | None = None, bbox: BBox | None = None) -> dict:
    _text(name=name, street_name=street_name, ref=ref)
    if not name.strip():
        raise InvalidInput.one("name", "must not be blank")
    geom = area_polygon(geometry, crs=crs, bbox=bbox)
    row = conn.execute(
        "UPDATE community SET name = %(name)s, street_name = %(street)s, ref = %(ref)s, "
        f"geom = {_GEOM_PARAM} WHERE code = %(code)s RETURNING code",
        {"code": code, "name": name.strip(), "street": street_name, "ref": ref, "geom": geom}).fetchone()
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


# --- grids ---------------------------------------------------------------------------------------

def list_grids(conn: psycopg.Connection, community: str | None = None) -> dict:
    """The grids as a GeoJSON FeatureCollection, built in SQL (much faster than via geopandas)."""
    row = conn.execute(
        """
        SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
            json_build_object('type', 'Feature', 'id', g.code,
                              'geometry', ST_AsGeoJSON(g.geom, 7)::json,
                              'properties', json_build_object(
                                  'code', g.code, 'name', g.name, 'community_code', g.community_code,
                                  'ref', g.ref, 'area_m2', ST_Area(g.geom::geography)))
            ORDER BY g.code), '[]'::json))
        FROM grid g
        WHERE %(community)s::text IS NULL OR g.community_code = %(community)s
        """, {"community": community}).fetchone()
    assert row is not None
    return row[0]


def get_grid(conn: psycopg.Connection, code: str) -> dict:
    """The grid's archive (一档) without statistics: code, name, boundary, area and its workers."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            """
            SELECT g.code, g.name, g.community_code, g.ref, ST_Area(g.geom::geography) AS area_m2,
                   ST_AsGeoJSON(g.geom, 7)::json AS geometry,
                   coalesce((SELECT json_agg(json_build_object('id', w.id, 'name', w.name, 'phone', w.phone,
                                                               'ref', w.ref, 'role', wg.role) ORDER BY w.id)
                             FROM grid_worker_grid wg JOIN grid_worker w ON w.id = wg.worker_id
                             WHERE wg.grid_code = g.code), '[]'::json) AS workers
            FROM grid g WHERE g.code = %s
            """, [code]).fetchone()
    if row is None:
        raise NotFound("grid", code)
    for worker in row["workers"]:
        worker["phone"] = mask_phone(worker["phone"])
    return row


def reassign_households(conn: psycopg.Connection, area: bytes | None = None,
                        grid_codes: list[str] | None = None) -> int:
    """Re-run grid assignment for households in ``area`` (WKB) or now assigned to ``grid_codes``.

    One UPDATE ... FROM for every affected household. Only rows whose assignment changes are
    written; the version is not bumped because grid and placement are derived, not edited.
    """
    cur = conn.execute(
        """
        UPDATE household h SET grid_code = a.grid_code, placement = a.placement, updated_at = now()
        FROM (SELECT h2.id, p.grid_code, p.placement
              FROM household h2 CROSS JOIN LATERAL grid_for_point(h2.geom) p
              WHERE h2.grid_code = ANY(%(codes)s)
                 OR (%(area)s::bytea IS NOT NULL AND ST_Intersects(h2.geom, ST_GeomFromWKB(%(area)s, 4326)))
             ) a
        WHERE h.id = a.id
          AND (h.grid_code, h.placement) IS DISTINCT FROM (a.grid_code, a.placement)
        """, {"codes": grid_codes or [], "area": area})
    return cur.rowcount


def create_grid(conn: psycopg.Connection, code: str, community_code: str, name: str, geometry: Any,
                ref: str | None = None, crs: str | None = None, bbox: BBox | None = None) -> dict:
    if (reason := grid_code_problem(code, community_code)) is not None:
        raise InvalidInput.one("code", reason)
    _text(name=name, ref=ref)
    if not name.strip():
        raise InvalidInput.one("name", "must not be blank")
    geom = area_polygon(geometry, crs=crs, bbox=bbox)
    try:
        with conn.transaction():
            conn.execute(
                f"INSERT INTO grid (code, community_code, name, ref, geom) "
                f"VALUES (%(code)s, %(community)s, %(name)s, %(ref)s, {_GEOM_PARAM})",
                {"code": code, "community": community_code, "name": name.strip(), "ref": ref, "geom": geom})
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"grid {code} already exists") from None
    except psycopg.errors.ForeignKeyViolation:
        raise NotFound("community", community_code) from None
    reassign_households(conn, area=geom)
    return get_grid(conn, code)


def update_grid(conn: psycopg.Connection, code: str, name: str, geometry: Any, ref: str | None = None,
                crs: str | None = None, bbox: BBox | None = None) -> dict:
    """Replace a grid's name and boundary; households in the old or new boundary are re-assigned."""
    _text(name=name, ref=ref)
    if not name.strip():
        raise InvalidInput.one("name", "must not be blank")
    geom = area_polygon(geometry, crs=crs, bbox=bbox)
    # The FROM subquery reads the row as it was before this UPDATE: the old boundary.
    row = conn.execute(
        f"UPDATE grid g SET name = %(name)s, ref = %(ref)s, geom = {_GEOM_PARAM} "
        "FROM (SELECT geom FROM grid WHERE code = %(code)s) old WHERE g.code = %(code)s "
        "RETURNING ST_AsBinary(ST_Union(old.geom, g.geom))",
        {"code": code, "name": name.strip(), "ref": ref, "geom": geom}).fetchone()
    if row is None:
        raise NotFound("grid", code)
    # Old and new boundary together: households leaving, entering, or whose border status changes
    # (a neighbour's household on the old shared edge becomes inside).
    reassign_households(conn, area=bytes(row[0]), grid_codes=[code])
    return get_grid(conn, code)


def delete_grid(conn: psycopg.Connection, code: str) -> None:
    row = conn.execute("DELETE FROM grid WHERE code = %s RETURNING ST_AsBinary(geom)", [code]).fetchone()
    if row is None:
        raise NotFound("grid", code)
    # The foreign key has set grid_code to NULL; placement must be recomputed for the old area.
    reassign_households(conn, area=bytes(row[0]))


def unplaced_households(conn: psycopg.Connection, community: str | None = None) -> list[dict]:
    """Households outside every grid or on a border (to check by hand), optionally within a community.

    A household outside every grid has no community through its grid, so the community's
    boundary decides which outside households belong to it.
    """
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """
            SELECT h.id, h.address, h.building, h.unit, h.room, h.grid_code, h.placement::text AS placement,
                   ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat
            FROM household h
            LEFT JOIN grid g ON g.code = h.grid_code
            WHERE h.placement <> 'inside'
              AND (%(community)s::text IS NULL
                   OR g.community_code = %(community)s
                   OR (h.grid_code IS NULL AND EXISTS (
                         SELECT 1 FROM community c
                         WHERE c.code = %(community)s AND ST_Intersects(c.geom, h.geom))))
            ORDER BY h.placement, h.id
            """, {"community": community}).fetchall()


# --- grid workers ------------------------------------------------------------------------------

def create_worker(conn: psycopg.Connection, name: str, phone: str | None = None, ref: str | None = None,
                  grids: list[str] | None = None, role: str = "worker") -> dict:
    """A grid worker, assigned to ``grids`` in the same statement."""
    _text(name=name, phone=phone, ref=ref)
    if not name.strip():
        raise InvalidInput.one("name", "must not be blank")
    try:
        with conn.transaction():
            row = conn.execute(
                """
                WITH w AS (INSERT INTO grid_worker (name, phone, ref) VALUES (%(name)s, %(phone)s, %(ref)s)
                           RETURNING id),
                     a AS (INSERT INTO grid_worker_grid (worker_id, grid_code, role)
                           SELECT w.id, g, %(role)s FROM w, unnest(%(grids)s::text[]) g)
                SELECT id FROM w
                """, {"name": name.strip(), "phone": phone, "ref": ref, "grids": grids or [],
                      "role": role}).fetchone()
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"a grid worker with ref {ref!r} already exists") from None
    except psycopg.errors.ForeignKeyViolation:
        raise InvalidInput.one("grids", "unknown grid code") from None
    assert row is not None
    return get_worker(conn, row[0])


_WORKERS_SQL = """
    SELECT w.id, w.name, w.phone, w.ref,
           coalesce((SELECT json_agg(json_build_object('grid_code', wg.grid_code, 'role', wg.role)
                                     ORDER BY wg.grid_code)
                     FROM grid_worker_grid wg WHERE wg.worker_id = w.id), '[]'::json) AS grids
    FROM grid_worker w
    WHERE (%(id)s::bigint IS NULL OR w.id = %(id)s)
      AND (%(grid)s::text IS NULL OR EXISTS (
           SELECT 1 FROM grid_worker_grid wg WHERE wg.worker_id = w.id AND wg.grid_code = %(grid)s))
    ORDER BY w.id
"""


def list_workers(conn: psycopg.Connection, grid: str | None = None,
                 worker_id: int | None = None) -> list[dict]:
    """Grid workers with their grids (phones masked), optionally those of one grid."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_WORKERS_SQL, {"grid": grid, "id": worker_id}).fetchall()
    for row in rows:
        row["phone"] = mask_phone(row["phone"])
    return rows


def get_worker(conn: psycopg.Connection, worker_id: int) -> dict:
    rows = list_workers(conn, worker_id=worker_id)
    if not rows:
        raise NotFound("grid worker", worker_id)
    return rows[0]


def assign_worker(conn: psycopg.Connection, worker_id: int, grid_code: str, role: str = "worker") -> dict:
    """Assign a worker to a grid (or change the role); idempotent."""
    try:
        with conn.transaction():
            conn.execute(
                "INSERT INTO grid_worker_grid (worker_id, grid_code, role) VALUES (%s, %s, %s) "
                "ON CONFLICT (worker_id, grid_code) DO UPDATE SET role = EXCLUDED.role",
                [worker_id, grid_code, role])
    except psycopg.errors.ForeignKeyViolation as exc:
        what = "grid" if "grid_code" in (exc.diag.message_detail or "") else "grid worker"
        raise NotFound(what, grid_code if what == "grid" else worker_id) from None
    return get_worker(conn, worker_id)


def unassign_worker(conn: psycopg.Connection, worker_id: int, grid_code: str) -> None:
    row = conn.execute("DELETE FROM grid_worker_grid WHERE worker_id = %s AND grid_code = %s RETURNING 1",
                       [worker_id, grid_code]).fetchone()
    if row is None:
        raise NotFound("assignment of grid worker to grid", f"{worker_id}/{grid_code}")
