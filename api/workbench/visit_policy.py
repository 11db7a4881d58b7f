"""The visit policy page (走访频次, /visits/policy): each group's interval with its last change, a form per
group to change it (an admin's; kept with who, when and why: visit_policy_set, migration 029), and the
changes, newest first. The overdue lists and the 走访 layer judge by the interval in force.

The page shares its path with the JSON API (PageRoute); the form posts to /visits/policy/{group_code}
(FormRoute), the API's path for a change being PUT.
"""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from api.deps import Conn
from api.routes.visit_admin import GroupCode, PolicyIn, changes, policy, set_interval
from api.security import CurrentUser
from api.workbench.forms import field_errors
from api.workbench.i18n import N_, Lang, Language
from api.workbench.render import page
from api.workbench.routing import FormRoute, PageRoute
from gis.access.accounts import Principal
from gis.errors import InvalidInput

page_router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)
form_router = APIRouter(tags=["workbench (工作台)"], route_class=FormRoute, include_in_schema=False)


def _page(
    request: Request,
    conn: psycopg.Connection,
    user: Principal,
    lang: Language,
    errors: dict[str, dict[str, str]] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    response = page(
        request,
        user,
        lang,
        "visit_policy.html",
        N_("走访频次"),
        groups=policy(conn),
        changes=changes(conn),
        errors=errors or {},
        typed=typed or {},
    )
    response.status_code = status_code
    return response


@page_router.get("/visits/policy", response_class=HTMLResponse)
def policy_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang) -> HTMLResponse:
    assert user is not None
    return _page(request, conn, user, lang)


@form_router.post("/visits/policy/{group_code}", response_class=HTMLResponse, response_model=None)
def change(
    request: Request,
    conn: Conn,
    user: CurrentUser,
    lang: Lang,
    group_code: GroupCode,
    interval_days: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> HTMLResponse | RedirectResponse:
    """Change one group's interval as the API does; a refused value beside its field (422)."""
    assert user is not None
    try:
        body = PolicyIn.model_validate(
            {"interval_days": interval_days.strip() or None, "note": note.strip() or None}
        )
        set_interval(conn, group_code, body.interval_days, body.note)
    except ValidationError as exc:
        problems = field_errors(exc)
        return _page(request, conn, user, lang, {group_code: problems}, {group_code: interval_days}, 422)
    except InvalidInput as exc:
        return _page(
            request,
            conn,
            user,
            lang,
            {group_code: {p.field: p.reason for p in exc.problems}},
            {group_code: interval_days},
            422,
        )
    return RedirectResponse("/visits/policy", status_code=303)
