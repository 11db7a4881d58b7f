"""Duties out: the roster of a range of days with done / missed (值守排班表) and the 门前三包 agreements in
force with their last check, as rows under Chinese headers for the record export (gis/interop).

The rows are GET /duties/roster's and GET /frontage/agreements's own (the same readers, on the
request's connection: a unit's accounts get their own unit's only)."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg

from gis.duties import duties, frontage

ROSTER_COLUMNS = {
    "duty_day": "日期", "weekday_zh": "星期", "name": "值守任务", "unit_name": "责任单位",
    "recurrence_zh": "周期", "post": "岗位", "state_zh": "状态", "recorder": "记录人",
    "recorded_at": "记录时间",
}
FRONTAGE_COLUMNS = {
    "shop_name": "店名", "owner": "负责人", "unit_name": "责任单位", "valid_from": "起始日期",
    "valid_to": "截止日期", "note": "备注", "last_checked_on": "最近检查日期", "last_result": "最近检查结果",
    "last_checker": "检查人",
}
STATES = {"done": "已完成", "missed": "缺岗", "due": "待值守"}
RESULTS = {"pass": "合格", "fail": "不合格"}
WEEKDAYS = "一二三四五六日"


def roster_rows(conn: psycopg.Connection, start: date, end: date, unit_id: int | None = None,
                on: date | None = None) -> list[dict[str, Any]]:
    """Every rostered day of [start, end] with its state: done, missed (recorded so, or not recorded by
    the end of the day) or due."""
    rows = duties.roster(conn, start, end, unit_id, on=on)
    for r in rows:
        r["weekday_zh"] = "周" + WEEKDAYS[r["duty_day"].isoweekday() - 1]
        r["recurrence_zh"] = (f"每周{WEEKDAYS[r['weekday'] - 1]}" if r["recurrence"] == "weekly"
                              else f"每月{r['month_day']}日")
        r["post"] = r["post_name"] or r["section_code"]
        r["state_zh"] = STATES[r["state"]]
    return rows


def frontage_rows(conn: psycopg.Connection, on: date | None = None, unit_id: int | None = None
                  ) -> list[dict[str, Any]]:
    """The agreements in force on ``on`` (default today) with their last check; ``geom`` as WKB."""
    rows = frontage.list_agreements(conn, unit_id, on)
    found = conn.execute("SELECT id, ST_AsBinary(geom) FROM frontage_agreement WHERE id = ANY(%s)",
                         [[r["id"] for r in rows]]).fetchall()
    geoms: dict[int, bytes] = dict(found)
    for r in rows:
        last = r["last_check"] or {}
        r["last_checked_on"] = last.get("checked_on")
        r["last_result"] = RESULTS.get(last.get("result") or "", None)
        r["last_checker"] = last.get("checker")
        r["geom"] = geoms[r["id"]]
    return rows
