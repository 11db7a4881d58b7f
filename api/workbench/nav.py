"""What a user may open: links checked against api/policy.py and the user's scopes before they are
shown, so no link on a page leads to a 403."""

from __future__ import annotations

import re
from dataclasses import dataclass

from api.policy import POLICY, PUBLIC_PATHS
from api.workbench.i18n import N_
from gis.access.accounts import Principal
from gis.access.roles import COUNTS


@dataclass(frozen=True)
class Link:
    label: str  # a msgid: translated where the page is rendered
    href: str


def allowed(user: Principal, template: str, code: str | None = None) -> bool:
    """Whether ``user`` may GET the route ``template`` (filled with ``code`` for ``{code}``)."""
    if template in PUBLIC_PATHS:
        return True
    rule = POLICY.get(("GET", template))
    if rule is None:
        return False
    if rule.public:
        return True
    roles = rule.roles & user.roles
    if not roles:
        return False
    return code is None or user.covers(code, roles)


def link(user: Principal, label: str, template: str, code: str | None = None) -> Link | None:
    """The link, if the user may follow it."""
    if not allowed(user, template, code):
        return None
    return Link(label, re.sub(r"\{code\}", code or "", template))


def counts_whole(user: Principal, code: str) -> bool:
    """Whether the user's counting scopes hold the whole area ``code``: its figures are then whole.
    A grid worker's community (her scope lies inside it) is not: its sums would show her grid alone,
    so the page shows "—" rather than a number that looks like the community's."""
    return any(g.role in COUNTS and code.startswith(g.scope) for g in user.grants)


# The menu (label msgid, route): each entry shown only to the roles api/policy.py lets open it.
MENU: tuple[tuple[str, str], ...] = (
    (N_("首页"), "/"),
    (N_("住户查询"), "/households"),
    (N_("四清看板"), "/dashboard"),
    (N_("走访逾期"), "/visits/overdue"),  # 走访: the overdue households, the figures per grid and worker
    (N_("走访统计"), "/visits/figures"),
    (N_("举报不文明行为"), "/reports/new"),  # 不文明行为: the reporter's form, the owners' queue, her own
    (N_("举报待办"), "/reports/queue"),
    (N_("我的举报"), "/reports/mine"),
    (N_("不文明行为地图"), "/maps/reports"),  # the reports by state, sections by open reports per 100 m
    (N_("不文明行为趋势"), "/reports/trend"),  # per month against a year earlier, drilling down to lists
    (N_("曝光台"), "/exposure"),  # the public board (everyone, signed in or not)
    (N_("走访频次"), "/visits/policy"),  # the visit policy: each group's interval, changed by admins
    (N_("地图"), "/maps/"),
    (N_("校园周边违规检查"), "/perimeter/violations"),
    (N_("校园周边地图"), "/maps/perimeter"),
    (N_("场所与学校"), "/perimeter/directory"),
    (N_("周边规则"), "/perimeter/rulebook"),
    (N_("责任路段地图"), "/maps/roads"),
    (N_("路段分配"), "/sections"),  # 创建办/城管: the sections on a map, the assign form
    (N_("责任单位"), "/units"),
    (N_("值守排班"), "/duties/roster"),  # issue 16: duties' roster, a unit's own; record a day
    (N_("新建值守"), "/duties/new"),  # the duty form (planners, admins); a duty's page from the roster
    (N_("缺岗名单"), "/duties/missed"),  # the days missed: a unit's own, the planners' all
    (N_("门前三包"), "/frontage/agreements"),  # agreements in force, their checks, the forms
    (N_("无人管理小区"), "/compounds/coverage"),  # helper coverage per area, drilling down to the lists
    (N_("帮扶小区"), "/compounds"),  # the compounds list: a unit's accounts find the one they help
    (N_("导入小区"), "/compounds/new"),  # upload a GeoJSON file of compounds (planners, admins)
    (N_("小区重叠"), "/compounds/overlaps"),
    (N_("阵地设施"), "/facilities"),  # issue 16 part B: facilities and the check against the targets
    (N_("志愿服务"), "/volunteers/teams"),  # teams, members, hours
    (N_("红黑榜"), "/honours/lists"),  # honour and red/black lists
    (N_("参评率"), "/honours/participation"),  # households taking part per community vs the 80 % target
    (N_("季度考核"), "/assessment"),  # issue 16 part C: each community against the quarter's scoring sheet
    (N_("用户管理"), "/users"),
    (N_("网格员名录"), "/grid-workers"),  # the grid workers and whether each has an account
    (N_("审计日志"), "/audit"),
    (N_("数据导入"), "/imports"),
    (N_("数据导出"), "/exports"),
    (N_("接口文档"), "/docs"),
)


def menu(user: Principal) -> list[Link]:
    return [item for label, template in MENU if (item := link(user, label, template)) is not None]
