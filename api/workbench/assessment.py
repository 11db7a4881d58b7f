"""The assessment pages (考核): the quarter's overview (the communities of the user's area, the sheet,
the submissions), a community's quarter page (items, live figures, evidence counts, gap marks, the gap
report's download, the freeze button for admins) and the evidence form (a file and what it evidences).

The quarter page shares GET /communities/{code}/assessment/{quarter} with the JSON API (PageRoute), and
the form posts share the API's POST paths (FormRoute); everything goes through gis/assessment and
row-level security as the API does.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import Headers, UploadFile
from starlette.routing import Match
from starlette.types import Scope

from api.deps import AppSettings, Conn
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang
from api.workbench.nav import Link, allowed
from api.workbench.render import page
from api.workbench.routing import FormRoute, PageRoute
from gis.access.accounts import Principal
from gis.assessment import evidence, files, freeze, gap, quarters, scorecard, sheet
from gis.assessment.figures import today
from gis.errors import Conflict, InvalidInput, NotFound, Problem
from gis.media import store as media


class BrowserFormRoute(FormRoute):
    """A form post from a browser only (it asks for text/html): the evidence API takes multipart too,
    and a script's upload must reach it, not the form's page."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and "text/html" not in Headers(scope=scope).get("accept", ""):
            return Match.NONE, {}
        return super().matches(scope)


router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)
page_router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)
form_router = APIRouter(tags=["workbench (工作台)"], route_class=BrowserFormRoute, include_in_schema=False)
GAP_NAMES = {scorecard.GAP_NO_EVIDENCE: N_("无佐证材料"), scorecard.GAP_BELOW_TARGET: N_("未达标"),
             scorecard.GAP_NO_FIGURE: N_("无数据")}
EVIDENCE_FIELDS = ("title", "item_no", "record_kind", "record_id", "supersedes")
SHEET_FIELDS = ("quarter", "scope", "title")
QUARTER_TEMPLATE = "/communities/{code}/assessment/{quarter}"


def quarter_link(user: Principal, code: str) -> Link | None:
    """The link to the community's assessment of the current quarter, if the user may read it (for
    the community's pages: its dashboard, its division check)."""
    if not allowed(user, QUARTER_TEMPLATE, code):
        return None
    return Link(N_("本季度考核"), f"/communities/{code}/assessment/{quarters.of_day(today())}")


def _sheet_scopes(user: Principal) -> list[str]:
    """The streets (or districts) whose sheet the user may import: an admin over the whole of one."""
    return sorted({g.scope for g in user.grants if g.role == "admin" and len(g.scope) in (6, 9)}
                  | ({""} if any(g.role == "admin" and g.scope == "" for g in user.grants) else set()))


def _whole(user: Principal, code: str) -> bool:
    """Whether the user reads the whole community's records (an admin or grid worker over all of it):
    else its figures would be her part only, and the page shows "—" rather than a partial number."""
    return any(g.role in ("admin", "grid_worker") and code.startswith(g.scope) for g in user.grants)


def _quarter(value: str | None) -> quarters.Quarter:
    return quarters.parse(value) if value else quarters.of_day(today())


@router.get("/assessment", response_class=HTMLResponse)
def overview(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
             quarter: Annotated[str | None, Query(pattern=quarters.QUARTER)] = None) -> HTMLResponse:
    assert user is not None
    q = _quarter(quarter)
    scopes = sorted({g.scope for g in user.grants})
    seen: dict[str, str] = {}
    for scope in scopes:  # a user holds one or two grants: the communities under (or around) each
        seen.update(gap.communities(conn, scope[:12]))
    submitted = {f["community_code"]: f for f in freeze.freezes(conn, q)}
    streets = sorted({code[:9] for code in seen})
    return page(request, user, lang, "assessment.html", N_("季度考核"), q=q, previous=_shift(q, -1),
                following=_shift(q, 1), sheets=sheet.sheets(conn, q), communities=sorted(seen.items()),
                submitted=submitted, streets=streets,
                may_import=allowed(user, "/assessment/sheets/new") and bool(_sheet_scopes(user)),
                may_bundle=allowed(user, "/assessment/freezes/{freeze_id}/bundle.zip"))


def _shift(q: quarters.Quarter, step: int) -> str:
    n = q.year * 4 + q.number - 1 + step
    return f"{n // 4}Q{n % 4 + 1}"


def _quarter_page(request: Request, conn: Conn, user: Principal, lang: Any, code: str,
                  q: quarters.Quarter) -> HTMLResponse:
    card = scorecard.scorecard(conn, q, code)
    frozen = next((f for f in freeze.freezes(conn, q) if f["community_code"] == code), None)
    name = conn.execute("SELECT name FROM community WHERE code = %s", [code]).fetchone()
    return page(request, user, lang, "assessment_quarter.html", N_("社区季度考核"), card=card, q=q, code=code,
                community_name=name[0] if name else code, whole=_whole(user, code), frozen=frozen,
                gap_names=GAP_NAMES, may_freeze=frozen is None and _admin_of(user, code),
                may_add=allowed(user, "/communities/{code}/assessment/{quarter}/evidence/new", code),
                may_bundle=allowed(user, "/assessment/freezes/{freeze_id}/bundle.zip"))


def _admin_of(user: Principal, code: str) -> bool:
    return any(g.role == "admin" and code.startswith(g.scope) for g in user.grants)


@page_router.get("/communities/{code}/assessment/{quarter}", response_class=HTMLResponse)
def quarter_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang, code: str,
                 quarter: str) -> HTMLResponse:
    assert user is not None
    return _quarter_page(request, conn, user, lang, code, quarters.parse(quarter))


