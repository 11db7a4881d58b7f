"""What the campaign layers of a map draw (issue 16), fetched in one statement: the unmanaged compounds
(无人管理小区) of the area with today's lead helper unit, the facilities (阵地) standing in it and the
posts of the duties in force today (a crossing or a road section), each with its recurrence.

Run as the caller: row-level security keeps each record to those she reads (migrations 025, 026):
compounds and their helpers to the campaign roles (admin, planner, viewer, unit), duties to admins,
planners and viewers or the unit's own accounts, facilities to everyone. A layer the caller's roles
cannot read at all is left off the map rather than drawn empty (``readable``): an empty overlay would
say "no compounds here", which is not what the database said.

A record belongs to the map when it meets the area: the grid's or community's polygon, or any
community of the street. "Today" is the day in China.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg import sql

from gis.access.roles import ADMIN, PLANNER, UNIT, VIEWER, Roles
from gis.errors import InvalidInput
from gis.visits.record import today

# The area's polygons: one row for a grid or community, every community of a street.
_AREAS = {
    "grid": "SELECT geom FROM grid WHERE code = %(code)s",
    "community": "SELECT geom FROM community WHERE code = %(code)s",
    "street": "SELECT geom FROM community WHERE starts_with(code, %(code)s)",
}
CODE_LENGTHS = {"street": 9, "community": 12, "grid": 15}
# Who reads each layer at all, as the row policies say (migration 025: compound_read, compound_helper_read,
# duty_read where a unit reads its own duties only; migration 026: facility_read is everyone's). The
# database still decides the rows; these only keep an overlay the policies leave empty off the map.
READERS: dict[str, Roles | None] = {
    "compounds": frozenset({ADMIN, PLANNER, VIEWER, UNIT}),
    "facilities": None,  # every signed-in role
    "posts": frozenset({ADMIN, PLANNER, VIEWER, UNIT}),
}
WEEKDAYS = "一二三四五六日"  # ISO 1..7

_CAMPAIGN_LAYERS = """
WITH area AS MATERIALIZED ({area}),
compounds AS (
    SELECT c.id, c.name, c.management, m.name_zh AS management_zh, c.households, c.geom
    FROM compound c JOIN compound_management m ON m.code = c.management
    WHERE EXISTS (SELECT 1 FROM area a WHERE ST_Intersects(a.geom, c.geom))
), helpers AS (
    SELECT h.compound_id, u.name AS unit_name, lower(h.valid) AS since
    FROM compound_helper h JOIN compounds c ON c.id = h.compound_id
    JOIN responsible_unit u ON u.id = h.unit_id
    WHERE h.valid @> %(on)s::date
), facilities AS (
    SELECT f.id, f.kind, k.name_zh AS kind_zh, f.name, f.address, coalesce(oc.name, ou.name) AS owner,
           f.geom
    FROM facility f JOIN facility_kind k ON k.code = f.kind
    LEFT JOIN community oc ON oc.code = f.owner_community
    LEFT JOIN responsible_unit ou ON ou.id = f.owner_unit
    WHERE f.active AND EXISTS (SELECT 1 FROM area a WHERE ST_Intersects(a.geom, f.geom))
), posts AS (
    SELECT d.id, d.name, u.name AS unit_name, d.recurrence, d.weekday, d.month_day,
           coalesce(d.post_name, s.road_name || ' ' || s.code) AS post_name,
           d.section_id IS NOT NULL AS section,
           coalesce(d.post, s.geom) AS geom
    FROM duty d JOIN responsible_unit u ON u.id = d.unit_id
    LEFT JOIN road_section s ON s.id = d.section_id
    WHERE d.valid @> %(on)s::date
      AND EXISTS (SELECT 1 FROM area a WHERE ST_Intersects(a.geom, coalesce(d.post, s.geom)))
)
SELECT
    (SELECT coalesce(json_agg(json_build_object(
                'type', 'Feature', 'geometry', ST_AsGeoJSON(c.geom, 6)::json,
                'properties', json_build_object(
                    'id', c.id, 'name', c.name, 'management', c.management, 'management_zh', c.management_zh,
                    'households', c.households, 'helper', h.unit_name, 'since', h.since))
            ORDER BY c.id), '[]')
     FROM compounds c LEFT JOIN helpers h ON h.compound_id = c.id),
    (SELECT coalesce(json_agg(json_build_array(
                f.id, round(ST_Y(f.geom)::numeric, 6)::float8, round(ST_X(f.geom)::numeric, 6)::float8,
                f.kind, f.kind_zh, f.name, f.owner, f.address) ORDER BY f.id), '[]')
     FROM facilities f),
    (SELECT coalesce(json_agg(json_build_object(
                'type', 'Feature', 'geometry', ST_AsGeoJSON(p.geom, 6)::json,
                'properties', json_build_object(
                    'id', p.id, 'name', p.name, 'unit', p.unit_name, 'recurrence', p.recurrence,
                    'weekday', p.weekday, 'month_day', p.month_day, 'post', p.post_name,
                    'section', p.section))
            ORDER BY p.id), '[]')
     FROM posts p)
