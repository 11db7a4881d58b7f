"""The volunteer forms (志愿服务): form a team, a member joins (a resident picked from the register's
search, or an outsider by name and phone), a member leaves, an activity with the hours of each active
member. Each posts to the API's own path as a form (FormRoute) with the API's field names and models;
a refusal answers the page again with the API's words beside the field (422, or 409 for a conflict).
Joining and leaving write the membership; the database derives the resident's person.volunteer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from api.deps import Conn
from api.params import DbId
from api.routes.volunteers import ActivityIn, LeaveIn, MemberIn, TeamIn
from api.security import CurrentUser
from api.workbench.forms import field_errors, posted_strings
from api.workbench.i18n import Lang
from api.workbench.routing import FormRoute
from api.workbench.volunteers import team_page, teams_page
from gis.errors import Conflict, InvalidInput, NotFound
from gis.volunteers import teams

form_router = APIRouter(tags=["workbench (工作台)"], route_class=FormRoute, include_in_schema=False)


@form_router.post("/volunteers/teams", response_class=HTMLResponse, response_model=None)
async def form_team(request: Request, conn: Conn, user: CurrentUser, lang: Lang) -> Any:
    assert user is not None
    form = posted_strings(await request.form(), ("name", "scope", "station_id"))
    try:
        body = TeamIn.model_validate({k: v for k, v in form.items() if v})
    except ValidationError as exc:
        return teams_page(request, conn, user, lang, form, field_errors(exc, "name"), 422)
    try:
        with conn.transaction():
            made = teams.create_team(conn, **body.model_dump())
    except InvalidInput as exc:
        return teams_page(request, conn, user, lang, form, {p.field: p.reason for p in exc.problems}, 422)
    except Conflict as exc:
        return teams_page(request, conn, user, lang, form, {"name": str(exc)}, 409)
    return RedirectResponse(f"/volunteers/teams/{made['id']}", status_code=303)


@form_router.post("/volunteers/teams/{team_id}/members", response_class=HTMLResponse, response_model=None)
async def join(request: Request, conn: Conn, user: CurrentUser, lang: Lang, team_id: DbId) -> Any:
    """A resident (``person_id``, from the search) or an outsider (``name``, ``phone``) joins."""
    assert user is not None
    posted = await request.form()
    form = posted_strings(posted, ("person_id", "name", "phone", "joined_on"))
    q = str(posted.get("q") or "")

    def again(errors: dict[str, str], status: int) -> HTMLResponse:
        return team_page(request, conn, user, lang, team_id, q=q, failed="member", form=form, errors=errors,
                         status_code=status)

    try:
        body = MemberIn.model_validate({k: v for k, v in form.items() if v})
    except ValidationError as exc:
        return again(field_errors(exc, "person_id"), 422)
    try:
        with conn.transaction():
            teams.join(conn, team_id, **body.model_dump())
    except InvalidInput as exc:
        return again({p.field: p.reason for p in exc.problems}, 422)
    except NotFound as exc:  # a resident the user may not read is no resident of hers
        return again({"person_id": str(exc)}, 422)
    except Conflict as exc:
        return again({"person_id": str(exc)}, 409)
    return RedirectResponse(f"/volunteers/teams/{team_id}#members", status_code=303)


@form_router.post("/volunteers/members/{member_id}/leave", response_class=HTMLResponse, response_model=None)
async def leave(request: Request, conn: Conn, user: CurrentUser, lang: Lang, member_id: DbId) -> Any:
    """The leave button (optionally with the day): the member is kept with ``left_on``."""
    assert user is not None
    form = posted_strings(await request.form(), ("left_on",))
    team_id = teams.member(conn, member_id)["team_id"]
    errors: dict[str, str] = {}
    try:
        body = LeaveIn.model_validate({k: v for k, v in form.items() if v})
        with conn.transaction():
            teams.leave(conn, member_id, body.left_on)
    except ValidationError as exc:
        errors = field_errors(exc, "left_on")
    except InvalidInput as exc:
        errors = {p.field: p.reason for p in exc.problems}
    except Conflict as exc:
        return team_page(request, conn, user, lang, team_id, failed="leave",
                         form={"member_id": member_id}, errors={"left_on": str(exc)}, status_code=409)
    if errors:
        return team_page(request, conn, user, lang, team_id, failed="leave",
                         form={"member_id": member_id, **form}, errors=errors, status_code=422)
    return RedirectResponse(f"/volunteers/teams/{team_id}#members", status_code=303)


@form_router.post("/volunteers/teams/{team_id}/activities", response_class=HTMLResponse, response_model=None)
async def record_activity(request: Request, conn: Conn, user: CurrentUser, lang: Lang, team_id: DbId) -> Any:
    """The activity form: one row per active member (``member_id`` with its ``hours``; a row left blank
    is a member who did not serve)."""
    assert user is not None
    posted = await request.form()
    form: dict[str, Any] = posted_strings(posted, ("held_on", "title", "facility_id"))
    members = [str(v) for v in posted.getlist("member_id")]
    hours = [str(v).strip() for v in posted.getlist("hours")]
    form["hours"] = dict(zip(members, hours, strict=False))
    served = [{"member_id": m, "hours": h} for m, h in zip(members, hours, strict=False) if h]

    def again(errors: dict[str, str], status: int = 422) -> HTMLResponse:
        return team_page(request, conn, user, lang, team_id, failed="activity", form=form, errors=errors,
                         status_code=status)

    if not served:
        return again({"hours": "give the hours of at least one member"})
    try:
        body = ActivityIn.model_validate(
            {**{k: v for k, v in form.items() if k != "hours" and v}, "hours": served})
    except ValidationError as exc:
        return again(field_errors(exc, "title"))
    try:
        with conn.transaction():
            teams.record_activity(conn, team_id, held_on=body.held_on, title=body.title,
                                  facility_id=body.facility_id,
                                  hours=[(h.member_id, h.hours) for h in body.hours])
    except InvalidInput as exc:
        return again({p.field: p.reason for p in exc.problems})
    return RedirectResponse(f"/volunteers/teams/{team_id}#activities", status_code=303)
