"""A facility's page (阵地) with its forms: the point on a small map (the app's own Leaflet, no basemap),
kind, owner and state; the sessions held there, newest first, with their photos; the session form
(date, topic, attendance, photos from the phone's camera) and the edit/close form.

The page shares GET /facilities/{id} with the API (PageRoute), the session form its POST
/facilities/{id}/sessions (FormRoute, multipart with photos); the edit form posts to
POST /facilities/{id}, the API's PATCH put into a form (only the fields changed are sent on). Everything
goes through gis/facilities under row-level security, as the API does; a refusal answers the page
again with the API's words beside the field.
"""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile as StarletteUpload

from api.deps import AppSettings, Conn
from api.params import DbId, read_uploads
from api.policy import POLICY
from api.routes.facilities import FacilityPatch, SessionIn
from api.security import CurrentUser
from api.workbench.forms import field_errors
from api.workbench.i18n import N_, Lang
from api.workbench.render import page
from api.workbench.routing import FormRoute, PageRoute
from gis.access.accounts import Principal
from gis.errors import InvalidInput
from gis.facilities import records
from gis.media import store as media
from layers.assets import LOCAL

PAGE = "/facilities/{facility_id}"
SESSION_FIELDS = ("held_on", "topic", "attendance", "note")
EDIT_FIELDS = ("kind", "name", "address", "owner_community", "active")
LEAFLET_CSS, LEAFLET_JS = LOCAL["leaflet_css"].url(), LOCAL["leaflet"].url()  # served locally

page_router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)
form_router = APIRouter(tags=["workbench (工作台)"], route_class=FormRoute, include_in_schema=False)
# The edit form's post has no API route beside it (the API's is a PATCH): any client may send it.
edit_router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)


def _may(user: Principal, method: str, template: str) -> bool:
    """Whether the policy lets one of the user's roles in; row-level security decides the scope."""
    return bool(POLICY[(method, template)].roles & user.roles)


def facility_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Any, facility_id: int,
                  *, session_form: dict[str, str] | None = None, session_errors: dict[str, str] | None = None,
                  edit_form: dict[str, str] | None = None, edit_errors: dict[str, str] | None = None,
                  status_code: int = 200) -> HTMLResponse:
    found = records.facility(conn, facility_id)
    current = {k: "" if found[k] is None else str(found[k]) for k in EDIT_FIELDS}
    current["active"] = "true" if found["active"] else "false"
    response = page(
        request, user, lang, "facility_page.html", N_("阵地"), f=found,
        sessions=records.sessions(conn, facility_id), kinds=records.vocabulary(conn),
        may_record=_may(user, "POST", "/facilities/{facility_id}/sessions") and found["active"],
        may_edit=_may(user, "POST", PAGE),
        session_form=session_form or {}, session_errors=session_errors or {},
        edit_form=edit_form or current, edit_errors=edit_errors or {},
        leaflet_css=LEAFLET_CSS, leaflet_js=LEAFLET_JS)
    response.status_code = status_code
    return response


# numeric ids only: /facilities/check and /facilities/vocabulary go on to their own routes
@page_router.get("/facilities/{facility_id:int}", response_class=HTMLResponse)
def facility_view(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                  facility_id: DbId) -> HTMLResponse:
    assert user is not None
    return facility_page(request, conn, user, lang, facility_id)


@form_router.post(PAGE + "/sessions", response_class=HTMLResponse, response_model=None)
async def record_session(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser, lang: Lang,
                         facility_id: DbId) -> HTMLResponse | RedirectResponse:
    """The session form: the API's fields and its photos, all kept or none (a refused photo records no
    session); done, the facility's page at the new session."""
    assert user is not None
    posted = await request.form()
    form = {k: v for k, v in posted.items() if k in SESSION_FIELDS and isinstance(v, str)}
    uploads = [v for k, v in posted.multi_items() if k == "photos" and isinstance(v, StarletteUpload)]
    fields = {k: v.strip() for k, v in form.items() if v.strip()}
    try:
        body = SessionIn.model_validate(fields)
    except ValidationError as exc:
        return facility_page(request, conn, user, lang, facility_id, session_form=form,
                             session_errors=field_errors(exc), status_code=422)
    try:
        photos = await read_uploads(uploads)  # type: ignore[arg-type]
        with conn.transaction():  # a savepoint: a refused photo or field records nothing
            stored = [(media.store(conn, settings.data_dir, content, user.username).sha256, name)
                      for content, name in photos]
            made = records.record_session(conn, facility_id, **body.model_dump(), photos=stored)
    except InvalidInput as exc:
        return facility_page(request, conn, user, lang, facility_id, session_form=form,
                             session_errors={p.field: p.reason for p in exc.problems}, status_code=422)
    return RedirectResponse(f"/facilities/{facility_id}#session-{made['id']}", status_code=303)


@edit_router.post(PAGE, response_class=HTMLResponse, response_model=None)
async def edit_facility(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                        facility_id: DbId) -> HTMLResponse | RedirectResponse:
    """The edit/close form as the API's PATCH: the fields that differ from the facility are sent on (a
    blank address clears it; the owner community stays unless another is given); ``active`` false closes
    it, its sessions kept."""
    assert user is not None
    current = records.facility(conn, facility_id)
    posted = await request.form()
    form = {k: v.strip() for k, v in posted.items() if k in EDIT_FIELDS and isinstance(v, str)}
    changes: dict[str, Any] = {}
    for k, v in form.items():
        value: Any = (v == "true") if k == "active" and v in ("true", "false") else (v or None)
        if k == "owner_community" and value is None:
            continue
        if value != current[k]:
            changes[k] = value
    try:
        patch = FacilityPatch.model_validate(changes)
    except ValidationError as exc:
        return facility_page(request, conn, user, lang, facility_id, edit_form=form,
                             edit_errors=field_errors(exc), status_code=422)
    try:
        with conn.transaction():
            records.update_facility(conn, facility_id, patch.model_dump(exclude_unset=True))
    except InvalidInput as exc:
        return facility_page(request, conn, user, lang, facility_id, edit_form=form,
                             edit_errors={p.field: p.reason for p in exc.problems}, status_code=422)
    return RedirectResponse(f"/facilities/{facility_id}", status_code=303)
