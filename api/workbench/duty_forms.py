"""The duty pages beside the roster (值守): the form defining a duty (planners, admins), a duty's page
(its recurrence in words, the next rostered days, its records newest first with their photos, the days
missed), and the list of days missed (缺岗名单) for a unit's accounts and the planners.

The form posts to the API's path (POST /duties, FormRoute: a form post gets the page, JSON the API)
with the API's field names and model, so a refusal comes back beside its field in the API's words.
The post is a road section picked from a list, or a point tapped on the app's own Leaflet map (WGS 84);
a position pasted from a Chinese map app is marked with its crs (GCJ-02, BD-09) and converted here.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

import numpy as np
import psycopg
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from api.deps import Conn
from api.params import DbId
from api.routes.duties import DutyIn
from api.security import CurrentUser
from api.workbench.campaign_photos import photo_url
from api.workbench.duties import STATES, may_record
from api.workbench.i18n import N_, Lang, Language, translations
from api.workbench.nav import allowed
from api.workbench.render import page
from api.workbench.reports_form import CRS_NAMES, LEAFLET_CSS, LEAFLET_JS
from api.workbench.routing import FormRoute, PageRoute
from gis.access.accounts import Principal
from gis.crs import bd09_to_wgs84, gcj02_to_wgs84
from gis.duties import duties
from gis.errors import InvalidInput

NEW = "/duties/new"
FIELDS = ("name", "unit_id", "recurrence", "weekday", "month_day", "section_id", "lon", "lat", "crs",
          "post_name", "valid_from", "valid_to", "note")
WEEKDAYS = {1: N_("每周一"), 2: N_("每周二"), 3: N_("每周三"), 4: N_("每周四"), 5: N_("每周五"),
            6: N_("每周六"), 7: N_("每周日")}
MONTHLY = N_("每月%(d)s日")
RECURRENCES = {"weekly": N_("每周"), "monthly": N_("每月")}
NEXT_DAYS = 5  # the duty's page shows this many rostered days ahead
LOOK_AHEAD = 400  # … found within this many days (a monthly duty: a year and more)
MISSED_BACK = 90  # … and the days missed within this many days back
MAX_SECTIONS = 1000  # the post's list of live sections; a larger area narrows by typing its id

router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)
page_router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)
form_router = APIRouter(tags=["workbench (工作台)"], route_class=FormRoute, include_in_schema=False)


def validation_errors(exc: ValidationError, default: str) -> dict[str, str]:
    """Pydantic's refusals by field (the API's words), the first per field; a model-wide one: ``default``."""
    errors: dict[str, str] = {}
    for e in exc.errors():
        errors.setdefault(str(e["loc"][0]) if e["loc"] else default, e["msg"])
    return errors


def problem_errors(exc: InvalidInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    for p in exc.problems:
        errors.setdefault(p.field, p.reason)
    return errors


def recurrence_words(duty: dict[str, Any], gettext: Any) -> str:
    """每周五 / 每月15日 (Every Friday / Monthly on day 15)."""
    if duty["recurrence"] == "weekly":
        return str(gettext(WEEKDAYS[duty["weekday"]]))
    return str(gettext(MONTHLY)) % {"d": duty["month_day"]}


def units(conn: psycopg.Connection) -> list[tuple[int, str]]:
    return [(r[0], r[1]) for r in conn.execute("SELECT id, name FROM responsible_unit ORDER BY name, id")]


def _sections(conn: psycopg.Connection) -> list[tuple[int, str]]:
    rows = conn.execute(
        "SELECT id, code || ' ' || road_name || coalesce(' ' || from_desc || '–' || to_desc, '')"
        " FROM road_section WHERE retired_on IS NULL ORDER BY code LIMIT %s", [MAX_SECTIONS])
    return [(r[0], r[1]) for r in rows]


def _form_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Language,
               form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
               status_code: int = 200) -> HTMLResponse:
    today = duties.today()
    response = page(request, user, lang, "duty_form.html", N_("新建值守"),
                    form=form or {"recurrence": "weekly", "weekday": "5", "crs": "EPSG:4326",
                                  "valid_from": today.isoformat()},
                    errors=errors or {}, units=units(conn), sections=_sections(conn), weekdays=WEEKDAYS,
                    recurrences=RECURRENCES, crs_names=CRS_NAMES, leaflet_css=LEAFLET_CSS,
                    leaflet_js=LEAFLET_JS,
                    bbox=",".join(str(v) for v in request.app.state.settings.region_bbox))
    response.status_code = status_code
    return response


@router.get(NEW, response_class=HTMLResponse)
def duty_form(request: Request, conn: Conn, user: CurrentUser, lang: Lang) -> HTMLResponse:
    assert user is not None
    return _form_page(request, conn, user, lang)


def _post_fields(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The API's fields from the form: the recurrence's own day only, the section or the point (in WGS
    84: a GCJ-02 or BD-09 position converted), blank fields left out as a form cannot send null."""
    fields: dict[str, Any] = {k: v.strip() for k, v in form.items() if k != "crs" and v.strip()}
    fields.pop("month_day" if fields.get("recurrence") == "weekly" else "weekday", None)
    if fields.get("recurrence") not in ("weekly", "monthly"):
        fields.pop("weekday", None)
    if "section_id" in fields:
        fields.pop("lon", None)
        fields.pop("lat", None)
    crs = form.get("crs", "EPSG:4326")
    if crs not in CRS_NAMES:
        return fields, {"crs": "must be EPSG:4326, GCJ-02 or BD-09"}
    if crs != "EPSG:4326" and "lon" in fields and "lat" in fields:
        try:
            x, y = float(fields["lon"]), float(fields["lat"])
        except ValueError:
            return fields, {}  # the model names the field
        convert = gcj02_to_wgs84 if crs == "GCJ-02" else bd09_to_wgs84
        lon, lat = convert(np.array([x]), np.array([y]))
        fields["lon"], fields["lat"] = float(lon[0]), float(lat[0])
    return fields, {}


