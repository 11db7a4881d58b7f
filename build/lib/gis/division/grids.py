"""Grids (网格): create, read, list, update, delete; households placed again when a boundary changes."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.areas import Area, by_community_code, by_geometry, by_grid_code
from gis.codes import grid_code_problem, mask_phone
from gis.crs import BBox
from gis.division.communities import GEOM_PARAM, area_polygon, checked_name, division_rules, insert_area
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


def replace_households(conn: psycopg.Connection, area: bytes) -> int:
    """Place the households in ``area`` (WKB) again; the number whose placement changed.

    The work is the database's ``replace_households`` (gis/migrations/010), the one home of
    re-placement: it runs with the acting user's rights, so it touches only households they may write
    and refuses to move any out of their reach. Grid updates and deletes call it from triggers.
    """
    row = conn.execute("SELECT replace_households(ST_GeomFromWKB(%s, 4326))", [area]).fetchone()
    assert row is not None
    return row[0]


def create_grid(conn: psycopg.Connection, code: str, community_code: str, name: str, geometry: Any,
                ref: str | None = None, crs: str | None = None, bbox: BBox | None = None) -> dict:
    """A grid within its community; the households inside it are placed in it."""
    if (reason := grid_code_problem(code, community_code)) is not None:
        raise InvalidInput.one("code", reason)
    name = checked_name(name, ref=ref)
    geom = area_polygon(geometry, crs=crs, bbox=bbox)
    try:
        insert_area(conn, "grid", {"code": code, "community_code": community_code, "name": name,
                                   "ref": ref, "geom": geom})
    except psycopg.errors.ForeignKeyViolation:
        raise NotFound("community", community_code) from None
    replace_households(conn, geom)
    return get_grid(conn, code)


def update_grid(conn: psycopg.Connection, code: str, name: str, geometry: Any, ref: str | None = None,
                crs: str | None = None, bbox: BBox | None = None) -> dict:
    """Replace a grid's name and boundary; a trigger places the households of the old and the new
    boundary again."""
    name = checked_name(name, ref=ref)
    geom = area_polygon(geometry, crs=crs, bbox=bbox)
    with division_rules(conn):
        row = conn.execute(
            f"UPDATE grid SET name = %(name)s, ref = %(ref)s, geom = {GEOM_PARAM} WHERE code = %(code)s "
            "RETURNING code", {"code": code, "name": name, "ref": ref, "geom": geom}).fetchone()
    if row is None:
        raise NotFound("grid", code)
    return get_grid(conn, code)


def delete_grid(conn: psycopg.Connection, code: str) -> None:
    """Delete a grid; a trigger first places its households as if it were gone."""
    row = conn.execute("DELETE FROM grid WHERE code = %s RETURNING code", [code]).fetchone()
    if row is None:
        raise NotFound("grid", code)


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
