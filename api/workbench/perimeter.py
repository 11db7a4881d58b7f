"""The perimeter check as a page (校园周边违规检查): the places breaking a rule on a day, filtered by
community, school, category, rule and licence state (a GET form, so a filtered view is a link),
sorted by distance or another column, each row linking to the place, the school's perimeter map and
the perimeter map; the XLSX and CSV of the same filters (Chinese headers, the CSV with a UTF-8 BOM).

It shares ``/perimeter/violations`` with the API (a browser's page request gets the page, any other
client the JSON) and runs the same gis.perimeter.check listing with the same parameters, so the page,
the JSON and the downloads list the same rows with the same distances (metres, to the centimetre).
A request naming ``format`` is the API's, whoever sends it: the export buttons are plain links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.routing import Match
from starlette.types import Scope as AsgiScope

from api.deps import Conn
from api.params import COMMUNITY_CODE, GRID_CODE
from api.policy import POLICY
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang
from api.workbench.nav import allowed
from api.workbench.render import page
from api.workbench.routing import FormRoute, PageRoute
from gis.access.accounts import Principal
from gis.errors import InvalidInput, NotFound
from gis.perimeter.check import LICENCE_STATES, Scope, check_choices, violation_listing
from gis.perimeter.export import sorted_page
from gis.perimeter.inspections import record_violations


class CheckPageRoute(PageRoute):
    """The page route of /perimeter/violations: a browser's request without ``format`` (a download
    link names it, and Chromium's navigations accept text/html too)."""

    def matches(self, scope: AsgiScope) -> tuple[Match, AsgiScope]:
        keys = {k.decode("latin-1").split("=")[0] for k in scope.get("query_string", b"").split(b"&")}
        if "format" in keys:
            return Match.NONE, {}
        return super().matches(scope)


router = APIRouter(tags=["workbench (工作台)"], route_class=CheckPageRoute, include_in_schema=False)
# The "登记违规" button posts a form to the API's own path: FormRoute sends form posts here.
form_router = APIRouter(tags=["workbench (工作台)"], route_class=FormRoute, include_in_schema=False)
RECORD = ("POST", "/perimeter/violations/record")


def may_record(user: Principal) -> bool:
    """Whether the user may record the check's findings as violations (api/policy.py decides)."""
    return bool(POLICY[RECORD].roles & user.roles)

PAGE_SIZE = 200
MAX_PAGE = 100_000
# The columns the table sorts by (?sort=…&desc=1): the listing's output columns; distance by default.
SORTS: dict[str, tuple[str, ...]] = {
    "distance": ("distance_m",), "place": ("place_name",), "category": ("category",),
    "school": ("school_name",), "rule": ("rule_id",), "licence_state": ("licence_state",)}
FILTERS = ("date", "community", "grid", "school", "category", "rule", "licence_state")
FIELD_LABELS = {"date": N_("检查日期"), "community": N_("社区"), "grid": N_("网格"), "school": N_("学校"),
                "category": N_("类别"), "rule": N_("规则"), "licence_state": N_("证照状态"),
                "sort": N_("排序"), "page": N_("页码")}
COLUMN_LABELS = {"distance": N_("距离（米）"), "place": N_("场所"), "category": N_("类别"),
                 "school": N_("最近的学校"), "rule": N_("违反规则"), "licence_state": N_("证照状态")}
LICENCE_STATE_NAMES = {"missing": N_("无证"), "expired": N_("证照过期"), "not_displayed": N_("未亮证"),
                       "valid": N_("有效")}
KIND_NAMES = {"forbidden": N_("禁止"), "licence_required": N_("须证照齐全、亮证经营")}
PLACE_PAGE = "/perimeter/places/{place}"


