"""Request parameters the routers share: area codes, database ids, the area filter and paging of a
list, downloads, the version an edit is based on (ETag / If-Match), and the one reader of a body that
comes as JSON or as a form with photos (json_or_form)."""

# No `from __future__ import annotations`: FastAPI reads the fields of AreaQuery and Paging from the
# __init__ of subclasses defined in other modules, where these names would not resolve as strings.
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.datastructures import UploadFile

from gis.errors import InvalidInput
from gis.media import store as media
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


# ------------------------------------------------------------------------------------ request bodies
JSON_BODY = "application/json"
FORM_BODY = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
MAX_PHOTOS = 12  # one record's worth; more is a mistake (or an attack on the disk)
Model = TypeVar("Model", bound=BaseModel)
Uploads = dict[str, list[tuple[bytes, str | None]]]  # file field -> (content, file name) per file
NOT_FIELDS = ("csrf_token",)  # a cookie form's CSRF token is api/security.py's, never a field


async def read_uploads(files: Sequence[UploadFile], field: str = "photos") -> list[tuple[bytes, str | None]]:
    """The uploaded files' bytes (a form's empty file input sends a part with no name: skipped), each
    read no further than the media store's limit, so an oversized one is refused there, not buffered."""
    chosen = [u for u in files if u.filename or (u.size or 0) > 0]
    if len(chosen) > MAX_PHOTOS:
        raise InvalidInput.one(field, f"at most {MAX_PHOTOS} photos at a time")
    return [(await u.read(media.MAX_BYTES + 1), u.filename or None) for u in chosen]


async def body_fields(
    request: Request, file_fields: Sequence[str] = (), urlencoded: bool = False
) -> tuple[dict[str, Any], Uploads]:
    """The body's fields as sent, and the files of each of ``file_fields``: a JSON object, or a multipart
    form (an empty field is not given), or with ``urlencoded`` also a plain form post (Open311's, a
    workbench form without files). For a caller that maps the fields itself (Open311's names); the others
    use json_or_form. Anything else: 422 naming `body`."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == FORM_BODY or (urlencoded and kind == URLENCODED):
        form = await request.form()
        uploads: Uploads = {}
        for name in file_fields:
            # request.form() gives Starlette's UploadFile (FastAPI's is a subclass of it)
            files = [v for k, v in form.multi_items() if k == name and isinstance(v, UploadFile)]
            uploads[name] = await read_uploads(files, name)
        fields = {k: v for k, v in form.multi_items()
                  if k not in file_fields and k not in NOT_FIELDS and isinstance(v, str) and v != ""}
        return fields, uploads
    if kind not in ("", JSON_BODY):
        raise InvalidInput.one("body", f"send {JSON_BODY} or {FORM_BODY} (with photos)")
    try:
        fields = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput.one("body", "not valid JSON") from None
    if not isinstance(fields, dict):
        raise InvalidInput.one("body", "must be a JSON object")
    return fields, {name: [] for name in file_fields}


def validated(model: type[Model], fields: Any) -> Model:
    """``fields`` as ``model``; a wrong or missing field answers 422 naming it (FastAPI's shape)."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None


async def json_or_form(
    request: Request, model: type[Model], file_fields: Sequence[str] = (), urlencoded: bool = False
) -> tuple[Model, Uploads]:
    """The body validated into ``model`` (JSON, or a form whose file parts are ``file_fields``) and the
    files of each file field (empty lists for JSON)."""
    fields, uploads = await body_fields(request, file_fields, urlencoded)
    return validated(model, fields), uploads


def body_schema(model: type[BaseModel], file_fields: Sequence[str] = ("photos",)) -> dict[str, Any]:
    """The OpenAPI requestBody of a route read by json_or_form (its openapi_extra): the model as JSON,
    and as a multipart form with the file fields."""
    form = {**model.model_json_schema(), "additionalProperties": True}
    form["properties"] = {**form["properties"],
                          **{f: {"type": "array", "items": {"type": "string", "format": "binary"}}
                             for f in file_fields}}
    return {"requestBody": {"required": True, "content": {
        JSON_BODY: {"schema": model.model_json_schema()}, FORM_BODY: {"schema": form}}}}
