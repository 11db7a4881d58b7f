"""The grid worker directory (网格员名录) as a page: the workers of the reader's grids with their grids,
masked phones and whether each has an account to sign in with (issue 14: every field record names an
account). An admin who may manage that account sees its name, linked to its user page, where the link
is made or removed; everyone else reads only "has an account".

The page shares GET /grid-workers with the API's directory (PageRoute); the rows are the API's
(gis/division/workers.py under row-level security), the accounts gis/access/links.py's.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import Conn
from api.params import GridQuery
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang
from api.workbench.render import page
from api.workbench.routing import PageRoute
from gis.access import links
from gis.division import workers

router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)


@router.get("/grid-workers", response_class=HTMLResponse)
def directory_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                   grid: GridQuery = None) -> HTMLResponse:
    assert user is not None
    found = workers.list_workers(conn, grid=grid)
    accounts = links.worker_accounts(conn, [w["id"] for w in found])
    return page(request, user, lang, "grid_workers.html", N_("网格员名录"), workers=found,
                accounts=accounts, grid=grid or "")
