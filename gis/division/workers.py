"""Grid workers (网格员) and service teams: create, read, list, assign to grids and unassign; the
public service phone (服务电话, printed on the wall map) set by an admin over the worker's grids.

The personal phone is masked wherever it is shown; the service phone is public on purpose and shown
whole. Setting it goes through migration 035's SECURITY DEFINER function, which checks that every
grid the worker serves lies within the admin's scope (the service's own view of the assignments is cut
by row-level security) and writes the audit entry. The worker's own fields (name, personal phone, ref)
and the worker herself change under migration 038's rule, the same one: the row-level policy lets the
service change only the workers whose grids all lie within the admin's scope, and the database writes one
audit entry per field changed (or worker removed). A worker outside that scope is refused here
(PermissionError, 403): an admin reads the whole directory, so a row she sees but may not change is hers
to be told about, not a 404.
"""

from __future__ import annotations

import re

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from gis.areas import Area, by_grid_code
from gis.codes import mask_phone
from gis.division.communities import checked_name
from gis.errors import Conflict, InvalidInput, NotFound

EDITABLE = ("name", "phone", "ref")  # the service's own columns of grid_worker (migration 038)

# A service phone as people write it: digits, with spaces or hyphens between groups (the area code may
# stand in brackets); judged on its digits. Mobile: 11 digits from 13 to 19. Landline: a 3- or 4-digit
# area code from 0 and a 7- or 8-digit number. Hotlines (400/800 numbers) are 10 digits from 400 or 800.
SERVICE_PHONE_FORMATS = ("a Chinese mobile (11 digits from 13–19, e.g. 13912345678) or landline with its "
                         "area code (e.g. 0731-84567890, 010-12345678), or a 400/800 hotline (e.g. "
                         "400-123-4567); digits with spaces or hyphens between groups")
_WRITTEN = re.compile(r"(\(0[0-9]{2,3}\)|[0-9])[0-9 -]{2,28}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE = re.compile(r"0[1-9][0-9]{1,2}[2-9][0-9]{6,7}")
_HOTLINE = re.compile(r"[48]00[0-9]{7}")


def checked_service_phone(value: str | None) -> str | None:
    """The service phone as stored (trimmed, brackets around the area code dropped: the database's
    format starts with a digit), None for none; InvalidInput naming the formats otherwise."""
    if value is None or not value.strip():
        return None
    text = " ".join(value.split())
    digits = re.sub(r"[ ()-]", "", text)
    if not (_WRITTEN.fullmatch(text) and not re.search(r"[ -]{2}", text)
            and (_MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits) or _HOTLINE.fullmatch(digits))):
        raise InvalidInput.one("service_phone", "must be " + SERVICE_PHONE_FORMATS)
    return re.sub(r"^\((0[0-9]{2,3})\)\s*", r"\1-", text)


def set_service_phone(conn: psycopg.Connection, worker_id: int, phone: str | None) -> bool:
    """Set (or with None clear) the worker's service phone; True if it changed. NotFound for a worker
    the database does not know, PermissionError when a grid she serves lies outside the admin's scope
    (or the user is no admin)."""
    phone = checked_service_phone(phone)
    try:
        with conn.transaction():
            row = conn.execute("SELECT admin_worker_service_phone(%s, %s)", [worker_id, phone]).fetchone()
    except psycopg.errors.NoDataFound:
        raise NotFound("grid worker", worker_id) from None
    except psycopg.errors.InsufficientPrivilege as exc:
        raise PermissionError(exc.diag.message_primary or "not permitted") from None
    assert row is not None
    return bool(row[0])


def _refused_or_missing(conn: psycopg.Connection, worker_id: int) -> Exception:
    """Why a statement that names one worker touched no row: she is not there (404), or out of scope."""
    if conn.execute("SELECT 1 FROM grid_worker WHERE id = %s", [worker_id]).fetchone() is None:
        return NotFound("grid worker", worker_id)
    return PermissionError(f"grid worker {worker_id} serves grids outside your scope")


def change_worker(conn: psycopg.Connection, worker_id: int, changes: dict[str, str | None]) -> dict:
    """Change the worker's name, personal phone or ref (the keys of ``changes`` among EDITABLE; None
    clears phone or ref); the database audits each field changed. NotFound for an unknown worker,
    PermissionError when she serves a grid outside the admin's scope."""
    fields = {k: v for k, v in changes.items() if k in EDITABLE}
    if "name" in fields:
        fields["name"] = checked_name(fields["name"] or "", phone=fields.get("phone"), ref=fields.get("ref"))
    else:
        checked_name("-", phone=fields.get("phone"), ref=fields.get("ref"))
    if not fields:
        return get_worker(conn, worker_id)
    statement = sql.SQL("UPDATE grid_worker SET {} WHERE id = %(id)s RETURNING id").format(
        sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in fields))
    try:
        with conn.transaction():
            row = conn.execute(statement, {**fields, "id": worker_id}).fetchone()
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"a grid worker with ref {fields.get('ref')!r} already exists") from None
    if row is None:
        raise _refused_or_missing(conn, worker_id)
    return get_worker(conn, worker_id)


def delete_worker(conn: psycopg.Connection, worker_id: int) -> None:
    """Remove the worker (her assignments go with her); audited by the database. NotFound or
    PermissionError as change_worker."""
    with conn.transaction():
        row = conn.execute("DELETE FROM grid_worker WHERE id = %s RETURNING id", [worker_id]).fetchone()
    if row is None:
        raise _refused_or_missing(conn, worker_id)


def editable(conn: psycopg.Connection, worker_ids: list[int]) -> set[int]:
    """The workers of ``worker_ids`` whose service phone the acting user may set."""
    return {r[0] for r in conn.execute("SELECT admin_worker_editable(%s::bigint[])", [worker_ids])}


def create_worker(conn: psycopg.Connection, name: str, phone: str | None = None, ref: str | None = None,
                  grids: list[str] | None = None, role: str = "worker",
                  service_phone: str | None = None) -> dict:
    """A grid worker, assigned to ``grids`` in the same statement."""
    name = checked_name(name, phone=phone, ref=ref)
    service_phone = checked_service_phone(service_phone)
    try:
        with conn.transaction():
            row = conn.execute(
                """
                WITH w AS (INSERT INTO grid_worker (name, phone, ref, service_phone)
                           VALUES (%(name)s, %(phone)s, %(ref)s, %(service_phone)s) RETURNING id),
                     a AS (INSERT INTO grid_worker_grid (worker_id, grid_code, role)
                           SELECT w.id, g, %(role)s FROM w, unnest(%(grids)s::text[]) g)
                SELECT id FROM w
                """, {"name": name, "phone": phone, "ref": ref, "grids": grids or [],
                      "role": role, "service_phone": service_phone}).fetchone()
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"a grid worker with ref {ref!r} already exists") from None
    except psycopg.errors.ForeignKeyViolation:
        raise InvalidInput.one("grids", "unknown grid code") from None
    except psycopg.errors.InsufficientPrivilege as exc:
        # a grid outside the admin's scope (grid_worker_grid's policy), or none named by a scoped admin
        raise PermissionError(exc.diag.message_primary or "outside your scope") from None
    assert row is not None
    return get_worker(conn, row[0])


_WORKERS_SQL = f"""
    SELECT w.id, w.name, w.phone, w.ref, w.service_phone,
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
    """Grid workers with their grids (personal phones masked, the public service phone whole),
    optionally those of one grid."""
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
