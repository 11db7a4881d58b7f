"""The audit log (审计日志): record reads and exports of personal data and refused or failed attempts,
and query the log.

Changes to the register are recorded by triggers in the database (migration 005), one row per
statement; who, when and from where are stamped by a trigger from the transaction's settings, so
these functions only say what happened. Each entry carries its area (the community and grid codes it
is about) and the acting user's scopes: the database shows an admin only the entries within their
scope (migration 012), whoever asks and however.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from gis.errors import InvalidInput

Action = Literal["read", "export", "insert", "update", "delete", "refused", "sign_in_failed"]
ACTIONS: tuple[str, ...] = ("read", "export", "insert", "update", "delete", "refused", "sign_in_failed")


@dataclass(frozen=True)
class Entry:
    """What happened: ``object`` names what was read, exported or refused (a route or a table);
    ``area`` the community and grid codes it is about, when known."""

    action: Action
    object: str
    detail: dict[str, Any] | None = None
    ids: list[int] | None = None
    area: list[str] | None = None


def record(conn: psycopg.Connection, action: Action, object: str, detail: dict[str, Any] | None = None,
           ids: list[int] | None = None, area: list[str] | None = None) -> None:
    """Append one entry."""
    write(conn, Entry(action, object, detail, ids, area))


def write(conn: psycopg.Connection, entry: Entry) -> None:
    conn.execute(
        "INSERT INTO audit_log (action, object, object_ids, row_count, detail, area)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        [entry.action, entry.object, entry.ids, len(entry.ids) if entry.ids is not None else None,
         Jsonb(entry.detail) if entry.detail is not None else None, entry.area],
    )


def entries(conn: psycopg.Connection, *, username: str | None = None, action: str | None = None,
            object: str | None = None, since: datetime | None = None, until: datetime | None = None,
            limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """Entries newest first, filtered; ``total`` counts all that match. As the service's role, only the
    entries the acting admin may read (the database's policy decides)."""
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
    "id, at, user_id, username, db_role, client, action, object, object_ids, row_count, detail, area")
_NEWEST_FIRST = sql.SQL("ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s")
_MATCHING = sql.SQL("""SELECT {columns} FROM audit_log
    WHERE (%(username)s::text IS NULL OR username = %(username)s)
      AND (%(action)s::text IS NULL OR action = %(action)s)
      AND (%(object)s::text IS NULL OR object = %(object)s)
      AND (%(since)s::timestamptz IS NULL OR at >= %(since)s)
      AND (%(until)s::timestamptz IS NULL OR at < %(until)s)
    {order}""")
