"""Grids (网格): create, read, list, update, delete; households re-assigned when a boundary changes."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.areas import Area, by_community_code, by_geometry, by_grid_code
from gis.codes import grid_code_problem, mask_phone
from gis.crs import BBox
from gis.division.communities import GEOM_PARAM, area_polygon, checked_name, insert_area
from gis.errors import InvalidInput, NotFound


def list_grids(conn: psycopg.Connection, community: str | None = None) -> dict:
    """The grids as a GeoJSON FeatureCollection, built in SQL (much faster than via geopandas)."""
    row = conn.execute(
        f"""
        SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
            json_build_object('type', 'Feature', 'id', g.code,
                              'geometry', ST_AsGeoJSON(g.geom, 7)::json,
                              'properties', json_build_object(
                                  'code', g.code, 'name', g.name, 'community_code', g.community_code,
                                  'ref', g.ref, 'area_m2', ST_Area(g.geom::geography)))
            ORDER BY g.code), '[]'::json))
        FROM grid g
        WHERE {by_community_code("g.community_code")}
        """, Area(community=community).params()).fetchone()
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
    name = checked_name(name, ref=ref)
    geom = area_polygon(geometry, crs=crs, bbox=bbox)
    try:
        insert_area(conn, "grid", {"code": code, "community_code": community_code, "name": name,
                                   "ref": ref, "geom": geom})
    except psycopg.errors.ForeignKeyViolation:
        raise NotFound("community", community_code) from None
    reassign_households(conn, area=geom)
    return get_grid(conn, code)


def update_grid(conn: psycopg.Connection, code: str, name: str, geometry: Any, ref: str | None = None,
                crs: str | None = None, bbox: BBox | None = None) -> dict:
    """Replace a grid's name and boundary; households in the old or new boundary are re-assigned."""
    name = checked_name(name, ref=ref)
    geom = area_polygon(geometry, crs=crs, bbox=bbox)
    # The FROM subquery reads the row as it was before this UPDATE: the old boundary.
    row = conn.execute(
        f"UPDATE grid g SET name = %(name)s, ref = %(ref)s, geom = {GEOM_PARAM} "
        "FROM (SELECT geom FROM grid WHERE code = %(code)s) old WHERE g.code = %(code)s "
        "RETURNING ST_AsBinary(ST_Union(old.geom, g.geom))",
        {"code": code, "name": name, "ref": ref, "geom": geom}).fetchone()
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
            f"""
            SELECT h.id, h.address, h.building, h.unit, h.room, h.grid_code, h.placement::text AS placement,
                   ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat
            FROM household h
            WHERE h.placement <> 'inside'
              AND (({by_grid_code("h.grid_code")})
                   OR (h.grid_code IS NULL AND {by_geometry("h.geom")}))
            ORDER BY h.placement, h.id
            """, Area(community=community).params()).fetchall()
