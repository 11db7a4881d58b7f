"""The audit log (审计日志): record reads and exports of personal data, and query the log.

Changes to the register are recorded by triggers in the database (migration 005), one row per
statement; who, when and from where are stamped by a trigger from the transaction's settings, so
these functions only say what happened.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from gis.errors import InvalidInput

Action = Literal["read", "export", "insert", "update", "delete"]
ACTIONS: tuple[str, ...] = ("read", "export", "insert", "update", "delete")


def record(conn: psycopg.Connection, action: Action, object: str, detail: dict[str, Any] | None = None,
           ids: list[int] | None = None) -> None:
    """Append one entry: ``object`` names what was read or exported (a route or a table)."""
    conn.execute(
        "INSERT INTO audit_log (action, object, object_ids, row_count, detail) VALUES (%s, %s, %s, %s, %s)",
        [action, object, ids, len(ids) if ids is not None else None,
         Jsonb(detail) if detail is not None else None],
    )


def entries(conn: psycopg.Connection, *, username: str | None = None, action: str | None = None,
            object: str | None = None, since: datetime | None = None, until: datetime | None = None,
            limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """Entries newest first, filtered; ``total`` counts all that match."""
    if action is not None and action not in ACTIONS:
        raise InvalidInput.one("action", f"must be one of {', '.join(ACTIONS)}")
    if not 1 <= limit <= 1000:
        raise InvalidInput.one("limit", "must be between 1 and 1000")
    if offset < 0:
        raise InvalidInput.one("offset", "must not be negative")
    params = {"username": username, "action": action, "object": object, "since": since, "until": until,
              "limit": limit, "offset": offset}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_MATCHING.format(columns=sql.SQL("count(*) AS total"), order=sql.SQL("")), params)
        total = cur.fetchone()["total"]  # type: ignore[index]
        cur.execute(_MATCHING.format(columns=_COLUMNS, order=_NEWEST_FIRST), params)
        rows = cur.fetchall()
    return {"total": total, "limit": limit, "offset": offset, "entries": rows}


_COLUMNS = sql.SQL(
    "id, at, user_id, username, db_role, client, action, object, object_ids, row_count, detail")
_NEWEST_FIRST = sql.SQL("ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s")
_MATCHING = sql.SQL("""SELECT {columns} FROM audit_log
    WHERE (%(username)s::text IS NULL OR username = %(username)s)
      AND (%(action)s::text IS NULL OR action = %(action)s)
      AND (%(object)s::text IS NULL OR object = %(object)s)
      AND (%(since)s::timestamptz IS NULL OR at >= %(since)s)
      AND (%(until)s::timestamptz IS NULL OR at < %(until)s)
    {order}""")
