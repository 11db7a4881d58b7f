"""The compound pages beside the coverage (无人管理小区): a compound's page (its polygon on a small map
drawn with the app's own Leaflet, management kind, the helper units oldest to newest with today's, the
tasks with their photos before and after), the pairing form and the end-pairing button (planners,
admins), the task form (the helper unit's accounts, planners, admins), the upload of a GeoJSON file of
compounds (all or nothing: every feature's problems listed) and the list of overlapping compounds.

Each form posts to the API's path with the API's field names: the pairing and its end form-encoded
(FormRoute; JSON goes to the API), the task and the upload multipart as the API also accepts, told apart
by the browser's Accept (PageRoute). A second pairing over a helped period answers 409 with the helper
who holds it.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from api.deps import AppSettings, Conn
from api.params import DbId, read_uploads
from api.policy import POLICY
from api.routes.compounds import MAX_FILE_BYTES, PairingEnd, PairingIn, TaskIn
from api.security import CurrentUser
from api.workbench.campaign_photos import photo_url
from api.workbench.duty_forms import problem_errors, units, validation_errors
from api.workbench.i18n import N_, Lang, Language
from api.workbench.nav import allowed
from api.workbench.render import page
from api.workbench.reports_form import LEAFLET_CSS, LEAFLET_JS
from api.workbench.routing import FormRoute, PageRoute
from gis.access.accounts import Principal
from gis.compounds import compounds, helpers, tasks
from gis.errors import Conflict, InvalidInput
from gis.media import store as media

NEW = "/compounds/new"
PAIR = "/compounds/{compound_id}/helpers"
END = "/compound-helpers/{helper_id}/end"
TASKS = "/compounds/{compound_id}/tasks"
KINDS = {"beautify": N_("美化"), "lighting": N_("亮化"), "greening": N_("绿化"), "good_deed": N_("实事好事")}
STAGES = {"before": N_("之前"), "after": N_("之后")}

router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)
page_router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)
form_router = APIRouter(tags=["workbench (工作台)"], route_class=FormRoute, include_in_schema=False)


def _may(user: Principal, method: str, template: str) -> bool:
    return bool(POLICY[(method, template)].roles & user.roles)


def _may_task(conn: psycopg.Connection, user: Principal, helper_unit: int | None) -> bool:
    """Whether the task form is offered: planners and admins, or an account of today's helper unit (the
    database refuses any other unit's task: no form that can only answer 403)."""
    if not _may(user, "POST", TASKS):
        return False
    if user.roles & {"admin", "planner"}:
        return True
    row = conn.execute("SELECT access_units()").fetchone()
    return helper_unit is not None and row is not None and helper_unit in (row[0] or [])


def _tasks(conn: psycopg.Connection, compound_id: int) -> list[dict[str, Any]]:
    found = tasks.tasks_of(conn, compound_id)
    for t in found:
        t["photo_links"] = [(p["stage"], photo_url("task", t["id"], p["sha256"]),
                             photo_url("task", t["id"], p["sha256"], thumbnail=True)) for p in t["photos"]]
    return found


def _compound_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Language,
                   compound_id: int, forms: dict[str, dict[str, str]] | None = None,
                   errors: dict[str, dict[str, str]] | None = None,
                   holders: list[dict[str, Any]] | None = None,
                   status_code: int = 200) -> HTMLResponse:
    """The page, with a refused form (``forms``/``errors`` keyed pair, end, task) shown again."""
    compound = compounds.get_compound(conn, compound_id)  # NotFound: no such compound for the reader
    today = compounds.today()
    may_pair = _may(user, "POST", PAIR)
    forms = {"pair": {"valid_from": today.isoformat()}, "end": {"valid_to": today.isoformat()},
             "task": {"done_on": today.isoformat()}, **(forms or {})}
    response = page(request, user, lang, "compound_page.html", N_("无人管理小区"), c=compound,
                    geometry=json.dumps(compound["geometry"]), history=helpers.history(conn, compound_id),
                    tasks=_tasks(conn, compound_id), kinds=KINDS, stages=STAGES, today=today,
                    may_pair=may_pair, may_task=_may_task(conn, user, compound["unit_id"]),
                    units=units(conn) if may_pair else [], forms=forms, errors=errors or {},
                    holders=holders, list_link=allowed(user, "/compounds"),
                    leaflet_css=LEAFLET_CSS, leaflet_js=LEAFLET_JS)
    response.status_code = status_code
    return response


