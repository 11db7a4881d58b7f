"""The home page (/) of the signed-in user's roles: what needs attention today, with counts and links.

A grid worker (网格员) sees her grids with their 四清 figures and the people needing attention; an
admin (管理员) the communities of the scope, households not placed in a grid, the division check and
the audit log; inspectors, planners and viewers their maps. Figures come from the same gis/
functions and row-level security as the API; a figure the user's scopes do not hold whole is "—".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import Conn
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang
from api.workbench.nav import Link, allowed, counts_whole, link
from api.workbench.render import DASH, page
from gis.access.accounts import Principal
from gis.access.roles import ADMIN, COUNTS, WORKER
from gis.division.grids import unplaced_households
from gis.register.stats import statistics

router = APIRouter(tags=["workbench (工作台)"])

# The figures of a grid on the worker's home page: (msgid, key in gis.register.stats figures).
GRID_FIGURES = (
    (N_("户数"), "households"), (N_("人口"), "persons"), (N_("户籍人口"), "registered"),
    (N_("流动人口"), "floating"), (N_("重点人员"), "key_persons"), (N_("独居老人"), "elderly_alone"),
    (N_("低保/特困等困难人员"), "poverty_persons"), (N_("残疾人"), "disabled"))
COMMUNITY_FIGURES = (
    (N_("户数"), "households"), (N_("人口"), "persons"), (N_("重点人员"), "key_persons"),
    (N_("困难户"), "poverty_households"))


@dataclass
class Figure:
    label: str
    value: str  # the count, or DASH where the user's scopes do not hold the whole area
    href: str | None = None  # the list behind the count, when the user may open it


@dataclass
class Area:
    code: str
    name: str
    figures: list[Figure]
    links: list[Link] = field(default_factory=list)


def _figures(user: Principal, code: str, figures: dict, wanted: tuple[tuple[str, str], ...]) -> list[Figure]:
    whole = counts_whole(user, code)
    out = []
    for label, key in wanted:
        figure = figures[key]
        resource = figure["href"].split("?")[0]
        href = figure["href"] if whole and allowed(user, resource) else None
        out.append(Figure(label, str(figure["count"]) if whole else DASH, href))
    return out


def _links(user: Principal, *candidates: tuple[str, str, str]) -> list[Link]:
    return [item for label, template, code in candidates if (item := link(user, label, template, code))]


def _statistics_of(conn: psycopg.Connection, scopes: set[str]) -> list[dict]:
    """The grid and community entries of the statistics of these scopes (one query per scope)."""
    if "" in scopes:
        scopes = {""}
    entries: list[dict] = []
    for scope in sorted(scopes):
        kind = {15: "grid", 12: "community"}.get(len(scope))
        result = statistics(conn, **({kind: scope} if kind else {}))
        entries += result["grids"] + result["communities"]
    return entries


def worker_grids(conn: psycopg.Connection, user: Principal) -> list[Area]:
    """The grids a grid worker serves, with their 四清 figures and maps."""
    scopes = {g.scope for g in user.grants if g.role == WORKER}
    grids: dict[str, Area] = {}
    for entry in _statistics_of(conn, scopes):
        code = entry["code"]
        if entry["level"] != "grid" or code in grids or not any(code.startswith(s) for s in scopes):
            continue
        grids[code] = Area(code, entry["name"], _figures(user, code, entry["figures"], GRID_FIGURES),
                           _links(user, (N_("网格图"), "/maps/grids/{code}", code),
                                  (N_("社区网格图"), "/maps/communities/{code}", code[:12])))
    return sorted(grids.values(), key=lambda a: a.code)


def admin_communities(conn: psycopg.Connection, user: Principal) -> list[Area]:
    """The communities of an admin's scopes, with their figures, unplaced households and checks."""
    scopes = {g.scope for g in user.grants if g.role == ADMIN}
    communities: dict[str, Area] = {}
    for entry in _statistics_of(conn, {s[:12] for s in scopes}):
        code = entry["code"]
        if entry["level"] != "community" or code in communities or not user.covers(code, {ADMIN}):
            continue
        figures = _figures(user, code, entry["figures"], COMMUNITY_FIGURES)
        if allowed(user, "/communities/{code}/unplaced", code):
            figures.append(Figure(N_("未落格户"), str(len(unplaced_households(conn, code))),
                                  f"/communities/{code}/unplaced"))
        communities[code] = Area(code, entry["name"], figures, _links(
            user, (N_("社区网格图"), "/maps/communities/{code}", code),
            (N_("划分检查"), "/communities/{code}/division", code),
            (N_("街道一图"), "/maps/street/{code}", code[:9])))
    return sorted(communities.values(), key=lambda a: a.code)


def street_maps(conn: psycopg.Connection, user: Principal) -> list[Link]:
    """The street maps (街道一图) of the streets the user counts in."""
    streets = [r[0] for r in conn.execute("SELECT DISTINCT left(code, 9) FROM community ORDER BY 1")]
    return _links(user, *((N_("街道一图"), "/maps/street/{code}", s) for s in streets
                          if any(g.role in COUNTS and (s.startswith(g.scope) or g.scope.startswith(s))
                                 for g in user.grants)))


def map_links(user: Principal) -> list[Link]:
    return _links(user, (N_("地图目录"), "/maps/", ""), (N_("校园周边地图"), "/maps/perimeter", ""),
                  (N_("责任路段地图"), "/maps/roads", ""))


@router.get("/", response_class=HTMLResponse, summary="The home page (工作台首页) of the user's roles",
            description="HTML for browsers; ``?lang=en`` switches to English (kept in a cookie).")
def home(request: Request, conn: Conn, user: CurrentUser, lang: Lang) -> HTMLResponse:
    assert user is not None  # the policy lets no anonymous caller through (a browser goes to /login)
    return page(request, user, lang, "home.html", N_("工作台"),
                grids=worker_grids(conn, user) if WORKER in user.roles else None,
                communities=admin_communities(conn, user) if ADMIN in user.roles else None,
                streets=street_maps(conn, user), maps=map_links(user),
                search=link(user, N_("查找住户"), "/households"))
