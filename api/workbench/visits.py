"""The visit pages (走访): the check-in form a grid worker fills on her phone at the door, the last visits
on the household page, the overdue households (走访逾期) on her home page and as a list with its
workbook, and the figures per grid and per worker, each figure linking the list that sums to it.

The check-in form posts to the API's path as multipart (photos), with the session's CSRF token (a
browser's post gets the page's answer, PageRoute); the visitor is the signed-in user (no name field).
The position comes from the browser's Geolocation API (static/visit.js), typed by hand where the phone
refuses it, and the form's client id makes a retried post (a double tap, a resend) the same visit. Everything
goes through gis/visits and row-level security as the API does: another grid's household is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import psycopg
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from api.deps import AppSettings, Conn
from api.params import CommunityQuery, DbId, GridQuery, Paging, read_uploads
from api.routes.visits import PERIOD_DAYS, VisitIn
from api.security import CurrentUser
from api.workbench.forms import field_errors
from api.workbench.i18n import N_, Lang, Language
from api.workbench.nav import allowed
from api.workbench.render import page
from api.workbench.routing import PageRoute
from gis.access import audit
from gis.access.accounts import Principal
from gis.errors import Conflict, InvalidInput
from gis.media import store as media
from gis.register import households as register
from gis.visits import overdue as overdue_list
from gis.visits import record

HOME_SHOWN = 20  # overdue households shown per grid on the home page
LAST_VISITS = 5  # visits shown on the household page
CHECK_IN = "/households/{household_id}/visits/new"
# The form posts where the API takes a check-in: a browser's post (Accept: text/html) reaches the page's
# route, any other client (JSON, or multipart with photos from a script) the API's (PageRoute).
POSTED = "/households/{household_id}/visits"
FIELDS = ("kind", "outcome", "note", "lon", "lat", "accuracy_m", "crs", "client_id")

router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)  # the check-in form's own path
# The check-in post, the list and figures share their paths with the JSON API: a browser's request
# gets the page.
page_router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)


def _names(conn: psycopg.Connection, lang: Language) -> dict[str, dict[str, str]]:
    """The kinds' and outcomes' names in the page's language (the vocabulary is data, not code)."""
    words = record.vocabulary(conn)
    column = "name_en" if lang == "en" else "name_zh"
    return {"kinds": {k["code"]: k[column] for k in words["kinds"]},
            "outcomes": {o["code"]: o[column] for o in words["outcomes"]}}


# ---- the check-in form (走访登记) ----------------------------------------------------------------

def _form_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Language,
               household_id: int, form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
               status_code: int = 200) -> HTMLResponse:
    household = register.get_household(conn, household_id)  # NotFound outside the user's grids
    names = _names(conn, lang)
    form = form or {"kind": "routine", "outcome": "met", "crs": "EPSG:4326"}
    response = page(request, user, lang, "visit_form.html", N_("走访登记"), h=household, form=form,
                    errors=errors or {}, kinds=names["kinds"], outcomes=names["outcomes"],
                    far_m=request.app.state.settings.visit_far_m)
    response.status_code = status_code
    return response


@router.get(CHECK_IN, response_class=HTMLResponse)
def visit_form(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
               household_id: DbId) -> HTMLResponse:
    assert user is not None
    return _form_page(request, conn, user, lang, household_id)


