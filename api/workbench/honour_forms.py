"""The honour-list forms (红黑榜): draft a list, add an entry to a drafted list (a black entry with its
evidence), remove an entry, approve (with the public version's decision), publish (asked to confirm:
a published list never changes), draft the next version of a published one, and record households
taking part (参评). Each posts to the API's own path as a form (FormRoute) with the API's field names
and models, but removing an entry, whose API route is a DELETE (POST .../remove here); a refusal
answers the page again with the API's words beside the field (422, or 409 for a conflict).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from api.deps import Conn
from api.params import DbId
from api.routes.honours import EntryIn, ListIn, ParticipationIn, StateIn, VersionIn
from api.security import CurrentUser
from api.workbench.forms import field_errors, posted_strings
from api.workbench.honours import list_page, lists_page, participation_page
from api.workbench.i18n import Lang
from api.workbench.routing import FormRoute
from gis.errors import Conflict, InvalidInput
from gis.honours import lists, public

form_router = APIRouter(tags=["workbench (工作台)"], route_class=FormRoute, include_in_schema=False)
# removing an entry has no form route beside it (the API's is a DELETE): any client may post it
remove_router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)
ENTRY_FIELDS = ("colour", "place_id", "unit_id", "household_id", "person_id", "reason", "violation_id",
                "inspection_id", "report_id")


@form_router.post("/honours/lists", response_class=HTMLResponse, response_model=None)
async def draft(request: Request, conn: Conn, user: CurrentUser, lang: Lang) -> Any:
    assert user is not None
    posted = await request.form()
    form = posted_strings(posted, ("kind", "scope", "series", "title"))
    form["public"] = "true" if posted.get("public") == "true" else ""
    try:
        body = ListIn.model_validate({**{k: v for k, v in form.items() if v}, "public": bool(form["public"])})
    except ValidationError as exc:
        return lists_page(request, conn, user, lang, form, field_errors(exc, "title"), 422)
    try:
        with conn.transaction():
            made = lists.create_list(conn, **body.model_dump())
    except InvalidInput as exc:
        return lists_page(request, conn, user, lang, form, {p.field: p.reason for p in exc.problems}, 422)
    except Conflict as exc:
        return lists_page(request, conn, user, lang, form, {"series": str(exc)}, 409)
    return RedirectResponse(f"/honours/lists/{made['id']}", status_code=303)


@form_router.post("/honours/lists/{list_id}/entries", response_class=HTMLResponse, response_model=None)
async def add_entry(request: Request, conn: Conn, user: CurrentUser, lang: Lang, list_id: DbId) -> Any:
    """An entry: colour, the subject (of the list's kind), reason, and for a black one its evidence."""
    assert user is not None
    posted = await request.form()
    form = posted_strings(posted, ENTRY_FIELDS)
    q = str(posted.get("q") or "")

    def again(errors: dict[str, str], status: int) -> HTMLResponse:
        return list_page(request, conn, user, lang, list_id, q=q, failed="entry", form=form, errors=errors,
                         status_code=status)

    try:
        body = EntryIn.model_validate({k: v for k, v in form.items() if v})
    except ValidationError as exc:
        return again(field_errors(exc, "colour"), 422)
    try:
        with conn.transaction():
            lists.add_entry(conn, list_id, body.model_dump())
    except InvalidInput as exc:
        return again({p.field: p.reason for p in exc.problems}, 422)
    except Conflict as exc:
        return again({"list": str(exc)}, 409)
    return RedirectResponse(f"/honours/lists/{list_id}#entries", status_code=303)


@remove_router.post("/honours/lists/{list_id}/entries/{entry_id}/remove", response_class=HTMLResponse,
                    response_model=None)
def remove_entry(request: Request, conn: Conn, user: CurrentUser, lang: Lang, list_id: DbId,
                 entry_id: DbId) -> Any:
    """Remove an entry of a drafted list (the API's DELETE as a form's button)."""
    assert user is not None
    try:
        with conn.transaction():
            lists.remove_entry(conn, list_id, entry_id)
    except Conflict as exc:
        return list_page(request, conn, user, lang, list_id, failed="entry", errors={"list": str(exc)},
                         status_code=409)
    return RedirectResponse(f"/honours/lists/{list_id}#entries", status_code=303)


@form_router.post("/honours/lists/{list_id}/state", response_class=HTMLResponse, response_model=None)
async def change_state(request: Request, conn: Conn, user: CurrentUser, lang: Lang, list_id: DbId) -> Any:
    """approve (``public``: the public version, redacted), reopen, publish. Publishing asks first: a
    post without ``confirmed`` answers the page with the question and a button that confirms."""
    assert user is not None
    posted = await request.form()
    form = posted_strings(posted, ("action", "public"))
    if form.get("action") == "publish" and posted.get("confirmed") != "yes":
        return list_page(request, conn, user, lang, list_id, confirm="publish")
    fields: dict[str, Any] = {"action": form.get("action", "")}
    if fields["action"] == "approve":
        fields["public"] = form.get("public") == "true"
    try:
        body = StateIn.model_validate(fields)
    except ValidationError as exc:
        return list_page(request, conn, user, lang, list_id, failed="state", form=form,
                         errors=field_errors(exc, "action"), status_code=422)
    try:
        with conn.transaction():
            lists.change_state(conn, list_id, body.action, public=body.public)
    except InvalidInput as exc:
        return list_page(request, conn, user, lang, list_id, failed="state", form=form,
                         errors={p.field: p.reason for p in exc.problems}, status_code=422)
    except Conflict as exc:
        return list_page(request, conn, user, lang, list_id, failed="state", form=form,
                         errors={"action": str(exc)}, status_code=409)
    return RedirectResponse(f"/honours/lists/{list_id}", status_code=303)


@form_router.post("/honours/lists/{list_id}/versions", response_class=HTMLResponse, response_model=None)
async def new_version(request: Request, conn: Conn, user: CurrentUser, lang: Lang, list_id: DbId) -> Any:
    """The next version of a published list (drafted, its entries copied): its page."""
    assert user is not None
    form = posted_strings(await request.form(), ("title",))
    try:
        body = VersionIn.model_validate({k: v for k, v in form.items() if v})
        with conn.transaction():
            made = lists.new_version(conn, list_id, title=body.title)
    except ValidationError as exc:
        return list_page(request, conn, user, lang, list_id, failed="version", form=form,
                         errors=field_errors(exc, "title"), status_code=422)
    except InvalidInput as exc:
        return list_page(request, conn, user, lang, list_id, failed="version", form=form,
                         errors={p.field: p.reason for p in exc.problems}, status_code=422)
    except Conflict as exc:
        return list_page(request, conn, user, lang, list_id, failed="version", form=form,
                         errors={"title": str(exc)}, status_code=409)
    return RedirectResponse(f"/honours/lists/{made['id']}", status_code=303)


@form_router.post("/honours/participation", response_class=HTMLResponse, response_model=None)
async def take_part(request: Request, conn: Conn, user: CurrentUser, lang: Lang) -> Any:
    """Households taking part in a year: ``household_ids`` ticked from a search and/or typed (numbers
    apart by spaces or commas)."""
    assert user is not None
    posted = await request.form()
    typed = [str(v) for v in posted.getlist("household_ids")]
    words = [w for v in typed for w in re.split(r"[\s,，、;；]+", v) if w]
    form: dict[str, Any] = {"year": str(posted.get("year") or "").strip(), "household_ids": " ".join(words)}
    q = str(posted.get("q") or "")
    year = int(form["year"]) if form["year"].isdigit() and 2000 <= int(form["year"]) <= 2100 else None
    year = year or date.today().year

    def again(errors: dict[str, str], status: int = 422) -> HTMLResponse:
        return participation_page(request, conn, user, lang, year, q=q, form=form, errors=errors,
                                  status_code=status)

    if any(not w.isdigit() for w in words):
        return again({"household_ids": "household numbers only, apart by spaces or commas"})
    try:
        body = ParticipationIn.model_validate({"year": form["year"] or None, "household_ids": words})
    except ValidationError as exc:
        return again(field_errors(exc, "household_ids"))
    try:
        with conn.transaction():
            recorded = public.take_part(conn, body.household_ids, body.year)
    except InvalidInput as exc:
        return again({p.field: p.reason for p in exc.problems})
    return RedirectResponse(f"/honours/participation?year={body.year}&recorded={recorded}", status_code=303)
