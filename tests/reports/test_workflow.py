"""The report workflow through the API: routing on arrival, the whole journey (return with a reason,
overrule, handle with an after photo, verify by another account, close), forbidden steps (403, 409,
422, never 500), idempotent client ids, duplicate suggestions and who reads what."""

from __future__ import annotations

import io
import uuid

from PIL import Image

from tests.reports.conftest import ROAD_Y, X0, Y0

# 10 m north of the road: on the section (metres per degree of latitude ~ 110,700 at 26°N)
NEAR = (X0 + 0.003, ROAD_Y + 10 / 110_700)


def jpeg(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (seed % 256, 40, 90)).save(out, "JPEG")
    return out.getvalue()


def file(api, as_user, category="street_vending", where=NEAR, who="reporter", **extra):
    body = {"category": category, "lon": where[0], "lat": where[1], "description": "摊位占道",
            "client_id": uuid.uuid4().hex, **extra}
    return api.post("/reports", json=body, headers=as_user(who))


def step(api, as_user, who, report_id, action, **extra):
    return api.post(f"/reports/{report_id}/transitions", json={"action": action, **extra},
                    headers=as_user(who))


def test_a_street_matter_goes_to_the_unit_holding_the_section_today(api, as_user, world) -> None:
    r = file(api, as_user)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["owner_kind"] == "unit" and got["unit_id"] == world["units"]["b"]
    ev = got["routing"]
    assert ev["rule"] == "section" and ev["section_id"] == world["section"] and 9.9 < ev["distance_m"] < 10.1
    assert ev["unit_id"] == world["units"]["b"] and ev["grid_code"] == world["g1"]
    assert got["reporter"] == world["users"]["reporter"]  # her own
    assert [h["action"] for h in got["history"]] == ["file"]


def test_a_report_seen_before_the_change_goes_to_the_unit_of_that_day(api, as_user, world) -> None:
    from datetime import datetime, timedelta

    from tests.reports.conftest import CHANGE
    seen = datetime.combine(CHANGE - timedelta(days=1), datetime.min.time()).astimezone()
    r = file(api, as_user, reported_at=(seen.replace(hour=12)).isoformat())
    assert r.status_code == 201, r.text
    assert r.json()["unit_id"] == world["units"]["a"]


def test_grid_matters_skip_the_section_and_unstaffed_grids_go_to_the_community(api, as_user, world) -> None:
    r = file(api, as_user, category="noise")
    assert r.json()["owner_kind"] == "grid" and r.json()["grid_code"] == world["g1"]
    r = file(api, as_user, category="noise", where=(X0 + 0.015, Y0 + 0.002))  # g2 has no worker
    assert r.json()["owner_kind"] == "community" and r.json()["community_code"] == world["community"]
    r = file(api, as_user, category="noise", where=(X0 + 0.05, Y0 + 0.002))  # outside every community
    assert r.json()["owner_kind"] == "street" and r.json()["routing"]["rule"] == "nearest_community"
    assert r.json()["area_code"] == world["community"]


def test_the_whole_journey_with_a_return_and_an_overrule(api, as_user, world) -> None:
    rid = file(api, as_user).json()["id"]
    # the unit sees it in its queue, without the reporter's name
    queue = api.get("/reports", params={"state": "new"}, headers=as_user("unit_b")).json()
    mine = [x for x in queue["items"] if x["id"] == rid]
    assert mine and mine[0]["reporter"] is None
    assert api.get("/reports/" + str(rid), headers=as_user("unit_a")).status_code == 404  # not unit A's
    assert step(api, as_user, "unit_b", rid, "accept").status_code == 403  # the dispatcher's step
    assert step(api, as_user, "admin", rid, "accept").status_code == 200
    assert step(api, as_user, "admin", rid, "dispatch").json()["state"] == "dispatched"
    r = step(api, as_user, "unit_b", rid, "return")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = step(api, as_user, "unit_b", rid, "return", reason="no_such_reason")
    assert r.status_code == 422
    r = step(api, as_user, "unit_b", rid, "return", reason="not_our_section", note="不归我们")
    assert r.status_code == 200 and r.json()["state"] == "returned"
    got = r.json()
    assert got["history"][-1]["reason_zh"] == "不在本单位责任路段" and got["routing"]["section_id"]
    assert step(api, as_user, "admin", rid, "overrule").status_code == 422  # a note is needed
    r = step(api, as_user, "admin", rid, "overrule", note="路段确属贵单位")
    assert r.status_code == 200 and r.json()["unit_id"] == world["units"]["b"]
    assert step(api, as_user, "unit_b", rid, "sign").status_code == 200
    r = step(api, as_user, "unit_b", rid, "handle")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "photos"
    r = api.post(f"/reports/{rid}/transitions", data={"action": "handle"},
                 files=[("photos", ("after.jpg", jpeg(rid), "image/jpeg"))], headers=as_user("unit_b"))
    assert r.status_code == 200, r.text
    assert [p["kind"] for p in r.json()["photos"]] == ["after"]
    assert step(api, as_user, "unit_b", rid, "verify").status_code == 403  # not the dispatcher
    assert step(api, as_user, "admin", rid, "close").status_code == 409  # not verified yet
    assert step(api, as_user, "admin", rid, "verify").status_code == 200
    r = step(api, as_user, "admin2", rid, "close")
    assert r.status_code == 200 and r.json()["state"] == "closed" and not r.json()["open"]
    assert [h["action"] for h in r.json()["history"]] == [
        "file", "accept", "dispatch", "return", "overrule", "sign", "handle", "verify", "close"]
    assert step(api, as_user, "admin", rid, "accept").status_code == 409


