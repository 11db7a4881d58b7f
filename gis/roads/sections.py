"""Roads and their live sections (路段): lists with filters and paging, as rows or GeoJSON.

A section's holder comes with the unit's contact person and phone only when ``contacts`` is asked for:
the caller decides it from the reader's roles (gis.access.roles.UNIT_CONTACTS)."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.errors import NotFound

# A section with its holder on a given day (%(on)s); one row per section because the exclusion
# constraint allows at most one assignment per section and day.
_SECTION_SELECT = """
SELECT s.id, s.code, s.road_name, r.ref AS road_ref, s.from_desc, s.to_desc,
       round(s.length_m::numeric, 1)::float8 AS length_m, s.street_name, s.community_code,
       s.grid_code, s.grid_codes, s.parent_id,
       a.id AS assignment_id, u.id AS unit_id, u.name AS unit_name,
       CASE WHEN %(contacts)s THEN u.contact END AS contact, CASE WHEN %(contacts)s THEN u.phone END AS phone,
       lower(a.valid) AS valid_from, upper(a.valid) - 1 AS valid_to, a.duty_day,
       s.geom
FROM road_section s
JOIN road r ON r.id = s.road_id
LEFT JOIN road_section_assignment a ON a.section_id = s.id AND a.valid @> %(on)s::date
LEFT JOIN responsible_unit u ON u.id = a.unit_id
WHERE s.retired_on IS NULL
  AND (%(road)s::text IS NULL OR r.ref = %(road)s)
  AND (%(community)s::text IS NULL OR s.community_code = %(community)s)
  AND (%(grid)s::text IS NULL OR %(grid)s = ANY(s.grid_codes))
  AND (%(street)s::text IS NULL OR s.street_name = %(street)s)
  AND (%(unit_id)s::bigint IS NULL OR a.unit_id = %(unit_id)s)
  AND (%(assigned)s::boolean IS NULL OR (a.id IS NOT NULL) = %(assigned)s)
"""


def _params(on: date | None, road: str | None, community: str | None, grid: str | None,
            street: str | None, unit_id: int | None, assigned: bool | None, contacts: bool) -> dict[str, Any]:
    return {"on": on or date.today(), "road": road, "community": community, "grid": grid,
            "street": street, "unit_id": unit_id, "assigned": assigned, "contacts": contacts}


def list_roads(conn: psycopg.Connection, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    rows = conn.cursor(row_factory=dict_row).execute(
        """SELECT r.id, r.ref, r.name, round(ST_Length(r.geom::geography)::numeric, 1)::float8 AS length_m,
                  count(s.id) AS sections, count(*) OVER () AS total
           FROM road r LEFT JOIN road_section s ON s.road_id = r.id AND s.retired_on IS NULL
           GROUP BY r.id ORDER BY r.ref LIMIT %s OFFSET %s""", [limit, offset]).fetchall()
    totals = [r.pop("total") for r in rows]
    return {"total": totals[0] if totals else 0, "items": rows}


def sections_geojson(conn: psycopg.Connection, *, on: date | None = None, road: str | None = None,
                     community: str | None = None, grid: str | None = None, street: str | None = None,
                     unit_id: int | None = None, assigned: bool | None = None,
                     limit: int = 1000, offset: int = 0, contacts: bool = False) -> dict[str, Any]:
    """Live sections as a GeoJSON FeatureCollection built in SQL, with numberMatched for paging; the
    holders' contact persons and phones only with ``contacts``."""
    query = f"""
    WITH hit AS ({_SECTION_SELECT}),
    page AS (SELECT * FROM hit ORDER BY code LIMIT %(limit)s OFFSET %(offset)s)
    SELECT (SELECT count(*) FROM hit),
           coalesce(json_agg(ST_AsGeoJSON(page.*, 'geom', 7)::json ORDER BY page.code), '[]')
    FROM page"""
    params = _params(on, road, community, grid, street, unit_id, assigned, contacts) | {
        "limit": limit, "offset": offset}
    row = conn.execute(query, params).fetchone()  # type: ignore[arg-type]
    matched, features = row if row else (0, [])
    return {"type": "FeatureCollection", "numberMatched": matched, "numberReturned": len(features),
            "features": features}


def get_section(conn: psycopg.Connection, section_id: int) -> dict[str, Any]:
    row = conn.cursor(row_factory=dict_row).execute(
        """SELECT s.id, s.code, s.road_name, s.from_desc, s.to_desc, s.length_m, s.street_name,
                  s.community_code, s.grid_code, s.grid_codes, s.parent_id, s.created_on, s.retired_on,
                  ST_AsGeoJSON(s.geom, 7)::json AS geometry
           FROM road_section s WHERE s.id = %s""", [section_id]).fetchone()
    if row is None:
        raise NotFound("road section", section_id)
    return row


def resolve_section(conn: psycopg.Connection, key: str) -> int:
    """A live section's id from its code (R1-002) or its numeric id, as a planner types it."""
    row = conn.execute(
        "SELECT id FROM road_section WHERE retired_on IS NULL AND (code = %s OR id::text = %s)"
        " ORDER BY code = %s DESC LIMIT 1", [key, key, key]).fetchone()
    if row is None:
        raise NotFound("road section", key)
    return row[0]
