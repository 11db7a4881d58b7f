"""The inspector's section of the home page (督查): the recorded violations not yet closed by status and
age, the schools with the most, and the inspections due (rectification deadlines and re-checks), each
linking to the place, the school's perimeter map or the check where the user may open them.

Figures come from gis.perimeter.backlog under the caller's connection, as the API's reads do; the
section is shown to inspectors (the home page includes templates/inspector_home.html when
``inspector_home`` returns a section).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar
from urllib.parse import urlencode

import psycopg

from api.workbench.i18n import N_
from api.workbench.nav import allowed
from api.workbench.perimeter import place_href, place_pages_open, school_map_href
from gis.access.accounts import Principal
from gis.access.roles import INSPECTOR
from gis.perimeter import backlog

STATUS_NAMES = {"open": N_("待通知"), "notified": N_("整改中"), "rectified": N_("待复查")}
BUCKET_NAMES = {"0-7": N_("7 天内"), "8-30": N_("8–30 天"), "31-90": N_("31–90 天"), "91+": N_("90 天以上")}
DUE_NAMES = {"notified": N_("整改期限"), "rectified": N_("复查")}
DUE_SHOWN = 30
SCHOOLS_SHOWN = 10


@dataclass
class InspectorHome:
    day: date
    by_age: dict[str, dict[str, int]]  # status -> bucket -> count (and "total")
    schools: list[dict[str, Any]]  # with "map" and "check" hrefs (None where not allowed)
    due_total: int
    due: list[dict[str, Any]]  # with "place_href" (None where not allowed)
    check: str | None  # the perimeter check page
    links: list[tuple[str, str]] = field(default_factory=list)  # (msgid, href)
    # the words the template shows (msgids)
    statuses: ClassVar[dict[str, str]] = STATUS_NAMES
    buckets: ClassVar[dict[str, str]] = BUCKET_NAMES
    due_names: ClassVar[dict[str, str]] = DUE_NAMES

    @property
    def open_total(self) -> int:
        return sum(counts["total"] for counts in self.by_age.values())


def inspector_home(conn: psycopg.Connection, user: Principal,
                   day: date | None = None) -> InspectorHome | None:
    """The inspector's section for ``user`` (None for a user who is not an inspector)."""
    if INSPECTOR not in user.roles:
        return None
    day = day or date.today()
    check = "/perimeter/violations" if allowed(user, "/perimeter/violations") else None
    maps = allowed(user, "/maps/perimeter/schools/{school}")
    schools = backlog.schools_with_most(conn, SCHOOLS_SHOWN)
    for s in schools:
        key = s["school_ref"] or str(s["school_id"])
        s["map"] = school_map_href(s["school_ref"], s["school_id"]) if maps else None
        s["check"] = f"{check}?{urlencode({'school': key})}" if check else None
    due_total, due = backlog.inspections_due(conn, day, DUE_SHOWN)
    places = place_pages_open(user)
    for d in due:
        d["place_href"] = place_href(d["place_ref"], d["place_id"]) if places else None
    links = [(label, href) for label, href, route in (
        (N_("校园周边违规检查"), "/perimeter/violations", "/perimeter/violations"),
        (N_("校园周边地图"), "/maps/perimeter", "/maps/perimeter")) if allowed(user, route)]
    return InspectorHome(day, backlog.violations_by_age(conn, day), schools, due_total, due, check, links)

