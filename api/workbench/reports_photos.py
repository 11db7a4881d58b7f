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
from api.photos import IMAGE_RESPONSE, SHA256, held_photo
from gis.media import store as media

PHOTO = "/reports/{report_id}/photos/{sha256}"
router = APIRouter(tags=["reports"])


def _image(conn: psycopg.Connection, data_dir: Path | str, report_id: int, sha256: str,
           copy: media.Copy) -> Response:
    return held_photo(conn, data_dir, "report_photo", "report_id", report_id, sha256, copy)


@router.get(PHOTO, summary="A report's photo (page copy, no EXIF)", response_class=Response,
            responses=IMAGE_RESPONSE)
def report_photo(conn: Conn, settings: AppSettings, report_id: DbId, sha256: SHA256) -> Response:
    return _image(conn, settings.data_dir, report_id, sha256, "published")


@router.get(PHOTO + "/thumbnail", summary="A report's photo as a thumbnail", response_class=Response,
            responses=IMAGE_RESPONSE)
def report_thumbnail(conn: Conn, settings: AppSettings, report_id: DbId, sha256: SHA256) -> Response:
    return _image(conn, settings.data_dir, report_id, sha256, "thumbnail")
