"""What a map (一图) shows, fetched set-based: grids, households with their members, tags, problems.

Each map costs a handful of statements whatever the number of households: the grid boundaries as a
GeoJSON FeatureCollection built in SQL, and the households with their members aggregated per
household by ``json_agg``. ID numbers and phones leave this module masked: a map is printed and hung
on a wall, so it must never carry them in full.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg
from psycopg import sql

from gis.access.roles import REGISTER
from gis.codes import community_code_problem, grid_code_problem, mask_id_number, mask_phone
from gis.errors import InvalidInput, NotFound
from gis.maps.base import base_layer

# The person tags a map draws as overlays; tag i is bit 1 << i in a person's and a household's
# ``tags``. The order must match _PERSON_TAGS below (a test checks both against the data).
TAGS: tuple[str, ...] = ("key_person", "floating", "poverty", "elderly_alone", "disabled", "activist")

# How far (m) around a grid or community a household outside every grid is still shown: it most
# likely belongs there and the division needs fixing. 0.002° is more than 100 m at any latitude of
# China, so the bounding-box test can use the GiST index before the exact ellipsoidal distance.
NEARBY_M = 100
_NEARBY_DEG = 0.002

# The roles whose scopes give a map its rows (the register's row policies): a map's figures are sums
# over those rows, whole only where these scopes hold the area.
_READERS = sorted(REGISTER)

_PERSON_TAGS = """
      (CASE WHEN kp.person_id IS NOT NULL THEN 1 ELSE 0 END)
    | (CASE WHEN p.residence = 'floating' THEN 2 ELSE 0 END)
    | (CASE WHEN p.poverty IS NOT NULL THEN 4 ELSE 0 END)
    | (CASE WHEN p.elderly_alone THEN 8 ELSE 0 END)
    | (CASE WHEN p.disabled THEN 16 ELSE 0 END)
    | (CASE WHEN p.activist OR p.volunteer THEN 32 ELSE 0 END)
"""

# The households of a grid: those assigned to it, plus those on its border assigned to a
# neighbour and those outside every grid within NEARBY_M (both highlighted on the map).
_GRID_HOUSEHOLDS = """
    SELECT h.id FROM household h WHERE h.grid_code = %(code)s
    UNION
    SELECT h.id FROM household h JOIN grid g ON g.code = %(code)s
    WHERE h.placement <> 'inside'
      AND h.geom && ST_Expand(g.geom, %(deg)s)
      AND ST_DWithin(h.geom::geography, g.geom::geography, %(metres)s)
"""

# The households of a community: those in its grids, plus those outside every grid inside the
# community or within NEARBY_M of it.
_COMMUNITY_HOUSEHOLDS = """
    SELECT h.id FROM household h JOIN grid g ON g.code = h.grid_code WHERE g.community_code = %(code)s
    UNION
    SELECT h.id FROM household h JOIN community c ON c.code = %(code)s
    WHERE h.grid_code IS NULL
      AND h.geom && ST_Expand(c.geom, %(deg)s)
      AND ST_DWithin(h.geom::geography, c.geom::geography, %(metres)s)
"""

_HOUSEHOLDS = """
WITH chosen AS ({selection}),
members AS (
    SELECT p.household_id, p.id, p.name, p.relation, p.id_number, p.phone,
           ({person_tags}) AS tags,
           concat_ws('、', kc.name_zh, ps.name_zh,
                     CASE WHEN p.activist THEN '积极分子' END,
                     CASE WHEN p.volunteer THEN '志愿者' END) AS note
    FROM chosen JOIN person p ON p.household_id = chosen.id
    LEFT JOIN key_person kp ON kp.person_id = p.id
    LEFT JOIN key_person_category kc ON kc.code = kp.category
    LEFT JOIN poverty_status ps ON ps.code = p.poverty
)
SELECT h.id, round(ST_Y(h.geom)::numeric, 6)::float8 AS lat, round(ST_X(h.geom)::numeric, 6)::float8 AS lon,
       h.address, h.grid_code, h.placement::text,
       coalesce(bit_or(m.tags), 0) AS tags,
       coalesce(json_agg(json_build_array(m.name, m.relation, m.tags, m.note, m.id_number, m.phone)
                         ORDER BY m.relation <> 'head', m.id) FILTER (WHERE m.id IS NOT NULL), '[]')
