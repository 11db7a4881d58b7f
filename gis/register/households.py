"""Households (户) of the register (一册): create, read, list with filters, update, delete.

Updates are optimistic: one ``UPDATE ... WHERE id = ... AND version = ...`` that bumps the version,
so two editors can never overwrite each other silently.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from gis.areas import Area, by_grid_code
from gis.crs import BBox
from gis.errors import InvalidInput, NotFound, Problem, text_problems
from gis.register.common import (
    MAX_LIMIT,
    check_page,
    delete_versioned,
    like,
    locate,
    page,
    refuse_nul,
    stale_or_missing,
    write,
)
from gis.register.persons import list_persons

HOUSEHOLD_TEXT = ("ref", "address", "building", "unit", "room")

_COLUMNS = """h.id, h.ref, h.address, h.building, h.unit, h.room, h.grid_code, g.community_code,
    h.placement::text AS placement, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat, h.version, h.updated_at,
    (SELECT count(*) FROM person p WHERE p.household_id = h.id) AS members"""
_SOURCE = "household h LEFT JOIN grid g ON g.code = h.grid_code"


def insert_households(conn: psycopg.Connection, households: list[dict], bbox: BBox) -> list[int]:
    """Insert households in one statement, each assigned to its grid by grid_for_point.

    Every row is checked first and all problems are reported together (row = 1-based index).
    """
    problems: list[Problem] = []
    cols: dict[str, list] = {k: [] for k in (*HOUSEHOLD_TEXT, "lon", "lat")}
    for i, h in enumerate(households, start=1):
        row = i if len(households) > 1 else None
        if not str(h.get("address") or "").strip():
            problems.append(Problem("address", "must not be blank", row))
        problems.extend(text_problems(h, row))
        try:
            lon, lat = locate(h.get("lon"), h.get("lat"), h.get("crs"), bbox, row)
        except InvalidInput as exc:
            problems.extend(exc.problems)
            continue
        for k in HOUSEHOLD_TEXT:
            cols[k].append(h.get(k))
        cols["lon"].append(lon)
        cols["lat"].append(lat)
    if problems:
        raise InvalidInput(problems)
    rows = write(conn, """
        INSERT INTO household (ref, address, building, unit, room, geom, grid_code, placement)
        SELECT v.ref, btrim(v.address), v.building, v.unit, v.room, v.geom, p.grid_code, p.placement
        FROM (SELECT ref, address, building, unit, room, ord,
                     ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom
              FROM unnest(%(ref)s::text[], %(address)s::text[], %(building)s::text[],
                          %(unit)s::text[], %(room)s::text[], %(lon)s::float8[], %(lat)s::float8[])
                   WITH ORDINALITY AS u(ref, address, building, unit, room, lon, lat, ord)) v
        CROSS JOIN LATERAL grid_for_point(v.geom) p
        ORDER BY v.ord
        RETURNING id
        """, cols)
    return [r[0] for r in rows]


def get_household(conn: psycopg.Connection, household_id: int, unmasked: bool = False) -> dict:
    """A household with its members."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(f"SELECT {_COLUMNS} FROM {_SOURCE} WHERE h.id = %s", [household_id]).fetchone()
    if row is None:
        raise NotFound("household", household_id)
    row["persons"] = list_persons(conn, household=household_id, limit=MAX_LIMIT, unmasked=unmasked)["items"]
    return row


def _household_filters(grid: str | None, community: str | None, placement: str | None,
                       poverty: str | None, q: str | None) -> tuple[sql.Composable, dict]:
    conds: list[sql.Composable] = [sql.SQL(by_grid_code("h.grid_code"))]
    params: dict[str, Any] = Area(community=community, grid=grid).params()
    if placement is not None:
        if placement not in ("inside", "border", "outside"):
            raise InvalidInput.one("placement", "must be inside, border or outside")
        conds.append(sql.SQL("h.placement = %(placement)s::grid_placement"))
        params["placement"] = placement
    if poverty is not None:
        # A poverty household (困难户) is one with at least one member holding the status.
        if poverty == "any":
            conds.append(sql.SQL(
                "EXISTS (SELECT 1 FROM person p WHERE p.household_id = h.id AND p.poverty IS NOT NULL)"))
        else:
            conds.append(sql.SQL(
                "EXISTS (SELECT 1 FROM person p WHERE p.household_id = h.id AND p.poverty = %(poverty)s)"))
            params["poverty"] = poverty
    if q and q.strip():
        # The address, ref, building-unit-room, a member's name (the head's among them), or the
        # last four characters of a member's ID number or phone; a member row is one the caller's
        # row-level security lets them see.
        q = q.strip()
        conds.append(sql.SQL(
            """(h.address ILIKE %(q)s OR h.ref ILIKE %(q)s
                OR concat_ws('-', h.building, h.unit, h.room) ILIKE %(q)s
                OR EXISTS (SELECT 1 FROM person p WHERE p.household_id = h.id
                           AND (p.name ILIKE %(q)s OR right(p.id_number, 4) = %(last4)s
                                OR right(p.phone, 4) = %(last4)s)))"""))
        params["q"] = like(q)
        params["last4"] = q.upper() if len(q) == 4 else None
    return sql.SQL(" AND ").join(conds), params


def list_households(conn: psycopg.Connection, grid: str | None = None, community: str | None = None,
                    placement: str | None = None, poverty: str | None = None, q: str | None = None,
                    limit: int = 100, offset: int = 0) -> dict:
    """{"total": n, "items": [...]} — total counts every match, items is one page ordered by id."""
    check_page(limit, offset)
    refuse_nul({"grid": grid, "community": community, "poverty": poverty, "q": q})
    where, params = _household_filters(grid, community, placement, poverty, q)
    return page(conn, _COLUMNS, _SOURCE, where, params, "h.id", limit, offset)


def update_household(conn: psycopg.Connection, household_id: int, version: int, changes: dict,
                     bbox: BBox) -> dict:
    """Apply ``changes`` (any of ref, address, building, unit, room, and lon+lat[+crs]) if the row is
    still at ``version``; a new location re-assigns the household's grid in the same statement."""
    refuse_nul(changes)
    sets: list[sql.Composable] = []
    params: dict[str, Any] = {"id": household_id, "version": version}
    for key in HOUSEHOLD_TEXT:
        if key in changes:
            if key == "address" and not str(changes[key] or "").strip():
                raise InvalidInput.one("address", "must not be blank")
            sets.append(sql.SQL("{} = %({})s").format(sql.Identifier(key), sql.SQL(key)))
            params[key] = changes[key]
    if "lon" in changes or "lat" in changes:
        if changes.get("lon") is None or changes.get("lat") is None:
            raise InvalidInput.one("lon", "a new location needs both lon and lat")
        params["lon"], params["lat"] = locate(changes["lon"], changes["lat"], changes.get("crs"), bbox)
        sets.append(sql.SQL("geom = ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)"))
        sets.append(sql.SQL("(grid_code, placement) = (SELECT p.grid_code, p.placement FROM grid_for_point("
                            "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)) p)"))
    sets += [sql.SQL("version = version + 1"), sql.SQL("updated_at = now()")]
    if not write(conn, sql.SQL("UPDATE household SET {} WHERE id = %(id)s AND version = %(version)s "
                               "RETURNING id").format(sql.SQL(", ").join(sets)), params):
        raise stale_or_missing(conn, "household", household_id, version)
    return get_household(conn, household_id)


def delete_household(conn: psycopg.Connection, household_id: int, version: int | None = None) -> None:
    """Delete a household and its members (at ``version`` if given)."""
    delete_versioned(conn, "household", household_id, version)
