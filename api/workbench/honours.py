"""The honour-list pages (红黑榜): the list versions of the user's area with their state, and one list
with its entries (households and persons only as the register lets the user read them)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import Conn
from api.params import DbId
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang
from api.workbench.render import page
from api.workbench.routing import PageRoute
from gis.honours import lists, public

page_router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)
STATES = {"drafted": N_("草稿"), "approved": N_("已审核"), "published": N_("已公布")}


@page_router.get("/honours/lists")
def lists_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang) -> HTMLResponse:
    assert user is not None
    return page(request, user, lang, "honour_lists.html", N_("红黑榜"), rows=lists.lists(conn), states=STATES)


@page_router.get("/honours/lists/{list_id}")
def list_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang, list_id: DbId) -> HTMLResponse:
    assert user is not None
    return page(
        request,
        user,
        lang,
        "honour_list.html",
        N_("红黑榜"),
        lst=lists.honour_list(conn, list_id),
        states=STATES,
    )


@page_router.get("/public/honours")
def public_page(request: Request, conn: Conn, lang: Lang) -> HTMLResponse:
    """The public page (公示, no sign-in): the published versions approved as public, redacted."""
    from api.workbench.errors import bare_page

    return bare_page(request, lang, "honours_public.html", N_("红黑榜公示"), lists=public.public_lists(conn))
