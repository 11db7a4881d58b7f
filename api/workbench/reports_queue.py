"""The report lists: each owner's queue (举报待办) and the reporter's own reports (我的举报), and their
blocks on the home page of unit and reporter accounts.

The queue is the open reports the user reads (row-level security decides: a unit account its units',
a grid worker those in her grids, an admin or viewer those of the areas), first those with a step for
the user now (待我处理: the database's own answer, reports.next_actions) and then the rest still open;
a dispatcher thus finds new, returned, handled (to verify) and verified (to close) reports at the top.
Overdue ones (working-day deadlines: accept_by for a new report, handle_by once accepted) are marked.

The queue is paged (?page=, QUEUE_SHOWN a page) over every matching report, so none is hidden: the
steps are asked of the database for the whole queue at once (next_actions, one query), the reports with
a step for the user come first across the pages, and the page reads only its own rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

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
QUEUE_SHOWN = 50  # reports a page of the queue lists (?page= for the rest)
HOME_SHOWN = 10
State = Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{1,39}$")]

router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)

# Every report of the queue (the open ones, or those of one state), newest first: ids only, the page
# reads its rows. Row-level security decides which the user reads.
_MATCHING = """SELECT r.id FROM report r JOIN report_state s ON s.code = r.state
WHERE (CASE WHEN %(state)s::text IS NULL THEN s.open ELSE r.state = %(state)s END)
  AND (%(overdue)s::date IS NULL
       OR (r.state = 'new' AND %(overdue)s::date > r.accept_by)
       OR (r.state IN ('accepted', 'dispatched', 'returned', 'signed') AND %(overdue)s::date > r.handle_by))
ORDER BY r.reported_at DESC, r.id DESC"""


def _shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "reported_at": local(r["reported_at"])} for r in rows]


@dataclass
class Queue:
    """One page of a queue: its reports with a step for the user now and the others (each with
    ``actions``), and the counts over the whole queue."""

    mine: list[dict[str, Any]]
    others: list[dict[str, Any]]
    mine_total: int  # over every page
    others_total: int
    page: int  # from 1, within 1..pages
    pages: int  # at least 1

    @property
    def total(self) -> int:
        return self.mine_total + self.others_total


def queue(conn: psycopg.Connection, user: Principal, *, state: str | None = None, overdue: bool = False,
          page: int = 1, size: int = QUEUE_SHOWN) -> Queue:
    """Page ``page`` of the queue: the reports with a step for the user first, then the others, each
    part newest first; with ``state``: that state's reports. A page beyond the last is the last."""
    ids = [r[0] for r in conn.execute(_MATCHING, {"state": state, "overdue": today() if overdue else None})]
    actions = next_actions(conn, user, ids)
    ordered = [i for i in ids if actions.get(i)] + [i for i in ids if not actions.get(i)]
    pages = max(1, math.ceil(len(ordered) / size))
    page = min(page, pages)
    shown = ordered[(page - 1) * size:page * size]
    found = {r["id"]: r for r in read.reports(conn, ids=shown, limit=size)[1]} if shown else {}
    rows = [{**r, "actions": actions.get(r["id"], [])}
            for r in _shown([found[i] for i in shown if i in found])]
    mine_total = sum(1 for i in ids if actions.get(i))
    return Queue([r for r in rows if r["actions"]], [r for r in rows if not r["actions"]], mine_total,
                 len(ids) - mine_total, page, pages)


def _page_link(state: str | None, overdue: bool, page: int) -> str:
    params = {k: v for k, v in (("state", state), ("overdue", "true" if overdue else None), ("page", page))
              if v}
    return f"{QUEUE}?{urlencode(params)}"


def _context(conn: psycopg.Connection, lang: Language) -> dict[str, Any]:
    return {"words": names(conn, lang), "action_names": ACTION_NAMES, "owner_names": OWNER_NAMES}


@router.get(QUEUE, response_class=HTMLResponse)
def queue_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang, state: State = None,
               overdue: bool = False, page_number: Annotated[int, Query(alias="page", ge=1, le=10**6)] = 1
               ) -> HTMLResponse:
    assert user is not None
    q = queue(conn, user, state=state, overdue=overdue, page=page_number)
    return page(request, user, lang, "report_queue.html", N_("举报待办"), q=q, mine=q.mine, others=q.others,
                state=state, overdue=overdue,
                previous=_page_link(state, overdue, q.page - 1) if q.page > 1 else None,
                next=_page_link(state, overdue, q.page + 1) if q.page < q.pages else None,
                **_context(conn, lang))


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
    todo = queue(conn, user, size=HOME_SHOWN) if UNIT in user.roles and allowed(user, QUEUE) else None
    own = read.reports(conn, mine=True, limit=HOME_SHOWN) if REPORTER in user.roles else None
    links = [x for x in (link(user, N_("举报不文明行为"), "/reports/new"), link(user, N_("我的举报"), MINE),
                         link(user, N_("举报待办"), QUEUE)) if x]
    return ReportsHome(todo.mine if todo is not None else None, todo.mine_total if todo else 0,
                       _shown(own[1]) if own else None, own[0] if own else 0, links, names(conn, lang),
                       OWNER_NAMES, ACTION_NAMES)
