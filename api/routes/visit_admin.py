"""What visits still lacked (issue 14): a visit's photo and its thumbnail, read through the visit under
its row-level security (the register's readers: the household's grid workers and admins), and the visit
policy (走访频次): each group's interval, changed by an admin (it holds everywhere: every change kept
with who and when (visit_policy_set, migration 029)).

Photos are served as the media store's page copies: upright JPEGs without EXIF (the original, with its
EXIF, stays as evidence and is not served here).
"""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, HTTPException, Path, Response
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AppSettings, Conn
from api.params import DbId
from api.photos import IMAGE_RESPONSE, SHA256, held_photo
from gis.errors import InvalidInput, NotFound
from gis.media import store as media

router = APIRouter(tags=["visits"])
GroupCode = Annotated[str, Path(pattern=r"^[a-z_]+(:[a-z0-9_]+)?$", max_length=80)]
PRIVATE = {"Cache-Control": "private, no-store"}  # a household's door: no shared cache keeps it


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    interval_days: int = Field(
        ge=1, le=3660, description="the longest a household of the group may go unvisited"
    )
    note: str | None = Field(None, max_length=1000, description="why (kept with the change)")


def _visit_photo(
    conn: psycopg.Connection, settings: Any, visit_id: int, sha256: str, copy: media.Copy
) -> Response:
    # row-level security: the visit's policy decides whether the photo row is visible
    return held_photo(conn, settings.data_dir, "visit_photo", "visit_id", visit_id, sha256, copy,
                      headers=PRIVATE)


@router.get(
    "/visits/{visit_id}/photos/{sha256}",
    response_class=Response,
    responses=IMAGE_RESPONSE,
    summary="A visit's photo (published copy, no EXIF)",
)
def visit_photo(conn: Conn, settings: AppSettings, visit_id: DbId, sha256: SHA256) -> Response:
    return _visit_photo(conn, settings, visit_id, sha256, "published")


@router.get(
    "/visits/{visit_id}/photos/{sha256}/thumbnail",
    response_class=Response,
    responses=IMAGE_RESPONSE,
    summary="A visit photo's thumbnail (no EXIF)",
)
def visit_photo_thumbnail(conn: Conn, settings: AppSettings, visit_id: DbId, sha256: SHA256) -> Response:
    return _visit_photo(conn, settings, visit_id, sha256, "thumbnail")


def policy(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Each group with its interval and its last change (who, when, from what)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("""
            SELECT p.group_code, p.kind, p.key_category, p.name_zh, p.name_en, p.interval_days,
                   c.old_days AS last_old_days, c.actor AS last_changed_by, c.at AS last_changed_at,
                   c.note AS last_note
            FROM visit_policy p
            LEFT JOIN LATERAL (SELECT * FROM visit_policy_change c WHERE c.group_code = p.group_code
                               ORDER BY c.id DESC LIMIT 1) c ON true
            ORDER BY p.interval_days, p.group_code""").fetchall()


def changes(conn: psycopg.Connection, limit: int = 50) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT id, group_code, old_days, new_days, note, actor, at FROM visit_policy_change"
            " ORDER BY id DESC LIMIT %s",
            [limit],
        ).fetchall()


def set_interval(conn: psycopg.Connection, group_code: str, days: int, note: str | None) -> int | None:
    """Change a group's interval; the change's id (None: unchanged). 403 for anyone but an admin."""
    try:
        with conn.transaction():
            row = conn.execute("SELECT visit_policy_set(%s, %s, %s)", [group_code, days, note]).fetchone()
    except psycopg.errors.InsufficientPrivilege as exc:
        raise HTTPException(403, exc.diag.message_primary or "not yours to change") from None
    except psycopg.errors.InvalidParameterValue as exc:
        raise InvalidInput.one(
            exc.diag.message_detail or "interval_days", exc.diag.message_primary or ""
        ) from None
    except psycopg.errors.NoDataFound:
        raise NotFound("visit policy group", group_code) from None
    return row[0] if row else None


@router.get("/visits/policy", summary="The visit policy (走访频次): each group's interval and its changes")
def get_policy(conn: Conn) -> dict[str, Any]:
    return {"groups": policy(conn), "changes": changes(conn)}


@router.put("/visits/policy/{group_code}", summary="Change a group's visit interval (audited)")
def put_policy(conn: Conn, group_code: GroupCode, body: PolicyIn) -> dict[str, Any]:
    """By an admin (the policy holds everywhere; the change is kept with who and why). The overdue
    lists and the 走访 layer judge by the new interval from now on."""
    changed = set_interval(conn, group_code, body.interval_days, body.note)
    found = next(g for g in policy(conn) if g["group_code"] == group_code)
    return {**found, "change_id": changed}
