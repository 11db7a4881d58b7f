"""The duty pages (值守排班): the roster of a fortnight either side of today for the duties the user
sees (a unit's accounts: their own unit's), each day's state (done, missed, due) and, where the user may
record, a form per day: done or missed, a note and photos, posted to the API's path as multipart with
the session's CSRF token. The recorder is the signed-in user (no name field); a refusal comes back
beside its field in the API's words, an already recorded day as a conflict (409).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import psycopg
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import AppSettings, Conn
from api.params import DbId, read_uploads
from api.policy import POLICY
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang, Language
from api.workbench.render import page
from api.workbench.routing import PageRoute
from gis.access.accounts import Principal
from gis.duties import duties
from gis.errors import Conflict, InvalidInput
from gis.media import store as media

AROUND_DAYS = 14  # the roster shows this many days before and after today
RECORD = "/duties/{duty_id}/records"
STATES = {"done": N_("已到岗"), "missed": N_("缺岗"), "due": N_("待值守")}

# The roster page and the record post share their paths with the JSON API: a browser's request gets
# the page (PageRoute), any other client the API.
page_router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)


def may_record(user: Principal) -> bool:
    return bool(POLICY[("POST", RECORD)].roles & user.roles)


def _roster_page(
    request: Request,
    conn: psycopg.Connection,
    user: Principal,
    lang: Language,
    start: date | None,
    end: date | None,
    errors: dict[str, str] | None = None,
    failed: tuple[int, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    today = duties.today()
    first, last = start or today - timedelta(days=AROUND_DAYS), end or today + timedelta(days=AROUND_DAYS)
    try:
        rows = duties.roster(conn, first, last)
    except InvalidInput as exc:
        rows, errors = [], {p.field: p.reason for p in exc.problems}
        status_code = 422
    response = page(
        request,
        user,
        lang,
        "duties_roster.html",
        N_("值守排班"),
        rows=rows,
        start=first,
        end=last,
        today=today,
        states=STATES,
        record=may_record(user),
        errors=errors or {},
        failed=failed,
        missed=sum(r["state"] == "missed" for r in rows),
    )
    response.status_code = status_code
    return response


@page_router.get("/duties/roster", response_class=HTMLResponse)
def roster_page(
    request: Request,
    conn: Conn,
    user: CurrentUser,
    lang: Lang,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> HTMLResponse:
    assert user is not None
    return _roster_page(request, conn, user, lang, start, end)


@page_router.post(RECORD, response_class=HTMLResponse, response_model=None)
async def record_form(
    request: Request,
    conn: Conn,
    settings: AppSettings,
    user: CurrentUser,
    lang: Lang,
    duty_id: DbId,
    duty_day: Annotated[str, Form(max_length=10)] = "",
    status: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    photos: Annotated[list[UploadFile] | None, File()] = None,
) -> HTMLResponse | RedirectResponse:
    """Record the day as the API does; back to the roster (303) where it shows as done or missed."""
    assert user is not None
    try:
        day = date.fromisoformat(duty_day)
    except ValueError:
        return _roster_page(
            request, conn, user, lang, None, None, {"duty_day": "not a date"}, (duty_id, duty_day), 422
        )
    try:
        uploads = await read_uploads(photos or [])
        with conn.transaction():  # a savepoint: a refused photo or field records nothing
            kept = [
                (media.store(conn, settings.data_dir, content, user.username).sha256, name)
                for content, name in uploads
            ]
            duties.record_day(conn, duty_id, day, status, note.strip() or None, kept)
    except InvalidInput as exc:
        return _roster_page(
            request,
            conn,
            user,
            lang,
            None,
            None,
            {p.field: p.reason for p in exc.problems},
            (duty_id, duty_day),
            422,
        )
    except Conflict as exc:
        return _roster_page(
            request, conn, user, lang, None, None, {"duty_day": str(exc)}, (duty_id, duty_day), 409
        )
    return RedirectResponse(f"/duties/roster#d{duty_id}-{duty_day}", status_code=303)
