"""The report pages (不文明行为): what every report page shares (the names of categories, states, actions
and owners in the page's language; the steps the signed-in user may take) and the report page itself
with its step forms.

The report page (GET /reports/{id}, PageRoute) shows the report, its photos (before/after, thumbnails
through the report's own photo route, api/workbench/reports_photos.py), the routing evidence (grid,
section, the assignment and its period, the distance), the duplicate suggestions, the append-only
history, and one form per step the user may take now: the database decides who may take a step
(report_transition, migration 022) and ``next_actions`` asks it the same questions beforehand, so no
button leads to a 403. Each form posts to the API's path (FormRoute) with the state it was drawn in
(``expected_state``): a step someone else took first answers 409 with the report as it is now.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from api.deps import AppSettings, Conn
from api.params import DbId
from api.policy import POLICY
from api.routes.reports import StepIn, keep, read_body
from api.security import CurrentUser
from api.workbench.forms import field_errors
from api.workbench.i18n import N_, Lang, Language
from api.workbench.nav import allowed
from api.workbench.render import page
from api.workbench.routing import FormRoute, PageRoute
from gis.access.accounts import Principal
from gis.access.roles import ADMIN
from gis.errors import Conflict, InvalidInput
from gis.reports import read, workflow
from gis.reports.file import LOCAL_TZ

STEP = "/reports/{report_id}/transitions"
# The steps' names (msgids), in the order their buttons are shown.
ACTION_NAMES = {
    "accept": N_("受理"), "dispatch": N_("派发"), "overrule": N_("驳回退回（原单位继续办理）"),
    "sign": N_("签收"), "handle": N_("处置完毕"), "return": N_("退回"), "verify": N_("核查通过"),
    "close": N_("结案"), "duplicate": N_("标记为重复"), "reject": N_("不予受理"), "file": N_("上报"),
}
OWNER_NAMES = {"unit": N_("责任单位"), "grid": N_("网格"), "community": N_("社区待办"),
               "street": N_("街道待办")}
RULE_NAMES = {"section": N_("责任路段（30 米以内）"), "grid": N_("所在网格的网格员"),
              "community": N_("所在社区"), "nearest_community": N_("不在任何社区内：最近社区所属街道")}
# Fields each step's form has (the rest of StepIn stays unset).
STEP_FIELDS = {"return": ("reason", "note"), "reject": ("note",), "overrule": ("note",),
               "duplicate": ("duplicate_of", "note"),
               "dispatch": ("owner_kind", "unit_id", "grid_code", "community_code", "note"),
               "handle": ("photos", "note")}

router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)
form_router = APIRouter(tags=["workbench (工作台)"], route_class=FormRoute, include_in_schema=False)


def names(conn: psycopg.Connection, lang: Language) -> dict[str, dict[str, str]]:
    """The categories', states' and return reasons' names in the page's language (data, not code)."""
    words = read.vocabulary(conn)
    column = "name_en" if lang == "en" else "name_zh"
    return {key: {row["code"]: row[column] for row in words[key]}
            for key in ("categories", "states", "return_reasons")}


def local(when: Any) -> Any:
    """A time as clocks in China show it (the day a report counts for)."""
    return when.astimezone(ZoneInfo(LOCAL_TZ)) if when is not None else None


# Whether the acting user may take each step of each report, asked of the database with its own
# functions (migration 022), as report_transition() will: one query for a whole queue. The functions
# are asked once per owner (area, kind, grid, unit), not per report: a queue of 200 new reports took
# 515 ms asking per report and step, and takes a few ms asked per owner.
_NEXT = """WITH r AS (
    SELECT id, state, area_code, owner_kind, grid_code, unit_id, handled_by FROM report
    WHERE id = ANY (%(ids)s::bigint[])
), w AS MATERIALIZED (
    SELECT k.*, report_dispatcher(k.area_code, k.owner_kind, k.grid_code) AS d,
           report_owner_actor(k.area_code, k.owner_kind, k.unit_id, k.grid_code) AS o,
           (k.owner_kind = 'unit' AND k.unit_id = ANY ((SELECT access_units())::bigint[])) AS u
    FROM (SELECT DISTINCT area_code, owner_kind, grid_code, unit_id FROM r) k
)
SELECT r.id, array_agg(a.action ORDER BY a.n) FILTER (WHERE a.action IS NOT NULL)
FROM r JOIN w ON w.area_code = r.area_code AND w.owner_kind = r.owner_kind
             AND w.grid_code IS NOT DISTINCT FROM r.grid_code AND w.unit_id IS NOT DISTINCT FROM r.unit_id
LEFT JOIN unnest(%(actions)s::text[], %(froms)s::text[], %(whos)s::text[]) WITH ORDINALITY
     AS a(action, froms, who, n)
  ON r.state = ANY (string_to_array(a.froms, ','))
 AND CASE a.who
       WHEN 'dispatcher' THEN w.d
            AND (a.action <> 'verify' OR r.handled_by IS DISTINCT FROM (SELECT access_user_id()))
       WHEN 'owner' THEN w.o
       ELSE w.u END
