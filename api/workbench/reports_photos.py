"""A report's photos (before/after) read through the report: whoever reads the report (row-level
security on report_photo follows the report's) gets its page copy or thumbnail, without EXIF (the
evidence, when and where each was taken, is in the report's JSON). Another report's photo, or one of a
report the user does not read, is a 404.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import AppSettings, Conn
from api.params import DbId
from api.routes.inspections import IMAGE_RESPONSE, SHA256
from gis.errors import NotFound
from gis.media import store as media

PHOTO = "/reports/{report_id}/photos/{sha256}"
router = APIRouter(tags=["reports"])


def _image(conn: psycopg.Connection, data_dir: Path | str, report_id: int, sha256: str,
           copy: media.Copy) -> Response:
    held = conn.execute("SELECT 1 FROM report_photo WHERE report_id = %s AND sha256 = %s LIMIT 1",
                        [report_id, sha256]).fetchone()
    if held is None:
        raise NotFound("photo", sha256)
    return Response(media.read(data_dir, sha256, copy), media_type="image/jpeg",
                    headers={"Cache-Control": "private, max-age=86400",
                             "Content-Disposition": f'inline; filename="{sha256[:12]}.jpg"'})


@router.get(PHOTO, summary="A report's photo (page copy, no EXIF)", response_class=Response,
            responses=IMAGE_RESPONSE)
def report_photo(conn: Conn, settings: AppSettings, report_id: DbId, sha256: SHA256) -> Response:
    return _image(conn, settings.data_dir, report_id, sha256, "published")


@router.get(PHOTO + "/thumbnail", summary="A report's photo as a thumbnail", response_class=Response,
            responses=IMAGE_RESPONSE)
def report_thumbnail(conn: Conn, settings: AppSettings, report_id: DbId, sha256: SHA256) -> Response:
    return _image(conn, settings.data_dir, report_id, sha256, "thumbnail")