@form_router.post("/duties", response_class=HTMLResponse, response_model=None)
async def create_duty(request: Request, conn: Conn, user: CurrentUser,
                      lang: Lang) -> HTMLResponse | RedirectResponse:
    """Define the duty as the API does; done: its page (303), which shows the next rostered days."""
    assert user is not None
    posted = await request.form()
    form = {k: v for k, v in posted.items() if k in FIELDS and isinstance(v, str)}
    fields, errors = _post_fields(form)
    if errors:
        return _form_page(request, conn, user, lang, form, errors, 422)
    try:
        body = DutyIn.model_validate(fields)
    except ValidationError as exc:
        return _form_page(request, conn, user, lang, form, validation_errors(exc, "recurrence"), 422)
    try:
        with conn.transaction():  # a savepoint: a refusal leaves nothing behind
            made = duties.create_duty(conn, duties.DutySpec(**body.model_dump()))
    except InvalidInput as exc:
        return _form_page(request, conn, user, lang, form, problem_errors(exc), 422)
    return RedirectResponse(f"/duties/{made['id']}?created=1", status_code=303)


def _with_photos(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for r in records:
        r["photo_links"] = [(photo_url("duty", r["id"], p["sha256"]),
                             photo_url("duty", r["id"], p["sha256"], thumbnail=True), p.get("file_name"))
                            for p in r["photos"]]
    return records


@page_router.get("/duties/missed", response_class=HTMLResponse)
def missed_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                start: Annotated[date | None, Query(alias="from")] = None,
                end: Annotated[date | None, Query(alias="to")] = None) -> HTMLResponse:
    """The rostered days missed (a unit's accounts: their own unit's), newest first: a day shows from
    the day after it."""
    assert user is not None
    errors: dict[str, str] = {}
    try:
        first, last = duties.default_period(end)
        first = start or first
        rows = duties.missed(conn, first, last)
    except InvalidInput as exc:
        errors, rows = problem_errors(exc), []
        first, last = start or duties.today(), end or duties.today()
    rows.sort(key=lambda r: (r["duty_day"], r["duty_id"]), reverse=True)
    response = page(request, user, lang, "duty_missed.html", N_("缺岗名单"), rows=rows, start=first, end=last,
                    errors=errors, roster=allowed(user, "/duties/roster"))
    if errors:
        response.status_code = 422
    return response


@page_router.get("/duties/{duty_id:int}", response_class=HTMLResponse)
def duty_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang, duty_id: DbId,
              created: bool = False) -> HTMLResponse:
    """The duty (a unit's accounts: their own unit's; another's is a 404 as in the API)."""
    assert user is not None
    duty = duties.get_duty(conn, duty_id)
    today = duties.today()
    ahead = duties.roster(conn, today, today + timedelta(days=LOOK_AHEAD), duty_id=duty_id)
    back = duties.roster(conn, today - timedelta(days=MISSED_BACK), today - timedelta(days=1),
                         duty_id=duty_id)
    return page(request, user, lang, "duty_page.html", N_("值守"), d=duty, created=created,
                words=recurrence_words(duty, translations(lang).gettext),
                upcoming=[r for r in ahead if r["state"] == "due"][:NEXT_DAYS],
                missed=[r for r in reversed(back) if r["state"] == "missed"],
                records=_with_photos(duties.records_of(conn, duty_id)), states=STATES,
                record=may_record(user), roster=allowed(user, "/duties/roster"), missed_back=MISSED_BACK)
