"""A facility session's photos read through the session: whoever reads the session gets its page copy or
thumbnail, without EXIF (the evidence, when and where each was taken, stays in the media store and the
session's JSON). Another session's photo, or a photo of no session, is a 404; the database's row-level
security on facility_session_photo decides who reads (every signed-in role, as the sessions' list)."""

from __future__ import annotations

from pathlib import Path

import psycopg
from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import AppSettings, Conn
from api.params import DbId
from api.photos import IMAGE_RESPONSE, SHA256, held_photo
from gis.media import store as media

PHOTO = "/facility-sessions/{session_id}/photos/{sha256}"
router = APIRouter(tags=["facilities"])


def _image(conn: psycopg.Connection, data_dir: Path | str, session_id: int, sha256: str,
           copy: media.Copy) -> Response:
    return held_photo(conn, data_dir, "facility_session_photo", "session_id", session_id, sha256, copy)


@router.get(PHOTO, summary="A facility session's photo (page copy, no EXIF)", response_class=Response,
            responses=IMAGE_RESPONSE)
def session_photo(conn: Conn, settings: AppSettings, session_id: DbId, sha256: SHA256) -> Response:
    return _image(conn, settings.data_dir, session_id, sha256, "published")


@router.get(PHOTO + "/thumbnail", summary="A facility session's photo as a thumbnail",
            response_class=Response, responses=IMAGE_RESPONSE)
def session_thumbnail(conn: Conn, settings: AppSettings, session_id: DbId, sha256: SHA256) -> Response:
    return _image(conn, settings.data_dir, session_id, sha256, "thumbnail")
