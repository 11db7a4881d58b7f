"""The audit log page (审计日志): who read, exported, changed or was refused what, newest first,
filtered by user, action, object and date range (a GET form, so a filtered view is a link), paged.

It shares ``/audit`` with the API's JSON (PageRoute) and reads through the same gis.access.audit
entries: the database shows an admin only the entries within their scope (migration 012), whoever
asks and however. Dates are whole days in the database session's time zone, the one the times on
the page are shown in; ``until`` is the last day included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import Conn
from api.policy import POLICY
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang
from api.workbench.render import page
from api.workbench.routing import PageRoute
from gis.access import audit
from gis.errors import InvalidInput

router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 50
MAX_PAGE = 100_000  # beyond any log's length at PAGE_SIZE: a larger number is a mistyped URL
ACTION_NAMES = {"read": N_("查阅"), "export": N_("导出"), "insert": N_("新增"), "update": N_("修改"),
                "delete": N_("删除"), "refused": N_("拒绝访问"), "sign_in_failed": N_("登录失败")}
# What the objects are, where a name says more than the table's or route's own.
OBJECT_NAMES = {"household": N_("住户"), "person": N_("人员"), "key_person": N_("重点人员"),
                "map:grid": N_("网格图"), "map:community": N_("社区网格图")}
FILTERS = ("username", "action", "object", "since", "until")
FIELD_LABELS = {"username": N_("用户"), "action": N_("操作"), "object": N_("对象"), "since": N_("起始日期"),
                "until": N_("截止日期"), "page": N_("页码")}


def known_objects() -> list[str]:
    """Suggestions for the object filter: the audited routes and the register's tables (any route can
    be refused: the field takes any text)."""
    routes = sorted({path for (_, path), rule in POLICY.items() if rule.audit})
    return [*OBJECT_NAMES, *routes]


@dataclass
class Filters:
    username: str | None = None
    action: str | None = None
    object: str | None = None
    since: date | None = None
    until: date | None = None


def _day(value: str | None, field: str, errors: dict[str, str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[field] = "must be a date: YYYY-MM-DD"
        return None


def _filters(username: str | None, action: str | None, object: str | None, since: str | None,
             until: str | None) -> tuple[Filters, dict[str, str]]:
    """The form's fields as filters: a blank field filters nothing; a bad one is an error beside it."""
    errors: dict[str, str] = {}
    action = (action or "").strip() or None
    if action is not None and action not in ACTION_NAMES:
        errors["action"] = f"must be one of {', '.join(ACTION_NAMES)}"
        action = None
    filters = Filters((username or "").strip() or None, action, (object or "").strip() or None,
                      _day(since, "since", errors), _day(until, "until", errors))
    if filters.since and filters.until and filters.until < filters.since:
        errors["until"] = "must not be before since"
    return filters, errors


def compact(detail: Any) -> str:
    """An entry's detail as one line of JSON, Chinese as itself (escaped by the template)."""
    return json.dumps(detail, ensure_ascii=False, separators=(", ", ": "), sort_keys=True)


def _query(filters: Filters, page_number: int | None = None) -> str:
    """The page's own address for these filters (and page): links keep the filter."""
    params: dict[str, Any] = {k: getattr(filters, k) for k in FILTERS if getattr(filters, k)}
    if page_number and page_number > 1:
        params["page"] = page_number
    return "/audit" + (f"?{urlencode(params)}" if params else "")


def _entries(conn: Any, filters: Filters, page_number: int) -> dict[str, Any]:
    since = datetime.combine(filters.since, time()) if filters.since else None  # the session's zone
    until = datetime.combine(filters.until + timedelta(days=1), time()) if filters.until else None
    return audit.entries(conn, username=filters.username, action=filters.action, object=filters.object,
                         since=since, until=until, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
               username: Annotated[str | None, Query(max_length=200)] = None,
               action: Annotated[str | None, Query(max_length=50)] = None,
               object: Annotated[str | None, Query(max_length=500)] = None,
               since: Annotated[str | None, Query(max_length=20)] = None,
               until: Annotated[str | None, Query(max_length=20)] = None,
               page_number: Annotated[int, Query(alias="page", ge=1, le=MAX_PAGE)] = 1) -> HTMLResponse:
    assert user is not None
    filters, errors = _filters(username, action, object, since, until)
    found = None
    if not errors:
        try:
            found = _entries(conn, filters, page_number)
        except InvalidInput as exc:  # the same checks as the API's: shown beside the field
            errors = {p.field: p.reason for p in exc.problems}
    pages = max(1, -(-found["total"] // PAGE_SIZE)) if found else 1
    form = {"username": username or "", "action": action or "", "object": object or "",
            "since": since or "", "until": until or ""}
    response = page(request, user, lang, "audit.html", N_("审计日志"), found=found, form=form, errors=errors,
                    labels=FIELD_LABELS, actions=ACTION_NAMES, compact=compact, objects=known_objects(),
                    object_names=OBJECT_NAMES,
                    page_number=page_number, pages=pages,
                    previous=_query(filters, page_number - 1) if found and page_number > 1 else None,
                    next=_query(filters, page_number + 1) if found and page_number < pages else None)
    if errors:
        response.status_code = 422
    return response
