"""The public exposure board (曝光台): an admin over a closed report's area publishes it for the public,
redacted; the public reads live publications only; unpublishing keeps the row (history).

What reaches the public is what the admin wrote (title, public text) and chose (photos among the
report's own), with the category, the community's name and the day: never the reporter, a worker, a
unit or its contact, the position or the description. The redaction note (faces and number plates
checked) stays with the staff. Photos are served from the media store's published copy, which carries
no EXIF (gis.media.store). The rules are the database's (migration 029): not an admin over the area,
NotAllowed; not closed or already published, Conflict; a photo not of the report, InvalidInput.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.errors import Conflict, InvalidInput, NotFound
from gis.reports.workflow import NotAllowed

_STAFF = """SELECT e.id, e.report_id, e.title, e.public_text, e.redaction_note, e.category, e.community_code,
    e.report_day, e.published_by_name, e.published_at, e.unpublished_at, e.unpublished_by_name,
    e.unpublish_note, e.unpublished_at IS NULL AS live,
    coalesce((SELECT array_agg(p.sha256 ORDER BY p.ordinal) FROM report_exposure_photo p
              WHERE p.exposure_id = e.id), '{}') AS photos
FROM report_exposure e"""


def _call(conn: psycopg.Connection, query: str, params: Sequence[Any], what: str, key: int) -> Any:
    try:
        with conn.transaction():  # a savepoint: a refusal leaves the request's transaction usable
            row = conn.execute(query, params).fetchone()
    except psycopg.errors.InsufficientPrivilege as exc:
        raise NotAllowed(exc.diag.message_primary or "not yours to do") from None
    except psycopg.errors.InvalidParameterValue as exc:
        raise InvalidInput.one(exc.diag.message_detail or "body", exc.diag.message_primary or "") from None
    except psycopg.errors.NoDataFound:
        raise NotFound(what, key) from None
    except psycopg.Error as exc:
        if exc.sqlstate == "RP409":
            raise Conflict(exc.diag.message_primary or "not in a state for it") from None
        raise
    return row[0] if row else None


def publish(
    conn: psycopg.Connection,
    report_id: int,
    title: str,
    public_text: str,
    redaction_note: str,
    photos: Sequence[str] = (),
) -> int:
    """Publish a closed report the user reads; the publication's id."""
    if conn.execute("SELECT 1 FROM report WHERE id = %s", [report_id]).fetchone() is None:
        raise NotFound("report", report_id)  # row-level security: not the user's to read
    return int(
        _call(
            conn,
            "SELECT exposure_publish(%s, %s, %s, %s, %s::text[])",
            [report_id, title, public_text, redaction_note, list(photos)],
            "report",
            report_id,
        )
    )


def unpublish(conn: psycopg.Connection, exposure_id: int, note: str | None = None) -> None:
    """Take a publication down; it stays in the history."""
    if conn.execute("SELECT 1 FROM report_exposure WHERE id = %s", [exposure_id]).fetchone() is None:
        raise NotFound("publication", exposure_id)
    _call(conn, "SELECT exposure_unpublish(%s, %s)", [exposure_id, note], "publication", exposure_id)


def history(conn: psycopg.Connection, report_id: int | None = None) -> list[dict[str, Any]]:
    """Publications (live and past) the user may see, newest first; of one report if given."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            _STAFF + " WHERE (%(r)s::bigint IS NULL OR e.report_id = %(r)s)"
            " ORDER BY e.published_at DESC, e.id DESC",
            {"r": report_id},
        ).fetchall()


def public(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """The live publications, newest first: what anyone may read."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT * FROM exposure_public()").fetchall()


def public_photo(conn: psycopg.Connection, exposure_id: int, sha256: str) -> None:
    """NotFound unless the live publication shows this photo (a taken-down one serves none)."""
    found = conn.execute(
        "SELECT 1 FROM exposure_public() e WHERE e.id = %s AND %s = ANY (e.photos)", [exposure_id, sha256]
    ).fetchone()
    if found is None:
        raise NotFound("photo", sha256)
