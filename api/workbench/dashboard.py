"""The 四清 dashboard (四清看板) of a grid and of a community: the figures of gis/register/stats as
tables with bar charts drawn by the server (inline SVG), each figure opening the list behind it, and
the export buttons (the register and the statistics as XLSX).

Figures come from ``statistics()`` alone, the same source as ``GET /stats``. A figure the user's
scopes do not hold whole (a grid worker's community, a neighbour's grid) is "—" and links nowhere:
never a 0, never a sum that looks like the community's. Links are shown only where api/policy.py and
the user's scopes let the user follow them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from api.deps import Conn
from api.params import CommunityCode, GridCode
from api.routes.stats import figure_whole
from api.security import CurrentUser
from api.workbench.assessment import quarter_link
from api.workbench.charts import Bar, bar_chart
from api.workbench.i18n import N_, Lang, Language, translations
from api.workbench.nav import Link, allowed, counts_whole, link
from api.workbench.render import DASH, page
from gis.access.accounts import Principal
from gis.access.roles import COUNTS
from gis.register.stats import EMPLOYMENT, flatten, statistics

router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)

EMPLOYMENT_NAMES = {"employed": N_("在业"), "unemployed": N_("失业"), "retired": N_("离退休"),
                    "student": N_("在校学生"), "preschool": N_("学龄前儿童"), "other": N_("其他"),
                    "unknown": N_("未登记")}
# The groups of figures, each a table with its chart: (title msgid, [(figure key, label msgid)]).
# The key-person categories and poverty statuses are data (their tables): their rows are added per
# category, named in the page's language.
POPULATION = (N_("人口与住户"), (("households", N_("户数")), ("persons", N_("人口")),
                                 ("registered", N_("户籍人口")), ("floating", N_("流动人口")),
                                 ("border_households", N_("边界户"))))
SPECIAL = (N_("特殊人群"), (("elderly_alone", N_("独居老人")), ("disabled", N_("残疾人")),
                            ("activists", N_("积极分子")), ("volunteers", N_("志愿者"))))
# The columns of a community's table of grids.
GRID_COLUMNS = (("households", N_("户数")), ("persons", N_("人口")), ("floating", N_("流动人口")),
                ("key_persons", N_("重点人员")), ("poverty_persons", N_("困难人员")),
                ("elderly_alone", N_("独居老人")), ("disabled", N_("残疾人")))


@dataclass
class Cell:
    key: str
    label: str  # translated
    value: int | None  # None: not the user's to see whole ("—")
    href: str | None = None

    @property
    def shown(self) -> str:
        return DASH if self.value is None else str(self.value)


@dataclass
class Group:
    title: str  # translated
    cells: list[Cell]
    chart: Markup = Markup()


@dataclass
class GridRow:
    code: str
    name: str
    href: str | None  # its own dashboard, when the user may open it
    cells: list[Cell] = field(default_factory=list)


def vocabulary(conn: psycopg.Connection, table: str, lang: Language) -> dict[str, str]:
    """Codes and names of a vocabulary table (key_person_category, poverty_status) in ``lang``."""
    column = "name_en" if lang == "en" else "name_zh"
    query = {"key_person_category": f"SELECT code, {column} FROM key_person_category",  # noqa: S608
             "poverty_status": f"SELECT code, {column} FROM poverty_status"}[table]  # noqa: S608
    return dict(conn.execute(query).fetchall())


def cell(user: Principal, code: str, figures: dict, key: str, label: str) -> Cell:
    """One figure of the area ``code``: its count and drill-down link, or "—" if not counted whole."""
    figure = flatten(figures)[key]
    if not figure_whole(user, code, key):
        return Cell(key, label, None)
    resource = figure["href"].split("?")[0]
    return Cell(key, label, figure["count"], figure["href"] if allowed(user, resource) else None)


def groups(conn: psycopg.Connection, user: Principal, lang: Language, code: str,
           figures: dict) -> list[Group]:
    """The tables of an area's figures, each with its chart."""
    _ = translations(lang).gettext
    keys = vocabulary(conn, "key_person_category", lang)
    poverty = vocabulary(conn, "poverty_status", lang)
    spec: list[tuple[str, list[tuple[str, str]]]] = [
        (_(POPULATION[0]), [(k, _(label)) for k, label in POPULATION[1]]),
        (_("就业状况"), [(f"employment.{e}", _(EMPLOYMENT_NAMES[e])) for e in EMPLOYMENT]),
        (_("重点人员"), [("key_persons", _("重点人员合计"))]
         + [(f"key_persons_by_category.{c}", keys.get(c, c)) for c in figures["key_persons_by_category"]]),
        (_("困难群体"), [("poverty_persons", _("困难人员合计")), ("poverty_households", _("困难户合计"))]
         + [(f"poverty_by_status.{s}.persons", _("%(status)s人员") % {"status": poverty.get(s, s)})
            for s in figures["poverty_by_status"]]
         + [(f"poverty_by_status.{s}.households", _("%(status)s户") % {"status": poverty.get(s, s)})
            for s in figures["poverty_by_status"]]),
        (_(SPECIAL[0]), [(k, _(label)) for k, label in SPECIAL[1]]),
    ]
    out = []
    for title, wanted in spec:
        cells = [cell(user, code, figures, key, label) for key, label in wanted]
        chart = bar_chart([Bar(c.key, c.label, c.value, c.href) for c in cells], title, DASH)
        out.append(Group(title, cells, chart))
    return out


