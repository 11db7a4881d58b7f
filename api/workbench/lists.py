"""The lists behind the 四清 figures, as pages: persons (``/persons?grid=…&key_person=any``) and
households (``/households?community=…&poverty=any``), with exactly the filters of the API's lists and
of the figures' ``href`` (gis/register/stats.py), so a figure opens the very rows it counts.

They share their addresses with the JSON API (PageRoute: a browser's page request gets the page,
anyone else the JSON). The households page answers only when a list filter is named: a plain
``/households`` or ``/households?q=…`` is the household search (api/workbench/households.py).
Rows come from gis/register under the caller's row-level security; ID numbers and phones stay masked,
and ``GET /persons`` is audited by its policy row as the API's read is. Both lists need the register
right, as the household page each row links to does: no row links to a 403.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any
from urllib.parse import urlencode

import psycopg
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.routing import Match
from starlette.types import Scope

from api.deps import Conn
from api.params import Paging
from api.routes.households import HouseholdQuery
from api.routes.persons import PersonQuery
from api.security import CurrentUser
from api.workbench.dashboard import EMPLOYMENT_NAMES, vocabulary
from api.workbench.i18n import N_, Lang, Language, translations
from api.workbench.render import page
from api.workbench.routing import PageRoute
from gis.register import households as households_register
from gis.register import persons as persons_register

# The filters that make /households a list rather than the search.
LIST_FILTERS = frozenset({"grid", "community", "placement", "poverty"})
FILTER_LABELS = {"grid": N_("网格"), "community": N_("社区"), "household": N_("户"),
                 "residence": N_("户籍/流动"),
                 "key_person": N_("重点人员"), "poverty": N_("困难类别"), "employment": N_("就业状况"),
                 "elderly_alone": N_("独居老人"), "disabled": N_("残疾人"), "activist": N_("积极分子"),
                 "volunteer": N_("志愿者"), "placement": N_("落格"), "q": N_("关键词")}
RESIDENCE = {"registered": N_("户籍"), "floating": N_("流动")}
PLACEMENT = {"inside": N_("格内"), "border": N_("边界户"), "outside": N_("网格外")}
SEX = {"M": N_("男"), "F": N_("女")}


class FilteredPageRoute(PageRoute):
    """A page route that matches only when the query names one of LIST_FILTERS."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        keys = {k.decode("latin-1").split("=")[0] for k in scope.get("query_string", b"").split(b"&")}
        if not keys & LIST_FILTERS:
            return Match.NONE, {}
        return super().matches(scope)


router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)
households_router = APIRouter(tags=["workbench (工作台)"], route_class=FilteredPageRoute,
                              include_in_schema=False)


def mask_name(name: str) -> str:
    """A name as a list on a screen shows it (张*, 张*明, 欧阳**锋): the surname and, from three
    characters, the last; the household page shows it whole."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def addresses(conn: psycopg.Connection, household_ids: list[int]) -> dict[int, dict]:
    """Address, building-unit-room and head's name of each household, in one query under RLS."""
    rows = conn.execute(
        """SELECT h.id, h.address, concat_ws('-', h.building, h.unit, h.room),
                  (SELECT p.name FROM person p WHERE p.household_id = h.id
                   ORDER BY p.relation <> 'head', p.id LIMIT 1)
           FROM household h WHERE h.id = ANY(%s)""", [household_ids]).fetchall()
    return {r[0]: {"address": r[1], "room": r[2], "head": r[3]} for r in rows}


def filters_shown(conn: psycopg.Connection, lang: Language, filters: dict[str, Any]) -> list[tuple[str, str]]:
    """The active filters as (label, value) in the page's language."""
    _ = translations(lang).gettext
    keys = vocabulary(conn, "key_person_category", lang)
    poverty = vocabulary(conn, "poverty_status", lang)
    words: dict[str, dict[str, str]] = {"key_person": keys, "poverty": poverty}
    out = []
    for name, value in filters.items():
        if value is None or name == "q" and not str(value).strip():
            continue
        if value is True or value is False:
            shown = _("是") if value else _("否")
        elif value == "any" and name in ("key_person", "poverty"):
            shown = _("全部类别")
        elif name in words:
            shown = words[name].get(value, value)
        elif name == "residence":
            shown = _(RESIDENCE[value])
        elif name == "placement":
            shown = _(PLACEMENT[value])
        elif name == "employment":
            shown = _(EMPLOYMENT_NAMES[value])
        else:
            shown = str(value)
        out.append((_(FILTER_LABELS[name]), shown))
    return out


def pager(request: Request, total: int, paging: Paging) -> dict[str, str | None]:
    """The previous and next pages' addresses, with the same filters."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "lang")]

    def at(offset: int) -> str:
        return f"{request.url.path}?{urlencode([*kept, ('offset', str(offset))])}"

    return {"previous": at(max(paging.offset - paging.limit, 0)) if paging.offset > 0 else None,
            "next": at(paging.offset + paging.limit) if paging.offset + paging.limit < total else None}


@router.get("/persons", response_class=HTMLResponse)
def persons_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                 query: Annotated[PersonQuery, Depends()],
                 paging: Annotated[Paging, Depends()]) -> HTMLResponse:
    assert user is not None
    found = persons_register.list_persons(conn, **asdict(paging), **asdict(query))
    homes = addresses(conn, sorted({p["household_id"] for p in found["items"]}))
    return page(request, user, lang, "lists.html", N_("人员名单"), kind="persons", found=found, homes=homes,
                filters=filters_shown(conn, lang, asdict(query)),
                pages=pager(request, found["total"], paging),
                paging=paging, keys=vocabulary(conn, "key_person_category", lang),
                poverty=vocabulary(conn, "poverty_status", lang), residence=RESIDENCE, sex=SEX)


@households_router.get("/households", response_class=HTMLResponse)
def households_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                    query: Annotated[HouseholdQuery, Depends()],
                    paging: Annotated[Paging, Depends()]) -> HTMLResponse:
    assert user is not None
    found = households_register.list_households(conn, **asdict(query), **asdict(paging))
    homes = addresses(conn, [h["id"] for h in found["items"]])
    return page(request, user, lang, "lists.html", N_("住户名单"), kind="households", found=found,
                homes=homes, filters=filters_shown(conn, lang, asdict(query)),
                pages=pager(request, found["total"], paging),
                paging=paging, placement=PLACEMENT)