@router.get(NEW, response_class=HTMLResponse)
def upload_form(request: Request, user: CurrentUser, lang: Lang) -> HTMLResponse:
    """The upload form: a GeoJSON FeatureCollection of compounds, stored all or nothing."""
    assert user is not None
    return page(request, user, lang, "compound_upload.html", N_("导入无人管理小区"), problems=[], result=None,
                overlaps_link=allowed(user, "/compounds/overlaps"))


@page_router.post("/compounds/import", response_class=HTMLResponse, response_model=None)
async def upload(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                 file: Annotated[UploadFile | None, File()] = None) -> HTMLResponse:
    """Import as the API does; a refusal lists every feature's problems (row = the feature's number)."""
    assert user is not None
    problems: list[dict[str, Any]] = []
    result = None
    try:
        if file is None or not (file.filename or file.size):
            raise InvalidInput.one("file", "choose a GeoJSON file")
        content = await file.read(MAX_FILE_BYTES + 1)
        if len(content) > MAX_FILE_BYTES:
            raise InvalidInput.one("file", f"at most {MAX_FILE_BYTES // (1024 * 1024)} MB")
        with conn.transaction():  # all or nothing
            result = compounds.import_compounds(conn, compounds.read_feature_collection(content))
    except InvalidInput as exc:
        problems = [{"row": p.row, "field": p.field, "reason": p.reason} for p in exc.problems]
    except Conflict as exc:
        problems = [{"row": None, "field": "ref", "reason": str(exc)}]
    response = page(request, user, lang, "compound_upload.html", N_("导入无人管理小区"), problems=problems,
                    result=result, overlaps_link=allowed(user, "/compounds/overlaps"))
    response.status_code = 201 if result else 422
    return response


@page_router.get("/compounds/overlaps", response_class=HTMLResponse)
def overlaps_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang) -> HTMLResponse:
    assert user is not None
    return page(request, user, lang, "compound_overlaps.html", N_("小区重叠"), rows=compounds.overlaps(conn))


@page_router.get("/compounds/{compound_id:int}", response_class=HTMLResponse)
def compound_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                  compound_id: DbId) -> HTMLResponse:
    assert user is not None
    return _compound_page(request, conn, user, lang, compound_id)


@form_router.post(PAIR, response_class=HTMLResponse, response_model=None)
async def pair(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
               compound_id: DbId) -> HTMLResponse | RedirectResponse:
    """Pair a helper unit; 409 shows who helps the compound then."""
    assert user is not None
    posted = await request.form()
    form = {k: v for k, v in posted.items() if k in ("unit_id", "valid_from", "valid_to", "note")
            and isinstance(v, str)}
    try:
        body = PairingIn.model_validate({k: v.strip() for k, v in form.items() if v.strip()})
    except ValidationError as exc:
        return _compound_page(request, conn, user, lang, compound_id, {"pair": form},
                              {"pair": validation_errors(exc, "unit_id")}, status_code=422)
    try:
        with conn.transaction():
            helpers.pair(conn, compound_id, body.unit_id, body.valid_from, body.valid_to,
                         (body.note or "").strip() or None)
    except InvalidInput as exc:
        return _compound_page(request, conn, user, lang, compound_id, {"pair": form},
                              {"pair": problem_errors(exc)}, status_code=422)
    except helpers.HelperConflict as exc:
        return _compound_page(request, conn, user, lang, compound_id, {"pair": form},
                              {"pair": {"valid_from": str(exc)}}, exc.holders, 409)
    except Conflict as exc:
        return _compound_page(request, conn, user, lang, compound_id, {"pair": form},
                              {"pair": {"valid_from": str(exc)}}, status_code=409)
    return RedirectResponse(f"/compounds/{compound_id}#helpers", status_code=303)


