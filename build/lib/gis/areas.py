"""The optional area filter that listings, exports, maps and checks take: a community (社区, 12-digit
code), a grid (网格, 15-digit code) or neither (everything the reader may see). One spelling of it in SQL.

A grid's code starts with its community's code, so rows that carry a grid code are filtered by prefix;
rows placed only by geometry (schools, places, roads) are filtered by intersecting the area's polygon.
The fragments bind ``%(community)s`` and ``%(grid)s``; NULL means "no filter".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Area:
    community: str | None = None
    grid: str | None = None

    def params(self) -> dict[str, str | None]:
        return {"community": self.community, "grid": self.grid}


def by_grid_code(column: str) -> str:
    """Condition on a column holding a grid code (``column`` is an expression from code, never input)."""
    return (f"(%(community)s::text IS NULL OR left({column}, 12) = %(community)s)"
            f" AND (%(grid)s::text IS NULL OR {column} = %(grid)s)")


def by_community_code(column: str) -> str:
    """Condition on a column holding a community code: the community itself, or the grid's community."""
    return (f"(%(community)s::text IS NULL OR {column} = %(community)s)"
            f" AND (%(grid)s::text IS NULL OR {column} = left(%(grid)s, 12))")


def by_geometry(geom: str) -> str:
    """Condition on a geometry expression: it intersects the community's or the grid's polygon."""
    return ("(%(community)s::text IS NULL OR EXISTS (SELECT 1 FROM community a_c"
            f" WHERE a_c.code = %(community)s AND ST_Intersects(a_c.geom, {geom})))"
            " AND (%(grid)s::text IS NULL OR EXISTS (SELECT 1 FROM grid a_g"
            f" WHERE a_g.code = %(grid)s AND ST_Intersects(a_g.geom, {geom})))")
