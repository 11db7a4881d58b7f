"""The exposure board's pages (曝光台): the public board at /exposure (no sign-in: no menu, no names),
and for an admin the publish form of a closed report (/reports/{id}/exposure: a title, the public text,
the photos to show, a redaction note) with the report's publications and their unpublish buttons.

The form posts where the API publishes (FormRoute: a form's post gets the page's answer, 422 beside the
field in the API's words, 409 above the form); everything goes through gis.reports.exposure, whose rules
are the database's.
"""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from api.deps import Conn
from api.params import DbId
from api.routes.exposure import PublishIn, public_item
from api.security import CurrentUser
from api.workbench.errors import bare_page
from api.workbench.forms import field_errors
from api.workbench.i18n import N_, Lang, Language
from api.workbench.render import page
from api.workbench.routing import FormRoute, PageRoute
from gis.access.accounts import Principal
from gis.errors import Conflict, InvalidInput
from gis.reports import exposure, read
from gis.reports.workflow import NotAllowed

public_router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)
page_router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)
form_router = APIRouter(tags=["workbench (工作台)"], route_class=FormRoute, include_in_schema=False)


@public_router.get("/exposure", response_class=HTMLResponse)
def public_board(request: Request, conn: Conn, lang: Lang) -> HTMLResponse:
    """Anyone's page: the live publications, newest first; photos are the EXIF-free copies."""
    items = [public_item(r) for r in exposure.public(conn)]
    response = bare_page(request, lang, "exposure_public.html", N_("曝光台"), items=items)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _form_page(
    request: Request,
    conn: psycopg.Connection,
    user: Principal,
    lang: Language,
    report_id: int,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    report = read.report(conn, report_id)  # NotFound when not the user's to read
    publications = exposure.history(conn, report_id)
    form = form or {
        "title": f"{report['category_zh']}",
        "public_text": "",
        "redaction_note": "",
        "photos": [],
    }
    response = page(
        request,
        user,
        lang,
        "exposure_form.html",
        N_("曝光台发布"),
        r=report,
        form=form,
        errors=errors or {},
        publications=publications,
        live=any(p["live"] for p in publications),
    )
    response.status_code = status_code
    return response


@page_router.get("/reports/{report_id}/exposure", response_class=HTMLResponse)
def publish_form(
    request: Request, conn: Conn, user: CurrentUser, lang: Lang, report_id: DbId
) -> HTMLResponse:
    assert user is not None
    return _form_page(request, conn, user, lang, report_id)


@form_router.post("/reports/{report_id}/exposure", response_class=HTMLResponse, response_model=None)
def publish(
    request: Request,
    conn: Conn,
    user: CurrentUser,
    lang: Lang,
    report_id: DbId,
    title: Annotated[str, Form(max_length=200)] = "",
    public_text: Annotated[str, Form(max_length=4000)] = "",
    redaction_note: Annotated[str, Form(max_length=2000)] = "",
    photos: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse | RedirectResponse:
    """Publish as the API does (the same model judges the fields); back to this page (303)."""
    assert user is not None
    form = {
        "title": title,
        "public_text": public_text,
        "redaction_note": redaction_note,
        "photos": photos or [],
    }
    try:
        body = PublishIn.model_validate(
            {
                **form,
                "title": title.strip(),
                "public_text": public_text.strip(),
                "redaction_note": redaction_note.strip(),
            }
        )
    except ValidationError as exc:
        problems = field_errors(exc)
        return _form_page(request, conn, user, lang, report_id, form, problems, 422)
    try:
        exposure.publish(conn, report_id, body.title, body.public_text, body.redaction_note, body.photos)
    except InvalidInput as exc:
        return _form_page(
            request, conn, user, lang, report_id, form, {p.field: p.reason for p in exc.problems}, 422
        )
    except Conflict as exc:
        return _form_page(request, conn, user, lang, report_id, form, {"body": str(exc)}, 409)
    except NotAllowed as exc:
        raise HTTPException(403, str(exc)) from None
    return RedirectResponse(f"/reports/{report_id}/exposure", status_code=303)


@form_router.post("/exposure/{exposure_id}/unpublish", response_class=HTMLResponse, response_model=None)
def unpublish(
    conn: Conn, user: CurrentUser, exposure_id: DbId, note: Annotated[str, Form(max_length=1000)] = ""
) -> RedirectResponse:
    assert user is not None
    found = [e for e in exposure.history(conn) if e["id"] == exposure_id]
    try:
        exposure.unpublish(conn, exposure_id, note.strip() or None)
    except NotAllowed as exc:
        raise HTTPException(403, str(exc)) from None
    except Conflict:
        pass  # unpublished already (a double tap): the page shows it so
    target = f"/reports/{found[0]['report_id']}/exposure" if found else "/exposure"
    return RedirectResponse(target, status_code=303)
