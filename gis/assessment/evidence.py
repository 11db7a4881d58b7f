"""Evidence items (佐证材料): added, never changed or removed (the database refuses both); a correction
is a new item that supersedes the old one. The evidence of a community in a quarter is the items not
superseded plus the records' own photos (record_photos.sql), so nobody uploads a photo twice."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.assessment.files import XLSX
from gis.assessment.quarters import Quarter
from gis.errors import Conflict, InvalidInput, NotFound
from gis.sql_files import sql_text

RECORD_KINDS = ("duty_record", "frontage_check", "compound_task", "facility_session", "volunteer_activity",
                "report", "inspection", "visit")
RECORD_NAMES = {"duty_record": "值守记录", "frontage_check": "门前三包检查", "compound_task": "帮扶任务",
                "facility_session": "阵地活动", "volunteer_activity": "志愿服务活动", "report": "不文明行为",
                "inspection": "检查记录", "visit": "走访"}
COLUMNS = """e.id, e.quarter, e.community_code, e.sha256, e.kind, e.mime, e.file_name, e.title, e.item_no,
    e.record_kind, e.record_id, e.supersedes, e.recorded_by, e.recorded_at,
    EXISTS (SELECT 1 FROM evidence_item n WHERE n.supersedes = e.id) AS superseded"""


def kind_of(mime: str) -> str:
    if mime.startswith("image/"):
        return "photo"
    return "spreadsheet" if mime in (XLSX, "text/csv") else "document"


def _item_known(conn: psycopg.Connection, quarter: Quarter, community: str, item_no: str) -> bool:
    return conn.execute(
        "SELECT EXISTS (SELECT 1 FROM assessment_item i JOIN assessment_sheet s ON s.id = i.sheet_id"
        " WHERE s.quarter = %s AND starts_with(%s, s.scope) AND i.item_no = %s)",
        [quarter.code, community, item_no]).fetchone() == (True,)


def add(conn: psycopg.Connection, *, quarter: Quarter, community: str, sha256: str, mime: str, title: str,
        file_name: str | None = None, item_no: str | None = None, record_kind: str | None = None,
        record_id: int | None = None, supersedes: int | None = None) -> dict[str, Any]:
    """Record an evidence item for a file already stored (media store or evidence_file); the recorder
    is the signed-in user, stamped by the database."""
    if item_no is None and record_kind is None:
        raise InvalidInput.one("item_no", "name the scoring item or the record it evidences")
    if (record_kind is None) != (record_id is None):
        raise InvalidInput.one("record_id", "a record is named by its kind and its id together")
    if record_kind is not None and record_kind not in RECORD_KINDS:
        raise InvalidInput.one("record_kind", f"one of {', '.join(RECORD_KINDS)}")
    if item_no is not None and not _item_known(conn, quarter, community, item_no):
        raise InvalidInput.one("item_no", f"no item {item_no} on the {quarter} sheet of this community")
    if supersedes is not None:
        old = conn.execute("SELECT quarter, community_code FROM evidence_item WHERE id = %s",
                           [supersedes]).fetchone()
        if old is None:
            raise InvalidInput.one("supersedes", f"no evidence item {supersedes} you may read")
        if old != (quarter.code, community):
            raise InvalidInput.one("supersedes", "an item of the same quarter and community")
    try:
        with conn.transaction():
            row = conn.execute(
                "INSERT INTO evidence_item (quarter, community_code, sha256, kind, mime, file_name, title,"
                " item_no, record_kind, record_id, supersedes, recorded_by)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '-') RETURNING id",
                [quarter.code, community, sha256, kind_of(mime), mime, file_name, title.strip(), item_no,
                 record_kind, record_id, supersedes]).fetchone()
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"evidence item {supersedes} is already superseded") from None
    assert row is not None
    return one(conn, row[0])


def one(conn: psycopg.Connection, evidence_id: int) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        found = cur.execute(f"SELECT {COLUMNS} FROM evidence_item e WHERE e.id = %s",
                            [evidence_id]).fetchone()
    if found is None:
        raise NotFound("evidence item", evidence_id)
    return found


def uploaded(conn: psycopg.Connection, quarter: Quarter, community: str,
             current_only: bool = True) -> list[dict[str, Any]]:
    """The items recorded for the community and quarter (only those not superseded, unless asked)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            f"SELECT {COLUMNS} FROM evidence_item e WHERE e.quarter = %s AND e.community_code = %s"
            " AND (NOT %s OR NOT EXISTS (SELECT 1 FROM evidence_item n WHERE n.supersedes = e.id))"
            " ORDER BY e.id", [quarter.code, community, current_only]).fetchall()


def record_photos(conn: psycopg.Connection, quarter: Quarter, area: str) -> list[dict[str, Any]]:
    """The records' photos of the communities under ``area`` (a community: its own) in the quarter
    (record_photos.sql), the caller's to read; each record counts in exactly one community."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql_text("gis.assessment", "record_photos"),
                           {"area": area, "start": quarter.start, "end": quarter.end}).fetchall()
