"""The inspector's pages (督查): a place with its licences, violations and inspections and the form to
record an inspection with photos (taken on the phone); a violation with the steps its workflow allows
next as buttons and its history beside them.

Who inspects and who moves a violation on is the signed-in user: no form has a name field for it.
The forms post multipart/form-data (photos) or a plain form, with the session's CSRF token, and go
through the same gis/ functions and api/routes/inspections.py helpers as the JSON API.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

import psycopg
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.routing import Match
from starlette.types import Scope

from api.deps import AppSettings, Conn
from api.params import DbId, read_uploads
from api.policy import POLICY
from api.routes.inspections import keep_photos
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang
from api.workbench.nav import allowed
from api.workbench.render import page
from api.workbench.routing import PageRoute
from gis.access.accounts import Principal
from gis.errors import Conflict, InvalidInput
from gis.perimeter import inspections

STATUS = {"open": N_("待处理"), "notified": N_("已通知整改"), "rectified": N_("已整改"),
          "closed": N_("已结案")}
# The button that moves a violation to each status (the step, said as an action)
STEP = {"open": N_("重新立案"), "notified": N_("通知整改"), "rectified": N_("确认已整改"),
        "closed": N_("结案")}
RESULTS = {"violation": N_("违规"), "rectified": N_("已整改"), "compliant": N_("合规"),
           "closed_down": N_("已关停"), "absent": N_("未遇经营者")}
LICENCE_SEEN = {"": N_("未查看"), "true": N_("已亮证"), "false": N_("未亮证")}


class PageOrOnlyRoute(APIRoute):
    """A page at a path the API may claim too: a browser's request always; any other request only
    while no other route answers the same method and path (then the JSON route answers it). A fixed
    path the template also matches (/perimeter/places/new) belongs to its own route."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.FULL or scope["type"] != "http":
            return match, child
        for other in _routes(scope["app"]):
            if other.endpoint is self.endpoint or scope["method"] not in (other.methods or ()):
                continue
            path = other.path_format or ""
            if path == self.path_format and not _browser(scope):
                return Match.NONE, {}
            if "{" not in path and re.fullmatch(re.escape(path), scope["path"]):
                return Match.NONE, {}
        return match, child


def _routes(app: Any) -> list[RouteContext]:
    """The app's API routes with their full paths (included routers are nested), read once per app."""
    found = getattr(app.state, "page_or_only_routes", None)
    if found is None:
        found = [rc for rc in iter_route_contexts(app.routes) if isinstance(rc.original_route, APIRoute)]
        app.state.page_or_only_routes = found
    return found


def _browser(scope: Scope) -> bool:
    return any(k == b"accept" and b"text/html" in v for k, v in scope.get("headers", []))


router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)
place_router = APIRouter(tags=["workbench (工作台)"], route_class=PageOrOnlyRoute, include_in_schema=False)
# The workflow buttons' post has no API route beside it (the API moves a violation with PATCH)
form_router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)


def may_write(user: Principal, method: str, template: str) -> bool:
    rule = POLICY.get((method, template))
    return rule is not None and bool(rule.roles & user.roles)


def _school_map(user: Principal, school_ref: str | None) -> str | None:
    """The school's perimeter map (校园周边图), if the user may open it."""
    if not school_ref or not allowed(user, "/maps/perimeter/schools/{school}"):
        return None
    return "/maps/perimeter/schools/" + quote(school_ref, safe="")


def _place_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Lang, place: str,
                form: dict | None = None, errors: dict | None = None, status_code: int = 200) -> HTMLResponse:
    found = inspections.place_record(conn, place)
    active = next((v for v in found["violations"] if v["status"] != "closed"), None)
    school = active or next(iter(found["violations"]), None)
    school_map = _school_map(user, school["school_ref"] if school else None)
    response = page(request, user, lang, "place.html", N_("检查场所"), p=found, active=active,
                    school_map=school_map,
                    may_inspect=may_write(user, "POST", "/perimeter/places/{place}/inspections"),
                    form=form or {"result": "violation" if active else "compliant", "note": "",
                                  "licence_displayed": ""},
                    errors=errors or {}, statuses=STATUS, results=RESULTS, licence_seen=LICENCE_SEEN)
    response.status_code = status_code
    return response


@place_router.get("/perimeter/places/{place}", response_class=HTMLResponse)
def place_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang, place: str) -> HTMLResponse:
    assert user is not None
    return _place_page(request, conn, user, lang, place)


