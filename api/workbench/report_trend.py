"""The reports' trend page (不文明行为趋势, /reports/trend): per month, reports this year against the
same month a year earlier with the change in per cent, per area (street, community or grid) and
category, as a chart drawn by the server (inline SVG) and a table whose every figure links the list of
the reports it counts (/reports/trend/list: its length is the figure), and the workbook of the same
figures (/reports/trend.xlsx, Chinese headers).

The figures are gis.reports.trend's (one statement, under row-level security: a unit's account
counts its unit's reports, a grid worker hers).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from api.deps import Conn
from api.params import XLSX, Paging, download
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang, Language, translations
from api.workbench.nav import allowed
from api.workbench.render import page
from gis.errors import InvalidInput
from gis.reports import read, trend
from gis.reports.file import today

router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)
LEVEL_NAMES = {"street": N_("街道"), "community": N_("社区"), "grid": N_("网格")}
MonthQuery = Annotated[str | None, Query(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


def _month(text: str | None, field: str) -> date | None:
    if not text:
        return None
    year, month = int(text[:4]), int(text[5:7])
    if not 2000 <= year <= 2100:
        raise InvalidInput.one(field, "a month between 2000-01 and 2100-12")
    return date(year, month, 1)


def window(
    level: Annotated[str, Query(pattern=r"^(street|community|grid)$")] = "community",
    month: MonthQuery = None,
    months: Annotated[int, Query(ge=1, le=trend.MAX_MONTHS)] = trend.MAX_MONTHS,
    category: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{1,39}$")] = None,
    area: Annotated[
        str,
        Query(
            pattern=r"^([1-9][0-9]{8}|[1-9][0-9]{11})?$",
            description="only a street's (9 digits) or community's reports",
        ),
    ] = "",
) -> trend.Window:
    """The window a trend page, list or workbook is of (its query parameters)."""
    last = _month(month, "month") or today()
    return trend.window(level, last, months, category, area)


Window = Annotated[trend.Window, Depends(window)]


def _query(w: trend.Window, **more: Any) -> str:
    params = {
        "level": w.level,
        "month": trend.add_months(w.first, w.months - 1).strftime("%Y-%m"),
        "months": w.months,
        "category": w.category,
        "area": w.prefix,
        **more,
    }
    return urlencode({k: v for k, v in params.items() if v is not None and v != ""})


def _category_names(conn: Conn, lang: Language) -> dict[str, str]:
    column = "name_en" if lang == "en" else "name_zh"
    return {c["code"]: c[column] for c in read.vocabulary(conn)["categories"]}


def trend_chart(result: dict[str, Any], title: str, now_label: str, before_label: str) -> Markup:
    """Per month two bars, this period's and a year earlier's, the change in per cent above them."""
    months, cells = result["months"], result["overall"]["months"]
    largest = max([1] + [max(cells[m]["n"], cells[m]["before"]) for m in months])
    slot, plot, top, left = 56, 180, 34, 8
    width, height = left + slot * len(months) + 8, top + plot + 44
    parts = []
    for i, m in enumerate(months):
        c, x = cells[m], left + i * slot
        for j, (value, kind) in enumerate(((c["before"], "before"), (c["n"], "now"))):
            h = plot * value / largest
            parts.append(
                f'<rect class="bar {kind}" data-month="{m:%Y-%m}" x="{x + 6 + j * 22}" '
                f'y="{top + plot - h:.1f}" width="20" height="{h:.1f}"><title>{m:%Y-%m} '
                f"{escape(before_label if kind == 'before' else now_label)}: {value}</title></rect>"
            )
        pct = c["change_pct"]
        shown = "—" if pct is None else f"{pct:+.0f}%"
        parts.append(
            f'<text class="change" x="{x + 28}" y="{top - 8}" text-anchor="middle">{shown}</text>'
            f'<text class="label" x="{x + 28}" y="{top + plot + 18}" text-anchor="middle">'
            f"{m:%y-%m}</text>"
        )
    legend = (
        f'<rect class="bar before" x="{left}" y="{height - 16}" width="12" height="12"/>'
        f'<text x="{left + 16}" y="{height - 6}">{escape(before_label)}</text>'
        f'<rect class="bar now" x="{left + 150}" y="{height - 16}" width="12" height="12"/>'
        f'<text x="{left + 166}" y="{height - 6}">{escape(now_label)}</text>'
    )
    return Markup(
        f'<svg class="chart trend-chart" role="img" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMinYMin meet" font-size="13" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(parts)}{legend}</svg>"
    )


@router.get("/reports/trend", response_class=HTMLResponse)
def trend_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang, w: Window) -> HTMLResponse:
    assert user is not None
    result = trend.trend(conn, w)
    names = _category_names(conn, lang)

    def link(
        area: str | None, month: date | None = None, before: bool = False, cat: str | None = None
    ) -> str:
        extra: dict[str, Any] = {
            "at": area,
            "in": month.strftime("%Y-%m") if month else None,
            "before": 1 if before else None,
        }
        if cat is not None:
            extra["category"] = cat
        return "/reports/trend/list?" + _query(w, **extra) + ("&at=" if area == "" else "")

    gettext = translations(lang).gettext
    chart = trend_chart(result, gettext("每月上报件数与去年同期"), gettext("本期"), gettext("去年同期"))
    return page(
        request,
        user,
        lang,
        "report_trend.html",
        N_("不文明行为趋势"),
        r=result,
        w=w,
        names=names,
        chart=chart,
        link=link,
        levels=LEVEL_NAMES,
        xlsx="/reports/trend.xlsx?" + _query(w),
        query=_query,
        last=trend.add_months(w.first, w.months - 1),
    )


@router.get("/reports/trend.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def trend_xlsx(conn: Conn, lang: Lang, w: Window) -> Response:
    result = trend.trend(conn, w)
    body = trend.trend_workbook(result, _category_names(conn, "zh"))
    return download(body, XLSX, f"不文明行为趋势-{w.level}-{w.first:%Y%m}-{w.months}.xlsx")


@router.get("/reports/trend/list", response_class=HTMLResponse)
def trend_list(
    request: Request,
    conn: Conn,
    user: CurrentUser,
    lang: Lang,
    w: Window,
    paging: Annotated[Paging, Depends()],
    at: Annotated[
        str | None,
        Query(
            pattern=r"^([1-9][0-9]{8}|[1-9][0-9]{11}|[1-9][0-9]{14})?$",
            description="the area at the level ('': outside every grid)",
        ),
    ] = None,
    in_month: Annotated[str | None, Query(alias="in", pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")] = None,
    before: bool = False,
) -> HTMLResponse:
    """The reports behind one figure of the trend page: as many as it says."""
    assert user is not None
    month = _month(in_month, "in")
    ids = trend.listed(conn, w, at, month, before)
    total, rows = read.reports(conn, ids=ids or [0], limit=paging.limit, offset=paging.offset)
    return page(
        request,
        user,
        lang,
        "report_trend_list.html",
        N_("趋势明细"),
        total=len(ids),
        rows=rows,
        paging=paging,
        back="/reports/trend?" + _query(w),
        at=at,
        month=month,
        before=before,
        names=_category_names(conn, lang),
        open_report=allowed(user, "/reports/{report_id}"),
        previous=(
            str(request.url.include_query_params(offset=max(0, paging.offset - paging.limit)))
            if paging.offset
            else None
        ),
        next=(
            str(request.url.include_query_params(offset=paging.offset + paging.limit))
            if paging.offset + paging.limit < len(ids)
            else None
        ),
    )
