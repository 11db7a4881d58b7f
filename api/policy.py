"""Who may call what: one table from (method, route path template) to the roles allowed.

Every route of the app must be in POLICY: a route without a decision is refused (403) and fails the
permission-matrix test. The roles and their groups (REGISTER, ROADS_WRITE, ...) live in
gis/access/roles.py. Where a route serves several layers (imports, exports, OGC collections, tiles),
``layers`` refines the decision per layer.

Scopes are not decided here: api/security.py checks a community or grid code named in the request
against the user's grants, and the database's row-level security narrows every register query. A route
open to several roles gets the rows of the register roles' scopes only, whichever role let the caller
in: a viewer's scope adds counts (statistics), never rows (migration 011).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from gis.access.roles import (
    ADMINS,
    COUNTS,
    EVERYONE,
    LAYER_READERS,
    PERIMETER_READ,
    PERIMETER_WRITE,
    PUBLIC,
    REGISTER,
    ROADS_READ,
    ROADS_WRITE,
    ROLES,
    Roles,
)
from gis.ogc.tiles import TILE_LAYERS as TILES

Route = tuple[str, str]  # (method, path template)


@dataclass(frozen=True)
class Rule:
    """The roles allowed, whether a call is written to the audit log (reads of key persons and
    register exports), and per-layer refinements for routes with a {layer}-like parameter."""

    roles: Roles
    audit: Literal["read", "export"] | None = None
    layer_param: str | None = None
    layers: dict[str, Rule] = field(default_factory=dict)

    @property
    def public(self) -> bool:
        return not self.roles

    def for_layer(self, value: str | None) -> Rule:
        """The rule for one layer; an unknown layer gets the route's own (strictest) rule."""
        return self.layers.get(value or "", self)


IMPORT_LAYERS = {
    "communities": Rule(ADMINS), "grids": Rule(ADMINS), "buildings": Rule(ADMINS),
    "grid_workers": Rule(ADMINS), "households": Rule(REGISTER), "persons": Rule(REGISTER),
    "schools": Rule(PERIMETER_WRITE), "places": Rule(PERIMETER_WRITE), "licences": Rule(PERIMETER_WRITE),
    "roads": Rule(ROADS_WRITE), "units": Rule(ROADS_WRITE),
    # the campaign's records (issue 16): facilities by the admins of their community (row-level security),
    # compounds by those who draw and pair them (POST /compounds)
    "facilities": Rule(ADMINS), "compounds": Rule(ROADS_WRITE),
}
EXPORT_LAYERS = {
    # the campaign's records (issue 16): the readers of GET /facilities and GET /compounds (whose rows
    # row-level security keeps to the reader's area)
    "facilities": Rule(EVERYONE), "compounds": Rule(ROADS_READ | {"unit"}),
    "communities": Rule(EVERYONE), "grids": Rule(EVERYONE), "buildings": Rule(EVERYONE),
    "grid_workers": Rule(REGISTER, audit="export"), "households": Rule(REGISTER, audit="export"),
    "persons": Rule(REGISTER, audit="export"),
    "schools": Rule(PERIMETER_READ), "places": Rule(PERIMETER_READ), "licences": Rule(PERIMETER_READ),
    "roads": Rule(ROADS_READ), "units": Rule(ROADS_WRITE),  # units name contact persons and phones
}
# Reads of register data (personal) through OGC are audited like the register's own reads.
COLLECTIONS = {layer: Rule(readers, audit="read" if readers == REGISTER else None)
               for layer, readers in LAYER_READERS.items()}
TILE_LAYERS = {t.id: Rule(LAYER_READERS[t.id]) for t in TILES}


def _resource(path: str, item: str, read: Rule, write: Rule, *, read_one: Rule | None = None,
              updates: tuple[str, ...] = ("PUT",)) -> dict[Route, Rule]:
    """A resource's usual routes: list and create at ``path``; read, update and delete at ``path/item``."""
    one = f"{path}/{item}"
    return {("GET", path): read, ("POST", path): write, ("GET", one): read_one or read,
            **{(method, one): write for method in updates}, ("DELETE", one): write}


def _register_files(path: str) -> dict[Route, Rule]:
    """The register (一册) of a community or grid as a workbook and as CSV: personal data, audited."""
    return {("GET", f"{path}/register.{ext}"): Rule(REGISTER, audit="export") for ext in ("xlsx", "csv")}