GROUP BY r.id"""


def next_actions(conn: psycopg.Connection, user: Principal, ids: list[int]) -> dict[int, list[str]]:
    """The steps the user may take now on each report (in ACTION_NAMES' order); none for a role the
    API's policy does not let post a step."""
    rule = POLICY[("POST", STEP)]
    if not ids or not rule.roles & user.roles:
        return {}
    order = [a for a in ACTION_NAMES if a in workflow.ACTIONS]
    found = conn.execute(_NEXT, {
        "ids": ids, "actions": order, "froms": [",".join(workflow.ACTIONS[a][0]) for a in order],
        "whos": [workflow.ACTIONS[a][2].split()[0] for a in order]}).fetchall()
    return {rid: list(actions or []) for rid, actions in found}


def units(conn: psycopg.Connection) -> list[tuple[int, str]]:
    """The responsible units a dispatcher may send a report to."""
    return [(r[0], r[1]) for r in conn.execute("SELECT id, name FROM responsible_unit ORDER BY name, id")]


EXPOSURE = "/reports/{report_id}/exposure"  # 曝光台发布 (api/workbench/exposure.py)


def may_publish(user: Principal, report: dict[str, Any]) -> bool:
    """Whether the report page links to its publish page: a closed report, a role the policy lets in,
    and an admin grant over the report's area (the database's report_admin_of: the scope is the area
    or above it), so that the link never leads to a 403."""
    area = report.get("area_code") or ""
    return (report["state"] == "closed" and allowed(user, EXPOSURE)
            and any(g.role == ADMIN and area.startswith(g.scope) for g in user.grants))


def report_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Language, report_id: int,
                *, errors: dict[str, str] | None = None, failed: str | None = None,
                form: dict[str, str] | None = None, conflict: str | None = None, filed: bool = False,
                status_code: int = 200) -> HTMLResponse:
    """The report as it is now; ``failed``: the step whose form shows ``errors`` beside its fields."""
    found = read.report(conn, report_id)  # NotFound: not the user's to read
    found["reported_at"] = local(found["reported_at"])
    history = [{**e, "at": local(e["at"])} for e in found["history"]]
    actions = next_actions(conn, user, [report_id]).get(report_id, [])
    words = names(conn, lang)
    response = page(request, user, lang, "report.html", N_("举报详情"), r=found, history=history,
                    actions=actions, words=words, action_names=ACTION_NAMES, owner_names=OWNER_NAMES,
                    rule_names=RULE_NAMES, step_fields=STEP_FIELDS, errors=errors or {}, failed=failed,
                    form=form or {}, conflict=conflict, filed=filed,
                    units=units(conn) if "dispatch" in actions else [],
                    publish=EXPOSURE.format(report_id=report_id) if may_publish(user, found) else None)
    response.status_code = status_code
    return response


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report_view(request: Request, conn: Conn, user: CurrentUser, lang: Lang, report_id: DbId,
                filed: bool = False) -> HTMLResponse:
    """``filed``: just filed by this user (the form's answer): says where it went and any duplicates."""
    assert user is not None
    return report_page(request, conn, user, lang, report_id, filed=filed)


@form_router.post(STEP, response_class=HTMLResponse, response_model=None)
async def take_step(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser, lang: Lang,
                    report_id: DbId) -> HTMLResponse | RedirectResponse:
    """A step from the report page's form, judged as the API judges it (the same model, the same
    words beside the field); done: back to the report (303), its history showing the step."""
    assert user is not None
    try:
        fields, uploads = await read_body(request)  # InvalidInput: a file that is no photo
    except InvalidInput as exc:
        return report_page(request, conn, user, lang, report_id, failed="handle", status_code=422,
                           errors={p.field: p.reason for p in exc.problems})
    shown = {k: str(v) for k, v in fields.items()}
    failed = str(fields.get("action", ""))
    try:
        body = StepIn.model_validate(fields)
    except ValidationError as exc:
        return report_page(request, conn, user, lang, report_id, errors=field_errors(exc, "action"),
                           failed=failed, form=shown, status_code=422)
    owner = (workflow.Owner(body.owner_kind, body.unit_id, body.grid_code, body.community_code)
             if body.owner_kind else None)
    try:
        with conn.transaction():  # a savepoint: a refused step keeps none of its photos
            workflow.transition(conn, report_id, body.action, expected=body.expected_state,
                                reason=body.reason, note=body.note, duplicate_of=body.duplicate_of,
                                owner=owner, photos=keep(conn, settings, user, uploads) if uploads else ())
    except workflow.NotAllowed as exc:
        raise HTTPException(403, str(exc)) from None
    except InvalidInput as exc:
        return report_page(request, conn, user, lang, report_id, failed=failed, form=shown, status_code=422,
                           errors={p.field: p.reason for p in exc.problems})
    except Conflict as exc:
        return report_page(request, conn, user, lang, report_id, conflict=str(exc), status_code=409)
    return RedirectResponse(f"/reports/{report_id}#history", status_code=303)
