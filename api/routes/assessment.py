"""Evidence and the quarterly assessment (创建资料与季度考核): the scoring sheet imported from XLSX, a
community's quarter against it (live figures, evidence, gaps), evidence uploads (append-only), the gap
report (查漏补缺) and the frozen submission (报送) with its bundle (the street's copy).

Photos go to the media store (gis/media, EXIF kept as evidence); documents and spreadsheets to the
assessment's own store in the same content-addressed tree (gis/assessment/files.py). This module is
where the two meet: gis/assessment never imports gis/media.
"""

from __future__ import annotations

import tempfile
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from api.deps import AppSettings, Conn
from api.params import BIGINT, DbId
from api.security import CurrentUser
from gis.assessment import evidence, figures, files, freeze, gap, quarters, scorecard, sheet
from gis.errors import InvalidInput
from gis.media import store as media

router = APIRouter(tags=["assessment"])
XLSX = files.XLSX
QuarterQuery = Annotated[str | None, Query(pattern=quarters.QUARTER, description="a quarter such as 2026Q1")]
Area = Annotated[str | None, Query(pattern=r"^[1-9][0-9]{5}([0-9]{3}([0-9]{3})?)?$",
                            description="a district, street or community code")]
SPOOL_BYTES, SPOOL_CHUNK = 16 * 1024 * 1024, 1024 * 1024


async def _read(upload: UploadFile, field: str) -> tuple[bytes, str | None]:
    content = await upload.read(files.MAX_BYTES + 1)
    if not content:
        raise InvalidInput.one(field, "empty file")
    return content, upload.filename or None


@router.get("/assessment/figures", summary="The live figures a scoring item may be filled from (系统指标)")
def figure_catalogue() -> list[dict[str, str]]:
    return [{"code": f.code, "name_zh": f.name_zh, "unit_zh": f.unit_zh, "endpoint": f.endpoint,
             "pick": f.pick} for f in figures.FIGURES.values()]


@router.post("/assessment/sheets", status_code=201,
             summary="Import a quarter's scoring sheet (XLSX, 评分细则)")
async def import_sheet(conn: Conn, settings: AppSettings, user: CurrentUser,
                       file: Annotated[UploadFile, File()],
                       quarter: Annotated[str, Form(pattern=quarters.QUARTER)],
                       scope: Annotated[str, Form(pattern=sheet.SCOPE)],
                       title: Annotated[str, Form(min_length=1, max_length=200)]) -> dict[str, Any]:
    """Headers 序号, 类别, 考核内容, 分值, 考核方式 (and 系统指标, 目标, 佐证来源 for the measured items);
    one sheet per quarter and street (409 for a second); every bad row listed (422, with its row)."""
    assert user is not None, "api/policy.py lets no anonymous caller import"
    content, _ = await _read(file, "file")
    return sheet.import_sheet(conn, settings.data_dir, content, quarter=quarters.parse(quarter), scope=scope,
                              title=title, stored_by=user.username)


@router.get("/assessment/sheets", summary="Scoring sheets, newest quarter first")
def list_sheets(conn: Conn, quarter: Annotated[str | None, Query(pattern=quarters.QUARTER)] = None
                ) -> list[dict[str, Any]]:
    return sheet.sheets(conn, quarters.parse(quarter) if quarter else None)


@router.get("/assessment/sheets/{sheet_id}", summary="A scoring sheet with its items")
def one_sheet(conn: Conn, sheet_id: DbId) -> dict[str, Any]:
    return sheet.sheet(conn, sheet_id)


@router.get("/communities/{code}/assessment/{quarter}",
            summary="A community's quarter: items, live figures, targets, evidence counts, gaps (考核)")
def community_quarter(conn: Conn, code: str, quarter: str) -> dict[str, Any]:
    """Each measured item's `value` equals its `endpoint`'s figure for the same user and day."""
    card = scorecard.scorecard(conn, quarters.parse(quarter), _community(code))
    return {k: v for k, v in card.items() if k not in ("uploads", "record_photos")}


@router.get("/communities/{code}/assessment/{quarter}/evidence",
            summary="The community's evidence of the quarter: uploads (current) and the records' photos")
def list_evidence(conn: Conn, code: str, quarter: str, superseded: bool = False) -> dict[str, Any]:
    q, community = quarters.parse(quarter), _community(code)
    return {"uploads": evidence.uploaded(conn, q, community, current_only=not superseded),
            "record_photos": evidence.record_photos(conn, q, community)}


@router.post("/communities/{code}/assessment/{quarter}/evidence", status_code=201,
             summary="Add an evidence item (photo, document, spreadsheet); never changed, only superseded")