@dataclass
class Filters:
    day: date
    community: str | None = None
    grid: str | None = None
    school: str | None = None
    category: str | None = None
    rule: int | None = None
    licence_state: str | None = None
    sort: str = "distance"
    desc: bool = False
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    def scope(self) -> Scope:
        return Scope(community=self.community, grid=self.grid, school=self.school, category=self.category,
                     rule_id=self.rule, licence_state=self.licence_state)

    def query(self, **changes: Any) -> list[tuple[str, str]]:
        """The filters as query parameters (the API's names), with ``changes``; blanks left out."""
        values: dict[str, Any] = {"date": self.day.isoformat(), "community": self.community,
                                  "grid": self.grid, "school": self.school, "category": self.category,
                                  "rule": self.rule, "licence_state": self.licence_state, **changes}
        return [(k, "1" if v is True else str(v)) for k, v in values.items() if v not in (None, "", False)]


def _blank(value: str | None) -> str | None:
    return (value or "").strip() or None


def parse_filters(form: dict[str, str | None]) -> Filters:
    """The form's fields as filters: a blank field filters nothing, a bad one is an error beside it
    (the page answers 422, as the API does for the same parameter)."""
    errors: dict[str, str] = {}
    day = date.today()
    if _blank(form.get("date")):
        try:
            day = date.fromisoformat(str(form["date"]).strip())
        except ValueError:
            errors["date"] = "must be a date: YYYY-MM-DD"
    codes = {"community": (COMMUNITY_CODE, "must be a 12-digit community code"),
             "grid": (GRID_CODE, "must be a 15-digit grid code")}
    found: dict[str, Any] = {}
    for name, (pattern, reason) in codes.items():
        value = _blank(form.get(name))
        if value is not None and not re.fullmatch(pattern, value):
            errors[name] = reason
            value = None
        found[name] = value
    rule = _blank(form.get("rule"))
    if rule is not None and not (rule.isdigit() and 1 <= int(rule) < 2**63):
        errors["rule"] = "must be a rule's number"
        rule = None
    state = _blank(form.get("licence_state"))
    if state is not None and state not in LICENCE_STATES:
        errors["licence_state"] = f"must be one of {', '.join(LICENCE_STATES)}"
        state = None
    sort = _blank(form.get("sort")) or "distance"
    if sort not in SORTS:
        errors["sort"] = f"must be one of {', '.join(SORTS)}"
        sort = "distance"
    page_number = _blank(form.get("page")) or "1"
    if not (page_number.isdigit() and 1 <= int(page_number) <= MAX_PAGE):
        errors["page"] = f"must be a page number, 1-{MAX_PAGE}"
        page_number = "1"
    return Filters(day, found["community"], found["grid"], _blank(form.get("school")),
                   _blank(form.get("category")), int(rule) if rule else None, state, sort,
                   _blank(form.get("desc")) in ("1", "true"), int(page_number), errors)


def place_pages_open(user: Principal) -> bool:
    """Whether the place pages (/perimeter/places/{place}, where inspections are recorded) may be
    linked for ``user``: by their own policy row, or, until they have one, by the perimeter right
    that lists the places (the same readers)."""
    if ("GET", PLACE_PAGE) in POLICY:
        return allowed(user, PLACE_PAGE)
    return allowed(user, "/perimeter/violations")


def place_href(ref: str | None, place_id: int) -> str:
    return "/perimeter/places/" + quote(ref if ref else str(place_id), safe="")


def school_map_href(ref: str | None, school_id: int) -> str:
    return "/maps/perimeter/schools/" + quote(ref if ref else str(school_id), safe="")


def _listing(conn: Any, filters: Filters) -> tuple[int, list[dict[str, Any]]] | None:
    """The page of rows, or None with the errors beside the fields (gis's own checks: an unknown
    community, school, category or rule; two areas at once)."""
    try:
        listing = violation_listing(conn, filters.day, filters.scope())
        return sorted_page(conn, listing, SORTS[filters.sort], filters.desc, PAGE_SIZE,
                           (filters.page - 1) * PAGE_SIZE)
    except InvalidInput as exc:
        for p in exc.problems:
            if p.field == "scope":  # two areas at once: beside each of them
                for name in ("community", "grid", "school"):
                    if getattr(filters, name):
                        filters.errors[name] = p.reason
            else:
                filters.errors[p.field] = p.reason
    except NotFound as exc:
        filters.errors[exc.what if exc.what in FILTERS else "school"] = str(exc)
    return None


