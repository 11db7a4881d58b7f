"""The quarter's scoring sheet (考核评分细则) imported from XLSX: item number, section, item text,
points and how it is measured (Chinese headers), and for the items the system can measure the live
figure that fills them (系统指标, a code of figures.FIGURES), its target (目标: ">=1", "≤0", "80%") and
the records whose photos are its evidence (佐证来源). A sheet is imported whole, once per quarter and
street, and never changed (the database refuses it)."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import psycopg
from openpyxl import load_workbook
from psycopg.rows import dict_row

from gis.assessment import files
from gis.assessment.evidence import RECORD_KINDS
from gis.assessment.figures import FIGURES
from gis.assessment.quarters import Quarter
from gis.errors import Conflict, InvalidInput, NotFound, Problem
from gis.spreadsheet import unquoted

# header -> field; the first five are required
HEADERS = {"序号": "item_no", "类别": "section", "考核内容": "content", "分值": "points",
           "考核方式": "measure", "系统指标": "figure", "目标": "target", "佐证来源": "evidence_from"}
REQUIRED = ("item_no", "section", "content", "points", "measure")
MAX_ITEMS = 500
SCOPE = r"^[1-9][0-9]{5}([0-9]{3})?$"
_TARGET = re.compile(r"^(>=|<=|≥|≤)?\s*([0-9]+(?:\.[0-9]+)?)\s*(%?)$")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unquoted(str(value)).strip()


def _target(raw: str) -> tuple[Decimal, str] | None:
    m = _TARGET.match(raw.replace("＞", ">").replace("＜", "<").replace("＝", "="))
    if not m:
        return None
    value = Decimal(m.group(2)) / (100 if m.group(3) else 1)
    return value, "<=" if m.group(1) in ("<=", "≤") else ">="


def read_items(content: bytes) -> list[dict[str, Any]]:
    """The items of the workbook's first sheet: the header row is the first row naming 序号, every
    problem listed with its row (1-based, as the spreadsheet counts)."""
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidInput.one("file", "not an XLSX workbook") from exc
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    header_at = next((i for i, r in enumerate(rows) if any(_text(v) == "序号" for v in r)), None)
    if header_at is None:
        raise InvalidInput.one("file", "no header row naming 序号")
    columns = {HEADERS[_text(v)]: j for j, v in enumerate(rows[header_at]) if _text(v) in HEADERS}
    missing = [h for h, f in HEADERS.items() if f in REQUIRED and f not in columns]
    if missing:
        raise InvalidInput.one("file", f"missing columns: {', '.join(missing)}")
    items: list[dict[str, Any]] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, raw in enumerate(rows[header_at + 1:], start=header_at + 2):
        cell = {f: _text(raw[j]) if j < len(raw) else "" for f, j in columns.items()}
        if not any(cell.values()):
            continue
        item: dict[str, Any] = {"position": len(items) + 1, "item_no": cell["item_no"],
                                "section": cell["section"], "content": cell["content"],
                                "measure": cell["measure"], "figure": cell.get("figure") or None,
                                "target": None, "direction": None, "evidence_from": []}
        if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,3})?", item["item_no"]):
            problems.append(Problem("序号", "a number such as 12 or 3.1", i))
        elif item["item_no"] in seen:
            problems.append(Problem("序号", f"item {item['item_no']} appears twice", i))
        seen.add(item["item_no"])
        for f, header in (("section", "类别"), ("content", "考核内容")):
            if not item[f]:
                problems.append(Problem(header, "empty", i))
        try:
            item["points"] = Decimal(cell["points"])
            if not 0 < item["points"] < 10000:
                raise InvalidOperation
        except InvalidOperation:
            problems.append(Problem("分值", "a number of points above 0", i))
        if item["figure"] and item["figure"] not in FIGURES:
            problems.append(Problem("系统指标", f"no live figure {item['figure']!r}", i))
        if cell.get("target"):
            parsed = _target(cell["target"])
            if parsed is None or not item["figure"]:
                problems.append(Problem("目标", "a target such as >=1, <=0 or 80% beside a 系统指标", i))
            else:
                item["target"], item["direction"] = parsed
        kinds = [k.strip() for k in re.split(r"[,，、\s]+", cell.get("evidence_from", "")) if k.strip()]
        if any(k not in RECORD_KINDS for k in kinds):
            problems.append(Problem("佐证来源", f"record kinds among {', '.join(RECORD_KINDS)}", i))
        item["evidence_from"] = kinds
        items.append(item)
    if not items and not problems:
        problems.append(Problem("file", "no items"))
    if len(items) > MAX_ITEMS:
        problems.append(Problem("file", f"more than {MAX_ITEMS} items"))
    if problems:
        raise InvalidInput(problems)
    return items


def import_sheet(conn: psycopg.Connection, data_dir: Path | str, content: bytes, *, quarter: Quarter,
                 scope: str, title: str, stored_by: str) -> dict[str, Any]:
    """Keep the workbook and its items: one sheet per quarter and street (a second is a conflict)."""
    if not re.fullmatch(SCOPE, scope):
        raise InvalidInput.one("scope", "the 9-digit street (or 6-digit district) the sheet scores")
    if not title.strip() or len(title) > 200:
        raise InvalidInput.one("title", "1 to 200 characters")
    items = read_items(content)
    sha256, mime = files.store(conn, data_dir, content, stored_by, "sheet.xlsx")
    if mime != files.XLSX:
        raise InvalidInput.one("file", "not an XLSX workbook")
    try:
        with conn.transaction():
            row = conn.execute(
                "INSERT INTO assessment_sheet (quarter, scope, title, source_sha256, imported_by)"
                " VALUES (%s, %s, %s, %s, %s) RETURNING id",
                [quarter.code, scope, title.strip(), sha256, stored_by]).fetchone()
            assert row is not None
            conn.execute(
                "INSERT INTO assessment_item (sheet_id, item_no, position, section, content, points, measure,"
                " figure, target, direction, evidence_from)"
                " SELECT %s, i.item_no, i.position, i.section, i.content, i.points, i.measure, i.figure,"
                "  i.target, i.direction, string_to_array(i.evidence_from, ',')"
                " FROM unnest(%s::text[], %s::int[], %s::text[], %s::text[], %s::numeric[], %s::text[],"
                "  %s::text[], %s::numeric[], %s::text[], %s::text[])"
                "  AS i(item_no, position, section, content, points, measure, figure, target, direction,"
                "       evidence_from)",
                [row[0], *([it[k] for it in items] for k in (
                    "item_no", "position", "section", "content", "points", "measure", "figure", "target",
                    "direction")), [",".join(it["evidence_from"]) for it in items]])
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"the {quarter} sheet of {scope} is imported already") from None
    return sheet(conn, row[0])


def sheet(conn: psycopg.Connection, sheet_id: int) -> dict[str, Any]:
    """A sheet with its items in the sheet's order."""
    with conn.cursor(row_factory=dict_row) as cur:
        found = cur.execute("SELECT id, quarter, scope, title, source_sha256, imported_by, imported_at"
                            " FROM assessment_sheet WHERE id = %s", [sheet_id]).fetchone()
        if found is None:
            raise NotFound("scoring sheet", sheet_id)
        found["items"] = cur.execute(
            "SELECT item_no, section, content, points, measure, figure, target, direction, evidence_from"
            " FROM assessment_item WHERE sheet_id = %s ORDER BY position", [sheet_id]).fetchall()
    return found


def sheets(conn: psycopg.Connection, quarter: Quarter | None = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT s.id, s.quarter, s.scope, s.title, s.imported_by, s.imported_at,"
            " (SELECT count(*) FROM assessment_item i WHERE i.sheet_id = s.id) AS items,"
            " (SELECT count(*) FROM assessment_item i WHERE i.sheet_id = s.id AND i.figure IS NOT NULL)"
            "  AS measured FROM assessment_sheet s WHERE %(q)s::text IS NULL OR s.quarter = %(q)s"
            " ORDER BY s.quarter DESC, s.scope", {"q": quarter.code if quarter else None}).fetchall()


def sheet_for(conn: psycopg.Connection, quarter: Quarter, community: str) -> dict[str, Any]:
    """The quarter's sheet scoring the community (the most specific scope)."""
    row = conn.execute("SELECT id FROM assessment_sheet WHERE quarter = %s AND starts_with(%s, scope)"
                       " ORDER BY length(scope) DESC LIMIT 1", [quarter.code, community]).fetchone()
    if row is None:
        raise NotFound("scoring sheet", f"{quarter} {community}")
    return sheet(conn, row[0])
