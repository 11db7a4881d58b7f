"""The planner's responsible units (责任单位): the list with the length each holds, create, edit with the
contact person and phone, and the unit's page with its sections, assignments and weekly duty roster.

``GET /units`` and ``/units/{id}`` share their addresses with the API (PageRoute: a browser's page
request gets the page). The create form posts to ``POST /units`` like the API, as a form (FormRoute:
a form-encoded post reaches the page's handler, JSON the API's); the edit form to
``POST /units/{id}/edit``. Both save through gis.roads.units, as the API does; a refused field is shown
beside it (422), a name another unit has (409) beside the name, an edit of a unit changed meanwhile
(409) with both versions. The contact phone is shown whole only to UNIT_CONTACTS, masked to anyone else.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import Conn
from api.params import DbId
from api.routes.roads import contacts_visible
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang
from api.workbench.nav import link
from api.workbench.render import page
from api.workbench.routing import FormRoute, PageRoute
from gis.access.accounts import Principal
from gis.codes import mask_phone
from gis.errors import Conflict, InvalidInput
from gis.roads import units as road_units
from gis.roads.assignments import WEEKDAYS
from gis.roads.roster import roster_rows

FIELDS = ("name", "kind", "contact", "phone", "ref")
MAX_LENGTH = {"name": 200, "kind": 20, "contact": 100, "phone": 30, "ref": 200}
LABELS = {"name": N_("单位名称"), "kind": N_("单位类型"), "contact": N_("联系人"), "phone": N_("联系电话"),
          "ref": N_("单位编号")}
KINDS = {"government": N_("机关"), "institution": N_("事业单位"), "enterprise": N_("企业"),
         "school": N_("学校"), "community": N_("社区"), "shop": N_("商户"), "other": N_("其他")}
# ISO weekday -> msgid, as planners write them (周一 ... 周日)
DUTY_DAYS = {1: N_("周一"), 2: N_("周二"), 3: N_("周三"), 4: N_("周四"), 5: N_("周五"), 6: N_("周六"),
             7: N_("周日")}
assert set(DUTY_DAYS) == set(WEEKDAYS)


router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)
form_router = APIRouter(tags=["workbench (工作台)"], route_class=FormRoute, include_in_schema=False)
edit_router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)


async def posted(request: Request) -> dict[str, str]:
    """The form's text fields, read here (not as FastAPI Form parameters) so that bad input is answered
    beside its field on the page, never as JSON."""
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


Posted = Annotated[dict[str, str], Depends(posted)]


def shown_contact(unit: dict[str, Any], visible: bool) -> dict[str, Any]:
    """The unit with its contact person and phone as this reader may see them."""
    if visible:
        return unit
    return unit | {"contact": road_units.mask_contact(unit.get("contact")),
                   "phone": mask_phone(unit.get("phone"))}


def unit_fields(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The unit's fields from a form (a blank optional field is no value) and the lengths refused."""
    errors = {k: f"must be at most {MAX_LENGTH[k]} characters"
              for k in FIELDS if len(form.get(k, "")) > MAX_LENGTH[k]}
    values: dict[str, Any] = {k: form.get(k, "").strip() or None for k in FIELDS}
    values["name"] = values["name"] or ""
    values["kind"] = values["kind"] or "other"
    return values, errors


def _units_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Lang,
                form: dict[str, Any] | None = None, errors: dict | None = None,
                status_code: int = 200) -> HTMLResponse:
    visible = contacts_visible(user)
    units = [shown_contact(u, visible) for u in road_units.list_units(conn)]
    response = page(request, user, lang, "units.html", N_("责任单位"), units=units, kinds=KINDS,
                    labels=LABELS, form=form or dict.fromkeys(FIELDS, "") | {"kind": "government"},
                    errors=errors or {}, sections=link(user, N_("路段分配"), "/sections"))
    response.status_code = status_code
    return response


@router.get("/units", response_class=HTMLResponse)
def units_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang) -> HTMLResponse:
    assert user is not None
    return _units_page(request, conn, user, lang)


