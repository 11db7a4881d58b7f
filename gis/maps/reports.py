"""What the reports map (不文明行为地图) draws, fetched in one statement: each report the user reads with
its state, and the road sections with open reports, shaded by open reports per 100 m of section.

Run as the caller: row-level security keeps the reports to those she reads (a reporter her own, a unit
its unit's, a grid worker those in her grids, an admin or a viewer their areas'), so the map of a unit's
account shows its unit's reports only. A report belongs to a section by its routing evidence (the
nearest live section within 30 m on the day it was seen, routed_section); a section's density is its
open reports (states whose ``open`` is true) over its length in hundreds of metres.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from gis.errors import InvalidInput

AREAS = {
    None: "true",
    "community": "r.area_code = %(code)s",
    "grid": "r.routed_grid = %(code)s",
    "street": "starts_with(r.area_code, %(code)s)",
}
CODE_LENGTHS = {"street": 9, "community": 12, "grid": 15}

_REPORT_LAYER = """
WITH seen AS MATERIALIZED (
    SELECT r.id, r.position, r.state, r.category, r.report_day, r.routed_section, r.area_code, r.routed_grid
    FROM report r WHERE {area}
), sections AS (
    SELECT s.id, s.code, s.road_name, s.length_m, s.geom, count(*) AS open_reports
    FROM seen JOIN report_state st ON st.code = seen.state AND st.open
    JOIN road_section s ON s.id = seen.routed_section
    GROUP BY s.id
)
SELECT
    (SELECT coalesce(json_agg(json_build_array(
                seen.id, round(ST_Y(seen.position)::numeric, 6)::float8,
                round(ST_X(seen.position)::numeric, 6)::float8, seen.state, st.name_zh, c.name_zh,
                seen.report_day, st.open) ORDER BY seen.id), '[]')
     FROM seen JOIN report_state st ON st.code = seen.state JOIN report_category c ON c.code = seen.category),
    (SELECT coalesce(json_agg(json_build_object(
                'type', 'Feature', 'geometry', ST_AsGeoJSON(s.geom, 6)::json,
                'properties', json_build_object(
                    'id', s.id, 'code', s.code, 'road_name', s.road_name,
                    'length_m', round(s.length_m::numeric, 1), 'open_reports', s.open_reports,
                    'per_100m', round((s.open_reports * 100.0 / greatest(s.length_m, 1))::numeric, 2)))
            ORDER BY s.id), '[]')
     FROM sections s),
    (SELECT array[ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)]
     FROM (SELECT ST_Extent(seen.position)::geometry AS e FROM seen) x WHERE e IS NOT NULL)
"""


@dataclass
class ReportLayerData:
    """``reports`` rows: [id, lat, lon, state, state's name, category's name, day seen, open].
    ``sections``: GeoJSON features (id, code, road_name, length_m, open_reports, per_100m).
    ``bbox``: the reports' extent (None: no report)."""

    reports: list[list[Any]]
    sections: list[dict[str, Any]]
    bbox: tuple[float, float, float, float] | None

    @property
    def counts(self) -> dict[str, int]:
        """Reports per state, open reports, sections shaded."""
        counts: dict[str, int] = {}
        for row in self.reports:
            counts[row[3]] = counts.get(row[3], 0) + 1
        return {
            **counts,
            "reports": len(self.reports),
            "open": sum(1 for r in self.reports if r[7]),
            "sections": len(self.sections),
        }


def report_layer_data(
    conn: psycopg.Connection, kind: str | None = None, code: str | None = None
) -> ReportLayerData:
    """The reports the user reads, of the ``kind`` ("street", "community" or "grid") area ``code``,
    or all of them (kind None)."""
    if kind not in AREAS:
        raise InvalidInput.one("kind", "street, community or grid")
    if kind is not None and (code is None or len(code) != CODE_LENGTHS[kind] or not code.isdigit()):
        raise InvalidInput.one(kind, f"a {CODE_LENGTHS[kind]}-digit code")
    query = sql.SQL(_REPORT_LAYER).format(area=sql.SQL(AREAS[kind]))
    row = conn.execute(query, {"code": code}).fetchone()
    assert row is not None
    reports, sections, bbox = row
    return ReportLayerData(reports, sections, tuple(bbox) if bbox else None)  # type: ignore[arg-type]
