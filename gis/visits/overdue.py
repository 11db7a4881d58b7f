"""Households overdue for a visit (未按期走访) and the visit figures per grid and per worker.

One statement each (gis/visits/overdue.sql, figures.sql), run as the caller so that row-level security
keeps them to what she reads. The figures' overdue counts are the overdue list's own query grouped, so
a grid's figure is exactly the length of its list, and the grids' figures add up to the area's list.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.errors import InvalidInput
from gis.sql_files import sql_statements, sql_text
from gis.visits.record import LOCAL_TZ, today

MAX_PERIOD_DAYS = 3660


def _area(grid: str | None, community: str | None) -> dict[str, Any]:
    if grid is not None and community is not None:
        raise InvalidInput.one("grid", "give grid or community, not both")
    return {"grid": grid, "community": community, "tz": LOCAL_TZ}


def overdue(conn: psycopg.Connection, *, grid: str | None = None, community: str | None = None,
            on: date | None = None) -> list[dict[str, Any]]:
    """The households of the grid or community (neither: all the caller reads) not visited within their
    policy's interval on day ``on`` (today by default): never visited first, then the most overdue."""
    params = {**_area(grid, community), "on": on or today()}
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql_text("gis.visits", "overdue"), params).fetchall()


def figures(conn: psycopg.Connection, *, grid: str | None = None, community: str | None = None,
            start: date, end: date) -> dict[str, Any]:
    """Per grid: households, visits, households visited and far visits in the days start..end, and
    households overdue on ``end``; per worker: her visits there and the overdue of the grids she serves;
    and the totals (the sums of the grid rows)."""
    if end < start:
        raise InvalidInput.one("to", "must not be before from")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise InvalidInput.one("to", f"a period of at most {MAX_PERIOD_DAYS} days")
    params = {**_area(grid, community), "on": end, "start": start, "end": end}
    inner = sql_text("gis.visits", "overdue")
    by_grid, by_worker = (s.replace("/*overdue*/", inner) for s in sql_statements("gis.visits", "figures"))
    with conn.cursor(row_factory=dict_row) as cur:
        grids = cur.execute(by_grid, params).fetchall()
        workers = cur.execute(by_worker, params).fetchall()
    keys = ("households", "visits", "households_visited", "far_visits", "overdue")
    total = {k: sum(g[k] for g in grids) for k in keys}
    return {"from": start, "to": end, "grid": grid, "community": community, "total": total,
            "grids": grids, "workers": workers}
