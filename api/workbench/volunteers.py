"""The volunteer pages (志愿服务): the teams of the user's area with their active members and hours (and
the team form for admins), and a team's page: members with the hours each served, the member form (a
resident found by searching the register, or an outsider by name and phone), a leave button per active
member, activities and the activity form with hours per active member. Read through gis/volunteers
under row-level security, as the API; the forms' posts are api/workbench/volunteer_forms.py."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import Conn
from api.params import DbId
from api.policy import POLICY
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang
from api.workbench.render import page
from api.workbench.routing import PageRoute
from gis.access.accounts import Principal
from gis.volunteers import teams

page_router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)
RESIDENTS_SHOWN = 20


def may(user: Principal, method: str, template: str) -> bool:
    """Whether the policy lets one of the user's roles in; row-level security decides the scope."""
    return bool(POLICY[(method, template)].roles & user.roles)


def residents(conn: psycopg.Connection, q: str) -> list[dict[str, Any]]:
    """Residents whose name holds ``q``, among those the user may read (the register's row-level
    security), with their household's address to tell two of one name apart; one query."""
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = conn.execute(
        "SELECT p.id, p.name, h.address, p.volunteer FROM person p JOIN household h ON h.id = p.household_id"
        " WHERE p.name LIKE %s ORDER BY p.name, p.id LIMIT %s", [pattern, RESIDENTS_SHOWN]).fetchall()
    return [{"id": r[0], "name": r[1], "address": r[2], "volunteer": r[3]} for r in rows]


def _volunteer_flags(conn: psycopg.Connection, person_ids: list[int]) -> dict[int, bool]:
    """person.volunteer as the register holds it (derived from active membership by the database)."""
    rows = conn.execute("SELECT id, volunteer FROM person WHERE id = ANY(%s)", [person_ids]).fetchall()
    return {r[0]: r[1] for r in rows}


def teams_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Any,
               form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
               status_code: int = 200) -> HTMLResponse:
    scopes = {g.scope for g in user.grants}
    response = page(request, user, lang, "volunteer_teams.html", N_("志愿服务队"), teams=teams.teams(conn),
                    may_add=may(user, "POST", "/volunteers/teams"),
                    form=form or {"scope": scopes.pop() if len(scopes) == 1 else ""}, errors=errors or {})
    response.status_code = status_code
    return response


def team_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Any, team_id: int, *,
              q: str = "", failed: str = "", form: dict[str, Any] | None = None,
              errors: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    """The team's page; ``failed`` names the form a refusal answers ("member" or "activity"), whose
    ``form`` and ``errors`` it shows again."""
    found = teams.team(conn, team_id)
    members = teams.members(conn, team_id)
    flags = _volunteer_flags(conn, [m["person_id"] for m in members if m["person_id"]])
    response = page(
        request, user, lang, "volunteer_team.html", N_("志愿服务队"), team=found, members=members,
        active=[m for m in members if m["left_on"] is None], flags=flags,
        activities=teams.activities(conn, team_id),
        may_join=may(user, "POST", "/volunteers/teams/{team_id}/members"),
        may_leave=may(user, "POST", "/volunteers/members/{member_id}/leave"),
        may_record=may(user, "POST", "/volunteers/teams/{team_id}/activities"),
        q=q, found=residents(conn, q.strip()) if q.strip() else None, failed=failed,
        form=form or {}, errors=errors or {}, today=date.today().isoformat())
    response.status_code = status_code
    return response


@page_router.get("/volunteers/teams")
def teams_view(request: Request, conn: Conn, user: CurrentUser, lang: Lang) -> HTMLResponse:
    assert user is not None
    return teams_page(request, conn, user, lang)


@page_router.get("/volunteers/teams/{team_id}")
def team_view(request: Request, conn: Conn, user: CurrentUser, lang: Lang, team_id: DbId,
              q: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
    assert user is not None
    return team_page(request, conn, user, lang, team_id, q=q)
