"""The division check page (划分检查) of a community: gaps, overlaps and grid area outside the
community as tables in Chinese, and the community's map with the problems hatched red.

It shares its address with the API's JSON check (PageRoute): a browser's navigation to
``/communities/{code}/division`` gets this page, any other client the JSON, so the admin's home page
links to one address for both. The figures come from the same gis.division.check_division the JSON
answers, under the caller's row-level security; the map is drawn by layers/division.py from the
data fetched here (layers never touch the database) and written into the page itself, as the
workbench frames nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from api.deps import AppSettings, Conn
from api.headers import csp_nonce
from api.params import CommunityCode
from api.routes import communities as api_communities
from api.security import CurrentUser
from api.workbench.assessment import quarter_link
from api.workbench.i18n import N_, Lang
from api.workbench.nav import Link, allowed, link
from api.workbench.render import page
from api.workbench.routing import PageRoute
from gis.division.check import check_division
from gis.division.communities import get_community
from gis.division.grids import list_grids, unplaced_households
from layers.division import division_map, embedded

router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)

KINDS = ("gap", "overlap", "outside")
KIND_NAMES = {"gap": N_("缝隙"), "overlap": N_("交叉"), "outside": N_("超出社区")}
KIND_HELP = {"gap": N_("社区内没有被任何网格覆盖的区域"), "overlap": N_("两个网格重叠的区域"),
             "outside": N_("网格超出社区边界的部分")}
PLACEMENT_NAMES = {"border": N_("压线户"), "outside": N_("界外户")}
UNPLACED_LISTED = 200  # households listed in the table; the map shows them all (they are points)


@dataclass
class GridRef:
    code: str
    name: str
    href: str | None  # the grid's map, when the user may open it


@dataclass
class Finding:
    number: int
    kind: str
    area_m2: float
    grids: list[GridRef]


def _findings(user: Any, result: dict, names: dict[str, str]) -> list[Finding]:
    def ref(code: str) -> GridRef:
        target = link(user, "", "/maps/grids/{code}", code)
        return GridRef(code, names.get(code, ""), target.href if target else None)

    return [Finding(i, f["properties"]["kind"], f["properties"]["area_m2"],
                    [ref(c) for c in f["properties"]["grids"]])
            for i, f in enumerate(result["features"], start=1)]


def _summary(result: dict) -> dict[str, dict[str, float]]:
    """Count and area per kind, as the JSON's ``summary``."""
    summary = {kind: {"count": 0, "area_m2": 0.0} for kind in KINDS}
    for feature in result["features"]:
        entry = summary[feature["properties"]["kind"]]
        entry["count"] += 1
        entry["area_m2"] += feature["properties"]["area_m2"]
    return summary


@router.get("/communities/{code}/division", response_class=HTMLResponse, response_model=None)
def division_page(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser, lang: Lang,
                  code: CommunityCode,
                  tolerance_m2: Annotated[float, Query(ge=0, le=1e6)] = 0.01,
                  format: Literal["json", "geojson"] | None = None) -> Response:
    """The page; with ``format`` (the page's download links, which a browser opens with Accept:
    text/html too) the API's answer itself."""
    assert user is not None  # the policy lets no anonymous caller through (a browser goes to /login)
    if format is not None:
        return api_communities.division(conn, code, format, tolerance_m2)
    community = get_community(conn, code)
    result = check_division(conn, code, tolerance_m2)
    grids = list_grids(conn, community=code)
    names = {f["properties"]["code"]: f["properties"]["name"] for f in grids["features"]}
    may_place = allowed(user, "/communities/{code}/unplaced", code)
    unplaced = unplaced_households(conn, code) if may_place else None
    households = allowed(user, "/households/{household_id}")
    the_map = embedded(division_map(community["geometry"], grids, result, unplaced, settings),
                       csp_nonce(request) or "")
    links = [item for item in (link(user, N_("社区网格图"), "/maps/communities/{code}", code),
                               link(user, N_("街道一图"), "/maps/street/{code}", code[:9]),
                               quarter_link(user, code)) if item]
    check = f"/communities/{code}/division?tolerance_m2={tolerance_m2}"
    downloads = [Link(N_("下载 GeoJSON"), f"{check}&format=geojson"),
                 Link(N_("下载 JSON"), f"{check}&format=json")]
    return page(request, user, lang, "division.html", N_("划分检查"), community=community, result=result,
                findings=_findings(user, result, names), summary=_summary(result), kinds=KINDS,
                kind_names=KIND_NAMES, kind_help=KIND_HELP, grid_count=len(grids["features"]),
                unplaced=unplaced, unplaced_listed=UNPLACED_LISTED, placement_names=PLACEMENT_NAMES,
                household_links=households, the_map=the_map, links=links, downloads=downloads,
                tolerance_m2=tolerance_m2)
