"""What the permission matrix sends: real objects for every path parameter, and for every write a
minimal valid body in the acting user's scope and one out of it, so that an allowed role is answered
2xx (or 409, a conflict with the data) and never a 422 that would pass for a refusal.

The objects beside the access world (roads, perimeter, workers): tests/access/matrix_world.py."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date, timedelta

from gis.demo.scoring import demo_sheet_xlsx
from tests.access.conftest import PASSWORD
from tests.access.matrix_world import ASSESSMENT, CAMPAIGN, TILE_ZOOM, Extras, tile_of

TODAY = date.today()
PNG = bytes.fromhex(  # a 1x1 PNG that decodes (photos are judged by their content)
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de000"
    "0000c49444154789c6338a1a1010002d4011905508fa40000000049454e44ae426082"
)


PNG_SHA256 = hashlib.sha256(PNG).hexdigest()


def path_values(w, ex: Extras, inside: bool, layer: str | None) -> dict[str, str]:
    """A real object for every path parameter, in the acting user's scope or out of it."""
    grid = w.g1 if inside else w.g3
    household = w.households[grid][0]
    features = {
        "communities": w.community if inside else w.other_community,
        "grids": grid,
        "households": household,
        "buildings": ex.building,
        "schools": ex.school,
        "places": ex.place_id,
        "road_sections": ex.section,
        "perimeter_violations": ex.violation,
        # the campaign's collections (issue 16): the world's compound and facility
        "compounds": getattr(w, "campaign", {}).get("compound_id", household),
        "facilities": CAMPAIGN.get(w.tag, {}).get("facility", household),
    }
    z, x, y = tile_of(ex.x0 + 0.005, ex.y0 + 0.002, TILE_ZOOM)
    return {
        k: str(v)
        for k, v in {
            "household_id": household,
            "person_id": w.key_persons[grid][0],
            "worker_id": ex.worker_in if inside else ex.worker_out,
            "school": ex.school,
            "place": ex.place,
            "rule_id": ex.rule,
            "violation_id": ex.violation,
            "inspection_id": ex.inspection,
            "sha256": PNG_SHA256,  # the photo tests/access/matrix_world.py links to ex.inspection
            "section_id": ex.section,
            "assignment_id": ex.assignment,
            "unit_id": ex.unit,
            "username": w.users["worker"].username,
            "feature_id": features.get(layer or "", household),
            "z": z,
            "x": x,
            "y": y,
            "layer": layer or "grids",
            "collection_id": layer or "grids",
            # issue 16 part B (facilities, volunteers, honour lists): tests/access/matrix_world.py CAMPAIGN
            **{f"{k}_id": v for k, v in CAMPAIGN[w.tag].items()},
            # reports (issue 14): the admin's noise report in g1, as a report and as a service request
            "report_id": ex.report,
            "service_request_id": ex.report,
            "service_code": "noise",
            # the reports' map, trend and 曝光台, the visits' leftovers (issue 14): a visit in g1 with the
            # photo, a published closed report, the visit policy's 'household' group (matrix_world.py)
            **getattr(ex, "field", {}),
            # duties and compounds (issue 16 part A): duty_id, compound_id, helper_id, agreement_id
            **getattr(w, "campaign", {}),
            # evidence and the quarterly assessment (issue 16 part C): the quarter, sheet, evidence item
            # and frozen submission of tests/access/matrix_world.py ASSESSMENT
            **ASSESSMENT.get(w.tag, {}),
        }.items()
    }


def _square(x: float, y: float, size: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]],
    }


def _geojson(features: list[tuple[dict, dict]]) -> bytes:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features],
        }
    ).encode()