@form_router.post(END, response_class=HTMLResponse, response_model=None)
async def end_pairing(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                      helper_id: DbId) -> HTMLResponse | RedirectResponse:
    """End a pairing on a day (the history keeps it); back to the compound (303)."""
    assert user is not None
    current = helpers.get_helper(conn, helper_id)
    compound_id = current["compound_id"]
    posted = await request.form()
    valid_to = posted.get("valid_to")
    form = {"valid_to": valid_to if isinstance(valid_to, str) else ""}
    try:
        body = PairingEnd.model_validate({k: v.strip() for k, v in form.items() if v.strip()})
        with conn.transaction():
            helpers.end(conn, helper_id, body.valid_to)
    except ValidationError as exc:
        return _compound_page(request, conn, user, lang, compound_id, {"end": form},
                              {"end": validation_errors(exc, "valid_to")}, status_code=422)
    except InvalidInput as exc:
        return _compound_page(request, conn, user, lang, compound_id, {"end": form},
                              {"end": problem_errors(exc)}, status_code=422)
    except helpers.HelperConflict as exc:
        return _compound_page(request, conn, user, lang, compound_id, {"end": form},
                              {"end": {"valid_to": str(exc)}}, exc.holders, 409)
    return RedirectResponse(f"/compounds/{compound_id}#helpers", status_code=303)


@page_router.post(TASKS, response_class=HTMLResponse, response_model=None)
async def add_task(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser, lang: Lang,
                   compound_id: DbId,
                   kind: Annotated[str, Form(max_length=20)] = "",
                   title: Annotated[str, Form(max_length=200)] = "",
                   done_on: Annotated[str, Form(max_length=10)] = "",
                   note: Annotated[str, Form(max_length=2000)] = "",
                   before: Annotated[list[UploadFile] | None, File()] = None,
                   after: Annotated[list[UploadFile] | None, File()] = None,
                   ) -> HTMLResponse | RedirectResponse:
    """Record a task with photos before and after (multipart); back to the compound's tasks (303)."""
    assert user is not None
    form = {"kind": kind, "title": title, "done_on": done_on, "note": note}
    try:
        body = TaskIn.model_validate({k: v.strip() for k, v in form.items() if v.strip()})
    except ValidationError as exc:
        return _compound_page(request, conn, user, lang, compound_id, {"task": form},
                              {"task": validation_errors(exc, "kind")}, status_code=422)
    try:
        shots = {"before": await read_uploads(before or [], "before"),
                 "after": await read_uploads(after or [], "after")}
        with conn.transaction():  # a savepoint: a refused photo or field records nothing
            kept = {stage: [(media.store(conn, settings.data_dir, content, user.username, stage).sha256, name)
                            for content, name in uploads] for stage, uploads in shots.items()}
            made = tasks.add_task(conn, compound_id, body.kind, body.title, body.done_on,
                                  (body.note or "").strip() or None, kept["before"], kept["after"])
    except InvalidInput as exc:
        return _compound_page(request, conn, user, lang, compound_id, {"task": form},
                              {"task": problem_errors(exc)}, status_code=422)
    except psycopg.errors.InsufficientPrivilege:  # a unit's account, for a compound its unit does not help
        return _compound_page(request, conn, user, lang, compound_id, {"task": form},
                              {"task": {"done_on": "your unit does not help this compound on that day"}},
                              status_code=403)
    return RedirectResponse(f"/compounds/{compound_id}#task-{made['id']}", status_code=303)

