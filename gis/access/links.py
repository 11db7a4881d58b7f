"""The links between accounts and what they act as (issue 14): a grid worker record (网格员) and the
account she signs in with, and a responsible unit (责任单位) and the accounts acting for it.

Accounts are the owner's: the service reaches them only through migration 023's SECURITY DEFINER
functions, which decide for the acting admin (from the request's token) — the account must be theirs
to manage (migration 013's admin_may_manage), a worker's grids must lie within their admin scope, a
worker's account must hold a grid worker grant and a unit's account the unit role. Each link is
stamped with the admin who made it and written to the audit log by the database. Refusals come back
as gis/access/administration.py's domain errors (403, 404, 409, 422 naming the field).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.access.administration import _call
from gis.errors import InvalidInput

BIGINT = 2**63 - 1


def _id(field: str, value: int) -> None:
    if not 1 <= value <= BIGINT:
        raise InvalidInput.one(field, "a positive id")


def link_worker(conn: psycopg.Connection, worker_id: int, username: str) -> bool:
    """Link grid worker ``worker_id`` to the account ``username``; True if it changed."""
    _id("worker_id", worker_id)
    if not username or not username.strip():
        raise InvalidInput.one("username", "required")
    rows = _call(conn, "SELECT admin_worker_link(%s, %s) AS changed", [worker_id, username.strip()],
                 username.strip())
    return bool(rows[0]["changed"])


def unlink_worker(conn: psycopg.Connection, worker_id: int) -> bool:
    """Unlink grid worker ``worker_id`` from its account; True if it had one."""
    _id("worker_id", worker_id)
    rows = _call(conn, "SELECT admin_worker_unlink(%s) AS changed", [worker_id], str(worker_id))
    return bool(rows[0]["changed"])


def link_unit(conn: psycopg.Connection, username: str, unit_id: int) -> bool:
    """Link the account ``username`` (holding the unit role) to responsible unit ``unit_id``."""
    _id("unit_id", unit_id)
    rows = _call(conn, "SELECT admin_unit_link(%s, %s) AS changed", [username, unit_id], username)
    return bool(rows[0]["changed"])


def unlink_unit(conn: psycopg.Connection, username: str) -> bool:
    """Unlink the account ``username`` from its unit; True if it had one."""
    rows = _call(conn, "SELECT admin_unit_unlink(%s) AS changed", [username], username)
    return bool(rows[0]["changed"])


def links_of(conn: psycopg.Connection, username: str) -> dict[str, Any]:
    """What the account is linked to: {"worker": {id, name, linked_by, linked_at} | None,
    "unit": {id, name, linked_by, linked_at} | None}."""
    row = _call(conn, "SELECT * FROM admin_user_links(%s)", [username], username)[0]
    return {kind: ({"id": row[f"{kind}_id"], "name": row[f"{kind}_name"],
                    "linked_by": row[f"{kind}_linked_by"], "linked_at": row[f"{kind}_linked_at"]}
                   if row[f"{kind}_id"] is not None else None)
            for kind in ("worker", "unit")}


def worker_accounts(conn: psycopg.Connection, worker_ids: list[int]) -> dict[int, dict[str, Any]]:
    """For the grid workers the acting user reads: {id: {"has_account", "username"}}; the username only
    for an admin who may manage that account (None for everyone else)."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT worker_id, has_account, username FROM grid_worker_accounts(%s)",
                           [worker_ids]).fetchall()
    return {r["worker_id"]: {"has_account": r["has_account"], "username": r["username"]} for r in rows}


def unit_choices(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """The responsible units, by name, for a form's choice."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT id, name FROM responsible_unit ORDER BY name, id").fetchall()


def worker_choices(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """The grid workers the acting admin reads with the grids of theirs, each with whether it has an
    account, for a form's choice (the database refuses a worker serving grids outside the scope)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("""
            SELECT w.id, w.name, w.user_id IS NOT NULL AS has_account,
                   array_agg(wg.grid_code ORDER BY wg.grid_code) AS grids
            FROM grid_worker w JOIN grid_worker_grid wg ON wg.worker_id = w.id
            GROUP BY w.id ORDER BY w.name, w.id""").fetchall()