@form_router.post("/units", response_class=HTMLResponse, response_model=None)
def create_unit(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                form: Posted) -> HTMLResponse | RedirectResponse:
    assert user is not None
    values, errors = unit_fields(form)
    kept = {k: form.get(k, "") for k in FIELDS}
    if errors:
        return _units_page(request, conn, user, lang, kept, errors, 422)
    try:
        with conn.transaction():
            unit = road_units.create_unit(conn, {k: v for k, v in values.items() if v is not None})
    except InvalidInput as exc:
        return _units_page(request, conn, user, lang, kept, {p.field: p.reason for p in exc.problems}, 422)
    except Conflict as exc:
        field = "ref" if " ref " in str(exc) else "name"
        return _units_page(request, conn, user, lang, kept, {field: str(exc)}, 409)
    return RedirectResponse(f"/units/{unit['id']}?created=1", status_code=303)


def _unit_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Lang, unit_id: int,
               form: dict[str, Any] | None = None, errors: dict | None = None,
               conflict: dict | None = None, status_code: int = 200) -> HTMLResponse:
    unit = road_units.get_unit(conn, unit_id)
    visible = contacts_visible(user)
    shown = shown_contact(unit, visible)
    held = roster_rows(conn, unit_id, date.today())
    response = page(
        request, user, lang, "unit.html", N_("责任单位"), unit=shown, held=held,
        held_m=round(sum(r["length_m"] for r in held), 1), kinds=KINDS, labels=LABELS,
        duty_days=DUTY_DAYS, contacts=visible,
        form=form or {k: (unit[k] or "") if visible or k not in ("contact", "phone") else "" for k in FIELDS},
        original={k: unit[k] or "" for k in FIELDS} if visible else {},
        errors=errors or {}, conflict=conflict, created=request.query_params.get("created") == "1",
        roster=link(user, N_("下载值勤表（XLSX）"), "/units/{unit_id}/roster.xlsx"),
        assign=link(user, N_("给此单位分配路段"), "/sections"),
        sections=link(user, N_("查看此单位的路段"), "/sections"))
    response.status_code = status_code
    return response


@router.get("/units/{unit_id}", response_class=HTMLResponse)
def unit_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang, unit_id: DbId,
              created: Annotated[int | None, Query(ge=0, le=1)] = None) -> HTMLResponse:
    """``created``: the unit was just added (the create form's redirect says so)."""
    assert user is not None
    return _unit_page(request, conn, user, lang, unit_id)


@edit_router.post("/units/{unit_id}/edit", response_class=HTMLResponse, response_model=None)
def edit_unit(request: Request, conn: Conn, user: CurrentUser, lang: Lang, unit_id: DbId,
              form: Posted) -> HTMLResponse | RedirectResponse:
    """Save the edit form; ``was_*`` fields hold the unit as the editor read it: a unit changed since
    is not overwritten (409, both versions shown)."""
    assert user is not None
    road_units.get_unit(conn, unit_id)  # 404 before any check
    values, errors = unit_fields(form)
    kept = {k: form.get(k, "") for k in FIELDS}
    if errors:
        return _unit_page(request, conn, user, lang, unit_id, kept, errors, status_code=422)
    expected = {k: form.get(f"was_{k}", "") for k in FIELDS} if "was_name" in form else None
    try:
        with conn.transaction():
            road_units.update_unit(conn, unit_id, values, expected)
    except road_units.StaleUnit as exc:
        theirs = {k: exc.stored[k] or "" for k in FIELDS}
        return _unit_page(request, conn, user, lang, unit_id, kept,
                          conflict={"detail": str(exc), "yours": kept, "theirs": theirs}, status_code=409)
    except InvalidInput as exc:
        return _unit_page(request, conn, user, lang, unit_id, kept,
                          {p.field: p.reason for p in exc.problems}, status_code=422)
    except Conflict as exc:
        field = "ref" if " ref " in str(exc) else "name"
        return _unit_page(request, conn, user, lang, unit_id, kept, {field: str(exc)}, status_code=409)
    return RedirectResponse(f"/units/{unit_id}", status_code=303)
