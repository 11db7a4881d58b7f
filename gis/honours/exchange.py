"""A published honour or red/black list out (红黑榜, 十文明户 ...): as rows under Chinese headers for the
record export (gis/interop).

Two versions, as the lists' own pages have them: the full one (names and reasons) for the register's
roles who see the list, its entries about households and persons read under the register's row-level
security like GET /honours/lists/{id}; and the public one (GET /public/honours: 张**家, the building,
no reason written about a resident) for everyone else, which exists only for a version an admin
approved as public and nothing has superseded. A draft is no list yet: only published versions leave.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.errors import Conflict, NotFound
from gis.honours.lists import honour_list

FULL_COLUMNS = {
    "colour_zh": "红黑榜", "label": "名称", "subject_zh": "对象类型", "reason": "事由",
    "public_label": "公示名称", "public_where": "公示位置", "evidence": "证据",
}
PUBLIC_COLUMNS = {"colour_zh": "红黑榜", "label": "名称", "place": "位置", "reason": "事由"}
COLOURS = {"red": "红榜", "black": "黑榜"}
SUBJECTS = {"place_id": "场所", "unit_id": "单位", "household_id": "家庭", "person_id": "个人"}
EVIDENCE = {"violation_id": "违规", "inspection_id": "督查", "report_id": "举报"}


def full_rows(conn: psycopg.Connection, list_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The list (NotFound when the reader does not see it) and the entries the reader may read."""
    found = honour_list(conn, list_id)
    if found["state"] != "published":
        raise Conflict(f"list {list_id} is {found['state']}: only a published list is exported")
    rows = found.pop("entries")
    for r in rows:
        r["colour_zh"] = COLOURS[r["colour"]]
        r["subject_zh"] = next(name for key, name in SUBJECTS.items() if r[key] is not None)
        r["evidence"] = "; ".join(f"{name} {r[key]}" for key, name in EVIDENCE.items() if r[key] is not None)
    return found, rows


def public_rows(conn: psycopg.Connection, list_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The public version of the list: NotFound unless it is published, public and not superseded."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT * FROM honour_public('') WHERE list_id = %s", [list_id]).fetchall()
    if not rows:
        raise NotFound("list", list_id)
    head = {k: rows[0][k] for k in ("list_id", "kind", "kind_zh", "scope", "series", "title", "version")}
    entries = [r for r in rows if r["colour"] is not None]
    for r in entries:
        r["colour_zh"] = COLOURS[r["colour"]]
    return head, entries


def sees_list(conn: psycopg.Connection, list_id: int) -> bool:
    """Whether row-level security lets the reader see the list itself (and so its full version)."""
    return conn.execute("SELECT 1 FROM honour_list WHERE id = %s", [list_id]).fetchone() is not None