def _csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def import_file(layer: str, w, ex: Extras, inside: bool, n: int) -> tuple[str, bytes, str]:
    """A one-row file for layer ``layer``, placed in the scope (g1, community A) or out of it (g3, B)."""
    tag = f"{w.tag}-imp{n}"
    street = w.street if inside else w.other_community[:9]
    grid, community = (w.g1, w.community) if inside else (w.g3, w.other_community)
    x = ex.x0 + (0.001 if inside else 0.051)
    y = ex.y0 + 0.012
    if layer == "communities":
        return (
            "c.geojson",
            _geojson(
                [
                    (
                        {"code": street + "077", "name": "new", "ref": tag},
                        _square(ex.x0 + (0.03 if inside else 0.08), ex.y0, 0.01),
                    )
                ]
            ),
            "application/geo+json",
        )
    if layer == "grids":
        return (
            "g.geojson",
            _geojson(
                [
                    (
                        {"code": community + "077", "community_code": community, "name": "new", "ref": tag},
                        _square(x, y, 0.0005),
                    )
                ]
            ),
            "application/geo+json",
        )
    if layer == "buildings":
        return (
            "b.geojson",
            _geojson([({"name": "new", "ref": tag}, _square(x, y, 0.0002))]),
            "application/geo+json",
        )
    if layer == "schools":
        return (
            "s.geojson",
            _geojson(
                [({"name": "new", "level": "primary", "ref": tag}, {"type": "Point", "coordinates": [x, y]})]
            ),
            "application/geo+json",
        )
    if layer == "roads":
        return (
            "r.geojson",
            _geojson(
                [
                    (
                        {"name": "new", "ref": tag},
                        {"type": "LineString", "coordinates": [[x, y], [x + 0.001, y]]},
                    )
                ]
            ),
            "application/geo+json",
        )
    rows = {
        "grid_workers": {"name": "new", "grid_codes": grid, "ref": tag},
        "households": {"ref": tag, "address": "new road", "lon": x + 0.003, "lat": y},
        "persons": {"household_ref": f"{w.tag}-{grid}-1", "name": "new person", "ref": tag},
        "places": {"ref": tag, "name": "new", "category": "bar", "lon": x, "lat": y},
        "licences": {"place_ref": ex.place, "kind": "business", "ref": tag},
        "units": {"name": f"new unit {tag}", "ref": tag},
        # the campaign's layers (issue 16): a facility owned by the community it stands in, and a compound
        "facilities": {"类型": "宣传栏", "名称": tag, "所属社区编码": community, "经度": x, "纬度": y},
        "compounds": {"编号": tag, "名称": "new",
                      "wkt": f"POLYGON(({x} {y},{x + 0.0005} {y},{x + 0.0005} {y + 0.0005},{x} {y}))"},
    }[layer]
    return f"{layer}.csv", _csv([rows]), "text/csv"


