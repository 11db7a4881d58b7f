"""The home page (/) of the signed-in user's roles: what needs attention today, with counts and links.

A grid worker (网格员) sees her grids with their 四清 figures, the people needing attention (重点人员,
独居老人, 低保/特困, 残疾人, 流动人口: names masked, each linking to the household page) beside the
grid's map, and the households changed in the last seven days; an admin (管理员) the communities of
the scope, households not placed in a grid, the division check and the audit log; inspectors,
planners and viewers their maps. Figures and lists come from the same gis/ functions and row-level
security as the API; a figure the user's scopes do not hold whole is "—". Showing the attention
lists (key persons among them) is written to the audit log, as the API's reads of persons are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from psycopg.rows import dict_row

from api.deps import Conn
from api.routes.stats import figure_whole
from api.security import CurrentUser
from api.workbench.dashboard import vocabulary
from api.workbench.i18n import N_, Lang, Language, translations
from api.workbench.lists import mask_name
from api.workbench.nav import Link, allowed, counts_whole, link
from api.workbench.render import DASH, page
from gis.access import audit
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
# The people needing attention: (list, title msgid, its filters on GET /persons, the statistics figure
# whose list holds them all). Each list shows its first ATTENTION_SHOWN persons.
ATTENTION: tuple[tuple[str, str, dict[str, Any], str], ...] = (
    ("key_persons", N_("重点人员"), {"key_person": "any"}, "key_persons"),
    ("elderly_alone", N_("独居老人"), {"elderly_alone": True}, "elderly_alone"),
    ("poverty", N_("低保/特困"), {"poverty": "any"}, "poverty_persons"),
    ("disabled", N_("残疾人"), {"disabled": True}, "disabled"),
    ("floating", N_("流动人口"), {"residence": "floating"}, "floating"))
ATTENTION_SHOWN = 20
RECENT_DAYS = 7
RECENT_SHOWN = 20


@dataclass
class Figure:
    label: str
    value: str  # the count, or DASH where the user's scopes do not hold the whole area
    href: str | None = None  # the list behind the count, when the user may open it


@dataclass
class Attention:
    """One list of people needing attention in a grid: the first persons, masked, and the whole count."""

    key: str
    title: str  # msgid
    total: int
    persons: list[dict]  # id, name (masked), tag, household_id, address
    href: str | None  # the whole list, when the user may open it


@dataclass
class Area:
    code: str
    name: str
    figures: list[Figure]
    links: list[Link] = field(default_factory=list)
    attention: list[Attention] = field(default_factory=list)
    map: str | None = None  # the grid's map, framed beside the lists


def _figures(user: Principal, code: str, figures: dict, wanted: tuple[tuple[str, str], ...]) -> list[Figure]:
    """The figures of an area, each "—" where the user does not count it whole (api.routes.stats)."""
    out = []
    for label, key in wanted:
        figure = figures[key]
        whole = figure_whole(user, code, key)
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


# Every person of a grid in one of the attention lists, with the household's address, in one query
# under the caller's row-level security (the persons list's joins, gis/register/persons.py): five
# calls of list_persons (a count and a page each) took 66 ms apiece on the demo street's grid.
_ATTENTION_SQL = """
    SELECT p.id, p.name, p.household_id, k.category AS key_person, p.poverty, p.elderly_alone, p.disabled,
           p.residence, h.address, concat_ws('-', h.building, h.unit, h.room) AS room
    FROM person p
    JOIN household h ON h.id = p.household_id
    LEFT JOIN key_person k ON k.person_id = p.id
    WHERE h.grid_code = %(grid)s
      AND (k.category IS NOT NULL OR p.poverty IS NOT NULL OR p.elderly_alone OR p.disabled
           OR p.residence = 'floating')
    ORDER BY p.id"""
# Who is in each list (the filters of ATTENTION, on a row of _ATTENTION_SQL).
_IN_LIST = {"key_persons": lambda p: p["key_person"] is not None,
            "poverty": lambda p: p["poverty"] is not None,
            "elderly_alone": lambda p: p["elderly_alone"], "disabled": lambda p: p["disabled"],
            "floating": lambda p: p["residence"] == "floating"}


def attention(conn: psycopg.Connection, user: Principal, lang: Language, code: str,
              figures: dict) -> list[Attention]:
    """The people needing attention in the grid ``code``, list by list, in order of id (as the
    persons list that holds them all), each person's tag in the page's language."""
    _ = translations(lang).gettext
    categories = vocabulary(conn, "key_person_category", lang)
    statuses = vocabulary(conn, "poverty_status", lang)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_ATTENTION_SQL, {"grid": code}).fetchall()
    tags = {"key_persons": lambda p: categories.get(p["key_person"], p["key_person"]),
            "poverty": lambda p: statuses.get(p["poverty"], p["poverty"]),
            "elderly_alone": lambda p: _("独居老人"), "disabled": lambda p: _("残疾人"),
            "floating": lambda p: _("流动人口")}
    out = []
    for key, title, _filters, figure in ATTENTION:
        members = [p for p in rows if _IN_LIST[key](p)]
        persons = [{"id": p["id"], "name": mask_name(p["name"]), "tag": tags[key](p),
                    "household_id": p["household_id"], "address": p["address"], "room": p["room"]}
                   for p in members[:ATTENTION_SHOWN]]
        whole = figures[figure]["href"] if counts_whole(user, code) and allowed(user, "/persons") else None
        out.append(Attention(key, title, len(members), persons, whole))
    return out


def recent_households(conn: psycopg.Connection, grids: list[str]) -> tuple[int, list[dict]]:
    """The households of these grids changed in the last RECENT_DAYS days (by updated_at, under
    row-level security), newest first: how many, and the first RECENT_SHOWN."""
    rows = conn.execute(
        """SELECT h.id, h.address, concat_ws('-', h.building, h.unit, h.room), h.grid_code, h.updated_at,
                  count(*) OVER ()
           FROM household h
           WHERE h.grid_code = ANY(%(grids)s)
             AND h.updated_at >= now() - make_interval(days => %(days)s)
           ORDER BY h.updated_at DESC, h.id DESC LIMIT %(shown)s""",
        {"grids": grids, "days": RECENT_DAYS, "shown": RECENT_SHOWN}).fetchall()
    changed: list[dict] = [{"id": r[0], "address": r[1], "room": r[2], "grid_code": r[3], "updated_at": r[4]}
                           for r in rows]
    return (rows[0][5] if rows else 0), changed


def worker_grids(conn: psycopg.Connection, user: Principal, lang: Language = "zh") -> list[Area]:
    """The grids a grid worker serves, with their 四清 figures, maps and people needing attention."""
    scopes = {g.scope for g in user.grants if g.role == WORKER}
    grids: dict[str, Area] = {}
    for entry in _statistics_of(conn, scopes):
        code = entry["code"]
        if entry["level"] != "grid" or code in grids or not any(code.startswith(s) for s in scopes):
            continue
        framed = link(user, N_("网格图"), "/maps/grids/{code}", code)
        grids[code] = Area(code, entry["name"], _figures(user, code, entry["figures"], GRID_FIGURES),
                           _links(user, (N_("四清看板"), "/grids/{code}/dashboard", code),
                                  (N_("网格图"), "/maps/grids/{code}", code),
                                  (N_("社区网格图"), "/maps/communities/{code}", code[:12])),
                           attention(conn, user, lang, code, entry["figures"]),
                           framed.href if framed else None)
    shown = [p["id"] for a in grids.values() for list_ in a.attention for p in list_.persons]
    if shown:
        audit.record(conn, "read", "/", {"shown": "attention lists: " + ", ".join(a[0] for a in ATTENTION)},
                     ids=sorted(set(shown)), area=sorted(grids))
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
            user, (N_("四清看板"), "/communities/{code}/dashboard", code),
            (N_("社区网格图"), "/maps/communities/{code}", code),
            (N_("划分检查"), "/communities/{code}/division", code),
            (N_("街道一图"), "/maps/street/{code}", code[:9])))
    return sorted(communities.values(), key=lambda a: a.code)


def street_maps(conn: psycopg.Connection, user: Principal) -> list[Link]:
    """The street maps (街道一图) of the streets the user counts in."""
    streets = [r[0] for r in conn.execute("SELECT DISTINCT left(code, 9) FROM community ORDER BY 1")]
    return _links(user, *((N_("街道一图"), "/maps/street/{code}", s) for s in streets
                          if any(g.role in COUNTS and (s.startswith(g.scope) or g.scope.startswith(s))
                                 for g in user.grants)))


def admin_tasks(user: Principal) -> list[Link]:
    """The admin's daily tasks: accounts, imports, exports and the audit log (each where allowed)."""
    return _links(user, (N_("用户管理"), "/users", ""), (N_("数据导入"), "/imports", ""),
                  (N_("数据导出"), "/exports", ""), (N_("审计日志"), "/audit", ""))