@page_router.post(POSTED, response_class=HTMLResponse, response_model=None)
async def check_in(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser, lang: Lang,
                   household_id: DbId, kind: Annotated[str, Form(max_length=40)] = "",
                   outcome: Annotated[str, Form(max_length=40)] = "",
                   note: Annotated[str, Form(max_length=2000)] = "",
                   lon: Annotated[str, Form(max_length=40)] = "",
                   lat: Annotated[str, Form(max_length=40)] = "",
                   accuracy_m: Annotated[str, Form(max_length=40)] = "",
                   crs: Annotated[str, Form(max_length=16)] = "EPSG:4326",
                   client_id: Annotated[str, Form(max_length=64)] = "",
                   photos: Annotated[list[UploadFile] | None, File()] = None
                   ) -> HTMLResponse | RedirectResponse:
    """Record the visit as the API does (the same model judges the fields, the same words beside them)
    and go back to the household (303), where it shows first. A second post with the same client id
    records nothing more and goes to the same place."""
    assert user is not None
    form = {"kind": kind, "outcome": outcome, "note": note, "lon": lon, "lat": lat, "accuracy_m": accuracy_m,
            "crs": crs, "client_id": client_id}
    try:
        # an empty field is not given (a form cannot send null); lon/lat missing: no position
        body = VisitIn.model_validate({k: v.strip() for k, v in form.items() if v.strip()})
    except ValidationError as exc:
        return _form_page(request, conn, user, lang, household_id, form, field_errors(exc), 422)
    try:
        uploads = await read_uploads(photos or [])
        with conn.transaction():  # a savepoint: a refused photo or field records nothing
            kept = [(media.store(conn, settings.data_dir, content, user.username), name)
                    for content, name in uploads]
            record.record_visit(
                conn, household_id, record.Position(body.lon, body.lat, body.crs, body.accuracy_m), body.kind,
                body.outcome, body.note, body.client_id, far_m=settings.visit_far_m,
                photos=[record.Photo(p.sha256, name) for p, name in kept])
    except InvalidInput as exc:
        return _form_page(request, conn, user, lang, household_id, form,
                          {p.field: p.reason for p in exc.problems}, 422)
    except Conflict as exc:
        return _form_page(request, conn, user, lang, household_id, form, {"client_id": str(exc)}, 409)
    return RedirectResponse(f"/households/{household_id}#visits", status_code=303)


def _local(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The visits with their times as clocks in China show them (the day a visit counts for)."""
    zone = ZoneInfo(record.LOCAL_TZ)
    return [{**v, "visited_at": v["visited_at"].astimezone(zone)} for v in rows]


def household_visits(conn: psycopg.Connection, user: Principal, lang: Language,
                     household_id: int) -> dict[str, Any]:
    """What the household page shows of its visits (gis.visits.record.visits_of): the last few, how
    many in all, the names of their kinds and outcomes, and the check-in link if the user may open it."""
    found = record.visits_of(conn, household_id)
    names = _names(conn, lang)
    return {"visits": _local(found[:LAST_VISITS]), "visits_total": len(found), "visit_names": names,
            "check_in": CHECK_IN.format(household_id=household_id)
            if allowed(user, CHECK_IN) else None}


# ---- the overdue households (走访逾期) ---------------------------------------------------------

@dataclass
class Overdue:
    """A grid's overdue households on the home page: the first HOME_SHOWN and how many in all."""

    total: int
    households: list[dict[str, Any]]
    href: str | None  # the whole list, if the user may open it
    check_in: bool  # whether each row links its check-in form


def overdue_home(conn: psycopg.Connection, user: Principal, grids: list[Any] | None) -> dict[str, Overdue]:
    """Per grid of the worker's home page, its overdue households: gis.visits' own list of the grid."""
    if not grids:
        return {}
    found: dict[str, Overdue] = {}
    for code in (g.code for g in grids):
        rows = overdue_list.overdue(conn, grid=code)
        whole = allowed(user, "/visits/overdue", code)
        href = "/visits/overdue?" + urlencode({"grid": code}) if whole else None
        found[code] = Overdue(len(rows), rows[:HOME_SHOWN], href, allowed(user, CHECK_IN))
    shown = sorted({h["household_id"] for o in found.values() for h in o.households})
    if shown:  # the list names addresses: shown is read, as GET /visits/overdue is audited
        audit.record(conn, "read", "/", {"shown": "visits overdue (household ids)"}, ids=shown,
                     area=sorted(found))
    return found


def _areas(conn: psycopg.Connection, user: Principal, template: str) -> list[dict[str, Any]]:
    """The communities and grids the user may filter ``template`` by (a link leading to a 403 is not
    shown): the grids she reads, and their communities."""
    rows = conn.execute("SELECT g.code, g.name, g.community_code, c.name FROM grid g"
                        " LEFT JOIN community c ON c.code = g.community_code ORDER BY g.code").fetchall()
    out: list[dict[str, Any]] = []
    for community in sorted({(r[2], r[3]) for r in rows if r[2]}):
        if allowed(user, template, community[0]):
            out.append({"key": "community", "code": community[0], "name": community[1] or community[0]})
    out += [{"key": "grid", "code": r[0], "name": r[1] or r[0]}
            for r in rows if allowed(user, template, r[0])]
    return out


def _query(**params: Any) -> str:
    kept = {k: v.isoformat() if isinstance(v, date) else v for k, v in params.items() if v not in (None, "")}
    return urlencode(kept)


On = Annotated[date | None, Query(description="the day judged (default: today)")]
From = Annotated[date | None, Query(alias="from")]
To = Annotated[date | None, Query(alias="to")]


@page_router.get("/visits/overdue", response_class=HTMLResponse)
def overdue_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang, grid: GridQuery = None,
                 community: CommunityQuery = None, on: On = None) -> HTMLResponse:
    assert user is not None
    rows = overdue_list.overdue(conn, grid=grid, community=community, on=on)
    query = _query(grid=grid, community=community, on=on)
    return page(request, user, lang, "visits_overdue.html", N_("走访逾期"), rows=rows, grid=grid,
                community=community, on=on or record.today(), areas=_areas(conn, user, "/visits/overdue"),
                xlsx="/visits/overdue.xlsx" + (f"?{query}" if query else "")
                if allowed(user, "/visits/overdue.xlsx") else None,
                check_in=allowed(user, CHECK_IN))


