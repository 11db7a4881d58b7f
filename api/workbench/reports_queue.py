"""The report lists: each owner's queue (举报待办) and the reporter's own reports (我的举报), and their
blocks on the home page of unit and reporter accounts.

The queue is the open reports the user reads (row-level security decides: a unit account its units',
a grid worker those in her grids, an admin or viewer those of the areas), first those with a step for
the user now (待我处理: the database's own answer, reports.next_actions) and then the rest still open;
a dispatcher thus finds new, returned, handled (to verify) and verified (to close) reports at the top.
Overdue ones (working-day deadlines: accept_by for a new report, handle_by once accepted) are marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import Conn
from api.params import Paging
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang, Language
from api.workbench.nav import Link, allowed, link
from api.workbench.render import page
from api.workbench.reports import ACTION_NAMES, OWNER_NAMES, local, names, next_actions
from gis.access.accounts import Principal
from gis.access.roles import REPORTER, UNIT
from gis.reports import read
from gis.reports.file import today

QUEUE, MINE = "/reports/queue", "/reports/mine"
QUEUE_SHOWN = 200  # open reports listed in a queue (the oldest open ones beyond are in the JSON API)
HOME_SHOWN = 10
State = Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{1,39}$")]

router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)

_OPEN = """SELECT r.id FROM report r JOIN report_state s ON s.code = r.state AND s.open
WHERE (%(overdue)s::date IS NULL
       OR (r.state = 'new' AND %(overdue)s::date > r.accept_by)
       OR (r.state IN ('accepted', 'dispatched', 'returned', 'signed') AND %(overdue)s::date > r.handle_by))
ORDER BY r.reported_at DESC, r.id DESC LIMIT %(limit)s"""


def _shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "reported_at": local(r["reported_at"])} for r in rows]


def queue(conn: psycopg.Connection, user: Principal, *, state: str | None = None, overdue: bool = False,
          limit: int = QUEUE_SHOWN) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the reports with a step for the user now, the other open ones); with ``state``: that state's."""
    if state:
        _total, rows = read.reports(conn, state=state, overdue=True if overdue else None, limit=limit)
    else:
        ids = [r[0] for r in conn.execute(_OPEN, {"overdue": today() if overdue else None, "limit": limit})]
        rows = read.reports(conn, ids=ids, limit=limit)[1] if ids else []
    actions = next_actions(conn, user, [r["id"] for r in rows])
    rows = [{**r, "actions": actions.get(r["id"], [])} for r in _shown(rows)]
    return [r for r in rows if r["actions"]], [r for r in rows if not r["actions"]]


def _context(conn: psycopg.Connection, lang: Language) -> dict[str, Any]:
    return {"words": names(conn, lang), "action_names": ACTION_NAMES, "owner_names": OWNER_NAMES}


@router.get(QUEUE, response_class=HTMLResponse)
def queue_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang, state: State = None,
               overdue: bool = False) -> HTMLResponse:
    assert user is not None
    mine, others = queue(conn, user, state=state, overdue=overdue)
    return page(request, user, lang, "report_queue.html", N_("举报待办"), mine=mine, others=others,
                state=state, overdue=overdue, **_context(conn, lang))


@router.get(MINE, response_class=HTMLResponse)
def mine_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
              paging: Annotated[Paging, Depends()]) -> HTMLResponse:
    """The reports the user filed, newest first, with their states (the JSON API's ?mine=true)."""
    assert user is not None
    total, rows = read.reports(conn, mine=True, limit=paging.limit, offset=paging.offset)
    after = paging.offset + paging.limit
    return page(request, user, lang, "report_mine.html", N_("我的举报"), rows=_shown(rows), total=total,
                next=f"{MINE}?offset={after}&limit={paging.limit}" if after < total else None,
                previous=f"{MINE}?offset={max(paging.offset - paging.limit, 0)}&limit={paging.limit}"
                if paging.offset > 0 else None,
                new=link(user, N_("举报不文明行为"), "/reports/new"), **_context(conn, lang))


@dataclass
class ReportsHome:
    """The home page's block of a unit or reporter account: its queue, or its own reports."""

    queue: list[dict[str, Any]] | None  # reports with a step for the user now (a unit account)
    queue_total: int
    mine: list[dict[str, Any]] | None  # the reporter's own, newest first
    mine_total: int
    links: list[Link]
    words: dict[str, dict[str, str]]
    owner_names: dict[str, str]
    action_names: dict[str, str]


def reports_home(conn: psycopg.Connection, user: Principal, lang: Language) -> ReportsHome | None:
    """What a unit or reporter account's home page shows of reports (None for other roles)."""
    if not {UNIT, REPORTER} & user.roles:
        return None
    todo = queue(conn, user)[0] if UNIT in user.roles and allowed(user, QUEUE) else None
    own = read.reports(conn, mine=True, limit=HOME_SHOWN) if REPORTER in user.roles else None
    links = [x for x in (link(user, N_("举报不文明行为"), "/reports/new"), link(user, N_("我的举报"), MINE),
                         link(user, N_("举报待办"), QUEUE)) if x]
    return ReportsHome(todo[:HOME_SHOWN] if todo is not None else None, len(todo or []),
                       _shown(own[1]) if own else None, own[0] if own else 0, links, names(conn, lang),
                       OWNER_NAMES, ACTION_NAMES)
