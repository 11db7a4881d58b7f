"""How well the road sections are covered: assigned length per street, community and grid, the
unassigned sections, and sections that cover the same stretch of road twice.

Coverage (覆盖率) has one definition, computed in one place (``coverage``, coverage.sql) and shown
unchanged by the roads map, ``GET /roads/coverage`` and ``gridmap roads coverage``:

- A section's length is its ellipsoidal (WGS 84) length; it is covered on a day when a unit holds it
  that day. ``total_m`` sums the live sections, ``assigned_m`` the covered ones.
- Every live section counts once at every level, so at each level the rows add up to the total:
  per street (街道) the whole section at its street (``road_section.street_name``, the street holding
  most of it); per community (社区) and per grid (网格) the length of the section inside each
  polygon as drawn today (within BORDER_SNAP_DEG, about 1 cm), a stretch held by k polygons at once
  (a road drawn along the border of two grids) counting 1/k to each, and what lies outside every
  polygon under the key None.
- ``sections`` counts the sections with at least 5 cm in the row, ``unassigned_sections`` those of them
  nobody holds; figures are rounded to 0.1 m once, at the end.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.sql_files import sql_text

LEVELS = ("total", "street", "community", "grid")
OVERLAP_TOLERANCE_M = 1.0  # shorter shared stretches are digitising noise at a junction
# A stretch this close to a polygon (degrees, about 1 cm) is in it: roads digitised on a grid border
# lie a float's width to either side of it, and must not fall "outside every grid" by that.
BORDER_SNAP_DEG = 1e-7


def coverage(conn: psycopg.Connection, on: date | None = None) -> dict[str, Any]:
    """Coverage on ``on`` (default today): {"on", "total": {...}, "street": [...], "community": [...],
    "grid": [...]}; a key of None means outside every street/community/grid."""
    on = on or date.today()
    rows = conn.cursor(row_factory=dict_row).execute(sql_text("gis.roads", "coverage"),
                                                     {"on": on, "snap": BORDER_SNAP_DEG}).fetchall()
    report: dict[str, Any] = {"on": on.isoformat(), "total": None} | {level: [] for level in LEVELS[1:]}
    for row in sorted(rows, key=lambda r: (LEVELS.index(r["level"]), r["key"] is None, r["key"] or "")):
        level = row.pop("level")
        if level == "total":
            row.pop("key")
            report["total"] = row
        else:
            report[level].append(row)
    if report["total"] is None:  # no sections yet
        report["total"] = {"total_m": 0.0, "assigned_m": 0.0, "assigned_pct": None, "sections": 0,
                           "unassigned_sections": 0}
    return report


def coverage_of(conn: psycopg.Connection, on: date | None = None, community: str | None = None
                ) -> dict[str, Any]:
    """One row of ``coverage``: the district total, or the row of ``community`` (zeros when no
    section runs through it). The roads map prints this row, so it says what the API says."""
    report = coverage(conn, on)
    if community is None:
        return report["total"]
    row = next((r for r in report["community"] if r["key"] == community), None)
    return row or {"key": community, "total_m": 0.0, "assigned_m": 0.0, "assigned_pct": None,
                   "sections": 0, "unassigned_sections": 0}


def unassigned_sections(conn: psycopg.Connection, on: date | None = None, limit: int = 1000,
                        offset: int = 0) -> list[dict[str, Any]]:
    """Live sections nobody holds on ``on``, longest first: the gaps a planner must fill."""
    return conn.cursor(row_factory=dict_row).execute(
        """SELECT s.id, s.code, s.road_name, s.from_desc, s.to_desc,
                  round(s.length_m::numeric, 1)::float8 AS length_m,
                  s.street_name, s.community_code, s.grid_code
           FROM road_section s
           WHERE s.retired_on IS NULL
             AND NOT EXISTS (SELECT 1 FROM road_section_assignment a
                             WHERE a.section_id = s.id AND a.valid @> %s::date)
           ORDER BY s.length_m DESC, s.code LIMIT %s OFFSET %s""",
        [on or date.today(), limit, offset]).fetchall()


def overlapping_sections(conn: psycopg.Connection,
                         tolerance_m: float = OVERLAP_TOLERANCE_M) -> list[dict[str, Any]]:
    """Pairs of live sections sharing more than ``tolerance_m`` of line (the same stretch twice)."""
    return conn.cursor(row_factory=dict_row).execute(
        sql_text("gis.roads", "overlaps"), {"tolerance_m": tolerance_m}).fetchall()
