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

The roads map of a community draws exactly the sections its row counts (``community_sections_geojson``),
so a section on the border of two communities is on both maps. ``road_section.community_code`` and
``grid_code`` are a section's main community and grid, labels for lists; no figure is summed by them.
Shares are computed on the day from the polygons as they are, never stored: a redrawn grid needs no
recomputation (50,000 sections in about 0.5 s, benchmarks/bench_roads.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.roads.sections import _SECTION_SELECT, _params
from gis.sql_files import sql_text

LEVELS = ("total", "street", "community", "grid")
OVERLAP_TOLERANCE_M = 1.0  # shorter shared stretches are digitising noise at a junction
# A stretch this close to a polygon (degrees, about 1 cm) is in it: roads digitised on a grid border
# lie a float's width to either side of it, and must not fall "outside every grid" by that.
BORDER_SNAP_DEG = 1e-7


def _rows(conn: psycopg.Connection, on: date, community: str | None) -> list[dict[str, Any]]:
    return conn.cursor(row_factory=dict_row).execute(
        sql_text("gis.roads", "coverage"), {"on": on, "snap": BORDER_SNAP_DEG, "community": community}
    ).fetchall()


def _empty(key: str | None) -> dict[str, Any]:
    return {"key": key, "total_m": 0.0, "assigned_m": 0.0, "assigned_pct": None, "sections": 0,
            "unassigned_sections": 0}


def coverage(conn: psycopg.Connection, on: date | None = None) -> dict[str, Any]:
    """Coverage on ``on`` (default today): {"on", "total": {...}, "street": [...], "community": [...],
    "grid": [...]}; a key of None means outside every street/community/grid."""
    on = on or date.today()
    report: dict[str, Any] = {"on": on.isoformat(), "total": None} | {level: [] for level in LEVELS[1:]}
    rows = _rows(conn, on, None)
    for row in sorted(rows, key=lambda r: (LEVELS.index(r["level"]), r["key"] is None, r["key"] or "")):
        level = row.pop("level")
        row.pop("section_ids")
        if level == "total":
            row.pop("key")
            report["total"] = row
        else:
            report[level].append(row)
    if report["total"] is None:  # no sections yet
        report["total"] = {k: v for k, v in _empty(None).items() if k != "key"}
    return report


def community_coverage(conn: psycopg.Connection, on: date | None, community: str
                       ) -> tuple[dict[str, Any], list[int]]:
    """The ``community`` row of ``coverage`` (zeros when no section runs through it) and the ids of
    the sections it counts (a share of at least 5 cm): the set the roads map draws for the community,
    so what it shows is what it prints. Looks only at the sections near the community."""
    rows = _rows(conn, on or date.today(), community)
    row = next((r for r in rows if r["level"] == "community" and r["key"] == community), None)
    if row is None:
        return _empty(community), []
    ids = row.pop("section_ids") or []
    row.pop("level")
    return row, ids


def community_sections_geojson(conn: psycopg.Connection, on: date | None, community: str, *,
                                limit: int = 20_000, contacts: bool = False
                                ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``community`` row of ``coverage`` and the sections it counts as a FeatureCollection (the
    properties of gis.roads.sections.sections_geojson, at most ``limit``, numberMatched all of them):
    a section on the community's border is drawn on both sides' maps, and counted on each with its
    share. (gis.roads.sections filters by a section's main community, a different set.)"""
    row, ids = community_coverage(conn, on, community)
    query = f"""
    WITH hit AS ({_SECTION_SELECT} AND s.id = ANY(%(ids)s)),
    page AS (SELECT * FROM hit ORDER BY code LIMIT %(limit)s)
    SELECT coalesce(json_agg(ST_AsGeoJSON(page.*, 'geom', 7)::json ORDER BY page.code), '[]') FROM page"""
    params = _params(on, None, None, None, None, None, None, contacts) | {"ids": ids, "limit": limit}
    fetched = conn.execute(query, params).fetchone()  # type: ignore[arg-type]
    features = fetched[0] if fetched else []
    return row, {"type": "FeatureCollection", "numberMatched": len(ids), "numberReturned": len(features),
                 "features": features}


def coverage_of(conn: psycopg.Connection, on: date | None = None, community: str | None = None
                ) -> dict[str, Any]:
    """One row of ``coverage``: the district total, or the row of ``community`` (zeros when no
    section runs through it). The roads map prints this row, so it says what the API says."""
    if community is None:
        return coverage(conn, on)["total"]
    return community_coverage(conn, on, community)[0]


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