def _violation_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Lang,
                    violation_id: int, note: str = "", error: str | None = None,
                    status_code: int = 200) -> HTMLResponse:
    found = inspections.violation(conn, violation_id)
    shown = [h["inspection_id"] for h in found["history"] if h["inspection_id"] is not None]
    photos = inspections.photos_of(conn, shown)
    response = page(request, user, lang, "violation.html", N_("违规处置"), v=found,
                    steps=list(inspections.TRANSITIONS[found["status"]]),
                    may_move=may_write(user, "POST", "/perimeter/violations/recorded/{violation_id}"),
                    may_inspect=may_write(user, "POST", "/perimeter/places/{place}/inspections"),
                    place_key=found["place_ref"] or str(found["place_id"]), photos=photos,
                    note=note, error=error,
                    school_map=_school_map(user, found["school_ref"]),
                    statuses=STATUS, step_labels=STEP, results=RESULTS, licence_seen=LICENCE_SEEN,
                    form={"result": "rectified", "note": "", "licence_displayed": ""}, errors={})
    response.status_code = status_code
    return response


@router.get("/perimeter/violations/recorded/{violation_id}", response_class=HTMLResponse)
def violation_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                   violation_id: DbId) -> HTMLResponse:
    assert user is not None
    return _violation_page(request, conn, user, lang, violation_id)


@form_router.post("/perimeter/violations/recorded/{violation_id}", response_class=HTMLResponse,
                  response_model=None)
def move_violation(request: Request, conn: Conn, user: CurrentUser, lang: Lang, violation_id: DbId,
                   status: Annotated[str, Form(max_length=20)],
                   note: Annotated[str, Form(max_length=2000)] = "") -> HTMLResponse | RedirectResponse:
    """A workflow button: the signed-in user moves the violation to ``status``; a step the workflow
    does not allow from its current state (another user moved it meanwhile) shows why, 409."""
    assert user is not None
    try:
        with conn.transaction():
            inspections.move(conn, violation_id, status, user.username, note.strip() or None)
    except InvalidInput as exc:
        return _violation_page(request, conn, user, lang, violation_id, note,
                               "; ".join(f"{p.field}: {p.reason}" for p in exc.problems), 422)
    except Conflict as exc:
        return _violation_page(request, conn, user, lang, violation_id, note, str(exc), 409)
    return RedirectResponse(f"/perimeter/violations/recorded/{violation_id}", status_code=303)


@router.post("/perimeter/places/{place}/inspections", response_class=HTMLResponse, response_model=None)
async def record_inspection(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser,
                            lang: Lang, place: str,
                            result: Annotated[str, Form(max_length=20)],
                            note: Annotated[str, Form(max_length=2000)] = "",
                            licence_displayed: Annotated[str, Form(max_length=5)] = "",
                            violation: Annotated[int | None, Form(ge=1, le=2**62)] = None,
                            photos: Annotated[list[UploadFile] | None, File()] = None
                            ) -> HTMLResponse | RedirectResponse:
    """The inspection form (a browser's multipart post; the JSON API answers everyone else): the
    inspector is the signed-in user; photos are judged before anything is recorded. From a violation's
    page (``violation``) it is the re-check and returns there."""
    assert user is not None
    form = {"result": result, "note": note, "licence_displayed": licence_displayed}
    try:
        uploads = await read_uploads(photos or [])
        if licence_displayed not in LICENCE_SEEN:
            raise InvalidInput.one("licence_displayed", "yes, no or not looked at")
        with conn.transaction():  # a savepoint: a refused photo undoes the inspection
            done = inspections.record_inspection(
                conn, place, user.username, result, note.strip() or None,
                licence_displayed={"": None, "true": True, "false": False}[licence_displayed])
            keep_photos(conn, settings, user, done["inspection_id"], uploads)
    except InvalidInput as exc:
        errors = {p.field: p.reason for p in exc.problems}
        if violation is not None:
            return _violation_page(request, conn, user, lang, violation,
                                   error="; ".join(f"{k}: {v}" for k, v in errors.items()), status_code=422)
        return _place_page(request, conn, user, lang, place, form, errors, 422)
    outcome: dict[str, Any] | None = done["violation"]
    if violation is not None and outcome is not None and outcome["id"] == violation:
        return RedirectResponse(f"/perimeter/violations/recorded/{violation}", status_code=303)
    return RedirectResponse(f"/perimeter/places/{quote(place, safe='')}#inspections", status_code=303)
