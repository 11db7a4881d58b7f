"""Photos served through the record that holds them (a report, an inspection, a visit, a duty record, a
门前三包 check, a compound task, a facility session): whoever may read the record gets its page copy or
thumbnail without EXIF (the evidence, when and where each was taken, stays in the record's JSON).

The photo tables' row-level security follows their record's, so one query decides: a photo the record
does not hold, or a record the user may not read, is the same 404.
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any

import psycopg
from fastapi import Path
from fastapi.responses import Response
from psycopg import sql

from gis.errors import NotFound
from gis.media import store as media

SHA256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="the photo's SHA-256")]
IMAGE_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"image/jpeg": {}},
                                                         "description": "JPEG without EXIF"}}
# A browser may keep it a day; no shared cache ever does (the photos show people and their doors).
PRIVATE_DAY = {"Cache-Control": "private, max-age=86400"}


def jpeg(data_dir: FilePath | str, sha256: str, copy: media.Copy,
         headers: dict[str, str] | None = None) -> Response:
    """The stored photo's copy as an inline JPEG named by its hash."""
    return Response(media.read(data_dir, sha256, copy), media_type="image/jpeg",
                    headers={**(headers or PRIVATE_DAY),
                             "Content-Disposition": f'inline; filename="{sha256[:12]}.jpg"'})


def held_photo(conn: psycopg.Connection, data_dir: FilePath | str, table: str, record_column: str,
               record_id: int, sha256: str, copy: media.Copy, name: str = "photo",
               headers: dict[str, str] | None = None) -> Response:
    """The photo if the record holds it and the user may read the record (the photo table's row-level
    security), else NotFound. ``table`` and ``record_column`` are the caller's constants."""
    held = conn.execute(
        sql.SQL("SELECT 1 FROM {} WHERE {} = %s AND sha256 = %s LIMIT 1").format(
            sql.Identifier(table), sql.Identifier(record_column)),
        [record_id, sha256]).fetchone()
    if held is None:
        raise NotFound(name, sha256)
    return jpeg(data_dir, sha256, copy, headers)