def write_request(
    method: str, template: str, w, ex: Extras, inside: bool, layer: str | None
) -> tuple[dict, bool] | None:
    """The keyword arguments of a valid write request and whether its body carries a scope (a place
    or a code the user may or may not write), or None for a route this table does not know."""
    grid, community = (w.g1, w.community) if inside else (w.g3, w.other_community)
    street = community[:9]
    household = w.households[grid][0]
    lon, lat, version = ex.households[household]
    person = w.key_persons[grid][0]
    spot = (ex.x0 + (0.005 if inside else 0.06), ex.y0 + 0.015)
    new_community = _square(ex.x0 + (0.03 if inside else 0.08), ex.y0, 0.01)
    sign_in = {"username": w.users["worker"].username, "password": PASSWORD}
    bodies: dict[tuple[str, str], tuple[dict, bool]] = {
        ("POST", "/auth/token"): ({"data": sign_in}, False),
        ("POST", "/login"): ({"data": sign_in}, False),
        ("POST", "/auth/revoke"): ({}, False),
        ("POST", "/logout"): ({}, False),  # with the bearer token: no CSRF form needed
        ("POST", "/communities"): (
            {"json": {"code": street + "078", "name": "new", "geometry": new_community}},
            True,
        ),
        ("PUT", "/communities/{code}"): (
            {"json": {"name": "renamed", "geometry": ex.geometry[community]}},
            False,
        ),
        ("DELETE", "/communities/{code}"): ({}, False),
        ("POST", "/grids"): (
            {
                "json": {
                    "code": community + "078",
                    "community_code": community,
                    "name": "new",
                    "geometry": _square(spot[0] - 0.004 if inside else spot[0], ex.y0 + 0.01, 0.0005),
                }
            },
            True,
        ),
        ("PUT", "/grids/{code}"): ({"json": {"name": "renamed", "geometry": ex.geometry[grid]}}, False),
        ("DELETE", "/grids/{code}"): ({}, False),
        ("POST", "/grids/{code}/workers"): (
            {"json": {"worker_id": ex.worker_out if inside else ex.worker_in}},
            False,
        ),
        ("DELETE", "/grids/{code}/workers/{worker_id}"): ({}, False),
        ("POST", "/grid-workers"): ({"json": {"name": "new worker", "grids": [grid]}}, True),
        ("POST", "/households"): ({"json": {"address": "new road 1", "lon": spot[0], "lat": spot[1]}}, True),
        ("PUT", "/households/{household_id}"): (
            {"json": {"address": "road 9", "lon": lon, "lat": lat, "version": version}},
            False,
        ),
        ("PATCH", "/households/{household_id}"): ({"json": {"room": "9", "version": version}}, False),
        # the workbench's edit form (a bearer token needs no CSRF token)
        ("POST", "/households/{household_id}"): ({"data": {"room": "8", "version": version}}, False),
        ("DELETE", "/households/{household_id}"): ({}, False),
        ("POST", "/persons"): ({"json": {"household_id": household, "name": "new person"}}, True),
        ("PUT", "/persons/{person_id}"): (
            {
                "json": {
                    "household_id": ex.persons[person][0],
                    "name": "renamed",
                    "relation": "head",
                    "key_person": "petitioner",
                    "version": ex.persons[person][1],
                }
            },
            False,
        ),
        ("PATCH", "/persons/{person_id}"): (
            {"json": {"name": "renamed", "version": ex.persons[person][1]}},
            False,
        ),
        ("DELETE", "/persons/{person_id}"): ({}, False),
        ("POST", "/perimeter/rules"): (
            {
                "json": {
                    "region": w.street,
                    "category": "bar",
                    "school_levels": ["primary"],
                    "distance_m": 100,
                    "kind": "forbidden",
                }
            },
            False,
        ),
        ("PUT", "/perimeter/rules/{rule_id}"): (
            {
                "json": {
                    "region": w.street,
                    "category": "internet_cafe",
                    "school_levels": ["primary"],
                    "distance_m": 150,
                    "kind": "forbidden",
                }
            },
            False,
        ),
        ("DELETE", "/perimeter/rules/{rule_id}"): ({}, False),
        ("POST", "/perimeter/violations/record"): ({"params": {"school": str(ex.school)}}, False),
        ("PATCH", "/perimeter/violations/recorded/{violation_id}"): (
            {"json": {"status": "notified"}},
            False,
        ),
        ("POST", "/perimeter/places/{place}/inspections"): (
            {"json": {"result": "compliant"}},
            False,
        ),
        ("PUT", "/perimeter/inspections/{inspection_id}/photo"): (
            {"files": {"file": ("p.png", PNG, "image/png")}},
            False,
        ),
        ("POST", "/perimeter/inspections/{inspection_id}/photos"): (
            {"files": [("photos", ("p.png", PNG, "image/png"))]},
            False,
        ),
        ("POST", "/perimeter/violations/recorded/{violation_id}"): ({"data": {"status": "notified"}}, False),
        ("POST", "/roads/cut"): (
            {"json": {"method": "max_length", "max_length_m": 500, "roads": [ex.road]}},
            False,
        ),
        ("POST", "/sections/{section_id}/split"): (
            {"json": {"lon": ex.x0 + 0.01, "lat": ex.y0 + 0.01}},
            False,
        ),
        ("POST", "/sections/{section_id}/assignments"): (
            {"json": {"unit_id": ex.spare_unit, "valid_from": str(TODAY + timedelta(days=4000))}},
            False,
        ),
        ("POST", "/assignments/{assignment_id}/end"): ({"json": {"valid_to": str(TODAY)}}, False),
        ("POST", "/units"): ({"json": {"name": f"{w.tag} new unit"}}, False),
        ("PATCH", "/units/{unit_id}"): ({"json": {"contact": "Li"}}, False),
        ("DELETE", "/units/{unit_id}"): ({}, False),
        # places, schools and rules (场所、学校、规则): the stale versions answer 409, decided
        ("POST", "/perimeter/places"): (
            {"json": {"name": "new shop", "category": "bar", "lon": spot[0], "lat": spot[1]}}, True),
        ("PUT", "/perimeter/places/{place}"): (
            {"json": {"name": "renamed", "category": "bar", "lon": spot[0], "lat": spot[1],
                      "version": "stale"}}, False),
        ("POST", "/perimeter/schools"): (
            {"json": {"name": "new school", "level": "primary",
                      "geometry": _square(spot[0], spot[1], 0.001)}}, True),
        ("PUT", "/perimeter/schools/{school}"): (
            {"json": {"name": "renamed", "level": "primary", "geometry": _square(spot[0], spot[1], 0.001),
                      "version": "stale"}}, False),
        ("POST", "/perimeter/rules/preview"): (
            {"json": {"region": w.street, "category": "bar", "school_levels": ["primary"], "distance_m": 100,
                      "kind": "forbidden"}}, False),
        ("POST", "/perimeter/places/new"): (
            {"data": {"name": "new shop", "category": "bar", "lon": str(spot[0]),
                      "lat": str(spot[1])}}, True),
        ("POST", "/perimeter/places/{place}/edit"): (
            {"data": {"name": "x", "category": "bar", "lon": str(spot[0]), "lat": str(spot[1]),
                      "version": "stale"}}, False),
        ("POST", "/perimeter/schools/new"): (
            {"data": {"name": "new school", "level": "primary",
                      "geometry": json.dumps(_square(spot[0], spot[1], 0.001))}}, True),
        ("POST", "/perimeter/schools/{school}/edit"): (
            {"data": {"name": "x", "level": "primary",
                      "geometry": json.dumps(_square(spot[0], spot[1], 0.001)), "version": "stale"}}, False),
        ("POST", "/perimeter/rulebook"): (
            {"data": {"region": w.street, "category": "bar", "school_levels": "primary", "distance_m": "100",
                      "kind": "forbidden", "action": "preview"}}, False),
        # the planner's forms (路段分配, 责任单位)
        ("POST", "/sections/assign"): ({"data": {"section_id": str(ex.section), "unit_id": str(ex.spare_unit),
                                                 "valid_from": str(TODAY + timedelta(days=5000))}}, False),
        ("POST", "/units/{unit_id}/edit"): ({"data": {"name": f"{w.tag} unit", "contact": "Li"}}, False),
        # accounts (用户与授权): the two revokes answer 409 (her last grant), which counts as decided
        ("POST", "/users"): (
            {"json": {"username": f"{w.tag}-made", "password": PASSWORD, "role": "viewer",
                      "scope": street}}, True),
        ("PATCH", "/users/{username}"): ({"json": {"full_name": "renamed"}}, False),
        ("POST", "/users/{username}"): ({"data": {"full_name": "renamed"}}, False),
        ("POST", "/users/{username}/password"): ({"json": {"password": PASSWORD}}, False),
        ("POST", "/users/{username}/grants"): ({"json": {"role": "viewer", "scope": community}}, True),
        ("DELETE", "/users/{username}/grants"): ({"params": {"role": "grid_worker", "scope": w.g1}}, False),
        ("POST", "/users/{username}/grants/revoke"): (
            {"data": {"role": "grid_worker", "scope": w.g1}}, False),
        # accounts behind field work (issue 14, who acted): the grid worker of g1 is linked to the worker
        # record serving g1 (out of scope: g3's); she holds no unit role, so a unit link answers 409
        ("PUT", "/grid-workers/{worker_id}/account"): (
            {"json": {"username": w.users["worker"].username}}, False),
        ("DELETE", "/grid-workers/{worker_id}/account"): ({}, False),
        # the worker's public service phone (issue 14/15 leftovers): JSON and the directory's form
        ("PUT", "/grid-workers/{worker_id}/service-phone"): (
            {"json": {"service_phone": "0731-84567890"}}, False),
        ("POST", "/grid-workers/{worker_id}/service-phone"): (
            {"data": {"service_phone": "0731-84567891"}}, False),
        # the worker's own fields and her removal (w3 guards, migration 038): scoped by her grids
        ("PATCH", "/grid-workers/{worker_id}"): ({"json": {"name": "renamed worker"}}, False),
        ("DELETE", "/grid-workers/{worker_id}"): ({}, False),
        ("PUT", "/users/{username}/unit"): ({"json": {"unit_id": ex.unit}}, False),
        ("DELETE", "/users/{username}/unit"): ({}, False),
        ("POST", "/users/{username}/unit"): ({"data": {"unit_id": str(ex.unit)}}, False),
        ("POST", "/users/{username}/worker"): ({"data": {"worker_id": str(ex.worker_in)}}, False),
        # moves (迁入迁出): a head leaving names the new head
        ("POST", "/households/{household_id}/move-in"): (
            {"json": {"name": "new person", "relation": "other"}}, False),
        ("POST", "/persons/{person_id}/move-out"): (
            {"json": {"version": ex.persons[person][1], "new_head_id": w.persons[grid][1]}}, False),
        ("POST", "/persons/{person_id}/transfer"): (
            {"json": {"household_id": w.households[grid][1], "relation": "other",
                      "version": ex.persons[person][1], "new_head_id": w.persons[grid][1]}}, False),
        # reports (issue 14): filed anywhere by whoever may file (the reporter stamped); the admin's
        # noise report in g1 accepted by its dispatchers (an admin over it, g1's worker)
        ("POST", "/reports"): ({"json": {"category": "noise", "lon": spot[0], "lat": spot[1]}}, False),
        ("POST", "/reports/{report_id}/transitions"): ({"json": {"action": "accept"}}, False),
        # 曝光台 (issue 14): publishing the open noise report is a conflict (409: not closed); the published
        # closed report taken down; the visit policy's 'household' group set to its interval (no change)
        ("POST", "/reports/{report_id}/exposure"): (
            {"json": {"title": "t", "public_text": "text", "redaction_note": "checked"}}, False),
        ("POST", "/exposure/{exposure_id}/unpublish"): ({"json": {"note": "n"}}, False),
        ("PUT", "/visits/policy/{group_code}"): ({"json": {"interval_days": 365}}, False),
        ("POST", "/visits/policy/{group_code}"): ({"data": {"interval_days": "365"}}, False),
        ("POST", "/open311/v2/requests.json"): (
            {"data": {"service_code": "noise", "lat": str(spot[1]), "long": str(spot[0])}}, False),
        # issue 16 part B: a facility where the user's community is (out of scope: the other street's);
        # a session; photos; a team in the user's community; an outsider joining; an activity with hours;
        # a drafted list of households with a red entry; the list approved; households taking part
        ("POST", "/facilities"): ({"json": {"kind": "notice_board", "name": "宣传栏", "lon": spot[0],
                                            "lat": spot[1], "owner_community": community}}, True),
        ("PATCH", "/facilities/{facility_id}"): ({"json": {"name": "renamed"}}, False),
        ("POST", "/facilities/{facility_id}/sessions"): (
            {"json": {"held_on": TODAY.isoformat(), "topic": "t", "attendance": 3}}, False),
        ("POST", "/facility-sessions/{session_id}/photos"): (
            {"files": {"photos": ("p.png", PNG, "image/png")}},
                                                             False),
        ("POST", "/volunteers/teams"): ({"json": {"name": "new team", "scope": community}}, True),
        ("POST", "/volunteers/teams/{team_id}/members"): (
            {"json": {"name": "outsider", "phone": "13800000000"}},
                                                          False),
        ("POST", "/volunteers/members/{member_id}/leave"): ({"json": {}}, False),
        ("POST", "/volunteers/teams/{team_id}/activities"): (
            {"json": {"held_on": TODAY.isoformat(), "title": "t",
                      "hours": [{"member_id": CAMPAIGN[w.tag]["outsider"], "hours": 2}]}}, False),
        ("POST", "/honours/lists"): ({"json": {"kind": "civilised_household", "scope": community,
                                               "series": "matrix", "title": "t"}}, True),
        ("POST", "/honours/lists/{list_id}/entries"): (
            {"json": {"colour": "red", "household_id": w.households[w.g1][2]}}, False),
        ("DELETE", "/honours/lists/{list_id}/entries/{entry_id}"): ({}, False),
        ("POST", "/honours/lists/{list_id}/state"): ({"json": {"action": "approve", "public": True}}, False),
        ("POST", "/honours/lists/{list_id}/versions"): ({"json": {}}, False),
        ("POST", "/honours/participation"): (
            {"json": {"year": TODAY.year, "household_ids": [household]}}, False),
        # issue 16's workbench forms: the facility's edit form (its PATCH as a form post), an entry removed
        # by the list page's button (its DELETE as a form post)
        ("POST", "/facilities/{facility_id}"): ({"data": {"name": "renamed by the form"}}, False),
        ("POST", "/honours/lists/{list_id}/entries/{entry_id}/remove"): ({"data": {"csrf_token": ""}}, False),
        # duties and compounds (issue 16 part A): the matrix's duty is weekly on Fridays from 60 days
        # back, its compound helped from 30 days back (tests/duties/campaign_world.py)
        ("POST", "/duties"): (
            {"json": {"name": "duty", "unit_id": ex.unit, "recurrence": "weekly", "weekday": 5,
                      "section_id": ex.section, "valid_from": str(TODAY)}}, False),
        ("POST", "/duties/{duty_id}/records"): (
            {"json": {"duty_day": str(TODAY - timedelta(days=(TODAY.isoweekday() - 5) % 7 + 7)),
                      "status": "done"}}, False),
        ("POST", "/frontage/agreements"): (
            {"json": {"shop_name": "shop", "lon": spot[0], "lat": spot[1], "owner": "Wang",
                      "valid_from": str(TODAY)}}, False),
        ("POST", "/frontage/agreements/{agreement_id}/checks"): (
            {"json": {"checked_on": str(TODAY - timedelta(days=1)), "result": "pass"}}, False),
        ("POST", "/compounds"): (
            {"json": {"name": "compound", "geometry": _square(spot[0], spot[1], 0.001)}}, False),
        ("POST", "/compounds/import"): (
            {"files": {"file": ("c.geojson",
                                _geojson([({"name": "compound"}, _square(spot[0], spot[1], 0.001))]),
                                "application/geo+json")}}, False),
        ("POST", "/compounds/{compound_id}/helpers"): (
            {"json": {"unit_id": ex.spare_unit, "valid_from": str(TODAY - timedelta(days=400)),
                      "valid_to": str(TODAY - timedelta(days=300))}}, False),
        ("POST", "/compound-helpers/{helper_id}/end"): ({"json": {"valid_to": str(TODAY)}}, False),
        ("POST", "/compounds/{compound_id}/tasks"): (
            {"json": {"kind": "greening", "title": "hedge", "done_on": str(TODAY - timedelta(days=1))}},
            False),
        # the campaign's records in (issue 16, api/routes/campaign_exports.py): a facility at the spot of the
        # user's community (out of scope: the other street's, which row-level security refuses) and a compound
        ("POST", "/imports/campaign/facilities"): (
            {"files": {"file": ("facilities.csv",
                                _csv([{"类型": "宣传栏", "名称": "宣传栏", "所属社区编码": community,
                                       "经度": spot[0], "纬度": spot[1]}]), "text/csv")}},
            True),
        ("POST", "/imports/campaign/compounds"): (
            {"files": {"file": ("compounds.geojson",
                                _geojson([({"名称": "小区"}, _square(spot[0], spot[1], 0.001))]),
                                "application/geo+json")}}, False),
        # visits (走访): a check-in at the household, from right beside it
        # evidence and the quarterly assessment (issue 16 part C): a sheet of the user's street (out of
        # scope: the other street's) for a quarter nobody imported; a photo as evidence of item 1; the
        # freeze (the matrix's community is frozen already: 409, a conflict with the data)
        ("POST", "/assessment/sheets"): (
            {"files": {"file": ("s.xlsx", demo_sheet_xlsx(), "application/octet-stream")},
             "data": {"quarter": "2031Q1", "scope": street, "title": "t"}}, True),
        ("POST", "/communities/{code}/assessment/{quarter}/evidence"): (
            {"files": {"file": ("p.png", PNG, "image/png")}, "data": {"title": "t", "item_no": "1"}}, False),
        ("POST", "/communities/{code}/assessment/{quarter}/freeze"): ({"json": {}}, False),
        ("POST", "/households/{household_id}/visits"): (
            {"json": {"lon": lon, "lat": lat, "kind": "routine", "outcome": "met"}}, False),
        ("POST", "/households/{household_id}/persons/new"): (
            {"data": {"name": "new person", "relation": "other"}}, False),
        ("POST", "/persons/{person_id}/edit"): (
            {"data": {"name": "renamed", "relation": "head", "residence": "registered",
                      "version": str(ex.persons[person][1])}}, False),
        ("POST", "/persons/{person_id}/move"): (
            {"data": {"kind": "out", "version": str(ex.persons[person][1]),
                      "new_head_id": str(w.persons[grid][1])}}, False),
    }
    if template == "/imports/{layer}" and layer:
        name, content, media = import_file(layer, w, ex, inside, int(inside))
        return {"files": {"file": (name, content, media)}}, layer in (
            "communities",
            "grids",
            "buildings",
            "grid_workers",
            "households",
            "persons",
            "facilities",
        )
    return bodies.get((method, template))
