"""The 门前三包 pages: the agreements in force with each one's last check (a filter keeps those whose last
check failed) and the agreement form (planners, admins); an agreement's page with its checks, newest
first, their photos served through the check, and the check form (planners, admins, inspectors): result,
note and photos taken with the phone's camera.

They share the API's paths: the pages answer a browser's page request (PageRoute); the agreement form
posts form-encoded to POST /frontage/agreements (FormRoute: JSON goes to the API); the check form posts
multipart, as the API also accepts, so it is told apart by the browser's Accept (PageRoute).
"""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from api.deps import AppSettings, Conn
from api.params import DbId, read_uploads
from api.policy import POLICY
from api.routes.duties import AgreementIn, CheckIn
from api.security import CurrentUser
from api.workbench.campaign_photos import photo_url
from api.workbench.duty_forms import problem_errors, units, validation_errors
from api.workbench.i18n import N_, Lang, Language
from api.workbench.render import page
from api.workbench.routing import FormRoute, PageRoute
from gis.access.accounts import Principal
from gis.duties import frontage
from gis.duties.duties import today
from gis.errors import InvalidInput
from gis.media import store as media

AGREEMENTS = "/frontage/agreements"
CHECKS = "/frontage/agreements/{agreement_id}/checks"
FIELDS = ("place_id", "shop_name", "lon", "lat", "unit_id", "owner", "valid_from", "valid_to", "note")
RESULTS = {"pass": N_("合格"), "fail": N_("不合格")}

page_router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)
form_router = APIRouter(tags=["workbench (工作台)"], route_class=FormRoute, include_in_schema=False)


def _may(user: Principal, method: str, template: str) -> bool:
    return bool(POLICY[(method, template)].roles & user.roles)


def _list_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Language,
               failing: bool = False, form: dict[str, str] | None = None,
               errors: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    rows = frontage.list_agreements(conn)
    shown = [r for r in rows if r["last_check"] and r["last_check"]["result"] == "fail"] if failing else rows
    may_add = _may(user, "POST", AGREEMENTS)
    response = page(request, user, lang, "frontage_agreements.html", N_("门前三包"), rows=shown,
                    total=len(rows), failing=failing, results=RESULTS, may_add=may_add,
                    units=units(conn) if may_add else [], form=form or {"valid_from": today().isoformat()},
                    errors=errors or {})
    response.status_code = status_code
    return response


@page_router.get(AGREEMENTS, response_class=HTMLResponse)
def agreements_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                    failing: Annotated[bool, Query(description="only those whose last check failed")] = False,
                    ) -> HTMLResponse:
    assert user is not None
    return _list_page(request, conn, user, lang, failing)


@form_router.post(AGREEMENTS, response_class=HTMLResponse, response_model=None)
async def add_agreement(request: Request, conn: Conn, user: CurrentUser,
                        lang: Lang) -> HTMLResponse | RedirectResponse:
    """The agreement form: the API's fields and model; done: the agreement's page (303)."""
    assert user is not None
    posted = await request.form()
    form = {k: v for k, v in posted.items() if k in FIELDS and isinstance(v, str)}
    fields: dict[str, Any] = {k: v.strip() for k, v in form.items() if v.strip()}
    try:
        body = AgreementIn.model_validate(fields)
    except ValidationError as exc:
        return _list_page(request, conn, user, lang, False, form, validation_errors(exc, "place_id"), 422)
    try:
        with conn.transaction():
            made = frontage.create_agreement(conn, frontage.AgreementSpec(**body.model_dump()))
    except InvalidInput as exc:
        return _list_page(request, conn, user, lang, False, form, problem_errors(exc), 422)
    return RedirectResponse(f"/frontage/agreements/{made['id']}", status_code=303)


def _agreement_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Language,
                    agreement_id: int, form: dict[str, str] | None = None,
                    errors: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    agreement = frontage.get_agreement(conn, agreement_id)  # NotFound: not the reader's
    checks = frontage.checks_of(conn, agreement_id)
    for c in checks:
        c["photo_links"] = [(photo_url("check", c["id"], p["sha256"]),
                             photo_url("check", c["id"], p["sha256"], thumbnail=True), p.get("file_name"))
                            for p in c["photos"]]
    response = page(request, user, lang, "frontage_agreement.html", N_("门前三包协议"), a=agreement,
                    checks=checks, results=RESULTS, may_check=_may(user, "POST", CHECKS),
                    form=form or {"checked_on": today().isoformat(), "result": "pass"}, errors=errors or {})
    response.status_code = status_code
    return response


@page_router.get("/frontage/agreements/{agreement_id:int}", response_class=HTMLResponse)
def agreement_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                   agreement_id: DbId) -> HTMLResponse:
    assert user is not None
    return _agreement_page(request, conn, user, lang, agreement_id)


@page_router.post(CHECKS, response_class=HTMLResponse, response_model=None)
async def add_check(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser, lang: Lang,
                    agreement_id: DbId,
                    checked_on: Annotated[str, Form(max_length=10)] = "",
                    result: Annotated[str, Form(max_length=10)] = "",
                    note: Annotated[str, Form(max_length=2000)] = "",
                    photos: Annotated[list[UploadFile] | None, File()] = None,
                    ) -> HTMLResponse | RedirectResponse:
    """The check form (multipart, photos from the phone's camera); done: back to the agreement (303)."""
    assert user is not None
    form = {"checked_on": checked_on, "result": result, "note": note}
    try:
        body = CheckIn.model_validate({k: v.strip() for k, v in form.items() if v.strip()})
    except ValidationError as exc:
        return _agreement_page(request, conn, user, lang, agreement_id, form,
                               validation_errors(exc, "result"), 422)
    try:
        uploads = await read_uploads(photos or [])
        with conn.transaction():  # a savepoint: a refused photo or field records nothing
            kept = [(media.store(conn, settings.data_dir, content, user.username, "photos").sha256, name)
                    for content, name in uploads]
            frontage.add_check(conn, agreement_id, body.checked_on, body.result,
                               (body.note or "").strip() or None, kept)
    except InvalidInput as exc:
        return _agreement_page(request, conn, user, lang, agreement_id, form, problem_errors(exc), 422)
    return RedirectResponse(f"/frontage/agreements/{agreement_id}#checks", status_code=303)

