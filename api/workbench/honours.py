"""The honour-list pages (红黑榜, 十文明户, 最美家庭): the list versions of the user's area with their
state (and the draft form for admins), one list with its entries (households and persons only as the
register lets the user read them) and what an admin does to it: the entry form while drafted (a black
entry picks its evidence from the closed violations, inspections that found one and closed reports the
user may read), remove an entry, approve (deciding the public version) and publish; a published list
says it never changes and offers a new version. The participation page: households taking part per
community against the target, with the record form. The forms' posts: api/workbench/honour_forms.py.
"""

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
from api.workbench.nav import allowed
from api.workbench.render import page
from api.workbench.routing import PageRoute
from api.workbench.volunteers import residents
from gis.access.accounts import Principal
from gis.honours import evidence as area_evidence
from gis.honours import lists, public
from gis.register import households as register

page_router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)
STATES = {"drafted": N_("草稿"), "approved": N_("已审核"), "published": N_("已公布")}
PICKED = 200  # evidence offered per kind, newest first
FOUND = 20  # households or residents found by a search


def may(user: Principal, method: str, template: str) -> bool:
    return bool(POLICY[(method, template)].roles & user.roles)


def evidence(conn: psycopg.Connection, user: Principal, scope: str) -> dict[str, list[dict[str, Any]]]:
    """What a black entry may point to, of those the user may read and of the list's area: closed
    violations and inspections that found one at the area's places (for the perimeter's readers; a
    place's area is the community its point lies in, gis/honours/evidence.py), and closed reports of the
    area (row-level security narrows them to the user's)."""
    found: dict[str, list[dict[str, Any]]] = {"violation_id": [], "inspection_id": [], "report_id": []}
    if allowed(user, "/perimeter/violations"):
        found["violation_id"] = [{"id": r[0], "label": f"{r[1]} · {r[2]} · {r[3]}"}
                                 for r in area_evidence.closed_violations(conn, scope, PICKED)]
        found["inspection_id"] = [{"id": r[0], "label": f"{r[1]} · {r[2]:%Y-%m-%d} · {r[3]}"}
                                  for r in area_evidence.violating_inspections(conn, scope, PICKED)]
    if allowed(user, "/reports/{report_id}"):
        found["report_id"] = [{"id": r[0], "label": f"#{r[0]} · {r[1]} · {r[2]}"} for r in conn.execute(
            "SELECT r.id, c.name_zh, r.report_day FROM report r JOIN report_category c ON c.code = r.category"
            " WHERE r.state = 'closed' AND starts_with(r.area_code, %s)"
            " ORDER BY r.report_day DESC, r.id DESC LIMIT %s", [scope, PICKED]).fetchall()]
    return found


def subjects(conn: psycopg.Connection, subject: str, q: str) -> list[dict[str, Any]] | None:
    """The subjects an entry may name: places and units to choose from; households and residents found
    by a search (``q``) among those the user may read. None: no search made yet."""
    if subject == "place":
        return [{"id": r[0], "label": f"{r[1]} {r[2] or ''}"} for r in conn.execute(
            "SELECT id, name, address FROM place ORDER BY name, id LIMIT 500").fetchall()]
    if subject == "unit":
        return [{"id": r[0], "label": r[1]} for r in conn.execute(
            "SELECT id, name FROM responsible_unit ORDER BY name, id LIMIT 500").fetchall()]
    if not q.strip():
        return None
    if subject == "household":
        items = register.list_households(conn, q=q.strip(), limit=FOUND)["items"]
        return [{"id": h["id"], "label": h["address"]} for h in items]
    return [{"id": r["id"], "label": f"{r['name']} {r['address'] or ''}"} for r in residents(conn, q.strip())]


def lists_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Any,
               form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
               status_code: int = 200) -> HTMLResponse:
    scopes = {g.scope for g in user.grants}
    response = page(request, user, lang, "honour_lists.html", N_("红黑榜"), rows=lists.lists(conn),
                    states=STATES,
                    may_draft=may(user, "POST", "/honours/lists"), kinds=lists.kinds(conn),
                    form=form or {"scope": scopes.pop() if len(scopes) == 1 else ""}, errors=errors or {},
                    participation_link=allowed(user, "/honours/participation"))
    response.status_code = status_code
    return response


def list_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Any, list_id: int, *,
              q: str = "", failed: str = "", form: dict[str, str] | None = None,
              errors: dict[str, str] | None = None, confirm: str = "",
              status_code: int = 200) -> HTMLResponse:
    """One list; ``failed`` names the form a refusal answers (entry, state, version, remove) and
    ``confirm`` an action asking to be confirmed (publish)."""
    lst = lists.honour_list(conn, list_id)
    writer = may(user, "POST", "/honours/lists/{list_id}/entries")
    drafted = lst["state"] == "drafted"
    response = page(
        request, user, lang, "honour_list.html", N_("红黑榜"), lst=lst, states=STATES, writer=writer,
        drafted=drafted, q=q, failed=failed, form=form or {}, errors=errors or {}, confirm=confirm,
        subjects=subjects(conn, lst["subject"], q) if writer and drafted else None,
        evidence=evidence(conn, user, lst["scope"]) if writer and drafted else {},
        personal=lst["subject"] in ("household", "person"))
    response.status_code = status_code
    return response


def participation_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Any, year: int, *,
                       q: str = "", form: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                       recorded: int | None = None, status_code: int = 200) -> HTMLResponse:
    scopes = {g.scope for g in user.grants}
    area = scopes.pop()[:12] if len(scopes) == 1 else ""
    writer = may(user, "POST", "/honours/participation")
    found = register.list_households(conn, q=q.strip(), limit=FOUND)["items"] \
        if writer and q.strip() else None
    response = page(request, user, lang, "honour_participation.html", N_("参评率"),
                    rows=public.participation(conn, area, year), year=year, writer=writer, q=q, found=found,
                    form=form or {"year": str(year)}, errors=errors or {}, recorded=recorded)
    response.status_code = status_code
    return response


@page_router.get("/honours/lists")
def lists_view(request: Request, conn: Conn, user: CurrentUser, lang: Lang) -> HTMLResponse:
    assert user is not None
    return lists_page(request, conn, user, lang)


@page_router.get("/honours/lists/{list_id}")
def list_view(request: Request, conn: Conn, user: CurrentUser, lang: Lang, list_id: DbId,
              q: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
    assert user is not None
    return list_page(request, conn, user, lang, list_id, q=q)


@page_router.get("/honours/participation")
def participation_view(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                       year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
                       q: Annotated[str, Query(max_length=100)] = "",
                       recorded: Annotated[int | None, Query(ge=0)] = None) -> HTMLResponse:
    assert user is not None
    return participation_page(request, conn, user, lang, year or date.today().year, q=q, recorded=recorded)


@page_router.get("/public/honours")
def public_page(request: Request, conn: Conn, lang: Lang) -> HTMLResponse:
    """The public page (公示, no sign-in): the published versions approved as public, redacted."""
    from api.workbench.errors import bare_page

    return bare_page(request, lang, "honours_public.html", N_("红黑榜公示"), lists=public.public_lists(conn))