# ---- the figures (走访统计) and the visits behind them --------------------------------------------

def _period(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or record.today()
    first = start or end - timedelta(days=PERIOD_DAYS - 1)
    if end < first:
        raise InvalidInput.one("to", "must not be before from")
    return first, end


@page_router.get("/visits/figures", response_class=HTMLResponse)
def figures_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang, grid: GridQuery = None,
                 community: CommunityQuery = None, start: From = None, end: To = None) -> HTMLResponse:
    """Per grid and per worker; each figure links the list that sums to it: the visits of the period
    (GET /visits, where the households visited and the far visits are counted too) or the overdue
    households on the period's last day."""
    assert user is not None
    first, last = _period(start, end)
    found = overdue_list.figures(conn, grid=grid, community=community, start=first, end=last)
    period = {"from": first, "to": last}
    visits_of = {g["grid_code"]: "/visits?" + _query(grid=g["grid_code"], **period) for g in found["grids"]}
    overdue_of = {g["grid_code"]: "/visits/overdue?" + _query(grid=g["grid_code"], on=last)
                  for g in found["grids"]}
    workers = [{**w, "visits_href": "/visits?" + _query(visitor=w["username"], grid=grid, community=community,
                                                        **period),
                "overdue_href": "/visits/overdue?" + _query(grid=w["grids"][0], on=last)
                if len(w["grids"]) == 1 and allowed(user, "/visits/overdue", w["grids"][0]) else None}
               for w in found["workers"]]
    return page(request, user, lang, "visits_figures.html", N_("走访统计"), f=found, grid=grid,
                community=community, first=first, last=last, visits_of=visits_of, overdue_of=overdue_of,
                total_visits="/visits?" + _query(grid=grid, community=community, **period),
                total_overdue="/visits/overdue?" + _query(grid=grid, community=community, on=last),
                workers=workers, areas=_areas(conn, user, "/visits/figures"), listing=None)


@page_router.get("/visits", response_class=HTMLResponse)
def visits_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                paging: Annotated[Paging, Depends()], grid: GridQuery = None,
                community: CommunityQuery = None,
                visitor: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9._-]{1,62}$")] = None,
                start: From = None, end: To = None) -> HTMLResponse:
    """The visits a figure counts (GET /visits as a page): oldest first, far ones marked."""
    assert user is not None
    first, last = _period(start, end)
    total, rows = record.visits_in(conn, grid=grid, community=community, visitor=visitor, start=first,
                                   end=last, limit=paging.limit, offset=paging.offset)
    names = _names(conn, lang)
    shown = {"grid": grid, "community": community, "visitor": visitor, "from": first, "to": last,
             "limit": paging.limit}
    after, before = paging.offset + paging.limit, max(paging.offset - paging.limit, 0)
    return page(request, user, lang, "visits_figures.html", N_("走访记录"), f=None, grid=grid,
                next="/visits?" + _query(**shown, offset=after) if after < total else None,
                previous="/visits?" + _query(**shown, offset=before) if paging.offset > 0 else None,
                community=community, first=first, last=last, visitor=visitor, paging=paging,
                listing={"total": total, "items": _local(rows)}, names=names, areas=[],
                back="/visits/figures?" + _query(grid=grid, community=community,
                                                 **{"from": first, "to": last}))
