"""How well the road sections are covered: assigned length per street, community and grid, the
unassigned sections, and sections that cover the same stretch of road twice."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.sql_files import sql_text

LEVELS = ("total", "street", "community", "grid")
OVERLAP_TOLERANCE_M = 1.0  # shorter shared stretches are digitising noise at a junction


def coverage(conn: psycopg.Connection, on: date | None = None) -> dict[str, Any]:
    """Coverage on ``on`` (default today): {"on", "total": {...}, "street": [...], "community": [...],
    "grid": [...]}; a key of None means outside every street/community/grid."""
    on = on or date.today()
    rows = conn.cursor(row_factory=dict_row).execute(sql_text("gis.roads", "coverage"), {"on": on}).fetchall()
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
