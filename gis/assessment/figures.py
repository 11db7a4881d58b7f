"""The live figures a scoring item may be filled from (系统取数): what each measures, and the JSON
endpoint that answers the same figure — a filled value must equal it (tests/assessment).

They are computed by one statement (figures.sql) over the other capabilities' tables, as the caller:
this package reads their tables in SQL and never imports their Python (import-linter keeps the
capabilities independent), so each column there follows its endpoint's definition, named here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from gis.assessment.quarters import Quarter
from gis.sql_files import sql_text

LOCAL_TZ = "Asia/Shanghai"  # the campaign's days are days in China


@dataclass(frozen=True)
class Figure:
    code: str
    name_zh: str
    unit_zh: str
    # the endpoint answering the same figure ({community}, {start}, {on}, {year} filled in) and where
    # in its answer the figure is (gis/assessment/figures.py's `read_endpoint`)
    endpoint: str
    pick: str


FIGURES: dict[str, Figure] = {f.code: f for f in (
    Figure("compounds_helped", "有帮扶单位的无人管理小区", "个",
           "/compounds/coverage?level=community&on={on}", "rows[code={community}].helped"),
    Figure("compounds_helped_share", "无人管理小区帮扶覆盖率", "",
           "/compounds/coverage?level=community&on={on}", "rows[code={community}].share"),
    Figure("moral_lecture_halls", "道德讲堂", "个",
           "/facilities?area={community}&kind=moral_lecture_hall&active=true", "total"),
    Figure("volunteer_stations", "志愿服务站", "个",
           "/facilities?area={community}&kind=volunteer_station&active=true", "total"),
    Figure("volunteer_hours", "社区志愿服务队累计服务时长", "小时",
           "/volunteers/teams?area={community}", "sum(hours) of [scope={community}]"),
    Figure("active_volunteers", "社区志愿服务队在册志愿者", "人",
           "/volunteers/teams?area={community}", "sum(active_members) of [scope={community}]"),
    Figure("honour_participation_share", "家庭评选参与率", "",
           "/honours/participation?area={community}&year={year}", "[community_code={community}].share"),
    Figure("households_visited", "本季度走访户数", "户",
           "/visits/figures?community={community}&from={start}&to={on}", "total.households_visited"),
    Figure("visits", "本季度走访次数", "次",
           "/visits/figures?community={community}&from={start}&to={on}", "total.visits"),
    Figure("reports_filed", "本季度上报不文明行为", "件",
           "/reports?community={community}&from={start}&to={on}", "total"),
    Figure("reports_closed", "本季度办结不文明行为", "件",
           "/reports?community={community}&state=closed&from={start}&to={on}", "total"),
    Figure("reports_overdue", "超期未办结不文明行为", "件",
           "/reports?community={community}&overdue=true", "total"),
)}


def today() -> date:
    return datetime.now(ZoneInfo(LOCAL_TZ)).date()


def measured_on(quarter: Quarter, on: date | None = None) -> date:
    """The day a quarter's figures are read for: its last day, or today while it runs."""
    return min(quarter.end, on or today())


def endpoint_of(code: str, community: str, quarter: Quarter, on: date) -> str:
    """The endpoint's address for one community and quarter."""
    return FIGURES[code].endpoint.format(community=community, start=quarter.start, on=on, year=quarter.year)


def _number(value: Any) -> int | float | None:
    """JSON's number, as the endpoints answer it (a Decimal as a float)."""
    if value is None:
        return None
    if isinstance(value, Decimal):  # as FastAPI encodes it: an int when written without decimals
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    return value  # type: ignore[no-any-return]


def live_figures(conn: psycopg.Connection, community: str, quarter: Quarter,
                 on: date | None = None) -> dict[str, int | float | None]:
    """Every figure of FIGURES for the community in the quarter, as the caller sees them, by code."""
    day = measured_on(quarter, on)
    params = {"community": community, "start": quarter.start, "on": day, "today": on or today(),
              "year": quarter.year}
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(sql_text("gis.assessment", "figures"), params).fetchone()
    assert row is not None
    compounds = row.pop("compounds")
    # as GET /compounds/coverage computes it (Python's round of the float share)
    row["compounds_helped_share"] = round(row["compounds_helped"] / compounds, 4) if compounds else None
    return {code: _number(row[code]) for code in FIGURES}
