"""The photos of the campaign's records read through their record: a duty day's record, a 门前三包 check,
a compound task (before and after). Whoever reads the record gets its page copy or thumbnail, without
EXIF (the evidence, when and where each was taken, stays in the record's JSON); the photo tables'
row-level security follows the record's (migration 025), so another unit's record, or a photo the record
does not hold, is a 404 like a record that does not exist.
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

DUTY_PHOTO = "/duty-records/{record_id}/photos/{sha256}"
CHECK_PHOTO = "/frontage-checks/{check_id}/photos/{sha256}"
TASK_PHOTO = "/compound-tasks/{task_id}/photos/{sha256}"
# Per kind of record: its photo address, the photo table and its record column (also the address's
# parameter), the photo's name in a 404.
_KINDS = {"duty": (DUTY_PHOTO, "duty_record_photo", "record_id", "duty record photo"),
          "check": (CHECK_PHOTO, "frontage_check_photo", "check_id", "frontage check photo"),
          "task": (TASK_PHOTO, "compound_task_photo", "task_id", "compound task photo")}

router = APIRouter(tags=["duties (值守)"])


def photo_url(kind: str, record_id: int, sha256: str, thumbnail: bool = False) -> str:
    """The address of a record's photo (its thumbnail), as the pages link it."""
    template, _table, key, _name = _KINDS[kind]
    url = template.replace("{" + key + "}", str(record_id)).replace("{sha256}", sha256)
    return url + "/thumbnail" if thumbnail else url


def _image(conn: psycopg.Connection, data_dir: Path | str, kind: str, record_id: int, sha256: str,
           copy: media.Copy) -> Response:
    _template, table, column, name = _KINDS[kind]
    return held_photo(conn, data_dir, table, column, record_id, sha256, copy, name)


@router.get(DUTY_PHOTO, summary="A duty record's photo (page copy, no EXIF)", response_class=Response,
            responses=IMAGE_RESPONSE)
def duty_photo(conn: Conn, settings: AppSettings, record_id: DbId, sha256: SHA256) -> Response:
    return _image(conn, settings.data_dir, "duty", record_id, sha256, "published")


@router.get(DUTY_PHOTO + "/thumbnail", summary="A duty record's photo as a thumbnail",
            response_class=Response, responses=IMAGE_RESPONSE)
def duty_thumbnail(conn: Conn, settings: AppSettings, record_id: DbId, sha256: SHA256) -> Response:
    return _image(conn, settings.data_dir, "duty", record_id, sha256, "thumbnail")


@router.get(CHECK_PHOTO, summary="A frontage check's photo (page copy, no EXIF)", response_class=Response,
            responses=IMAGE_RESPONSE)
def check_photo(conn: Conn, settings: AppSettings, check_id: DbId, sha256: SHA256) -> Response:
    return _image(conn, settings.data_dir, "check", check_id, sha256, "published")


@router.get(CHECK_PHOTO + "/thumbnail", summary="A frontage check's photo as a thumbnail",
            response_class=Response, responses=IMAGE_RESPONSE)
def check_thumbnail(conn: Conn, settings: AppSettings, check_id: DbId, sha256: SHA256) -> Response:
    return _image(conn, settings.data_dir, "check", check_id, sha256, "thumbnail")


@router.get(TASK_PHOTO, summary="A compound task's photo (page copy, no EXIF)", response_class=Response,
            responses=IMAGE_RESPONSE)
def task_photo(conn: Conn, settings: AppSettings, task_id: DbId, sha256: SHA256) -> Response:
    return _image(conn, settings.data_dir, "task", task_id, sha256, "published")


@router.get(TASK_PHOTO + "/thumbnail", summary="A compound task's photo as a thumbnail",
            response_class=Response, responses=IMAGE_RESPONSE)
def task_thumbnail(conn: Conn, settings: AppSettings, task_id: DbId, sha256: SHA256) -> Response:
    return _image(conn, settings.data_dir, "task", task_id, sha256, "thumbnail")
