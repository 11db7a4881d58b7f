"""The folder's test modules share one database and build their worlds at the same place (one community
over X0, Y0 with a road through it): a module that leaves its community and road behind would take the
next module's reports (routing picks the lowest community code, the lowest section id). The modules of
the reports' map, trend and 曝光台 remove theirs when they end (the reports stay: evidence, no key)."""

from __future__ import annotations

import psycopg


def forget_world(database_url: str, world: dict) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM road WHERE ref LIKE %s", [f"{world['tag']}-%"])  # sections cascade
        conn.execute("DELETE FROM grid_worker_grid WHERE grid_code IN (%s, %s)", [world["g1"], world["g2"]])
        conn.execute("DELETE FROM grid_worker WHERE ref LIKE %s", [f"{world['tag']}-%"])
        conn.execute("DELETE FROM grid WHERE community_code = %s", [world["community"]])
        conn.execute("DELETE FROM community WHERE code = %s", [world["community"]])
        conn.commit()
