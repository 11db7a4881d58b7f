"""The volunteer pages (志愿服务): the teams of the user's area with their active members and hours, and
a team's members and activities. Read through gis/volunteers under row-level security, as the API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import Conn
from api.params import DbId
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang
from api.workbench.render import page
from api.workbench.routing import PageRoute
from gis.volunteers import teams

page_router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)


@page_router.get("/volunteers/teams")
def teams_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang) -> HTMLResponse:
    assert user is not None
    return page(request, user, lang, "volunteer_teams.html", N_("志愿服务队"), teams=teams.teams(conn))


@page_router.get("/volunteers/teams/{team_id}")
def team_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang, team_id: DbId) -> HTMLResponse:
    assert user is not None
    found = teams.team(conn, team_id)
    return page(
        request,
        user,
        lang,
        "volunteer_team.html",
        N_("志愿服务队"),
        team=found,
        members=teams.members(conn, team_id),
        activities=teams.activities(conn, team_id),
    )