FROM chosen JOIN household h ON h.id = chosen.id
LEFT JOIN members m ON m.household_id = h.id
GROUP BY h.id
ORDER BY h.id
"""

# The grids of a community as a GeoJSON FeatureCollection, each with its workers and a label point
# that is guaranteed to lie inside it (a centroid may fall outside an L-shaped grid).
#
# Row-level security hides a neighbour's worker rows and register rows from a grid worker: her
# neighbours would show no worker and 0 households. Each grid therefore says what the user may know
# of it (migration 015): ``seen`` (its register rows), ``counted`` (its figures and workers' names),
# ``staffed`` (how many workers serve it, a number; null when the user may not even know that), and
# its figures (households, persons) only when counted, else null: a map shows "—", never 0.
_GRIDS = """
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
    'type', 'Feature', 'id', g.code,
    'geometry', ST_AsGeoJSON(g.geom, 6)::json,
    'properties', json_build_object(
        'code', g.code, 'name', g.name,
        'workers', coalesce(w.workers, ARRAY[]::text[]), 'team', coalesce(w.team, ARRAY[]::text[]),
        'focus', g.code = %(focus)s,
        'seen', coalesce(a.seen, false), 'counted', coalesce(a.counted, false), 'staffed', a.workers,
        'households', CASE WHEN a.counted THEN coalesce(n.households, 0) END,
        'persons', CASE WHEN a.counted THEN coalesce(n.persons, 0) END,
        'label', json_build_array(round(ST_Y(pos)::numeric, 6), round(ST_X(pos)::numeric, 6)))
) ORDER BY g.code), '[]'))
FROM grid g
CROSS JOIN LATERAL ST_PointOnSurface(g.geom) AS pos
LEFT JOIN map_grid_access(%(community)s) a ON a.grid_code = g.code
LEFT JOIN register_grid_counts(%(community)s) n ON n.grid_code = g.code
LEFT JOIN LATERAL (
    SELECT array_agg(gw.name ORDER BY gw.name) FILTER (WHERE wg.role = 'worker') AS workers,
           array_agg(gw.name ORDER BY gw.name) FILTER (WHERE wg.role = 'team') AS team
    FROM grid_worker_grid wg JOIN grid_worker gw ON gw.id = wg.worker_id
    WHERE wg.grid_code = g.code
) w ON true
WHERE g.community_code = %(community)s
"""


@dataclass
class MapData:
    """Everything one map draws. ``households`` rows are dicts with masked members; ``grids`` is a
    FeatureCollection; ``bbox`` is (minlon, minlat, maxlon, maxlat) of what the map should fit."""

    kind: str  # "grid" | "community"
    code: str
    name: str
    community_code: str
    community_name: str
    workers: list[str]
    team: list[str]
    grids: dict[str, Any]
    bbox: tuple[float, float, float, float]
    households: list[dict[str, Any]]
    counts: dict[str, int]
    community: dict[str, Any] | None = None  # the community boundary as a GeoJSON geometry
    # Whether the user's register scopes hold the map's area (grid or community) whole: ``counts``
    # are then its figures; else they are sums over the part she may read, and the map shows "—".
    whole: bool = True
    division: dict[str, Any] | None = None  # check_division's FeatureCollection, None if unchecked
    tags: tuple[str, ...] = TAGS
    made_on: date = field(default_factory=date.today)
    # The roads and buildings around (gis.maps.base.base_layer), drawn when the map has no tiles.
    base: dict[str, Any] | None = None


def _households(conn: psycopg.Connection, selection: str, code: str) -> list[dict[str, Any]]:
    query = sql.SQL(_HOUSEHOLDS).format(selection=sql.SQL(selection), person_tags=sql.SQL(_PERSON_TAGS))
    rows = conn.execute(query, {"code": code, "deg": _NEARBY_DEG, "metres": NEARBY_M}).fetchall()
    # Masking is one pass over what was fetched (no query per row): the map never sees a full number.
    return [
        {"id": hid, "lat": lat, "lon": lon, "address": address, "grid_code": grid_code,
         "placement": placement, "tags": tags,
         "members": [{"name": m[0], "relation": m[1], "tags": m[2], "note": m[3],
                      "id_number": mask_id_number(m[4]), "phone": mask_phone(m[5])} for m in members]}
        for hid, lat, lon, address, grid_code, placement, tags, members in rows
    ]


def _counts(households: list[dict[str, Any]], tags: tuple[str, ...]) -> dict[str, int]:
    """Households, persons, border/outside households and persons per tag (the title box)."""
    counts = {"households": len(households), "persons": 0, "border": 0, "outside": 0}
    counts.update(dict.fromkeys(tags, 0))
    for h in households:
        counts["persons"] += len(h["members"])
        if h["placement"] in ("border", "outside"):
            counts[h["placement"]] += 1
        for m in h["members"]:
            for i, tag in enumerate(tags):
                counts[tag] += bool(m["tags"] & (1 << i))
    return counts


def _grids(conn: psycopg.Connection, community: str, focus: str | None) -> dict[str, Any]:
    row = conn.execute(_GRIDS, {"community": community, "focus": focus}).fetchone()
    assert row is not None
    return row[0]


def grid_map_data(conn: psycopg.Connection, code: str, base: bool = True) -> MapData:
    """The map of one grid: its boundary (and its neighbours', for context), its households; with
    ``base`` the roads and buildings around it (for a map without tiles)."""
    if (problem := grid_code_problem(code)) is not None:
        raise InvalidInput.one("code", problem)
    row = conn.execute(
        """SELECT g.name, c.code, c.name, access_holds(g.code, %s::text[]),
                  ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
           FROM grid g JOIN community c ON c.code = g.community_code
           CROSS JOIN LATERAL ST_Envelope(g.geom) AS e WHERE g.code = %s""",
        [_READERS, code],
    ).fetchone()
    if row is None:
        raise NotFound("grid", code)
    name, community_code, community_name, whole, *bbox = row
    grids = _grids(conn, community_code, code)
    focus = next(f["properties"] for f in grids["features"] if f["properties"]["code"] == code)
    households = _households(conn, _GRID_HOUSEHOLDS, code)
    return _record_look(conn, MapData(
        kind="grid", code=code, name=name, community_code=community_code, community_name=community_name,
        workers=focus["workers"], team=focus["team"], grids=grids, bbox=tuple(bbox),  # type: ignore[arg-type]
        households=households, counts=_counts(households, TAGS), whole=whole,
        base=base_layer(conn, tuple(bbox)) if base else None,  # type: ignore[arg-type]
    ))


def community_map_data(conn: psycopg.Connection, code: str, base: bool = True) -> MapData:
    """The map of a community: all its grids, households and the problems of its division; with
    ``base`` the roads and buildings around it."""
    if (problem := community_code_problem(code)) is not None:
        raise InvalidInput.one("code", problem)
    row = conn.execute(
        """SELECT c.name, ST_AsGeoJSON(c.geom, 6)::json, access_holds(c.code, %s::text[]),
                  ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
           FROM community c CROSS JOIN LATERAL ST_Envelope(c.geom) AS e WHERE c.code = %s""",
        [_READERS, code],
    ).fetchone()
    if row is None:
        raise NotFound("community", code)
    name, boundary, whole, *bbox = row
    grids = _grids(conn, code, None)
    households = _households(conn, _COMMUNITY_HOUSEHOLDS, code)
    workers = sorted({w for f in grids["features"] for w in f["properties"]["workers"]})
    return _record_look(conn, MapData(
        kind="community", code=code, name=name, community_code=code, community_name=name,
        workers=workers, team=[], grids=grids, bbox=tuple(bbox),  # type: ignore[arg-type]
        households=households, counts=_counts(households, TAGS), community=boundary, whole=whole,
        division=division_problems(conn, code),
        base=base_layer(conn, tuple(bbox)) if base else None,  # type: ignore[arg-type]
    ))


def _record_look(conn: psycopg.Connection, data: MapData) -> MapData:
    """A map shows the register, key persons (重点人员) included: every look goes to the audit log."""
    from gis.access.audit import record

    record(conn, "read", f"map:{data.kind}", {
        "code": data.code, "households": data.counts["households"], "persons": data.counts["persons"],
        "key_persons": data.counts["key_person"]})
    return data


def division_problems(conn: psycopg.Connection, community_code: str) -> dict[str, Any] | None:
    """Gaps, overlaps and areas outside the community (gis.division), or None when that check is
    not installed: the map then says the division was not checked instead of showing none."""
    try:
        from gis.division.check import check_division
    except ImportError:
        return None
    return check_division(conn, community_code)


def map_index(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Communities with their grids (code, name, workers, households), for the list of maps. A grid
    the user may not count has ``households`` None (not 0) and ``counted`` false; ``staffed`` is its
    number of workers, None when the user may not know it (see _GRIDS)."""
    rows = conn.execute(
        """SELECT c.code, c.name, c.street_name,
                  coalesce(json_agg(json_build_object(
                      'code', g.code, 'name', g.name,
                      'households', CASE WHEN a.counted THEN coalesce(n.households, 0) END,
                      'counted', coalesce(a.counted, false), 'staffed', a.workers,
                      'workers', coalesce(w.names, ARRAY[]::text[])) ORDER BY g.code)
                      FILTER (WHERE g.code IS NOT NULL), '[]')
           FROM community c
           LEFT JOIN grid g ON g.community_code = c.code
           LEFT JOIN map_grid_access('') a ON a.grid_code = g.code
           LEFT JOIN (SELECT grid_code, households FROM register_household_counts('')) n
                  ON n.grid_code = g.code
           LEFT JOIN LATERAL (
               SELECT array_agg(gw.name ORDER BY gw.name) AS names
               FROM grid_worker_grid wg JOIN grid_worker gw ON gw.id = wg.worker_id
               WHERE wg.grid_code = g.code AND wg.role = 'worker') w ON true
           GROUP BY c.code ORDER BY c.code"""
    ).fetchall()
    return [{"code": r[0], "name": r[1], "street_name": r[2], "grids": r[3]} for r in rows]
