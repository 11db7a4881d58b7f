"""The public exposure board (曝光台): an admin publishes a closed report, redacted (a title and a
public text she writes, photos she picks among the report's, a redaction note that stays with the
staff), or takes a publication down (kept in the history); anyone reads the live publications and
their photos, served from the media store's published copy (no EXIF: no GPS, no camera).

Nothing of the report but its category, community name and day reaches the public (gis.reports.exposure).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AppSettings, Conn
from api.params import DbId
from gis.media import store as media
from gis.reports import exposure
from gis.reports.workflow import NotAllowed

router = APIRouter(tags=["exposure (曝光台)"])
SHA256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="the photo's SHA-256")]
PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=100, description="the public title")
    public_text: str = Field(
        min_length=1,
        max_length=2000,
        description="what the public reads: no names, no reporter, no unit contact",
    )
    redaction_note: str = Field(
        min_length=1,
        max_length=1000,
        description="what was checked in the photos (faces, number plates): staff only",
    )
    photos: list[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]] = Field(
        default_factory=list, max_length=12, description="SHA-256 of the report's photos to show"
    )


class UnpublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=1000, description="why it was taken down")


def public_item(row: dict[str, Any]) -> dict[str, Any]:
    """A publication as the public reads it: its photos as URLs of their EXIF-free copies."""
    base = f"/exposure/{row['id']}/photos/"
    return {
        **{k: v for k, v in row.items() if k != "photos"},
        "photos": [{"url": base + s, "thumbnail": base + s + "/thumbnail"} for s in row["photos"]],
    }


@router.post("/reports/{report_id}/exposure", status_code=201, summary="Publish a closed report (曝光台)")
def publish(conn: Conn, report_id: DbId, body: PublishIn) -> dict[str, Any]:
    """By an admin over the report's area: 403 otherwise; 409 when the report is not closed or is
    published already; 422 (naming the field) for a photo that is not the report's."""
    try:
        made = exposure.publish(
            conn, report_id, body.title, body.public_text, body.redaction_note, body.photos
        )
    except NotAllowed as exc:
        raise HTTPException(403, str(exc)) from None
    return exposure.history(conn, report_id)[0] | {"id": made}


@router.get("/reports/{report_id}/exposure", summary="A report's publications, live and past (staff)")
def report_publications(conn: Conn, report_id: DbId) -> list[dict[str, Any]]:
    return exposure.history(conn, report_id)


@router.post("/exposure/{exposure_id}/unpublish", summary="Take a publication down (kept in the history)")
def unpublish(conn: Conn, exposure_id: DbId, body: UnpublishIn) -> dict[str, Any]:
    try:
        exposure.unpublish(conn, exposure_id, body.note)
    except NotAllowed as exc:
        raise HTTPException(403, str(exc)) from None
    found = [e for e in exposure.history(conn) if e["id"] == exposure_id]
    return found[0] if found else {"id": exposure_id, "live": False}


@router.get("/public/exposure", summary="The exposure board (曝光台): live publications, public")
def public_board(conn: Conn, response: Response) -> list[dict[str, Any]]:
    response.headers.update(PUBLIC_CACHE)
    return [public_item(r) for r in exposure.public(conn)]


def _photo(conn: Conn, settings: AppSettings, exposure_id: int, sha256: str, copy: media.Copy) -> Response:
    exposure.public_photo(conn, exposure_id, sha256)  # 404 unless the live publication shows it
    return Response(
        media.read(settings.data_dir, sha256, copy), media_type="image/jpeg", headers=PUBLIC_CACHE
    )


@router.get(
    "/exposure/{exposure_id}/photos/{sha256}",
    response_class=Response,
    summary="A published photo (no EXIF)",
    responses={200: {"content": {"image/jpeg": {}}}},
)
def photo(conn: Conn, settings: AppSettings, exposure_id: DbId, sha256: SHA256) -> Response:
    return _photo(conn, settings, exposure_id, sha256, "published")


@router.get(
    "/exposure/{exposure_id}/photos/{sha256}/thumbnail",
    response_class=Response,
    summary="A published photo's thumbnail (no EXIF)",
    responses={200: {"content": {"image/jpeg": {}}}},
)
def thumbnail(conn: Conn, settings: AppSettings, exposure_id: DbId, sha256: SHA256) -> Response:
    return _photo(conn, settings, exposure_id, sha256, "thumbnail")