@router.get("/perimeter/violations", response_class=HTMLResponse)
def check_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
               day: Annotated[str | None, Query(alias="date", max_length=20)] = None,
               community: Annotated[str | None, Query(max_length=50)] = None,
               grid: Annotated[str | None, Query(max_length=50)] = None,
               school: Annotated[str | None, Query(max_length=200)] = None,
               category: Annotated[str | None, Query(max_length=100)] = None,
               rule: Annotated[str | None, Query(max_length=20)] = None,
               licence_state: Annotated[str | None, Query(max_length=50)] = None,
               sort: Annotated[str | None, Query(max_length=50)] = None,
               desc: Annotated[str | None, Query(max_length=10)] = None,
               page_number: Annotated[str | None, Query(alias="page", max_length=10)] = None) -> HTMLResponse:
    assert user is not None
    form = {"date": day, "community": community, "grid": grid, "school": school, "category": category,
            "rule": rule, "licence_state": licence_state, "sort": sort, "desc": desc, "page": page_number}
    filters = parse_filters(form)
    found = None if filters.errors else _listing(conn, filters)
    total, rows = found if found else (0, [])
    pages = max(1, -(-total // PAGE_SIZE))
    here = "/perimeter/violations"

    def at(**changes: Any) -> str:
        kept = {"sort": filters.sort if filters.sort != "distance" else None, "desc": filters.desc}
        return f"{here}?{urlencode(filters.query(**kept, **changes))}"

    def sorted_by(key: str) -> str:
        desc = key == filters.sort and not filters.desc
        return f"{here}?{urlencode(filters.query(sort=None if key == 'distance' else key, desc=desc))}"

    exports = [(label, f"{here}?{urlencode(filters.query(format=fmt))}")
               for label, fmt in ((N_("导出 XLSX"), "xlsx"), (N_("导出 CSV"), "csv"))] if found else []
    choices = check_choices(conn)
    category_names = {c["code"]: (c["name_en"] or c["code"]) if lang == "en" else c["name_zh"]
                      for c in choices["categories"]}
    response = page(
        request, user, lang, "perimeter.html", N_("校园周边违规检查"), found=found is not None, total=total,
        rows=rows, filters=filters, errors=filters.errors, labels=FIELD_LABELS, columns=COLUMN_LABELS,
        form={k: (v or "") for k, v in form.items()} | {"date": filters.day.isoformat()},
        choices=choices, category_names=category_names, states=LICENCE_STATE_NAMES, kinds=KIND_NAMES,
        exports=exports,
        sorted_by=sorted_by, page_number=filters.page, pages=pages,
        previous=at(page=filters.page - 1) if found and filters.page > 1 else None,
        next=at(page=filters.page + 1) if found and filters.page < pages else None,
        place_links=place_pages_open(user), place_href=place_href, school_map_href=school_map_href,
        school_maps=allowed(user, "/maps/perimeter/schools/{school}"), may_record=may_record(user),
        perimeter_map=f"/maps/perimeter?date={filters.day.isoformat()}" if allowed(user, "/maps/perimeter")
        else None)
    if filters.errors:
        response.status_code = 422
    return response


@form_router.post("/perimeter/violations/record", response_class=RedirectResponse)
def record_findings(conn: Conn, user: CurrentUser,
                    day: Annotated[date | None, Form(alias="date")] = None,
                    community: Annotated[str | None, Form(pattern=COMMUNITY_CODE)] = None,
                    school: Annotated[str | None, Form(max_length=200)] = None) -> RedirectResponse:
    """The check of the day (for the page's community or school) recorded as violations by the
    signed-in inspector: new ones open, known ones updated; then her home page, where the backlog is."""
    assert user is not None
    record_violations(conn, day or date.today(), actor=f"check ({user.username})",
                      scope=Scope(community=community or None, school=school or None))
    return RedirectResponse("/#inspector", status_code=303)