def grid_rows(user: Principal, lang: Language, grids: list[dict]) -> list[GridRow]:
    _ = translations(lang).gettext
    return [GridRow(g["code"], g["name"], _dashboard_href(user, g["code"]),
                    [cell(user, g["code"], g["figures"], key, _(label)) for key, label in GRID_COLUMNS])
            for g in grids]


def _dashboard_href(user: Principal, code: str) -> str | None:
    template = "/grids/{code}/dashboard" if len(code) == 15 else "/communities/{code}/dashboard"
    found = link(user, "", template, code)
    return found.href if found else None


def exports(user: Principal, code: str) -> list[Link]:
    """The export buttons: the register (only where it holds the area whole: a worker's community
    register would hold her grid alone) and the statistics."""
    grid = len(code) == 15
    out = []
    template = "/grids/{code}/register.xlsx" if grid else "/communities/{code}/register.xlsx"
    register = link(user, N_("导出台账 (XLSX)"), template, code)
    if register and counts_whole(user, code):
        out.append(register)
    if allowed(user, "/stats.xlsx", code):
        out.append(Link(N_("导出统计 (XLSX)"), f"/stats.xlsx?{'grid' if grid else 'community'}={code}"))
    return out


@router.get("/grids/{code}/dashboard", response_class=HTMLResponse)
def grid_dashboard(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                   code: GridCode) -> HTMLResponse:
    assert user is not None
    entry = statistics(conn, grid=code)["grids"][0]
    maps = [m for m in (link(user, N_("网格图"), "/maps/grids/{code}", code),
                        link(user, N_("社区看板"), "/communities/{code}/dashboard", code[:12])) if m]
    return page(request, user, lang, "dashboard.html", N_("四清看板"), area=entry, level="grid",
                whole=counts_whole(user, code), groups=groups(conn, user, lang, code, entry["figures"]),
                grids=None, links=maps, exports=exports(user, code))


@router.get("/communities/{code}/dashboard", response_class=HTMLResponse)
def community_dashboard(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                        code: CommunityCode) -> HTMLResponse:
    assert user is not None
    result = statistics(conn, community=code)
    entry = result["communities"][0]
    maps = [m for m in (link(user, N_("社区网格图"), "/maps/communities/{code}", code),
                        quarter_link(user, code)) if m]
    return page(request, user, lang, "dashboard.html", N_("四清看板"), area=entry, level="community",
                whole=counts_whole(user, code), groups=groups(conn, user, lang, code, entry["figures"]),
                grids=grid_rows(user, lang, result["grids"]), columns=[label for _k, label in GRID_COLUMNS],
                links=maps, exports=exports(user, code))


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_index(request: Request, conn: Conn, user: CurrentUser, lang: Lang) -> HTMLResponse:
    """The communities and grids whose dashboards the user may open: those the counting scopes reach."""
    assert user is not None
    scopes = sorted({g.scope for g in user.grants if g.role in COUNTS})
    rows = conn.execute(
        """SELECT c.code, c.name, g.code, g.name
           FROM community c LEFT JOIN grid g ON g.community_code = c.code
           WHERE EXISTS (SELECT 1 FROM unnest(%(s)s::text[]) s
                         WHERE starts_with(c.code, s) OR starts_with(s, c.code))
           ORDER BY c.code, g.code""", {"s": scopes}).fetchall()
    communities: dict[str, dict] = {}
    for community, community_name, grid, grid_name in rows:
        entry = communities.setdefault(community, {"code": community, "name": community_name,
                                                   "href": _dashboard_href(user, community), "grids": []})
        if grid is not None and (href := _dashboard_href(user, grid)):
            entry["grids"].append({"code": grid, "name": grid_name, "href": href})
    return page(request, user, lang, "dashboard.html", N_("四清看板"),
                index=[c for c in communities.values() if c["href"]], area=None)
