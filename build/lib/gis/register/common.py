"""What the household and person registers share: paging, search patterns, writes that map refused
constraints to the field at fault, optimistic versions, and checking a location."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from gis.crs import BBox, normalise_crs_name, to_wgs84
from gis.errors import Conflict, InvalidInput, NotFound, Problem, text_problems

MAX_LIMIT = 1000

# Constraints PostgreSQL named by default (<table>_<column>_check, <table>_<column>_fkey) speak
# about <column>; these are the ones named otherwise.
_NAMED_CONSTRAINTS = {
    "key_person_category_fkey": "key_person",
    "person_birth_date_matches_id_number": "birth_date",
    "person_sex_matches_id_number": "sex",
}


def constraint_field(name: str) -> str | None:
    """The input field a constraint of the register's schema speaks about, for 422 bodies."""
    if name in _NAMED_CONSTRAINTS:
        return _NAMED_CONSTRAINTS[name]
    for table in ("person", "household"):
        for suffix in ("_check", "_fkey"):
            if name.startswith(table + "_") and name.endswith(suffix):
                return name[len(table) + 1:-len(suffix)]
    return None


class DuplicateIdNumber(Conflict):
    """The ID number is registered already, somewhere. The answer is the same whoever holds it and
    wherever (it may be a grid the writer cannot see), and says neither: the route audits the attempt."""

    def __init__(self) -> None:
        super().__init__("this ID number is already in the register")


def rejected(exc: psycopg.Error) -> Exception:
    """A domain error for a constraint the database refused (the caller's fault, never a 500)."""
    name = exc.diag.constraint_name or ""
    if isinstance(exc, psycopg.errors.UniqueViolation):
        return DuplicateIdNumber() if "id_number" in name else Conflict("another record has the same ref")
    field = constraint_field(name) or exc.diag.column_name or name or "body"
    if isinstance(exc, psycopg.errors.ForeignKeyViolation):
        return InvalidInput.one(field, "refers to something that does not exist")
    if field == "birth_date":
        return InvalidInput.one(field, "does not match the birth date in the ID number")
    if field == "sex":
        return InvalidInput.one(field, "does not match the sex encoded in the ID number (17th digit)")
    return InvalidInput.one(field, exc.diag.message_primary or "rejected")


def write(conn: psycopg.Connection, statement: str | sql.Composed, params: dict) -> list[tuple]:
    """Run one writing statement in its own savepoint and return its rows; a refused constraint
    becomes a domain error naming the field, and the caller's transaction stays usable."""
    try:
        with conn.transaction():
            return conn.execute(statement, params).fetchall()
    except (psycopg.errors.IntegrityError, psycopg.errors.DataError) as exc:
        raise rejected(exc) from None


def hide_birth_date(row: dict, unmasked: bool) -> dict:
    """A masked ID number hides exactly the birth date (digits 7-14), so a masked row must not carry the
    date beside it: it keeps ``birth_year`` (enough for ages and age groups) and drops ``birth_date``
    unless the full ID number is shown too or there is no ID number to give away."""
    if not unmasked and row.get("id_number") is not None:
        row["birth_date"] = None
    return row


def refuse_nul(fields: dict) -> None:
    """PostgreSQL text cannot hold NUL characters: name the field instead of failing in the driver."""
    if problems := text_problems(fields):
        raise InvalidInput(problems)


def like(q: str) -> str:
    """A substring pattern for ILIKE with the user's % and _ taken literally."""
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def check_page(limit: int, offset: int) -> None:
    """Refuse a page the HTTP layer would refuse too, for callers that do not pass through it."""
    problems = []
    if not 1 <= limit <= MAX_LIMIT:
        problems.append(Problem("limit", f"must be between 1 and {MAX_LIMIT}"))
    if not 0 <= offset <= 2**62:
        problems.append(Problem("offset", "must be 0 or more"))
    if problems:
        raise InvalidInput(problems)


def page(conn: psycopg.Connection, columns: str, source: str, where: sql.Composable, params: dict,
         order_by: str, limit: int, offset: int) -> dict:
    """{"total": n, "items": [...]}: total counts every row of ``source`` matching ``where``, items
    is one page of ``columns`` ordered by ``order_by`` (paging checked first with check_page).
    The SQL pieces are code, never input."""
    base = sql.SQL("FROM {} WHERE {}").format(sql.SQL(source), where)
    total = conn.execute(sql.SQL("SELECT count(*) ") + base, params).fetchone()
    with conn.cursor(row_factory=dict_row) as cur:
        items = cur.execute(
            sql.SQL("SELECT {} {} ORDER BY {} LIMIT %(limit)s OFFSET %(offset)s").format(
                sql.SQL(columns), base, sql.SQL(order_by)),
            {**params, "limit": limit, "offset": offset}).fetchall()
    return {"total": total[0] if total else 0, "items": items}


def stale_or_missing(conn: psycopg.Connection, table: str, key: int, version: int) -> Exception:
    """Why an optimistic UPDATE/DELETE matched no row: the row is gone, or someone changed it first."""
    row = conn.execute(sql.SQL("SELECT version FROM {} WHERE id = %s").format(sql.Identifier(table)),
                       [key]).fetchone()
    if row is None:
        return NotFound(table, key)
    return Conflict(f"{table} {key} was changed meanwhile: it is at version {row[0]}, "
                    f"the update was based on version {version}; reload and retry")


def delete_versioned(conn: psycopg.Connection, table: str, key: int, version: int | None) -> None:
    """Delete the row ``key`` of ``table`` (only if still at ``version`` when one is given)."""
    statement = sql.SQL("DELETE FROM {} WHERE id = %(id)s AND (%(v)s::int IS NULL OR version = %(v)s) "
                        "RETURNING id").format(sql.Identifier(table))
    row = conn.execute(statement, {"id": key, "v": version}).fetchone()
    if row is None:
        raise stale_or_missing(conn, table, key, version or 0)


def locate(lon: Any, lat: Any, crs: str | None, bbox: BBox, row: int | None = None) -> tuple[float, float]:
    """Check a lon/lat pair in an input CRS and return it in EPSG:4326.

    A point outside the region is refused; when swapping the two numbers would put it inside,
    the reason says so, because swapped columns are the most common mistake in address lists.
    """
    try:
        name = normalise_crs_name(crs)
    except ValueError as exc:
        raise InvalidInput.one("crs", str(exc), row) from None
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        raise InvalidInput.one("lon", "lon and lat must be numbers", row) from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise InvalidInput.one("lon", "lon and lat must be finite numbers", row)

    def inside(a: float, b: float) -> bool:
        return bbox[0] <= a <= bbox[2] and bbox[1] <= b <= bbox[3]

    if not inside(x, y):
        hint = "; lat/lon look swapped" if inside(y, x) else ""
        raise InvalidInput.one("lon", f"({x}, {y}) is outside the region {tuple(bbox)}{hint}", row)
    wx, wy = to_wgs84(np.array([x]), np.array([y]), name)
    return float(wx[0]), float(wy[0])