def _evidence_form(request: Request, conn: Conn, user: Principal, lang: Any, code: str, q: quarters.Quarter,
                   form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                   status: int = 200) -> HTMLResponse:
    try:
        items = sheet.sheet_for(conn, q, code)["items"]
    except NotFound:
        items = []
    current = evidence.uploaded(conn, q, code)
    response = page(request, user, lang, "assessment_evidence.html", N_("上传佐证材料"), q=q, code=code,
                    items=items, current=current, kinds=evidence.RECORD_NAMES, form=form or {},
                    errors=errors or {})
    response.status_code = status
    return response


@router.get("/communities/{code}/assessment/{quarter}/evidence/new", response_class=HTMLResponse)
def evidence_form(request: Request, conn: Conn, user: CurrentUser, lang: Lang, code: str,
                  quarter: str) -> HTMLResponse:
    assert user is not None
    return _evidence_form(request, conn, user, lang, code, quarters.parse(quarter))


@form_router.post("/communities/{code}/assessment/{quarter}/evidence")
async def add_evidence(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser, lang: Lang,
                       code: str, quarter: str) -> Any:
    """The evidence form: a refusal answers the form with the API's words beside the field (422)."""
    assert user is not None
    q = quarters.parse(quarter)
    posted = await request.form()
    form = {k: v.strip() for k, v in posted.items() if k in EVIDENCE_FIELDS and isinstance(v, str)}
    upload = posted.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput.one("file", "choose a file")
        content = await upload.read(files.MAX_BYTES + 1)
        if not form.get("title"):
            raise InvalidInput.one("title", "a title")
        numbers = {}
        for field in ("record_id", "supersedes"):
            if form.get(field):
                if not form[field].isdigit() or not 0 < int(form[field]) < 2**63:
                    raise InvalidInput.one(field, "a record's number")
                numbers[field] = int(form[field])
        with conn.transaction():
            if files.document_type(content, upload.filename):
                sha256, mime = files.store(conn, settings.data_dir, content, user.username, upload.filename)
            else:
                photo = media.store(conn, settings.data_dir, content, user.username, "file")
                sha256, mime = photo.sha256, photo.mime
            evidence.add(conn, quarter=q, community=code, sha256=sha256, mime=mime, title=form["title"],
                         file_name=upload.filename, item_no=form.get("item_no") or None,
                         record_kind=form.get("record_kind") or None, record_id=numbers.get("record_id"),
                         supersedes=numbers.get("supersedes"))
    except InvalidInput as exc:
        errors = {p.field: p.reason for p in exc.problems}
        return _evidence_form(request, conn, user, lang, code, q, form, errors, 422)
    return RedirectResponse(f"/communities/{code}/assessment/{q}#evidence", status_code=303)


@form_router.post("/communities/{code}/assessment/{quarter}/freeze")
async def freeze_form(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser, code: str,
                      quarter: str) -> Any:
    """The freeze button (admins): once; the page then links the bundle."""
    assert user is not None
    q = quarters.parse(quarter)
    freeze.freeze(conn, settings.data_dir, q, code)
    return RedirectResponse(f"/communities/{code}/assessment/{q}", status_code=303)


def _sheet_form(request: Request, user: Principal, lang: Any, form: dict[str, str],
                problems: list[Problem] | None = None, conflict: str | None = None,
                status: int = 200) -> HTMLResponse:
    scopes = [s for s in _sheet_scopes(user) if s]
    response = page(request, user, lang, "assessment_sheet_form.html", N_("导入评分细则"), form=form,
                    problems=problems or [], conflict=conflict, scopes=scopes,
                    errors={p.field: p.reason for p in problems or [] if p.row is None})
    response.status_code = status
    return response


@router.get("/assessment/sheets/new", response_class=HTMLResponse)
def sheet_form(request: Request, user: CurrentUser, lang: Lang,
               quarter: Annotated[str | None, Query(pattern=quarters.QUARTER)] = None) -> HTMLResponse:
    assert user is not None
    scopes = [s for s in _sheet_scopes(user) if s]
    return _sheet_form(request, user, lang, {"quarter": str(_quarter(quarter)),
                                             "scope": scopes[0] if scopes else "", "title": "考核评分细则"})


@form_router.post("/assessment/sheets")
async def import_sheet_form(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser,
                            lang: Lang) -> Any:
    """The import form: all or nothing. Every bad row is listed with its row and column beside the
    upload (422, the API's words), a second sheet of the quarter and street is a 409 on the form."""
    assert user is not None
    posted = await request.form()
    form = {k: v.strip() for k, v in posted.items() if k in SHEET_FIELDS and isinstance(v, str)}
    upload = posted.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput.one("file", "choose the scoring sheet (.xlsx)")
        content = await upload.read(files.MAX_BYTES + 1)
        if not content:
            raise InvalidInput.one("file", "empty file")
        q = quarters.parse(form.get("quarter", ""))
        if not form.get("title"):
            raise InvalidInput.one("title", "1 to 200 characters")
        with conn.transaction():  # a refusal after the workbook is stored keeps nothing
            found = sheet.import_sheet(conn, settings.data_dir, content, quarter=q,
                                       scope=form.get("scope", ""), title=form["title"],
                                       stored_by=user.username)
    except InvalidInput as exc:
        return _sheet_form(request, user, lang, form, exc.problems, status=422)
    except Conflict as exc:
        return _sheet_form(request, user, lang, form, conflict=str(exc), status=409)
    return RedirectResponse(f"/assessment?quarter={found['quarter']}#sheet-{found['id']}", status_code=303)