def test_the_account_that_handled_may_not_verify(api, as_user, world) -> None:
    rid = file(api, as_user, category="noise").json()["id"]  # grid-owned: the worker dispatches and handles
    for action in ("accept", "dispatch", "sign"):
        assert step(api, as_user, "worker", rid, action).status_code == 200, action
    r = api.post(f"/reports/{rid}/transitions", data={"action": "handle"},
                 files=[("photos", ("a.jpg", jpeg(rid + 1), "image/jpeg"))], headers=as_user("worker"))
    assert r.status_code == 200, r.text
    r = step(api, as_user, "worker", rid, "verify")
    assert r.status_code == 403 and "handled" in r.json()["detail"]
    assert step(api, as_user, "admin", rid, "verify").status_code == 200


def test_forbidden_steps_are_refused_never_500(api, as_user, world) -> None:
    rid = file(api, as_user).json()["id"]
    assert step(api, as_user, "admin", rid, "sign").status_code in (403, 409)
    assert step(api, as_user, "admin", rid, "close").status_code == 409
    assert step(api, as_user, "admin", rid, "fly").status_code == 422
    assert step(api, as_user, "admin", rid, "accept", expected_state="dispatched").status_code == 409
    assert step(api, as_user, "admin", rid, "reject").status_code == 422  # say why
    assert step(api, as_user, "admin", rid, "duplicate").status_code == 422  # of what?
    assert step(api, as_user, "admin", rid, "duplicate", duplicate_of=rid).status_code == 422
    assert step(api, as_user, "admin", rid, "accept", reason="incomplete").status_code == 422
    assert step(api, as_user, "reporter", rid, "accept").status_code == 403  # policy: not her role
    assert step(api, as_user, "viewer", rid, "accept").status_code == 403
    assert step(api, as_user, "admin", 2**62, "accept").status_code == 404
    r = api.post("/reports", json={"category": "noise", "lon": 1, "lat": 1, "reporter": "someone"},
                 headers=as_user("reporter"))
    assert r.status_code == 422
    r = api.post("/reports", json={"category": "nope", "lon": 500, "lat": 1}, headers=as_user("reporter"))
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"category", "lon"}


def test_dispatch_to_another_owner(api, as_user, world) -> None:
    rid = file(api, as_user).json()["id"]
    step(api, as_user, "admin", rid, "accept")
    r = step(api, as_user, "admin", rid, "dispatch", owner_kind="unit", unit_id=world["units"]["a"])
    assert r.status_code == 200 and r.json()["unit_id"] == world["units"]["a"]
    assert r.json()["routing"]["unit_id"] == world["units"]["b"]  # the evidence stays as routed
    assert api.get(f"/reports/{rid}", headers=as_user("unit_a")).status_code == 200
    assert api.get(f"/reports/{rid}", headers=as_user("unit_b")).status_code == 404


def test_duplicate_of(api, as_user, world) -> None:
    first = file(api, as_user).json()["id"]
    second = file(api, as_user, who="reporter2").json()["id"]
    r = step(api, as_user, "admin", second, "duplicate", duplicate_of=first)
    assert r.status_code == 200 and r.json()["duplicate_of"] == first and not r.json()["open"]