"""


def recurrence_zh(recurrence: str, weekday: int | None, month_day: int | None) -> str:
    """"每周五" or "每月15日": the duty's day as the campaign's plans write it."""
    if recurrence == "weekly" and weekday is not None:
        return f"每周{WEEKDAYS[weekday - 1]}"
    return f"每月{month_day}日"


@dataclass
class CampaignLayerData:
    """The campaign layers of one map on day ``on``.

    ``compounds``: GeoJSON features (id, name, management, management_zh, households, helper: today's
    lead helper unit's name or None, since: the day its pairing began). ``facilities`` rows: [id, lat,
    lon, kind, kind's name, name, owner (community or unit), address]. ``posts``: GeoJSON features of
    the duties in force (id, name, unit, recurrence, weekday, month_day, post, section: a road section
    rather than a point, when: "每周五"). ``readable``: the layers the caller's roles may read at all."""

    on: date
    compounds: list[dict[str, Any]]
    facilities: list[list[Any]]
    posts: list[dict[str, Any]]
    readable: frozenset[str]

    @property
    def counts(self) -> dict[str, int]:
        """Compounds, those with a helper today and without, facilities, duty posts."""
        helped = sum(1 for f in self.compounds if f["properties"]["helper"] is not None)
        return {"compounds": len(self.compounds), "helped": helped, "unhelped": len(self.compounds) - helped,
                "facilities": len(self.facilities), "posts": len(self.posts)}


def readable_layers(roles: Roles | None) -> frozenset[str]:
    """The campaign layers these roles may read; None: the owner's session (the CLI), all of them."""
    return frozenset(layer for layer, readers in READERS.items()
                     if roles is None or readers is None or roles & readers)


def campaign_layer_data(conn: psycopg.Connection, kind: str, code: str, roles: Roles | None = None,
                        on: date | None = None) -> CampaignLayerData:
    """The campaign layers of the ``kind`` ("grid", "community" or "street") map of ``code`` on day
    ``on`` (today in China by default), read as the connection's user; ``roles`` her roles (None: the
    owner's session, which reads everything)."""
    if kind not in _AREAS:
        raise InvalidInput.one("kind", "street, community or grid")
    if len(code) != CODE_LENGTHS[kind] or not code.isdigit():
        raise InvalidInput.one(kind, f"a {CODE_LENGTHS[kind]}-digit code")
    on = on or today()
    query = sql.SQL(_CAMPAIGN_LAYERS).format(area=sql.SQL(_AREAS[kind]))
    row = conn.execute(query, {"code": code, "on": on}).fetchone()
    assert row is not None
    compounds, facilities, posts = row
    for post in posts:
        p = post["properties"]
        p["when"] = recurrence_zh(p["recurrence"], p["weekday"], p["month_day"])
    return CampaignLayerData(on=on, compounds=compounds, facilities=facilities, posts=posts,
                             readable=readable_layers(roles))
