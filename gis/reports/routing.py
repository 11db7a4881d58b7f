"""Routing (分拨): which owner a report goes to, for a whole batch in one statement (the database's
report_owners(), migration 022, whose comment gives the rules: the unit on the nearest section within
30 m on the report's day for a street matter, else the grid's worker, else the community's queue, else
the street queue of the nearest community)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

SECTION_REACH_M = 30.0  # as in report_owners(): a section farther than this is not the report's


@dataclass(frozen=True)
class Sighting:
    """What routing needs of a report: an id of the caller's (echoed back), WGS 84 lon/lat, the
    category code and the day in China it was seen."""

    id: int
    lon: float
    lat: float
    category: str
    day: date


ROUTE = """SELECT o.* FROM report_owners(%(ids)s::bigint[],
    (SELECT array_agg(ST_SetSRID(ST_MakePoint(x, y), 4326) ORDER BY n)
     FROM unnest(%(lons)s::float8[], %(lats)s::float8[]) WITH ORDINALITY AS p(x, y, n)),
    %(categories)s::text[], %(days)s::date[]) o"""


def params(sightings: Sequence[Sighting]) -> dict[str, list[Any]]:
    return {"ids": [s.id for s in sightings], "lons": [s.lon for s in sightings],
            "lats": [s.lat for s in sightings], "categories": [s.category for s in sightings],
            "days": [s.day for s in sightings]}


def owners(conn: psycopg.Connection, sightings: Sequence[Sighting]) -> list[dict[str, Any]]:
    """The owner and routing evidence of each sighting (in no particular order; match on ``id``)."""
    if not sightings:
        return []
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(ROUTE, params(sightings)).fetchall()