def test_a_retry_with_the_same_client_id_stores_once(api, as_user, world) -> None:
    body = {"category": "litter", "lon": NEAR[0], "lat": NEAR[1], "client_id": uuid.uuid4().hex}
    a = api.post("/reports", json=body, headers=as_user("reporter"))
    b = api.post("/reports", json=body, headers=as_user("reporter"))
    assert (a.status_code, b.status_code) == (201, 200) and a.json()["id"] == b.json()["id"]
    c = api.post("/reports", json=body, headers=as_user("reporter2"))  # another reporter's own id space
    assert c.status_code == 201 and c.json()["id"] != a.json()["id"]


def test_duplicates_are_suggested_within_50_m_and_72_hours(api, as_user, world) -> None:
    from datetime import UTC, datetime, timedelta
    where = (X0 + 0.007, ROAD_Y + 0.002)
    first = file(api, as_user, category="graffiti", where=where).json()["id"]
    r = file(api, as_user, category="graffiti", where=(where[0] + 40 / 100_000, where[1]), who="reporter2")
    assert r.json()["duplicates"] == []  # suggestions are of reports the reader reads: not others' reports

    def suggested(answer) -> list[int]:  # as the admin (dispatcher) sees them
        return [d["id"] for d in api.get(f"/reports/{answer.json()['id']}", headers=as_user("admin")).json()[
            "duplicates"]]

    assert first in suggested(r)
    far = file(api, as_user, category="graffiti", where=(where[0] + 60 / 100_000, where[1]), who="reporter2")
    assert first not in suggested(far)  # 60 m x cos(26°) = 54 m
    other = file(api, as_user, category="litter", where=where, who="reporter2")
    assert first not in suggested(other)
    old = (datetime.now(UTC) - timedelta(hours=80)).isoformat()
    late = file(api, as_user, category="graffiti", where=where, who="reporter2", reported_at=old)
    assert first not in suggested(late)
    mine = file(api, as_user, category="graffiti", where=where)  # her own earlier report: suggested to her
    assert first in [d["id"] for d in mine.json()["duplicates"]]
    got = api.get(f"/reports/{first}", headers=as_user("admin")).json()
    assert r.json()["id"] in [d["id"] for d in got["duplicates"]]


def test_who_reads_what(api, as_user, world) -> None:
    rid = file(api, as_user, category="noise").json()["id"]
    seen = {name: api.get(f"/reports/{rid}", headers=as_user(name)) for name in
            ("reporter", "reporter2", "unit_a", "unit_b", "worker", "admin", "viewer")}
    assert {n for n, r in seen.items() if r.status_code == 200} == {"reporter", "worker", "admin", "viewer"}
    assert seen["admin"].json()["reporter"] == world["users"]["reporter"]
    assert seen["worker"].json()["reporter"] is None and seen["viewer"].json()["reporter"] is None
    assert seen["worker"].json()["history"][0]["actor"] is None
    listed = api.get("/reports", headers=as_user("reporter2")).json()["items"]
    assert rid not in [x["id"] for x in listed]


def test_open311(api, as_user, world) -> None:
    services = api.get("/open311/v2/services.json").json()
    assert {"service_code": "street_vending", "service_name": "占道经营"}.items() <= services[2].items() or \
        any(s["service_code"] == "street_vending" for s in services)
    assert api.get("/open311/v2/services/noise.json").json()["service_code"] == "noise"
    assert api.get("/open311/v2/services/nope.json").status_code == 404
    r = api.post("/open311/v2/requests.json", data={"service_code": "litter", "lat": str(NEAR[1]),
                                                    "long": str(NEAR[0]), "description": "纸屑"},
                 headers=as_user("reporter"))
    assert r.status_code == 201, r.text
    sid = r.json()[0]["service_request_id"]
    got = api.get(f"/open311/v2/requests/{sid}.json", headers=as_user("reporter")).json()[0]
    assert got["status"] == "open" and got["service_code"] == "litter" and abs(got["lat"] - NEAR[1]) < 1e-9
    assert {"requested_datetime", "updated_datetime", "long", "agency_responsible"} <= set(got)
    listed = api.get("/open311/v2/requests.json", params={"status": "open", "service_code": "litter"},
                     headers=as_user("reporter")).json()
    assert sid in [x["service_request_id"] for x in listed]
    assert api.get("/open311/v2/requests/abc.json", headers=as_user("reporter")).status_code == 404