POLICY: dict[Route, Rule] = {
    # accounts and the audit log
    ("POST", "/auth/token"): Rule(PUBLIC),
    ("GET", "/login"): Rule(PUBLIC),
    ("POST", "/login"): Rule(PUBLIC),
    ("POST", "/auth/revoke"): Rule(PUBLIC),  # ends only the session whose token is presented
    # The workbench's sign-out form: public so that api/upload_guard.py lets its cookie-only post in;
    # it revokes only a session that api/security.py authenticated (its cookie with its CSRF token).
    ("POST", "/logout"): Rule(PUBLIC),
    ("GET", "/auth/me"): Rule(EVERYONE),
    ("GET", "/audit"): Rule(ADMINS),
    # users and grants (用户与授权): the database narrows each admin to the users within their scope
    # (migration 013). The workbench's pages share GET /users, /users/{username} and the form posts
    # POST /users, /users/{username}/password, /users/{username}/grants; POST /users/{username} (enable,
    # disable, full name) and /users/{username}/grants/revoke are its forms alone.
    ("GET", "/users"): Rule(ADMINS),
    ("POST", "/users"): Rule(ADMINS),
    ("GET", "/users/{username}"): Rule(ADMINS),
    ("PATCH", "/users/{username}"): Rule(ADMINS),
    ("POST", "/users/{username}"): Rule(ADMINS),
    ("POST", "/users/{username}/password"): Rule(ADMINS),
    ("POST", "/users/{username}/grants"): Rule(ADMINS),
    ("DELETE", "/users/{username}/grants"): Rule(ADMINS),
    ("POST", "/users/{username}/grants/revoke"): Rule(ADMINS),
    # what an account acts as (issue 14, migration 023): its grid worker record and its responsible unit;
    # POST .../unit and .../worker are the user page's forms
    ("GET", "/users/{username}/links"): Rule(ADMINS),
    ("PUT", "/users/{username}/unit"): Rule(ADMINS),
    ("DELETE", "/users/{username}/unit"): Rule(ADMINS),
    ("POST", "/users/{username}/unit"): Rule(ADMINS),
    ("POST", "/users/{username}/worker"): Rule(ADMINS),
    ("GET", "/grid-workers/{worker_id}/account"): Rule(COUNTS),
    ("PUT", "/grid-workers/{worker_id}/account"): Rule(ADMINS),
    ("DELETE", "/grid-workers/{worker_id}/account"): Rule(ADMINS),
    # the workbench (工作台): the home page of the user's roles
    ("GET", "/"): Rule(EVERYONE),
    # the user guide (使用说明): the index and one page per role (no data, for every signed-in user)
    ("GET", "/help"): Rule(EVERYONE),
    **{("GET", f"/help/{role}"): Rule(EVERYONE) for role in ROLES},
    # its household pages share GET /households and /households/{household_id} with the API (rows
    # below); the edit form posts here (cookie and CSRF token, api/security.py)
    ("POST", "/households/{household_id}"): Rule(REGISTER),
    # the division: communities and grids (一档)
    **_resource("/communities", "{code}", read=Rule(EVERYONE), write=Rule(ADMINS)),
    ("GET", "/communities/{code}/division"): Rule(EVERYONE),
    ("GET", "/communities/{code}/unplaced"): Rule(ADMINS),  # addresses outside every grid
    **_register_files("/communities/{code}"),
    **_resource("/grids", "{code}", read=Rule(EVERYONE), write=Rule(ADMINS)),
    **_register_files("/grids/{code}"),
    ("POST", "/grids/{code}/workers"): Rule(ADMINS),
    ("DELETE", "/grids/{code}/workers/{worker_id}"): Rule(ADMINS),
    ("GET", "/grid-workers"): Rule(COUNTS),
    ("POST", "/grid-workers"): Rule(ADMINS),
    ("GET", "/grid-workers/{worker_id}"): Rule(COUNTS),
    # the public service phone (服务电话) by an admin over the worker's grids: JSON and the page's form
    ("PUT", "/grid-workers/{worker_id}/service-phone"): Rule(ADMINS),
    ("POST", "/grid-workers/{worker_id}/service-phone"): Rule(ADMINS),
    # the worker's own fields and the worker herself, by an admin over all her grids (migration 038)
    ("PATCH", "/grid-workers/{worker_id}"): Rule(ADMINS),
    ("DELETE", "/grid-workers/{worker_id}"): Rule(ADMINS),
    # the register (一册): personal data; reads of persons may show key persons (重点人员)
    **_resource("/households", "{household_id}", read=Rule(REGISTER), write=Rule(REGISTER),
                read_one=Rule(REGISTER, audit="read"), updates=("PUT", "PATCH")),
    **_resource("/persons", "{person_id}", read=Rule(REGISTER, audit="read"), write=Rule(REGISTER),
                updates=("PUT", "PATCH")),
    # moves of persons (迁入, 迁出, 户间迁移) and a household's record of them (names: audited reads);
    # the workbench's person forms (add = move-in, edit and tag, move) post to their own pages
    ("POST", "/households/{household_id}/move-in"): Rule(REGISTER),
    ("POST", "/persons/{person_id}/move-out"): Rule(REGISTER),
    ("POST", "/persons/{person_id}/transfer"): Rule(REGISTER),
    ("GET", "/households/{household_id}/moves"): Rule(REGISTER, audit="read"),
    # visits (走访, migration 020): the visitor is the signed-in user (admin or grid worker of the
    # household's grid, row-level security); lists name addresses, so reads are audited
    ("POST", "/households/{household_id}/visits"): Rule(REGISTER),
    ("GET", "/households/{household_id}/visits"): Rule(REGISTER, audit="read"),
    ("GET", "/visits"): Rule(REGISTER, audit="read"),
    ("GET", "/visits/vocabulary"): Rule(REGISTER),
    ("GET", "/visits/overdue"): Rule(REGISTER, audit="read"),
    ("GET", "/visits/overdue.xlsx"): Rule(REGISTER, audit="export"),
    ("GET", "/visits/figures"): Rule(REGISTER, audit="read"),
    # reports (不文明行为, migration 022): filed by admins, grid workers and reporters (the reporter
    # stamped by the database); read by those and by units (their unit's) and viewers (their areas, no
    # reporter names), row-level security narrowing; each step decided by report_transition()
    ("POST", "/reports"): Rule(frozenset({"admin", "grid_worker", "reporter"})),
    ("GET", "/reports"): Rule(frozenset({"admin", "grid_worker", "viewer", "unit", "reporter"})),
    ("GET", "/reports/vocabulary"): Rule(frozenset({"admin", "grid_worker", "viewer", "unit", "reporter"})),
    ("GET", "/reports/{report_id}"): Rule(frozenset({"admin", "grid_worker", "viewer", "unit", "reporter"})),
    ("POST", "/reports/{report_id}/transitions"): Rule(frozenset({"admin", "grid_worker", "unit"})),
    # the workbench's report pages (issue 14): the reporter's form (it posts to POST /reports), the
    # owners' queue, the reporter's own list; a report's photos through the report (its readers)
    ("GET", "/reports/new"): Rule(frozenset({"admin", "grid_worker", "reporter"})),
    ("GET", "/reports/queue"): Rule(frozenset({"admin", "grid_worker", "viewer", "unit"})),
    ("GET", "/reports/mine"): Rule(frozenset({"admin", "grid_worker", "reporter"})),
    ("GET", "/reports/{report_id}/photos/{sha256}"):
        Rule(frozenset({"admin", "grid_worker", "viewer", "unit", "reporter"})),
    ("GET", "/reports/{report_id}/photos/{sha256}/thumbnail"):
        Rule(frozenset({"admin", "grid_worker", "viewer", "unit", "reporter"})),
    # Open311 GeoReport v2 (hotline and app front ends): the service list is public, as the spec has it
    ("GET", "/open311/v2/services.json"): Rule(PUBLIC),
    ("GET", "/open311/v2/services/{service_code}.json"): Rule(PUBLIC),
    ("POST", "/open311/v2/requests.json"): Rule(frozenset({"admin", "grid_worker", "reporter"})),
    ("GET", "/open311/v2/requests.json"):
        Rule(frozenset({"admin", "grid_worker", "viewer", "unit", "reporter"})),
    ("GET", "/open311/v2/requests/{service_request_id}.json"):
        Rule(frozenset({"admin", "grid_worker", "viewer", "unit", "reporter"})),
    # the workbench's check-in form (走访登记); a browser posts it to POST .../visits (multipart, photos)
    ("GET", "/households/{household_id}/visits/new"): Rule(REGISTER, audit="read"),
    # the reports map, trend and 曝光台 (issue 14): the map for every reader of reports (row-level
    # security narrows: a unit its unit's); the trend for those who work the queues; publishing for
    # admins (the database checks the report's area); the board and its EXIF-free photos public
    ("GET", "/maps/reports"): Rule(frozenset({"admin", "grid_worker", "viewer", "unit", "reporter"})),
    ("GET", "/reports/trend"): Rule(frozenset({"admin", "grid_worker", "viewer", "unit"})),
    ("GET", "/reports/trend.xlsx"): Rule(frozenset({"admin", "grid_worker", "viewer", "unit"})),
    ("GET", "/reports/trend/list"): Rule(frozenset({"admin", "grid_worker", "viewer", "unit"})),
    ("GET", "/reports/{report_id}/exposure"): Rule(ADMINS),
    ("POST", "/reports/{report_id}/exposure"): Rule(ADMINS),
    ("POST", "/exposure/{exposure_id}/unpublish"): Rule(ADMINS),
    ("GET", "/exposure"): Rule(PUBLIC),
    ("GET", "/public/exposure"): Rule(PUBLIC),
    ("GET", "/exposure/{exposure_id}/photos/{sha256}"): Rule(PUBLIC),
    ("GET", "/exposure/{exposure_id}/photos/{sha256}/thumbnail"): Rule(PUBLIC),
    # visits' leftovers: a visit's photo through the visit (its readers); the visit policy (走访频次)
    # read by the register roles, changed by admins (audited in visit_policy_change)
    ("GET", "/visits/{visit_id}/photos/{sha256}"): Rule(REGISTER),
    ("GET", "/visits/{visit_id}/photos/{sha256}/thumbnail"): Rule(REGISTER),
    ("GET", "/visits/policy"): Rule(REGISTER),
    ("PUT", "/visits/policy/{group_code}"): Rule(ADMINS),
    ("POST", "/visits/policy/{group_code}"): Rule(ADMINS),
    # the campaign's facilities, volunteers and honour lists (issue 16 part B, migration 026); the
    # workbench's pages share GET /facilities, /facilities/check, /volunteers/teams, /honours/lists and the
    # form post POST /facilities. Facilities are public places: every role reads them; admins of their
    # community write them, and the accounts of a facility's owning unit (责任单位) record its sessions.
    ("GET", "/facilities/vocabulary"): Rule(EVERYONE),
    ("GET", "/facilities/check"): Rule(EVERYONE),
    ("GET", "/facilities"): Rule(EVERYONE),
    ("POST", "/facilities"): Rule(ADMINS),
    ("GET", "/facilities/{facility_id}"): Rule(EVERYONE),
    ("PATCH", "/facilities/{facility_id}"): Rule(ADMINS),
    ("GET", "/facilities/{facility_id}/sessions"): Rule(EVERYONE),
    ("POST", "/facilities/{facility_id}/sessions"): Rule(ADMINS | {"unit"}),
    ("POST", "/facility-sessions/{session_id}/photos"): Rule(ADMINS | {"unit"}),
    # the workbench's forms (issue 16): a session's photos read through it (page copy, thumbnail; no
    # EXIF), the facility's edit/close form (the API's PATCH as a form post)
    ("GET", "/facility-sessions/{session_id}/photos/{sha256}"): Rule(EVERYONE),
    ("GET", "/facility-sessions/{session_id}/photos/{sha256}/thumbnail"): Rule(EVERYONE),
    ("POST", "/facilities/{facility_id}"): Rule(ADMINS),
    # volunteers name residents and outsiders with phones: the register roles read (members audited),
    # admins of the team's area write
    ("GET", "/volunteers/teams"): Rule(REGISTER),
    ("POST", "/volunteers/teams"): Rule(ADMINS),
    ("GET", "/volunteers/teams/{team_id}"): Rule(REGISTER),
    ("GET", "/volunteers/teams/{team_id}/members"): Rule(REGISTER, audit="read"),
    ("POST", "/volunteers/teams/{team_id}/members"): Rule(ADMINS),
    ("POST", "/volunteers/members/{member_id}/leave"): Rule(ADMINS),
    ("GET", "/volunteers/teams/{team_id}/activities"): Rule(REGISTER),
    ("POST", "/volunteers/teams/{team_id}/activities"): Rule(ADMINS),
    # honour and red/black lists: drafts name households and persons (register roles, audited), admins
    # draft, approve and publish; the public page serves published public versions, redacted
    ("GET", "/honours/vocabulary"): Rule(EVERYONE),
    ("GET", "/honours/lists"): Rule(REGISTER),
    ("POST", "/honours/lists"): Rule(ADMINS),
    ("GET", "/honours/lists/{list_id}"): Rule(REGISTER, audit="read"),
    ("POST", "/honours/lists/{list_id}/entries"): Rule(ADMINS),
    ("DELETE", "/honours/lists/{list_id}/entries/{entry_id}"): Rule(ADMINS),
    # the list page's remove button: the API's DELETE as a form post
    ("POST", "/honours/lists/{list_id}/entries/{entry_id}/remove"): Rule(ADMINS),
    ("POST", "/honours/lists/{list_id}/state"): Rule(ADMINS),
    ("POST", "/honours/lists/{list_id}/versions"): Rule(ADMINS),
    ("GET", "/honours/participation"): Rule(COUNTS),
    ("POST", "/honours/participation"): Rule(REGISTER),
    ("GET", "/public/honours"): Rule(PUBLIC),
    # evidence and the quarterly assessment (issue 16 part C, migration 027): the campaign's roles read
    # sheets, a community's quarter, its evidence, gaps and submissions (row-level security by area);
    # admins import sheets and freeze submissions; admins and grid workers add evidence (append-only).
    # The workbench's 考核 page shares GET /communities/{code}/assessment/{quarter}.
    ("GET", "/assessment/figures"): Rule(REGISTER | {"planner", "viewer"}),
    ("POST", "/assessment/sheets"): Rule(ADMINS),
    ("GET", "/assessment/sheets/new"): Rule(ADMINS),  # the workbench's import form (POSTs the path above)
    ("GET", "/assessment/sheets"): Rule(REGISTER | {"planner", "viewer"}),
    ("GET", "/assessment/sheets/{sheet_id}"): Rule(REGISTER | {"planner", "viewer"}),
    ("GET", "/communities/{code}/assessment/{quarter}"): Rule(REGISTER | {"planner", "viewer"}),
    ("GET", "/communities/{code}/assessment/{quarter}/evidence"): Rule(REGISTER | {"planner", "viewer"}),
    ("POST", "/communities/{code}/assessment/{quarter}/evidence"): Rule(REGISTER),
    ("GET", "/communities/{code}/assessment/{quarter}/evidence/new"): Rule(REGISTER),
    ("GET", "/assessment/evidence/{evidence_id}/file"): Rule(REGISTER | {"planner", "viewer"}),
    ("GET", "/assessment/gaps"): Rule(REGISTER | {"planner", "viewer"}),
    ("GET", "/assessment/gaps.xlsx"): Rule(REGISTER | {"planner", "viewer"}),
    ("POST", "/communities/{code}/assessment/{quarter}/freeze"): Rule(ADMINS),
    ("GET", "/assessment/freezes"): Rule(REGISTER | {"planner", "viewer"}),
    ("GET", "/assessment/freezes/{freeze_id}"): Rule(REGISTER | {"planner", "viewer"}),
    # the bundle carries the records' photos (visits' too): the street's copy is for admins only
    ("GET", "/assessment/freezes/{freeze_id}/bundle.zip"): Rule(ADMINS),
    ("GET", "/assessment"): Rule(REGISTER | {"planner", "viewer"}),
    # the campaign's records in and out (issue 16, api/routes/campaign_exports.py): each import has the
    # writers of its table, each export the readers of the JSON route it mirrors (row-level security then
    # decides its rows alike); volunteer hours name residents and a full honour list households: audited
    ("POST", "/imports/campaign/facilities"): Rule(ADMINS),
    ("POST", "/imports/campaign/compounds"): Rule(ROADS_WRITE),
    ("GET", "/exports/campaign/facilities"): Rule(EVERYONE),
    ("GET", "/exports/campaign/roster"): Rule(ROADS_READ | {"unit"}),
    ("GET", "/exports/campaign/frontage"): Rule(ROADS_READ | {"inspector", "unit"}),
    ("GET", "/exports/campaign/compounds"): Rule(ROADS_READ | {"unit"}),
    ("GET", "/exports/campaign/volunteer-hours"): Rule(REGISTER, audit="export"),
    # the full list for the register's roles who see it, the public version (张**家) for every other role
    ("GET", "/exports/campaign/honours/{honour_list_id}"): Rule(EVERYONE, audit="export"),
    **{(method, path): Rule(REGISTER, audit="read" if method == "GET" else None)
       for path in ("/households/{household_id}/persons/new", "/persons/{person_id}/edit",
                    "/persons/{person_id}/move") for method in ("GET", "POST")},
    ("GET", "/stats"): Rule(COUNTS),
    ("GET", "/stats.xlsx"): Rule(COUNTS),  # the same figures as a workbook (统计表)
    # the workbench's 四清 dashboard (四清看板): figures only; its lists are GET /persons, /households
    ("GET", "/dashboard"): Rule(COUNTS),
    ("GET", "/grids/{code}/dashboard"): Rule(COUNTS),
    ("GET", "/communities/{code}/dashboard"): Rule(COUNTS),
    # import and export
    ("POST", "/imports/{layer}"): Rule(ADMINS, layer_param="layer", layers=IMPORT_LAYERS),
    ("GET", "/exports/{layer}"): Rule(ADMINS, layer_param="layer", layers=EXPORT_LAYERS),
    # the workbench's import pages (数据导入): the upload form for whoever may import some layer; a staged
    # upload's mapping, preview and result under the layer's own rule (the page posts share
    # POST /imports/{layer} above); the export page (数据导出) for whoever may export some layer
    ("GET", "/imports"): Rule(frozenset().union(*(r.roles for r in IMPORT_LAYERS.values()))),
    ("GET", "/imports/{layer}/staged"): Rule(ADMINS, layer_param="layer", layers=IMPORT_LAYERS),
    ("GET", "/exports"): Rule(frozenset().union(*(r.roles for r in EXPORT_LAYERS.values()))),
    # the maps (一图): a grid's or community's map shows members' names and tags
    ("GET", "/maps/"): Rule(EVERYONE),
    ("GET", "/maps/grids/{code}"): Rule(REGISTER, audit="read"),
    ("GET", "/maps/communities/{code}"): Rule(REGISTER, audit="read"),
    ("GET", "/maps/perimeter"): Rule(PERIMETER_READ),
    ("GET", "/maps/perimeter/schools/{school}"): Rule(PERIMETER_READ),
    ("GET", "/maps/roads"): Rule(ROADS_READ),
    # the street map (街道一图): grids and counts; households and places of a viewport on demand
    ("GET", "/maps/street/{code}"): Rule(COUNTS),
    ("GET", "/maps/street/{code}/households"): Rule(REGISTER, audit="read"),
    ("GET", "/maps/street/{code}/places"): Rule(PERIMETER_READ | REGISTER),
    # the wall maps (一图上墙) as PDF: public for who sees the map; the office profile is checked in
    # api/routes/wallmap.py (OFFICE) and audited
    ("GET", "/maps/grids/{code}/wall.pdf"): Rule(REGISTER, audit="read"),
    ("GET", "/maps/communities/{code}/wall.pdf"): Rule(REGISTER, audit="read"),
    ("GET", "/maps/perimeter/schools/{school}/wall.pdf"): Rule(PERIMETER_READ),
    ("GET", "/maps/street/{code}/sections.pdf"): Rule(ROADS_READ),
    # the school perimeter (校园周边200米) and inspections
    ("GET", "/perimeter/violations"): Rule(PERIMETER_READ),
    ("GET", "/perimeter/schools/{school}/violations"): Rule(PERIMETER_READ),
    ("GET", "/perimeter/licences"): Rule(PERIMETER_READ),  # 辖区证照齐全、亮证经营
    **_resource("/perimeter/rules", "{rule_id}", read=Rule(PERIMETER_READ), write=Rule(PERIMETER_WRITE)),
    ("POST", "/perimeter/rules/preview"): Rule(PERIMETER_WRITE),  # which schools a new rule changes
    # places and schools one at a time (GET /perimeter/places/{place} is the place page's row below);
    # the workbench's search (场所与学校), their forms, and the admins' rule book (周边规则)
    ("GET", "/perimeter/places"): Rule(PERIMETER_READ),
    ("POST", "/perimeter/places"): Rule(PERIMETER_WRITE),
    ("PUT", "/perimeter/places/{place}"): Rule(PERIMETER_WRITE),
    ("GET", "/perimeter/schools"): Rule(PERIMETER_READ),
    ("POST", "/perimeter/schools"): Rule(PERIMETER_WRITE),
    ("GET", "/perimeter/schools/{school}"): Rule(PERIMETER_READ),
    ("PUT", "/perimeter/schools/{school}"): Rule(PERIMETER_WRITE),
    ("GET", "/perimeter/directory"): Rule(PERIMETER_WRITE),
    **{(method, path): Rule(PERIMETER_WRITE) for method in ("GET", "POST")
       for path in ("/perimeter/places/new", "/perimeter/places/{place}/edit", "/perimeter/schools/new",
                    "/perimeter/schools/{school}/edit")},
    ("GET", "/perimeter/rulebook"): Rule(ADMINS),
    ("POST", "/perimeter/rulebook"): Rule(ADMINS),
    ("POST", "/perimeter/violations/record"): Rule(PERIMETER_WRITE),
    ("GET", "/perimeter/violations/recorded"): Rule(PERIMETER_READ),
    ("GET", "/perimeter/violations/recorded/{violation_id}"): Rule(PERIMETER_READ),
    ("PATCH", "/perimeter/violations/recorded/{violation_id}"): Rule(PERIMETER_WRITE),
    ("POST", "/perimeter/places/{place}/inspections"): Rule(PERIMETER_WRITE),
    ("GET", "/perimeter/places/{place}/inspections"): Rule(PERIMETER_READ),
    ("PUT", "/perimeter/inspections/{inspection_id}/photo"): Rule(PERIMETER_WRITE),
    # an inspection's photos (media store, migration 016): read through the inspection only, by those
    # who may read inspections; the images carry no EXIF (the JSON list has its time and position)
    ("POST", "/perimeter/inspections/{inspection_id}/photos"): Rule(PERIMETER_WRITE),
    ("GET", "/perimeter/inspections/{inspection_id}/photos"): Rule(PERIMETER_READ),
    ("GET", "/perimeter/inspections/{inspection_id}/photos/{sha256}"): Rule(PERIMETER_READ),
    ("GET", "/perimeter/inspections/{inspection_id}/photos/{sha256}/thumbnail"): Rule(PERIMETER_READ),
    # the workbench's place page (检查场所) and its inspection form (multipart, photos), and the
    # violation page with its workflow buttons (GET shares the path with the JSON route above)
    ("GET", "/perimeter/places/{place}"): Rule(PERIMETER_READ),
    ("POST", "/perimeter/violations/recorded/{violation_id}"): Rule(PERIMETER_WRITE),
    # responsibility road sections (路段管理责任制)
    ("GET", "/roads"): Rule(ROADS_READ),
    ("POST", "/roads/cut"): Rule(ROADS_WRITE),
    ("GET", "/roads/coverage"): Rule(ROADS_READ),
    # the planner's workbench (路段分配): the coverage report as XLSX, the cut page (its form posts to
    # POST /roads/cut as a form), the multi-section assign form, the unit's edit form
    ("GET", "/roads/coverage.xlsx"): Rule(ROADS_READ),
    ("GET", "/roads/cut"): Rule(ROADS_WRITE),
    ("POST", "/sections/assign"): Rule(ROADS_WRITE),
    ("POST", "/units/{unit_id}/edit"): Rule(ROADS_WRITE),
    ("GET", "/roads/unassigned"): Rule(ROADS_READ),
    ("GET", "/roads/overlaps"): Rule(ROADS_READ),
    ("GET", "/roads/frontage"): Rule(ROADS_READ),
    ("GET", "/sections"): Rule(ROADS_READ),
    ("GET", "/sections/{section_id}"): Rule(ROADS_READ),
    ("POST", "/sections/{section_id}/split"): Rule(ROADS_WRITE),
    ("GET", "/sections/{section_id}/assignments"): Rule(ROADS_READ),
    ("POST", "/sections/{section_id}/assignments"): Rule(ROADS_WRITE),
    ("GET", "/assignments/{assignment_id}"): Rule(ROADS_READ),
    ("POST", "/assignments/{assignment_id}/end"): Rule(ROADS_WRITE),
    # duties (值守, issue 16, migration 025): planners and admins define them, viewers read, a unit's
    # accounts ("unit") read and record their own unit's only (row-level security); 门前三包 agreements
    # are the planners', checked by them or by inspectors
    ("GET", "/duties"): Rule(ROADS_READ | {"unit"}),
    ("POST", "/duties"): Rule(ROADS_WRITE),
    ("GET", "/duties/roster"): Rule(ROADS_READ | {"unit"}),
    ("GET", "/duties/missed"): Rule(ROADS_READ | {"unit"}),
    ("GET", "/duties/{duty_id}"): Rule(ROADS_READ | {"unit"}),
    ("GET", "/duties/{duty_id}/records"): Rule(ROADS_READ | {"unit"}),
    ("POST", "/duties/{duty_id}/records"): Rule(ROADS_WRITE | {"unit"}),
    ("GET", "/frontage/agreements"): Rule(ROADS_READ | {"inspector", "unit"}),
    ("POST", "/frontage/agreements"): Rule(ROADS_WRITE),
    ("GET", "/frontage/agreements/{agreement_id}"): Rule(ROADS_READ | {"inspector", "unit"}),
    ("GET", "/frontage/agreements/{agreement_id}/checks"): Rule(ROADS_READ | {"inspector", "unit"}),
    ("POST", "/frontage/agreements/{agreement_id}/checks"): Rule(ROADS_WRITE | {"inspector"}),
    # unmanaged compounds (无人管理小区): planners and admins draw, import and pair them; the helper unit's
    # accounts record its tasks; viewers read the figures
    ("GET", "/compounds"): Rule(ROADS_READ | {"unit"}),
    ("POST", "/compounds"): Rule(ROADS_WRITE),
    ("POST", "/compounds/import"): Rule(ROADS_WRITE),
    ("GET", "/compounds/vocabulary"): Rule(ROADS_READ | {"unit"}),
    ("GET", "/compounds/overlaps"): Rule(ROADS_READ),
    ("GET", "/compounds/coverage"): Rule(ROADS_READ),
    ("GET", "/compounds/{compound_id}"): Rule(ROADS_READ | {"unit"}),
    ("GET", "/compounds/{compound_id}/helpers"): Rule(ROADS_READ | {"unit"}),
    ("POST", "/compounds/{compound_id}/helpers"): Rule(ROADS_WRITE),
    ("POST", "/compound-helpers/{helper_id}/end"): Rule(ROADS_WRITE),
    ("GET", "/compounds/{compound_id}/tasks"): Rule(ROADS_READ | {"unit"}),
    ("POST", "/compounds/{compound_id}/tasks"): Rule(ROADS_WRITE | {"unit"}),
    # the workbench forms of duties, 门前三包 and compounds (issue 16): the duty form and the compound upload
    # pages (their posts share the API's paths); the records' photos read through their record (RLS)
    ("GET", "/duties/new"): Rule(ROADS_WRITE),
    ("GET", "/compounds/new"): Rule(ROADS_WRITE),
    ("GET", "/duty-records/{record_id}/photos/{sha256}"): Rule(ROADS_READ | {"unit"}),
    ("GET", "/duty-records/{record_id}/photos/{sha256}/thumbnail"): Rule(ROADS_READ | {"unit"}),
    ("GET", "/frontage-checks/{check_id}/photos/{sha256}"): Rule(ROADS_READ | {"inspector", "unit"}),
    ("GET", "/frontage-checks/{check_id}/photos/{sha256}/thumbnail"): Rule(
        ROADS_READ | {"inspector", "unit"}),
    ("GET", "/compound-tasks/{task_id}/photos/{sha256}"): Rule(ROADS_READ | {"unit"}),
    ("GET", "/compound-tasks/{task_id}/photos/{sha256}/thumbnail"): Rule(ROADS_READ | {"unit"}),
    # units name contact persons and phones: only for those who assign sections
    **_resource("/units", "{unit_id}", read=Rule(ROADS_WRITE), write=Rule(ROADS_WRITE), updates=("PATCH",)),
    ("GET", "/units/{unit_id}/roster.xlsx"): Rule(ROADS_WRITE),
    # OGC API - Features and vector tiles (GIS clients): the documents for everyone, the features
    # per collection (personal collections only for the register roles)
    ("GET", "/ogc"): Rule(EVERYONE),
    ("GET", "/ogc/"): Rule(EVERYONE),
    ("GET", "/ogc/api"): Rule(EVERYONE),
    ("GET", "/ogc/conformance"): Rule(EVERYONE),
    ("GET", "/ogc/collections"): Rule(EVERYONE),
    ("GET", "/ogc/collections/{collection_id}"): Rule(EVERYONE),
    ("GET", "/ogc/collections/{collection_id}/queryables"): Rule(EVERYONE),
    ("GET", "/ogc/collections/{collection_id}/items"):
        Rule(ADMINS, layer_param="collection_id", layers=COLLECTIONS),
    ("GET", "/ogc/collections/{collection_id}/items/{feature_id}"):
        Rule(ADMINS, layer_param="collection_id", layers=COLLECTIONS),
    ("GET", "/tiles/{layer}/{z}/{x}/{y}.mvt"): Rule(ADMINS, layer_param="layer", layers=TILE_LAYERS),
    # a tile layer's TileJSON and tileset metadata: its extent is of the reader's rows, as its tiles
    ("GET", "/tiles/{layer}/tilejson.json"): Rule(ADMINS, layer_param="layer", layers=TILE_LAYERS),
    ("GET", "/tiles/{layer}/tileset"): Rule(ADMINS, layer_param="layer", layers=TILE_LAYERS),
}

# Routes that are not FastAPI operations: the OpenAPI document and its viewers, and the static
# Leaflet files the maps load. They hold no data.
PUBLIC_PATHS: frozenset[str] = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
PUBLIC_MOUNTS: tuple[str, ...] = ("/static/",)
