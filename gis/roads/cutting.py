"""Cutting roads into responsibility sections (路段): at intersections, at a maximum length, by hand.

Every cut is set-based: the sources (live sections, or whole roads not cut yet) go into a temporary
table, one SQL statement turns them into pieces, a few describe the pieces there (code, from/to,
length, grid shares), one replaces the sources by their pieces and one moves the assignments over.
No per-road loop.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row

from gis.errors import Conflict, InvalidInput, NotFound
from gis.sql_files import sql_statements, sql_text

CutMethod = Literal["intersections", "max_length"]
SPLIT_TOLERANCE_M = 5.0  # a hand split farther than this from the line is a mistake, not a split
MIN_PIECE_M = 1.0  # a hand split closer than this to an end of the section would leave a sliver
CUT_LOCK_KEY = 4_857_303  # advisory lock serialising cuts (migrations use 4_857_201)


_SCRATCH = """
CREATE TEMP TABLE IF NOT EXISTS cut_source (
    src_key bigint PRIMARY KEY, parent_id bigint, parent_code text, road_id bigint NOT NULL,
    geom geometry(LineString, 4326) NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS cut_piece (
    src_key bigint NOT NULL, part integer NOT NULL, parts integer NOT NULL, geom geometry NOT NULL,
    code text, road_name text, length_m double precision, from_desc text, to_desc text) ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS cut_share (
    code text NOT NULL, grid_code text, community_code text, street_name text,
    length_m double precision NOT NULL) ON COMMIT DROP;
TRUNCATE cut_source, cut_piece, cut_share;
"""

# Sources in scope: live sections, and roads without any live section (cut as a whole).
_SOURCES = """
INSERT INTO cut_source (src_key, parent_id, parent_code, road_id, geom)
SELECT s.id, s.id, s.code, s.road_id, s.geom
FROM road_section s JOIN road r ON r.id = s.road_id
WHERE s.retired_on IS NULL
  AND (%(roads)s::text[] IS NULL OR r.ref = ANY(%(roads)s::text[]))
  AND (%(sections)s::bigint[] IS NULL OR s.id = ANY(%(sections)s::bigint[]))
UNION ALL
SELECT -r.id, NULL, NULL, r.id, r.geom
FROM road r
WHERE (%(roads)s::text[] IS NULL OR r.ref = ANY(%(roads)s::text[]))
  AND %(sections)s::bigint[] IS NULL
  AND NOT EXISTS (SELECT 1 FROM road_section s WHERE s.road_id = r.id AND s.retired_on IS NULL)
"""

_SPLIT_PIECES = """
INSERT INTO cut_piece (src_key, part, parts, geom)
SELECT src_key, 1, 2, ST_LineSubstring(geom, 0, %(f)s) FROM cut_source
UNION ALL
SELECT src_key, 2, 2, ST_LineSubstring(geom, %(f)s, 1) FROM cut_source
"""

_DROP_EMPTY_PARENTS = """
DELETE FROM road_section p
WHERE p.retired_on IS NOT NULL
  AND p.id IN (SELECT parent_id FROM road_section WHERE id = ANY(%(new_ids)s))
  AND NOT EXISTS (SELECT 1 FROM road_section_assignment a WHERE a.section_id = p.id)
"""


@dataclass(frozen=True)
class CutResult:
    sources: int  # sections or bare roads looked at
    replaced: int  # of those, the ones cut into new sections
    created: int  # new sections

    def as_dict(self) -> dict[str, int]:
        return {"sources": self.sources, "replaced": self.replaced, "created": self.created}


def _prepare(conn: psycopg.Connection, roads: list[str] | None, sections: list[int] | None) -> int:
    # Cuts queue behind each other: a second planner's cut then starts from the first one's sections
    # instead of cutting the same parents twice.
    conn.execute("SELECT pg_advisory_xact_lock(%s)", [CUT_LOCK_KEY])
    conn.execute(_SCRATCH)
    cur = conn.execute(_SOURCES, {"roads": roads, "sections": sections})
    conn.execute("ANALYZE cut_source")  # the planner then joins it to road's GiST index
    return cur.rowcount


def _replace(conn: psycopg.Connection, sources: int) -> tuple[CutResult, list[int]]:
    """Describe the pieces, put them in place of their sources and move the assignments over."""
    for statement in sql_statements("gis.roads", "describe_pieces"):
        conn.execute(statement)  # type: ignore[arg-type]
    replaced = conn.execute("SELECT count(DISTINCT src_key) FROM cut_piece").fetchone()
    new_ids = [r[0] for r in conn.execute(sql_text("gis.roads", "replace_sections"))]
    conn.execute(sql_text("gis.roads", "inherit_assignments"), {"new_ids": new_ids})
    conn.execute(_DROP_EMPTY_PARENTS, {"new_ids": new_ids})
    return CutResult(sources, replaced[0] if replaced else 0, len(new_ids)), new_ids


def _check_cut(conn: psycopg.Connection, method: str, max_length_m: float | None,
               roads: list[str] | None) -> None:
    if method == "max_length":
        if max_length_m is None or not max_length_m >= 10:
            raise InvalidInput.one("max_length_m", "give a maximum section length of at least 10 m")
    elif method != "intersections":
        raise InvalidInput.one("method", "must be 'intersections' or 'max_length'")
    if roads is not None:
        unknown = conn.execute("SELECT array_agg(x ORDER BY x) FROM unnest(%s::text[]) x "
                               "WHERE NOT EXISTS (SELECT 1 FROM road WHERE ref = x)", [roads]).fetchone()
        if unknown and unknown[0]:
            raise InvalidInput.one("roads", f"no road with ref {', '.join(unknown[0][:20])}")


def _cut(conn: psycopg.Connection, method: CutMethod, max_length_m: float | None,
         roads: list[str] | None) -> tuple[CutResult, list[int]]:
    sources = _prepare(conn, roads, None)
    if method == "intersections":
        conn.execute(sql_text("gis.roads", "pieces_intersections"))
    else:
        conn.execute(sql_text("gis.roads", "pieces_max_length"), {"max_length_m": max_length_m})
    return _replace(conn, sources)


def cut_roads(conn: psycopg.Connection, method: CutMethod, max_length_m: float | None = None,
              roads: list[str] | None = None) -> CutResult:
    """Cut the live sections of ``roads`` (refs; None = all) at intersections or at a max length.

    A road not cut yet is taken whole. A section that no cut touches stays as it is (same id, code
    and assignments).
    """
    _check_cut(conn, method, max_length_m, roads)
    with conn.transaction():
        return _cut(conn, method, max_length_m, roads)[0]


# What a cut would make, read inside its rolled-back savepoint: the new sections with their geometry
# and the code of the section each is cut from, and the live sections they would replace.
_PREVIEW_PIECES = """
SELECT s.id, s.code, s.road_name, s.from_desc, s.to_desc, round(s.length_m::numeric, 1)::float8 AS length_m,
       s.street_name, s.community_code, s.grid_code, p.code AS parent_code,
       ST_AsGeoJSON(s.geom, 7)::json AS geometry
FROM road_section s LEFT JOIN road_section p ON p.id = s.parent_id
WHERE s.id = ANY(%(ids)s) ORDER BY s.code
"""
_PREVIEW_REPLACED = """
SELECT DISTINCT src.parent_code AS code FROM cut_source src
WHERE src.parent_code IS NOT NULL AND EXISTS (SELECT 1 FROM cut_piece p WHERE p.src_key = src.src_key)
ORDER BY 1
"""


@dataclass(frozen=True)
class CutPreview:
    """What ``cut_roads`` with the same arguments would do now, nothing of it saved."""

    result: CutResult
    pieces: list[dict[str, Any]]  # the new sections: code, road_name, from/to, length_m, ..., geometry
    replaced: list[str]  # codes of the live sections the pieces replace (bare roads have none)
    fingerprint: str  # of the pieces' codes and lengths: a save checks it still cuts the same

    @property
    def total_m(self) -> float:
        return round(sum(p["length_m"] for p in self.pieces), 1)


def _fingerprint(pieces: list[dict[str, Any]], replaced: list[str]) -> str:
    text = "|".join(f"{p['code']}:{p['length_m']}:{p['parent_code'] or ''}" for p in pieces)
    return hashlib.sha256((text + "#" + ",".join(replaced)).encode()).hexdigest()[:32]


def preview_cut(conn: psycopg.Connection, method: CutMethod, max_length_m: float | None = None,
                roads: list[str] | None = None) -> CutPreview:
    """The cut ``cut_roads`` would make, made and read inside a savepoint that is then rolled back:
    the same SQL, so the preview is what a save gives (checked by ``fingerprint``). The cut's advisory
    lock stays held to the end of the caller's transaction, so a save in the same transaction cuts
    the state the preview saw."""
    _check_cut(conn, method, max_length_m, roads)
    captured: dict[str, Any] = {}
    with conn.transaction() as savepoint:
        result, new_ids = _cut(conn, method, max_length_m, roads)
        captured["replaced"] = [r[0] for r in conn.execute(_PREVIEW_REPLACED)]
        captured["pieces"] = conn.cursor(row_factory=dict_row).execute(
            _PREVIEW_PIECES, {"ids": new_ids}).fetchall()
        raise psycopg.Rollback(savepoint)
    pieces, replaced = captured["pieces"], captured["replaced"]
    return CutPreview(result, pieces, replaced, _fingerprint(pieces, replaced))


def split_section(conn: psycopg.Connection, section_id: int, lon: float, lat: float) -> list[int]:
    """Split a live section by hand at the point of it nearest to (lon, lat); returns the two new ids.

    The point must lie within SPLIT_TOLERANCE_M of the section and leave at least MIN_PIECE_M on
    each side; the field named in the error is ``point``.
    """
    row = conn.execute(
        """SELECT ST_Distance(s.geom::geography, p.g::geography),
                  ST_LineLocatePoint(s.geom, p.g), s.length_m
           FROM road_section s, (SELECT ST_SetSRID(ST_MakePoint(%s, %s), 4326) AS g) p
           WHERE s.id = %s AND s.retired_on IS NULL""",
        [lon, lat, section_id]).fetchone()
    if row is None:
        raise NotFound("road section", section_id)
    distance_m, fraction, length_m = row
    if distance_m > SPLIT_TOLERANCE_M:
        raise InvalidInput.one(
            "point", f"is {distance_m:.1f} m from section {section_id}; a split point must lie within "
                     f"{SPLIT_TOLERANCE_M:g} m of the line")
    if min(fraction, 1 - fraction) * length_m < MIN_PIECE_M:
        raise InvalidInput.one("point", f"is at an end of section {section_id}: nothing to split")
    with conn.transaction():
        _prepare(conn, None, [section_id])
        conn.execute(_SPLIT_PIECES, {"f": fraction})
        _replace(conn, 1)
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM road_section WHERE parent_id = %s AND retired_on IS NULL ORDER BY code",
            [section_id])]
    if len(ids) != 2:  # another planner re-cut the section between our check and our lock
        raise Conflict(f"section {section_id} was cut by someone else meanwhile; reload it")
    return ids
