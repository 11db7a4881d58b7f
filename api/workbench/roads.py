"""The planner's road pages (创建办/城管): coverage on the home page, the sections on a map and as a list
with the assign form (one section or several, all or none), and cutting roads with a preview.

``GET /sections`` shares its address with the API's GeoJSON (PageRoute: a browser's page request gets
the page). The assign form posts to ``POST /sections/assign`` and lands on the unit's page; the cut
form to ``POST /roads/cut`` like the API, as a form (FormRoute), first to preview the pieces (cut in a
savepoint that is rolled back), then to save them, refused (409, the new preview shown) when the roads
would now be cut differently.
Coverage figures are gis.roads.coverage's, the one definition the roads map, the API and the CLI show.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import psycopg
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import Conn
from api.routes.roads import area_names, contacts_visible, coverage_rows
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang
from api.workbench.nav import allowed, link
from api.workbench.render import page
from api.workbench.routing import FormRoute, PageRoute
from api.workbench.units import DUTY_DAYS, Posted
from gis.access.accounts import Principal
from gis.access.roles import ROADS_READ
from gis.errors import Conflict, InvalidInput, NotFound, Problem
from gis.roads import assignments as road_assignments
from gis.roads import coverage as road_coverage
from gis.roads import cutting
from gis.roads import sections as road_sections
from gis.roads.units import list_units, masked_contacts
from layers.assets import LOCAL

router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)
form_router = APIRouter(tags=["workbench (工作台)"], route_class=FormRoute, include_in_schema=False)
pages_router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)

LEAFLET_CSS, LEAFLET_JS = LOCAL["leaflet_css"].url(), LOCAL["leaflet"].url()  # served locally
LIST_LIMIT = 500  # sections listed (and drawn) per page; the filters narrow a district down
HOME_SHOWN = 10  # unassigned, overlapping and ending sections listed on the home page
PREVIEW_LISTED = 300  # pieces listed under the cut preview; the map draws them all
LEVELS = {"street": N_("街道"), "community": N_("社区"), "grid": N_("网格")}
FILTERS = ("road", "community_code", "grid_code", "assigned", "unit_id")


# --- the planner's part of the home page ------------------------------------------------------------

def planner_home(conn: psycopg.Connection, user: Principal) -> dict[str, Any] | None:
    """Coverage per street, community and grid, the unassigned and overlapping sections and the
    assignments ending within 30 days; None for a user whose roles do not read road data."""
    if not user.roles & ROADS_READ:
        return None
    today = date.today()
    report = road_coverage.coverage(conn, today)
    rows = coverage_rows(report, area_names(conn))
    links = [item for item in (
        link(user, N_("路段分配"), "/sections"), link(user, N_("责任单位"), "/units"),
        link(user, N_("切分道路"), "/roads/cut"), link(user, N_("责任路段地图"), "/maps/roads"))
        if item]
    download = link(user, N_("下载覆盖率报表（XLSX）"), "/roads/coverage.xlsx")
    ending = road_assignments.ending_assignments(conn, today)
    return {"on": today, "total": report["total"], "links": links, "download": download,
            "levels": {level: [r for r in rows if r["level"] == level] for level in LEVELS},
            "level_names": LEVELS,
            "unassigned": road_coverage.unassigned_sections(conn, today, limit=HOME_SHOWN),
            "overlaps": road_coverage.overlapping_sections(conn),
            "ending": ending, "ending_days": road_assignments.ENDING_DAYS, "shown": HOME_SHOWN,
            "may_assign": allowed(user, "/units")}


# --- the sections: map, list and the assign form -----------------------------------------------------

def _filters(request: Request) -> dict[str, str]:
    return {k: v for k in FILTERS if (v := request.query_params.get(k, "").strip())}


def _scope(user: Principal, field: str, code: str | None) -> None:
    """A community or grid filter outside the reader's scopes is refused, as the API's ``community``
    and ``grid`` parameters are (api/security.py check_codes)."""
    if code and not any(g.role in ROADS_READ and g.scope == "" for g in user.grants) \
            and not user.covers(code, ROADS_READ):
        raise HTTPException(403, f"{field} {code} is outside your scope")


def _date(form: dict[str, str], field: str, problems: list[Problem]) -> date | None:
    text = form.get(field, "").strip()
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        problems.append(Problem(field, "must be a date (YYYY-MM-DD)"))
        return None


def _ids(values: list[str], field: str, problems: list[Problem]) -> list[int]:
    ids = [int(v) for v in values if v.isdigit() and 0 < len(v) < 19]
    if len(ids) != len(values):
        problems.append(Problem(field, "must be whole numbers"))
    return ids


def _sections_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Lang,
                   filters: dict[str, str], offset: int = 0, picked: list[int] | None = None,
                   form: dict[str, Any] | None = None, errors: dict | None = None,
                   conflict: dict | None = None, status_code: int = 200) -> HTMLResponse:
    problems: list[Problem] = []
    unit_ids = _ids([filters["unit_id"]], "unit_id", problems) if "unit_id" in filters else []
    if problems:
        raise InvalidInput(problems)
    _scope(user, "community_code", filters.get("community_code"))
    _scope(user, "grid_code", filters.get("grid_code"))
    visible = contacts_visible(user)
    data = road_sections.sections_geojson(
        conn, road=filters.get("road"), community=filters.get("community_code"),
        grid=filters.get("grid_code"), unit_id=unit_ids[0] if unit_ids else None,
        assigned={"yes": True, "no": False}.get(filters.get("assigned", "")),
        limit=LIST_LIMIT, offset=offset, contacts=visible)
    sections = [dict(f["properties"]) for f in data["features"]]
    # what the map needs of each section (no contact in the page's data: the table shows it as allowed)
    drawn = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": f["geometry"], "properties": {
            k: f["properties"][k] for k in ("id", "code", "road_name", "length_m", "unit_id", "unit_name")}}
        for f in data["features"]]}
    if not visible:  # masked in place of the empty fields the API gives such readers
        masked = masked_contacts(conn, sorted({s["unit_id"] for s in sections if s["unit_id"]}))
        for s in sections:
            s.update(masked.get(s["unit_id"], {}))
    may_assign = allowed(user, "/units")
    names = area_names(conn)
    roads = road_sections.list_roads(conn, limit=10_000)["items"]
    more = offset + len(sections) < data["numberMatched"]
    query = urlencode(filters)
    response = page(
        request, user, lang, "sections.html", N_("路段分配"), sections=sections, data=drawn,
        matched=data["numberMatched"], offset=offset, limit=LIST_LIMIT, more=more, query=query,
        filters=filters, roads=roads, communities={c: n for c, n in names.items() if len(c) == 12},
        grids={c: n for c, n in names.items() if len(c) == 15}, duty_days=DUTY_DAYS,
        units=list_units(conn) if may_assign else [], may_assign=may_assign,
        picked=set(picked or []), errors=errors or {}, conflict=conflict,
        form=form or {"valid_from": date.today().isoformat(), "valid_to": "", "duty_day": "5", "note": "",
                      "unit_id": filters.get("unit_id", "")},
        leaflet_css=LEAFLET_CSS, leaflet_js=LEAFLET_JS, bbox=request.app.state.settings.region_bbox,
        cut=link(user, N_("切分道路"), "/roads/cut"), units_link=link(user, N_("责任单位"), "/units"))
    response.status_code = status_code
    return response


Text = Annotated[str | None, Query(max_length=40)]


@router.get("/sections", response_class=HTMLResponse)
def sections_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                  road: Text = None, community_code: Text = None, grid_code: Text = None,
                  assigned: Annotated[Literal["yes", "no", ""] | None, Query()] = None,
                  unit_id: Text = None,
                  offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> HTMLResponse:
    """The filters are read from the query (declared here for the API's strict parameters)."""
    assert user is not None
    return _sections_page(request, conn, user, lang, _filters(request), offset)


async def posted_items(request: Request) -> list[tuple[str, str]]:
    """The form's text fields with their repeats (one ``section_id`` per picked section)."""
    return [(k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)]


@pages_router.post("/sections/assign", response_class=HTMLResponse, response_model=None)
def assign_sections(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                    items: Annotated[list[tuple[str, str]], Depends(posted_items)]
                    ) -> HTMLResponse | RedirectResponse:
    """Assign the picked sections (``section_id``, repeated) to a unit for a period with its duty day:
    all of them or none. A section another unit holds then is named with the unit and its dates (409)."""
    assert user is not None
    form = dict(items)
    filters = {k: v for k in FILTERS if (v := form.get(f"return_{k}", "").strip())}
    problems: list[Problem] = []
    picked = _ids([v for k, v in items if k == "section_id"], "section_ids", problems)
    unit = _ids([form["unit_id"]], "unit_id", problems) if form.get("unit_id", "").strip() else []
    if not unit:
        problems.append(Problem("unit_id", "choose a unit"))
    valid_from = _date(form, "valid_from", problems)
    if valid_from is None and not any(p.field == "valid_from" for p in problems):
        problems.append(Problem("valid_from", "required: the first day the unit holds the sections"))
    valid_to = _date(form, "valid_to", problems)
    duty = form.get("duty_day", "5")
    if duty not in {str(d) for d in DUTY_DAYS}:
        problems.append(Problem("duty_day", "must be an ISO weekday 1 (Monday) to 7 (Sunday)"))
    note = form.get("note", "").strip()[:500] or None
    kept = {k: form.get(k, "") for k in ("unit_id", "valid_from", "valid_to", "duty_day", "note")}
    try:
        if problems:
            raise InvalidInput(problems)
        assert valid_from is not None
        with conn.transaction():
            road_assignments.assign_sections(conn, picked, unit[0], valid_from, valid_to,
                                                    int(duty), note)
    except InvalidInput as exc:
        errors: dict[str, str] = {}
        for p in exc.problems:
            errors.setdefault(p.field, p.reason)
        return _sections_page(request, conn, user, lang, filters, 0, picked, kept, errors, status_code=422)
    except road_assignments.AssignmentConflict as exc:
        conflict = {"detail": str(exc), "holders": exc.holders}
        return _sections_page(request, conn, user, lang, filters, 0, picked, kept, conflict=conflict,
                              status_code=409)
    except (Conflict, NotFound) as exc:
        return _sections_page(request, conn, user, lang, filters, 0, picked, kept, {"section_ids": str(exc)},
                              status_code=409 if isinstance(exc, Conflict) else 422)
    # to the unit's page, where the sections it now holds are listed beside its roster (an address the
    # API answers too: a script posting the form gets the unit's JSON)
    return RedirectResponse(f"/units/{unit[0]}#held", status_code=303)


# --- cutting roads: the form, the preview, the save ---------------------------------------------------

def _cut_form(form: dict[str, str], problems: list[Problem]) -> tuple[Any, float | None, list[str] | None]:
    method = form.get("method", "intersections")
    if method not in ("intersections", "max_length"):
        problems.append(Problem("method", "must be 'intersections' or 'max_length'"))
    length: float | None = None
    if method == "max_length":
        try:
            length = float(form.get("max_length_m", "").strip())
            if not 10 <= length <= 100_000:
                raise ValueError
        except ValueError:
            problems.append(Problem("max_length_m", "give a maximum section length from 10 to 100000 m"))
    refs = [r for r in form.get("roads", "").replace("，", ",").replace(",", " ").split() if r]
    return method, length, refs or None


def _cut_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Lang, form: dict[str, str],
              preview: cutting.CutPreview | None = None, errors: dict | None = None, changed: bool = False,
              saved: dict | None = None, status_code: int = 200) -> HTMLResponse:
    geojson = None
    if preview is not None:
        geojson = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": p["geometry"], "properties": {"id": i, "code": p["code"]}}
            for i, p in enumerate(preview.pieces)]}
    response = page(request, user, lang, "cut.html", N_("切分道路"), form=form, preview=preview,
                    geojson=geojson, errors=errors or {}, changed=changed, saved=saved,
                    listed=PREVIEW_LISTED, roads=road_sections.list_roads(conn, limit=10_000)["items"],
                    leaflet_css=LEAFLET_CSS, leaflet_js=LEAFLET_JS,
                    bbox=request.app.state.settings.region_bbox,
                    sections=link(user, N_("路段分配"), "/sections"))
    response.status_code = status_code
    return response


