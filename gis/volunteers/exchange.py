"""Volunteer hours out (志愿服务时长): per team and member, the activities served and the hours in a
period, as rows under Chinese headers for the record export (gis/interop).

One statement on the request's connection: the teams the reader sees (GET /volunteers/teams) and, of
their members, the residents the register lets the reader read (GET .../members) and the outsiders."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.errors import InvalidInput, Problem

AREA = r"^([1-9][0-9]{5}([0-9]{3}([0-9]{3})?)?)?$"
MAX_DAYS = 3660  # ten years: a longer period is a typing mistake

COLUMNS = {
    "team_name": "队伍", "team_scope": "服务区域编码", "name": "姓名", "kind_zh": "身份",
    "joined_on": "加入日期", "left_on": "退出日期", "activities": "参加活动次数", "hours": "服务时长（小时）",
}

_ROWS = """
SELECT t.name AS team_name, t.scope AS team_scope, coalesce(p.name, m.outsider_name) AS name,
       CASE WHEN m.person_id IS NULL THEN '社会志愿者' ELSE '居民' END AS kind_zh, m.joined_on, m.left_on,
       count(a.id) AS activities, coalesce(sum(h.hours), 0) AS hours
FROM volunteer_team t
JOIN volunteer_member m ON m.team_id = t.id
LEFT JOIN person p ON p.id = m.person_id
LEFT JOIN (volunteer_hours h JOIN volunteer_activity a
           ON a.id = h.activity_id AND a.held_on BETWEEN %(start)s AND %(end)s) ON h.member_id = m.id
WHERE (starts_with(t.scope, %(p)s) OR starts_with(%(p)s, t.scope))
  AND (m.person_id IS NULL OR p.id IS NOT NULL)
GROUP BY t.id, m.id, p.name
ORDER BY t.scope, t.name, hours DESC, m.id"""


def hours_rows(conn: psycopg.Connection, prefix: str, start: date, end: date) -> list[dict[str, Any]]:
    """Each member of each team under (or holding) ``prefix`` the reader may read, with the activities
    and hours served in [start, end] (members who served none in it: 0)."""
    problems = []
    if not re.fullmatch(AREA, prefix):
        problems.append(Problem("area", "a 6-, 9- or 12-digit code, or nothing"))
    if end < start:
        problems.append(Problem("to", f"{end} is before from {start}"))
    elif (end - start).days >= MAX_DAYS:
        problems.append(Problem("to", f"at most {MAX_DAYS} days at once"))
    if problems:
        raise InvalidInput(problems)
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_ROWS, {"p": prefix, "start": start, "end": end}).fetchall()
