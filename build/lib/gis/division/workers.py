"""Grid workers (网格员) and service teams: create, read, list, assign to grids and unassign."""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row

from gis.areas import Area, by_grid_code
from gis.codes import mask_phone
from gis.division.communities import checked_name
from gis.errors import Conflict, InvalidInput, NotFound


def create_worker(conn: psycopg.Connection, name: str, phone: str | None = None, ref: str | None = None,
                  grids: list[str] | None = None, role: str = "worker") -> dict:
    """A grid worker, assigned to ``grids`` in the same statement."""
    name = checked_name(name, phone=phone, ref=ref)
    try:
        with conn.transaction():
            row = conn.execute(
                """
                WITH w AS (INSERT INTO grid_worker (name, phone, ref) VALUES (%(name)s, %(phone)s, %(ref)s)
                           RETURNING id),
                     a AS (INSERT INTO grid_worker_grid (worker_id, grid_code, role)
                           SELECT w.id, g, %(role)s FROM w, unnest(%(grids)s::text[]) g)
                SELECT id FROM w
                """, {"name": name, "phone": phone, "ref": ref, "grids": grids or [],
                      "role": role}).fetchone()
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"a grid worker with ref {ref!r} already exists") from None
    except psycopg.errors.ForeignKeyViolation:
        raise InvalidInput.one("grids", "unknown grid code") from None
    assert row is not None
    return get_worker(conn, row[0])


_WORKERS_SQL = f"""
    SELECT w.id, w.name, w.phone, w.ref,
           coalesce((SELECT json_agg(json_build_object('grid_code', wg.grid_code, 'role', wg.role)
                                     ORDER BY wg.grid_code)
                     FROM grid_worker_grid wg WHERE wg.worker_id = w.id), '[]'::json) AS grids
    FROM grid_worker w
    WHERE (%(id)s::bigint IS NULL OR w.id = %(id)s)
      AND ((%(community)s::text IS NULL AND %(grid)s::text IS NULL) OR EXISTS (
           SELECT 1 FROM grid_worker_grid wg WHERE wg.worker_id = w.id AND {by_grid_code("wg.grid_code")}))
    ORDER BY w.id
"""


def list_workers(conn: psycopg.Connection, grid: str | None = None,
                 worker_id: int | None = None) -> list[dict]:
    """Grid workers with their grids (phones masked), optionally those of one grid."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_WORKERS_SQL, {**Area(grid=grid).params(), "id": worker_id}).fetchall()
    for row in rows:
        row["phone"] = mask_phone(row["phone"])
    return rows


def get_worker(conn: psycopg.Connection, worker_id: int) -> dict:
    rows = list_workers(conn, worker_id=worker_id)
    if not rows:
        raise NotFound("grid worker", worker_id)
    return rows[0]


def assign_worker(conn: psycopg.Connection, worker_id: int, grid_code: str, role: str = "worker") -> dict:
    """Assign a worker to a grid (or change the role); idempotent."""
    try:
        with conn.transaction():
            conn.execute(
                "INSERT INTO grid_worker_grid (worker_id, grid_code, role) VALUES (%s, %s, %s) "
                "ON CONFLICT (worker_id, grid_code) DO UPDATE SET role = EXCLUDED.role",
                [worker_id, grid_code, role])
    except psycopg.errors.ForeignKeyViolation as exc:
        what = "grid" if "grid_code" in (exc.diag.message_detail or "") else "grid worker"
        raise NotFound(what, grid_code if what == "grid" else worker_id) from None
    return get_worker(conn, worker_id)


def unassign_worker(conn: psycopg.Connection, worker_id: int, grid_code: str) -> None:
    row = conn.execute("DELETE FROM grid_worker_grid WHERE worker_id = %s AND grid_code = %s RETURNING 1",
                       [worker_id, grid_code]).fetchone()
    if row is None:
        raise NotFound("assignment of grid worker to grid", f"{worker_id}/{grid_code}")