async def add_evidence(conn: Conn, settings: AppSettings, user: CurrentUser, code: str, quarter: str,
                       file: Annotated[UploadFile, File()],
                       title: Annotated[str, Form(min_length=1, max_length=300)],
                       item_no: Annotated[str | None, Form(pattern=r"^[0-9]{1,3}(\.[0-9]{1,3})?$")] = None,
                       record_kind: Annotated[str | None, Form(max_length=40)] = None,
                       record_id: Annotated[int | None, Form(ge=1, le=BIGINT)] = None,
                       supersedes: Annotated[int | None, Form(ge=1, le=BIGINT)] = None) -> dict[str, Any]:
    """The file is judged by its bytes: a document (PDF, XLSX, DOCX, PPTX, CSV, text) or a photo (the
    media store, EXIF kept). The recorder is the signed-in user, stamped by the database."""
    assert user is not None, "api/policy.py lets no anonymous caller add evidence"
    q, community = quarters.parse(quarter), _community(code)
    content, name = await _read(file, "file")
    if files.document_type(content, name):
        sha256, mime = files.store(conn, settings.data_dir, content, user.username, name)
    else:
        photo = media.store(conn, settings.data_dir, content, user.username, "file")
        sha256, mime = photo.sha256, photo.mime
    return evidence.add(conn, quarter=q, community=community, sha256=sha256, mime=mime, title=title,
                        file_name=name, item_no=item_no or None, record_kind=record_kind or None,
                        record_id=record_id, supersedes=supersedes)


@router.get("/assessment/evidence/{evidence_id}/file", response_class=Response,
            summary="An evidence item's file, as it was sent (through the item: its readers only)")
def evidence_file(conn: Conn, settings: AppSettings, evidence_id: DbId) -> Response:
    item = evidence.one(conn, evidence_id)
    return Response(files.read(settings.data_dir, item["sha256"]), media_type=item["mime"],
                    headers={"Content-Disposition": f'attachment; filename="{item["sha256"]}'
                                                    f'{files.SUFFIX.get(item["mime"], "")}"'})


def _gap_scope(user: Any, quarter: str | None, area: str | None) -> tuple[quarters.Quarter, str]:
    """The quarter (default: this one) and area (default: the user's first scope) of a gap report."""
    q = quarters.parse(quarter) if quarter else quarters.of_day(figures.today())
    return q, area if area is not None else min((g.scope for g in user.grants), default="")[:12]


@router.get("/assessment/gaps", summary="Items without evidence or below target, per community (查漏补缺)")
def gaps(conn: Conn, user: CurrentUser, quarter: QuarterQuery = None, area: Area = None
         ) -> list[dict[str, Any]]:
    """Communities under `area` with a sheet for the quarter; each row an item with its gaps."""
    return gap.gap_rows(conn, *_gap_scope(user, quarter, area))


@router.get("/assessment/gaps.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}},
            summary="The gap report (查漏补缺) as a workbook with Chinese headers")
def gaps_xlsx(conn: Conn, user: CurrentUser, quarter: QuarterQuery = None, area: Area = None) -> Response:
    q, area = _gap_scope(user, quarter, area)
    body = gap.gap_workbook(q, area, gap.gap_rows(conn, q, area))
    return Response(body, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="gaps-{q}-{area}.xlsx"'})


@router.post("/communities/{code}/assessment/{quarter}/freeze", status_code=201,
             summary="Submit: freeze the figures and the evidence list (once; 409 for a second)")
def freeze_quarter(conn: Conn, settings: AppSettings, code: str, quarter: str) -> dict[str, Any]:
    return freeze.freeze(conn, settings.data_dir, quarters.parse(quarter), _community(code))


@router.get("/assessment/freezes", summary="Frozen submissions, newest quarter first")
def list_freezes(conn: Conn, quarter: Annotated[str | None, Query(pattern=quarters.QUARTER)] = None
                 ) -> list[dict[str, Any]]:
    return freeze.freezes(conn, quarters.parse(quarter) if quarter else None)


@router.get("/assessment/freezes/{freeze_id}", summary="A frozen submission: figures, files, manifest hash")
def one_freeze(conn: Conn, freeze_id: DbId) -> dict[str, Any]:
    return freeze.frozen_row(conn, freeze_id)


@router.get("/assessment/freezes/{freeze_id}/bundle.zip", response_class=StreamingResponse,
            responses={200: {"content": {"application/zip": {}}}},
            summary="The submission's bundle (the street's copy): files and manifest, rebuilt byte for byte")
def bundle_zip(conn: Conn, settings: AppSettings, freeze_id: DbId) -> StreamingResponse:
    """Built to the end before the answer starts (a missing file is an error, not a cut-off ZIP);
    `gridmap assess verify` re-checks it."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (closed after the answer)
    digest = freeze.write(conn, settings.data_dir, freeze_id, spool)  # type: ignore[arg-type]
    spool.seek(0)
    return StreamingResponse(iter(lambda: spool.read(SPOOL_CHUNK), b""), media_type="application/zip",
                             headers={"X-Manifest-SHA256": digest, "Content-Disposition":
                                      f'attachment; filename="assessment-{freeze_id}.zip"'},
                             background=BackgroundTask(spool.close))


def _community(code: str) -> str:
    if len(code) != 12 or not code.isdigit():
        raise InvalidInput.one("code", "a 12-digit community code")
    return code