@pages_router.get("/roads/cut", response_class=HTMLResponse)
def cut_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang) -> HTMLResponse:
    assert user is not None
    return _cut_page(request, conn, user, lang,
                     {"method": "intersections", "max_length_m": "200", "roads": ""})


@form_router.post("/roads/cut", response_class=HTMLResponse)
def cut_roads(request: Request, conn: Conn, user: CurrentUser, lang: Lang, form: Posted,
              step: Annotated[Literal["preview", "save"], Query()] = "preview") -> HTMLResponse:
    """``?step=preview`` shows what the cut would make, saving nothing; ``?step=save`` with the preview's
    ``fingerprint`` saves it, unless the roads would now be cut differently (409, the new preview)."""
    assert user is not None
    problems: list[Problem] = []
    method, length, refs = _cut_form(form, problems)
    kept = {k: form.get(k, "") for k in ("method", "max_length_m", "roads")}
    try:
        if problems:
            raise InvalidInput(problems)
        preview = cutting.preview_cut(conn, method, length, refs)
    except InvalidInput as exc:
        return _cut_page(request, conn, user, lang, kept, errors={p.field: p.reason for p in exc.problems},
                         status_code=422)
    if step == "preview":
        return _cut_page(request, conn, user, lang, kept, preview)
    if form.get("fingerprint") != preview.fingerprint:
        return _cut_page(request, conn, user, lang, kept, preview, changed=True, status_code=409)
    result = cutting.cut_roads(conn, method, length, refs)
    return _cut_page(request, conn, user, lang, kept, saved=result.as_dict() | {"total_m": preview.total_m})

