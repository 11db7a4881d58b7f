"""The admin's import pages (数据导入): upload a file, map its columns, preview, import with a progress bar.

Step 1, ``GET /imports``: choose a layer (only those api/policy.py lets the user import) and upload a
file to ``POST /imports/{layer}``. That path is the API's import route: the page's post is told apart by
its ``Accept: text/html`` (PageRoute), so the same per-layer rule decides it. The upload is staged
(api/workbench/staging.py) and read as the importer reads it; a broken file is refused beside the
field. Step 2, ``GET /imports/{layer}/staged?upload=ID``: the column mapping form, pre-filled from the
header's Chinese and English names (gis/interop/fieldmap.py), the first rows as mapped, and every
problem of the whole file from a dry run (the import itself, rolled back), downloadable as XLSX.
Step 3, the same form posted with ``action=import``: the import, all or nothing, then its result.
Everything runs through gis/catalog.py under the user's row-level security, as the API does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
import psycopg
from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.status import HTTP_403_FORBIDDEN, HTTP_409_CONFLICT

from api.deps import AppSettings, Conn
from api.policy import POLICY
from api.routes.imports import upload_name
from api.security import CurrentUser
from api.workbench import staging
from api.workbench.i18n import N_, Lang, Language
from api.workbench.nav import allowed
from api.workbench.render import page
from api.workbench.routing import PageRoute
from gis import catalog
from gis.access.accounts import Principal
from gis.codes import mask_id_number, mask_phone
from gis.errors import InvalidInput, Problem, TooLarge
from gis.interop import fieldmap
from gis.interop.importing import ImportReport
from gis.interop.readers import SUFFIXES
from gis.interop.validate import as_text
from gis.spreadsheet import frame_xlsx_bytes

# The layers by the names users know them (msgids), in load order (parents first).
LAYER_NAMES = {
    "communities": N_("社区"), "grids": N_("网格"), "buildings": N_("楼栋"), "grid_workers": N_("网格员"),
    "households": N_("住户"), "persons": N_("人口"), "schools": N_("学校"), "places": N_("场所"),
    "licences": N_("证照"), "roads": N_("道路"), "units": N_("责任单位"),
    "facilities": N_("阵地"), "compounds": N_("无人管理小区"),
}
# The coordinate systems an import's coordinates may be in (None: as the file says, else WGS 84).
IMPORT_CRS = {"": N_("按文件（默认 WGS 84）"), "EPSG:4326": N_("WGS 84（EPSG:4326，GPS）"),
              "EPSG:4490": N_("CGCS2000（EPSG:4490）"), "gcj02": N_("GCJ-02（高德、腾讯地图）")}
ENCODINGS = {"": N_("自动识别"), "utf-8": "UTF-8", "gbk": N_("GBK（Excel/WPS 中文）")}
# Where imported households fell (一户一格), as the report counts them.
PLACEMENTS = {"inside": N_("网格内"), "border": N_("在网格边界上"), "outside": N_("不在任何网格内")}
PREVIEW_ROWS = 10
SHOWN_PROBLEMS = 200  # on the page; the XLSX holds them all
MASKS = {"id_number": mask_id_number, "phone": mask_phone}  # personal values are shown masked
IMPORT_ROUTE = ("POST", "/imports/{layer}")

router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)
# The page's posts share POST /imports/{layer} with the API's import: put first (api/workbench/__init__.py).
post_router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)


def may_import(user: Principal, layer: str) -> bool:
    """Whether api/policy.py lets the user import ``layer`` (the rule of POST /imports/{layer})."""
    return layer in catalog.LAYERS and bool(POLICY[IMPORT_ROUTE].for_layer(layer).roles & user.roles)


def importable(user: Principal) -> list[str]:
    return [layer for layer in LAYER_NAMES if may_import(user, layer)]


def field_label(target: fieldmap.Target) -> str:
    return target.label if target.label == target.name else f"{target.label}（{target.name}）"


# Problems not about a field: the file as a whole, the coordinate system chosen.
OTHER_LABELS = {"file": "文件（file）", "crs": "坐标系（crs）", "encoding": "文字编码（encoding）",
                "sheet": "工作表（sheet）", "header_row": "表头行（header_row）"}


def problem_rows(problems: list[Problem], labels: dict[str, str]) -> list[dict[str, Any]]:
    """The problems as the page and the XLSX show them: 行号, 字段 (its label and name), 原因."""
    named = {**OTHER_LABELS, **labels}
    return [{"row": p.row, "field": named.get(p.field, p.field), "reason": p.reason} for p in problems]


def _upload_page(request: Request, user: Principal, lang: Language, layer: str | None, *,
                 errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
                 status_code: int = 200) -> HTMLResponse:
    layers = importable(user)
    if layer is None:
        layer = "households" if "households" in layers else layers[0]
    elif layer not in catalog.LAYERS:
        raise HTTPException(404, f"no layer {layer[:40]!r}")
    elif layer not in layers:
        raise HTTPException(HTTP_403_FORBIDDEN, f"you may not import {layer}")
    spec = catalog.layer_spec(layer)
    settings = request.app.state.settings
    response = page(request, user, lang, "imports.html", N_("数据导入"), layers=layers, layer=layer,
                    names=LAYER_NAMES, spec=spec, staged=staging.mine(settings, user.user_id, layer),
                    encodings=ENCODINGS, suffixes=sorted(SUFFIXES), errors=errors or {}, form=form or {},
                    limit_mb=settings.max_upload_mb)
    response.status_code = status_code
    return response


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, user: CurrentUser, lang: Lang,
                 layer: Annotated[str | None, Query(max_length=40)] = None) -> HTMLResponse:
    """Step 1: the layer and the file."""
    assert user is not None
    return _upload_page(request, user, lang, layer)


def _read(staged: staging.Staged, columns: dict[str, str] | None = None) -> pd.DataFrame:
    return catalog.read_file(staged.layer, staged.path, columns=columns, **staged.read_options())


def _dry_run(conn: psycopg.Connection, settings: Any, staged: staging.Staged, frame: pd.DataFrame,
             mapping: dict[str, str]) -> tuple[list[Problem], ImportReport | None]:
    """Every problem the import would meet (the import itself, rolled back), or what it would do."""
    try:
        report = catalog.load_frame(conn, staged.layer, frame, crs=staged.crs, columns=mapping, dry_run=True,
                                    region_bbox=settings.region_bbox)
    except InvalidInput as exc:
        return exc.problems, None
    return [], report


def _preview(frame: pd.DataFrame, targets: list[fieldmap.Target], mapping: dict[str, str]
             ) -> tuple[list[fieldmap.Target], list[list[str]]]:
    """The first rows as mapped: one column per mapped target, personal values masked."""
    shown = [t for t in targets if t.name in mapping]
    head = frame.head(PREVIEW_ROWS)
    rows: list[list[str]] = [[] for _ in range(len(head))]
    for t in shown:
        values = as_text(head[mapping[t.name]])
        mask = MASKS.get(t.name)
        for i, v in enumerate(values):
            rows[i].append("" if v is None else (mask(v) or "") if mask else str(v))
    return shown, rows


def _mapping_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Language,
                  staged: staging.Staged, *, errors: dict[str, str] | None = None,
                  status_code: int = 200) -> HTMLResponse:
    settings = request.app.state.settings
    spec = catalog.layer_spec(staged.layer)
    frame = _read(staged, staged.columns)
    targets = fieldmap.targets(spec, frame)
    mapping = staged.columns if staged.columns is not None else fieldmap.suggested_mapping(spec, frame)
    mapping = {k: v for k, v in mapping.items() if v in fieldmap.columns(frame)}  # the file may differ
    errors = dict(errors or {})
    for t in targets:
        if t.required and t.name not in mapping:
            errors.setdefault(t.name, N_("必填：请选择文件中的一列"))
    problems, report = _dry_run(conn, settings, staged, frame, mapping)
    labels = {t.name: field_label(t) for t in targets}
    shown, rows = _preview(frame, targets, mapping)
    bad_rows = {p.row for p in problems if p.row is not None}
    response = page(request, user, lang, "import_mapping.html", N_("数据导入：字段对应"), staged=staged,
                    names=LAYER_NAMES, targets=targets, labels=labels, columns=fieldmap.columns(frame),
                    mapping=mapping, errors=errors, problems=problem_rows(problems[:SHOWN_PROBLEMS], labels),
                    problem_count=len(problems), report=report, preview_targets=shown, preview=rows,
                    bad_rows=bad_rows, rows=len(frame), read_as=frame.attrs.get("read_as", ""),
                    crs_choices=IMPORT_CRS, placement_names=PLACEMENTS,
                    spatial=spec.geometry is not None and not fieldmap.has_geometry(frame))
    response.status_code = status_code
    return response


def _result_page(request: Request, user: Principal, lang: Language, staged: staging.Staged) -> HTMLResponse:
    outcome = staged.outcome or {}
    problems = [Problem(p["field"], p["reason"], p["row"]) for p in outcome.get("problems", [])]
    spec = catalog.layer_spec(staged.layer)
    labels = {t.name: field_label(t) for t in fieldmap.targets(spec, pd.DataFrame())}
    register = staged.layer in ("households", "persons") and allowed(user, "/households")
    follow = "/households" if register else None
    # 200 either way: the page of a stored outcome loaded fine (its words say whether the import did)
    return page(request, user, lang, "import_result.html", N_("数据导入：结果"), staged=staged,
                names=LAYER_NAMES, ok=bool(outcome.get("ok")), report=outcome.get("report") or {},
                problems=problem_rows(problems[:SHOWN_PROBLEMS], labels), problem_count=len(problems),
                follow=follow, placement_names=PLACEMENTS)


def _problems_xlsx(conn: psycopg.Connection, settings: Any, staged: staging.Staged) -> Response:
    """Every problem of the file as mapped (the dry run's, or the failed import's once the file is gone)."""
    spec = catalog.layer_spec(staged.layer)
    if staged.imported:
        frame = pd.DataFrame()
        problems: list[Problem] = []
    else:
        frame = _read(staged, staged.columns)
        mapping = staged.columns if staged.columns is not None else fieldmap.suggested_mapping(spec, frame)
        problems, _ = _dry_run(conn, settings, staged, frame, mapping)
    labels = {t.name: field_label(t) for t in fieldmap.targets(spec, frame)}
    table = pd.DataFrame([[p["row"], p["field"], p["reason"]] for p in problem_rows(problems, labels)],
                         columns=["行号", "字段", "原因"], dtype=object)
    body = frame_xlsx_bytes(table, "问题")
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="problems-{staged.layer}.xlsx"'})


@router.get("/imports/{layer}/staged", response_class=HTMLResponse, response_model=None)
def staged_page(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser, lang: Lang,
                layer: str, upload: Annotated[str | None, Query(max_length=40)] = None,
                view: Literal["mapping", "result", "status", "problems.xlsx"] = "mapping") -> Response:
    """Step 2 (and 3's result): a staged upload's mapping form, preview and problems; ``view=status``
    the progress of its import (JSON, for the progress bar), ``view=problems.xlsx`` its problems as a
    workbook. Without ``upload``: the layer's upload form with the user's staged files."""
    assert user is not None
    if upload is None:
        return _upload_page(request, user, lang, layer)
    staged = staging.find(settings, user.user_id, layer, upload)
    if view == "status":
        return JSONResponse(staging.progress(staged))
    if view == "problems.xlsx":
        return _problems_xlsx(conn, settings, staged)
    if staged.imported or (view == "result" and staged.outcome is not None):
        return _result_page(request, user, lang, staged)
    return _mapping_page(request, conn, user, lang, staged)


def _stage(request: Request, settings: Any, user: Principal, lang: Language, layer: str, file: UploadFile,
           read_options: dict[str, str | None]) -> Response:
    """Step 1's post: keep the file and read it once (a broken file is refused here, beside its field)."""
    form = {k: v or "" for k, v in read_options.items()}
    name = upload_name(file.filename)
    if Path(name).suffix.lower() not in SUFFIXES:
        reason = f"{name}: unknown format, use {', '.join(sorted(SUFFIXES))}"
        return _upload_page(request, user, lang, layer, errors={"file": reason}, form=form, status_code=422)
    try:
        staged = staging.stage(settings, user.user_id, layer, file, read_options)
    except TooLarge as exc:
        return _upload_page(request, user, lang, layer, errors={"file": str(exc)}, form=form, status_code=413)
    try:
        _read(staged)
    except InvalidInput as exc:
        staging.discard(staged)
        errors = {p.field: p.reason for p in reversed(exc.problems)}
        return _upload_page(request, user, lang, layer, errors=errors, form=form, status_code=422)
    return RedirectResponse(f"/imports/{layer}/staged?upload={staged.id}", status_code=303)


def _import(conn: psycopg.Connection, settings: Any, staged: staging.Staged, frame: pd.DataFrame) -> None:
    """Step 3: the import, all rows or none; its outcome kept for the result page."""
    if not staging.claim(staged):
        raise HTTPException(HTTP_409_CONFLICT, "this file is being imported already")
    try:
        staging.set_progress(staged, "running")
        try:
            report = catalog.load_frame(
                conn, staged.layer, frame, crs=staged.crs, columns=staged.columns or {},
                region_bbox=settings.region_bbox,
                progress=lambda done, total: staging.set_progress(staged, "running", done, total))
        except InvalidInput as exc:
            staged.outcome = {"ok": False, "problems": [
                {"row": p.row, "field": p.field, "reason": p.reason} for p in exc.problems]}
            staging.set_progress(staged, "failed")
        else:
            staged.outcome = {"ok": True, "report": report.to_dict()}
            staged.imported = True
            staging.drop_file(staged)
            staging.set_progress(staged, "imported", report.rows, report.rows)
        staged.save()
    finally:
        staging.release(staged)


@post_router.post("/imports/{layer}", response_class=HTMLResponse, response_model=None)
def post_page(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser, lang: Lang, layer: str,
              file: Annotated[UploadFile | None, File()] = None,
              upload: Annotated[str | None, Form(max_length=40)] = None,
              field: Annotated[list[str] | None, Form()] = None,
              crs: Annotated[str, Form(max_length=20)] = "",
              action: Annotated[Literal["preview", "import"], Form()] = "preview",
              encoding: Annotated[str, Form(max_length=20)] = "",
              sheet: Annotated[str, Form(max_length=100)] = "",
              header_row: Annotated[str, Form(max_length=20)] = "") -> Response:
    """A browser's post: a ``file`` is staged (step 1); a staged ``upload`` gets its mapping (the
    ``field`` selects, FIELD=COLUMN as the API's ``field``) and ``crs`` saved, then is previewed again
    or imported (``action``)."""
    assert user is not None
    catalog.layer_spec(layer)  # an unknown layer: 404
    if file is not None and file.filename:
        options = {"encoding": encoding.strip() or None, "sheet": sheet.strip() or None,
                   "header_row": header_row.strip() or None}
        return _stage(request, settings, user, lang, layer, file, options)
    if upload is None:
        return _upload_page(request, user, lang, layer, errors={"file": N_("请选择要导入的文件")},
                            status_code=422)
    staged = staging.find(settings, user.user_id, layer, upload)
    target = f"/imports/{layer}/staged?upload={staged.id}"
    if staged.imported:
        return RedirectResponse(target + "&view=result", status_code=303)
    if crs not in IMPORT_CRS:
        return _mapping_page(request, conn, user, lang, staged, errors={"crs": f"{crs[:20]!r}: use "
                             + ", ".join(c for c in IMPORT_CRS if c)}, status_code=422)
    frame = _read(staged, staged.columns)
    try:
        mapping = fieldmap.parse_mapping(catalog.layer_spec(layer), frame, field or [])
    except InvalidInput as exc:
        errors = {p.field: p.reason for p in exc.problems}
        return _mapping_page(request, conn, user, lang, staged, errors=errors, status_code=422)
    staged.columns, staged.crs, staged.outcome = mapping, crs or None, None
    staged.save()
    if action == "preview":
        return RedirectResponse(target, status_code=303)
    _import(conn, settings, staged, _read(staged, mapping))
    return RedirectResponse(target + "&view=result", status_code=303)
