"""Request parameters the routers share: area codes, database ids, the area filter and paging of a
list, downloads, and the version an edit is based on (ETag / If-Match)."""

# No `from __future__ import annotations`: FastAPI reads the fields of AreaQuery and Paging from the
# __init__ of subclasses defined in other modules, where these names would not resolve as strings.
import re
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Header, Path, Query, Response
from pydantic import Field

from gis.errors import InvalidInput
from gis.register.common import MAX_LIMIT

GRID_CODE = r"^[1-9][0-9]{14}$"
COMMUNITY_CODE = r"^[1-9][0-9]{11}$"
BIGINT = 2**63 - 1
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"

GridCode = Annotated[str, Path(pattern=GRID_CODE, description="15-digit grid code")]
CommunityCode = Annotated[str, Path(pattern=COMMUNITY_CODE, description="12-digit community code")]
DbId = Annotated[int, Path(ge=1, le=BIGINT)]
GridQuery = Annotated[str | None, Query(pattern=GRID_CODE)]
CommunityQuery = Annotated[str | None, Query(pattern=COMMUNITY_CODE)]

# The version an edit was based on, as a body field; the If-Match header may name it instead.
Version = Annotated[int | None, Field(ge=1, le=2**31 - 1)]
IfMatch = Annotated[str | None, Header()]


@dataclass
class AreaQuery:
    """?grid= or ?community=: the optional area filter of a list (a dependency: Depends())."""

    grid: GridQuery = None
    community: CommunityQuery = None


@dataclass
class Paging:
    """?limit=&offset= of a list that answers {"total", "items"} (a dependency: Depends())."""

    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0


def resolve_version(body_version: int | None, if_match: str | None) -> int:
    """The version an edit is based on, from the body or an If-Match header ("3", W/"3")."""
    if body_version is not None:
        return body_version
    if if_match:
        tag = if_match.strip().removeprefix("W/").strip('"')
        if tag.isdigit() and len(tag) < 10:
            return int(tag)
        raise InvalidInput.one("If-Match", 'must be the version number, e.g. "3"')
    raise InvalidInput.one("version", "required: send the version you edited (body field or If-Match header)")


def delete_version(if_match: str | None) -> int | None:
    """The version a DELETE must still find, or None (no If-Match: delete whatever is there)."""
    return resolve_version(None, if_match) if if_match else None


def tagged(response: Response, row: dict) -> dict:
    """``row`` as the response body, its version in the ETag header (for a later If-Match)."""
    response.headers["ETag"] = f'"{row["version"]}"'
    return row


def content_disposition(filename: str) -> str:
    """An attachment header for any file name (RFC 6266): an ASCII fallback with quotes, slashes and
    control characters replaced, and the name itself percent-encoded in ``filename*`` (Chinese names
    arrive intact; nothing in a name can end the header or add another)."""
    fallback = re.sub(r'[^A-Za-z0-9._-]', "_", filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": content_disposition(filename)})