def map_links(user: Principal) -> list[Link]:
    return _links(user, (N_("地图目录"), "/maps/", ""), (N_("校园周边地图"), "/maps/perimeter", ""),
                  (N_("责任路段地图"), "/maps/roads", ""))


@router.get("/", response_class=HTMLResponse, summary="The home page (工作台首页) of the user's roles",
            description="HTML for browsers; ``?lang=en`` switches to English (kept in a cookie).")
def home(request: Request, conn: Conn, user: CurrentUser, lang: Lang) -> HTMLResponse:
    assert user is not None  # the policy lets no anonymous caller through (a browser goes to /login)
    grids = worker_grids(conn, user, lang) if WORKER in user.roles else None
    recent = recent_households(conn, [g.code for g in grids]) if grids else (0, [])
    from api.workbench.inspector import inspector_home  # 督查: the perimeter backlog (its own module)
    from api.workbench.reports_queue import reports_home  # 不文明行为: a unit's queue, a reporter's own
    from api.workbench.roads import planner_home  # 创建办/城管: coverage and sections (its own module)
    from api.workbench.visits import overdue_home  # 走访逾期 of her grids (its own module)

    return page(request, user, lang, "home.html", N_("工作台"), grids=grids,
                visits_overdue=overdue_home(conn, user, grids),
                planner=planner_home(conn, user),
                inspector=inspector_home(conn, user),
                reports_home=reports_home(conn, user, lang),
                recent_total=recent[0], recent=recent[1], recent_days=RECENT_DAYS,
                communities=admin_communities(conn, user) if ADMIN in user.roles else None,
                tasks=admin_tasks(user) if ADMIN in user.roles else [],
                streets=street_maps(conn, user), maps=map_links(user),
                search=link(user, N_("查找住户"), "/households"))
