"""The grid worker's household pages (住户): search, the household with its members, and its edit form.

They share their addresses with the API: a browser's navigation (``Accept: text/html``) to
``/households`` or ``/households/{id}`` gets the page, any other client the JSON (PageRoute), so a
link to a household is the same for both. Everything goes through gis/register and the database's
row-level security, as the API does: a household outside the user's grids is a 404 here too.
"""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import AppSettings, Conn
from api.params import DbId
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang
from api.workbench.nav import link
from api.workbench.render import page
from api.workbench.routing import PageRoute
from api.workbench.visits import household_visits
from gis.errors import Conflict, InvalidInput
from gis.register import households as register
from gis.register.moves import list_moves
from gis.register.persons import update_person

SEARCH_LIMIT = 50
EDITABLE = ("address", "building", "unit", "room")  # the household's own fields on the form
FIELD_LABELS = {"address": N_("地址"), "building": N_("楼栋"), "unit": N_("单元"), "room": N_("房号"),
                "phone": N_("户主电话")}
RELATIONS = {"head": N_("户主"), "spouse": N_("配偶"), "child": N_("子女"), "parent": N_("父母"),
             "grandchild": N_("孙子女"), "sibling": N_("兄弟姐妹"), "other": N_("其他")}


router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)
# The edit form's post has no API route beside it: any client may send it (a browser with the login
# cookie and the CSRF token, a script with its bearer token).
form_router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)


def _heads(conn: psycopg.Connection, household_ids: list[int]) -> dict[int, str]:
    """The head's (户主) name of each household, in one query under the caller's row-level security."""
    rows = conn.execute("SELECT DISTINCT ON (household_id) household_id, name FROM person "
                        "WHERE household_id = ANY(%s) ORDER BY household_id, relation <> 'head', id",
                        [household_ids]).fetchall()
    return {r[0]: r[1] for r in rows}


def _head(household: dict) -> dict | None:
    persons = household["persons"]
    return next((p for p in persons if p["relation"] == "head"), persons[0] if persons else None)


def _key_person_names(conn: psycopg.Connection, lang: str) -> dict[str, str]:
    column = "name_en" if lang == "en" else "name_zh"
    return dict(conn.execute(f"SELECT code, {column} FROM key_person_category").fetchall())  # noqa: S608


@router.get("/households", response_class=HTMLResponse)
def search_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                q: Annotated[str | None, Query(max_length=200)] = None) -> HTMLResponse:
    assert user is not None
    found = register.list_households(conn, q=q, limit=SEARCH_LIMIT) if q and q.strip() else None
    heads = _heads(conn, [h["id"] for h in found["items"]]) if found else {}
    return page(request, user, lang, "households.html", N_("住户查询"), q=q or "", found=found, heads=heads)


def _household_page(request: Request, conn: psycopg.Connection, user: Any, lang: Lang, household_id: int,
                    form: dict | None = None, errors: dict | None = None, conflict: dict | None = None,
                    status_code: int = 200) -> HTMLResponse:
    household = register.get_household(conn, household_id)
    head = _head(household)
    grid_map = link(user, N_("网格图"), "/maps/grids/{code}", household["grid_code"]) \
        if household["grid_code"] else None
    response = page(request, user, lang, "household.html", N_("住户"), h=household, head=head,
                    form=form or {k: household[k] or "" for k in EDITABLE}, errors=errors or {},
                    conflict=conflict, grid_map=grid_map, labels=FIELD_LABELS, relations=RELATIONS,
                    key_names=_key_person_names(conn, lang),
                    moves=list_moves(conn, household_id, limit=10)["items"],
                    **household_visits(conn, user, lang, household_id))
    response.status_code = status_code
    return response


@router.get("/households/{household_id}", response_class=HTMLResponse)
def household_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                   household_id: DbId) -> HTMLResponse:
    assert user is not None
    return _household_page(request, conn, user, lang, household_id)


@form_router.post("/households/{household_id}", response_class=HTMLResponse, response_model=None)
def save_household(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser, lang: Lang,
                   household_id: DbId, version: Annotated[int, Form()],
                   address: Annotated[str | None, Form(max_length=500)] = None,
                   building: Annotated[str | None, Form(max_length=100)] = None,
                   unit: Annotated[str | None, Form(max_length=100)] = None,
                   room: Annotated[str | None, Form(max_length=100)] = None,
                   phone: Annotated[str, Form(max_length=30)] = "",
                   person_id: Annotated[int | None, Form()] = None,
                   person_version: Annotated[int | None, Form()] = None) -> HTMLResponse | RedirectResponse:
    """Save the edit form: the household's fields at ``version`` (a field not posted is unchanged), and
    the head's phone (left blank: unchanged, as the page shows it masked) at ``person_version``; both
    or neither."""
    assert user is not None
    posted = {"address": address, "building": building, "unit": unit, "room": room}
    # a blank optional field is no value (None), as a form cannot send null; a blank address is refused
    changes: dict[str, Any] = {k: v.strip() if k == "address" else v.strip() or None
                               for k, v in posted.items() if v is not None}
    form = {k: v or "" for k, v in posted.items()}
    try:
        with conn.transaction():  # a savepoint: a refused half undoes the other
            register.update_household(conn, household_id, version, changes, settings.region_bbox)
            if phone.strip() and person_id is not None and person_version is not None:
                update_person(conn, person_id, person_version, {"phone": phone.strip()})
    except InvalidInput as exc:
        errors = {p.field: p.reason for p in exc.problems}
        return _household_page(request, conn, user, lang, household_id, {**form, "phone": phone},
                               errors, status_code=422)
    except Conflict as exc:
        conflict = {"detail": str(exc), "yours": {**form, "phone": phone}}
        return _household_page(request, conn, user, lang, household_id, {**form, "phone": phone},
                               conflict=conflict, status_code=409)
    return RedirectResponse(f"/households/{household_id}", status_code=303)
