"""The admins' rule book (周边规则): the perimeter rules per region, the rules in force for a school
level in a region, and a form that adds a rule (a province's own distance or category) after showing
which schools it changes: the check run with the rule added in a transaction that is rolled back
(gis.perimeter.rules.preview_rule). Only the preview's "save" writes; leaving the preview saves nothing.

An admin adds rules only for regions their grants cover: a street's admin cannot set a province's rule.
"""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from api.deps import Conn
from api.routes.perimeter import holds_region
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang
from api.workbench.render import page
from gis.access.accounts import Principal
from gis.access.roles import ADMIN
from gis.errors import Conflict, InvalidInput
from gis.perimeter import rules
from gis.perimeter.places import vocabulary

router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)
LABELS = {"region": N_("适用地区"), "category": N_("场所类别"), "school_levels": N_("学段"),
          "distance_m": N_("距离（米）"), "kind": N_("规则类型"), "method": N_("量法"), "note": N_("依据")}
KINDS = {"forbidden": N_("禁止开办"), "licence_required": N_("须证照齐全、亮证经营")}
METHODS = {"boundary": N_("从校园边界量起"), "entrance": N_("校门到门口")}
NATIONAL = N_("全国")


async def posted(request: Request) -> FormData:
    return await request.form()


Posted = Annotated[FormData, Depends(posted)]


def _rule(form: FormData, errors: dict[str, str]) -> dict[str, Any]:
    text = {k: str(form.get(k) or "").strip() for k in ("region", "category", "distance_m", "kind", "method",
                                                        "note")}
    try:
        distance: float | None = float(text["distance_m"])
    except ValueError:
        errors["distance_m"] = "metres, more than 0 and at most 2000"
        distance = None
    if len(text["note"]) > 500 or "\x00" in "".join(text.values()):
        errors["note"] = "at most 500 characters, no NUL"
    return {"region": text["region"], "category": text["category"], "distance_m": distance,
            "school_levels": [str(v) for v in form.getlist("school_levels")], "kind": text["kind"],
            "method": text["method"] or "boundary", "note": text["note"] or None}


def _page(request: Request, conn: psycopg.Connection, user: Principal, lang: Lang, form: dict[str, Any],
          errors: dict[str, str] | None = None, preview: dict[str, Any] | None = None, status_code: int = 200,
          added: int | None = None, in_force: dict[str, Any] | None = None) -> HTMLResponse:
    response = page(request, user, lang, "rules.html", N_("周边规则"), rules=rules.list_rules(conn),
                    form=form, errors=errors or {}, preview=preview, labels=LABELS, kinds=KINDS,
                    methods=METHODS,
                    national=NATIONAL, categories=vocabulary(conn, "place_category", lang),
                    levels=vocabulary(conn, "school_level", lang), added=added, in_force=in_force,
                    scopes=[g.scope for g in user.grants if g.role == ADMIN])
    response.status_code = status_code
    return response


def _default_form(user: Principal) -> dict[str, Any]:
    scopes = sorted(g.scope for g in user.grants if g.role == ADMIN)
    region = "national" if "" in scopes else (scopes[0] if scopes else "")
    return {"region": region, "category": "", "school_levels": ["primary", "middle"], "distance_m": "200",
            "kind": "forbidden", "method": "boundary", "note": ""}


@router.get("/perimeter/rulebook", response_class=HTMLResponse)
def rulebook(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
             added: Annotated[int | None, Query(ge=1)] = None,
             code: Annotated[str | None, Query(pattern=r"^[0-9]{2,15}$")] = None,
             level: Annotated[str | None, Query(max_length=40)] = None) -> HTMLResponse:
    assert user is not None
    in_force = None
    if code and level in vocabulary(conn, "school_level"):
        in_force = {"code": code, "level": level, "rules": rules.rules_in_force(conn, level, code)}
    return _page(request, conn, user, lang, _default_form(user), added=added, in_force=in_force)


@router.post("/perimeter/rulebook", response_class=HTMLResponse, response_model=None)
def add_rule(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
             form: Posted) -> HTMLResponse | RedirectResponse:
    """``action=preview`` shows what the rule would change (nothing saved); ``action=save`` saves it."""
    assert user is not None
    errors: dict[str, str] = {}
    rule = _rule(form, errors)
    kept = {**rule, "distance_m": str(form.get("distance_m") or ""), "note": rule["note"] or ""}
    if errors:
        return _page(request, conn, user, lang, kept, errors, status_code=422)
    coded = {**rule, "category": rules.category_code(conn, rule["category"])}
    problems = {p.field: p.reason for p in rules.rule_problems(conn, coded)}
    if problems:
        return _page(request, conn, user, lang, kept, problems, status_code=422)
    if not holds_region(user, rule["region"]):  # the API's own rule (api/routes/perimeter.py)
        return _page(request, conn, user, lang, kept, {"region": "outside the areas you administer"},
                     status_code=403)
    try:
        if form.get("action") == "save":
            saved = rules.add_rule(conn, rule)
            return RedirectResponse(f"/perimeter/rulebook?added={saved['id']}", status_code=303)
        preview = rules.preview_rule(conn, rule)
    except InvalidInput as exc:
        errors = {p.field: p.reason for p in exc.problems}
        return _page(request, conn, user, lang, kept, errors, status_code=422)
    except Conflict as exc:
        return _page(request, conn, user, lang, kept, {"region": str(exc)}, status_code=409)
    return _page(request, conn, user, lang, kept, preview=preview)
