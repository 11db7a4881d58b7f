"""The road-section API end to end: import, cut, split, units, assignments, coverage, roster, map."""

from __future__ import annotations

import json
import uuid
from io import BytesIO

import psycopg
import pytest
from openpyxl import load_workbook


@pytest.fixture
def tag(database_url):
    """A prefix for the refs and names this test commits through the API; removed afterwards."""
    tag = "A" + uuid.uuid4().hex[:6].upper()
    yield tag
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM road WHERE ref LIKE %s", [f"{tag}%"])
        conn.execute("DELETE FROM responsible_unit WHERE name LIKE %s", [f"{tag}%"])


def _upload_roads(client, tag):
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"ref": f"{tag}-1", "name": "人民路"},
         "geometry": {"type": "LineString", "coordinates": [[112.70, 28.00], [112.72, 28.00]]}},
        {"type": "Feature", "properties": {"ref": f"{tag}-2", "name": "建设路"},
         "geometry": {"type": "LineString", "coordinates": [[112.71, 27.995], [112.71, 28.005]]}},
    ]}
    body = json.dumps(collection, ensure_ascii=False).encode()
    r = client.post("/imports/roads", files={"file": ("roads.geojson", body, "application/geo+json")})
    assert r.status_code == 200, r.text


def test_sections_assignments_coverage_roster_map(client, tag):
    _upload_roads(client, tag)
    refs = [f"{tag}-1", f"{tag}-2"]
    r = client.post("/roads/cut", json={"method": "intersections", "roads": refs})
    assert r.status_code == 200 and r.json()["created"] == 4
    r = client.get("/sections", params={"road": f"{tag}-1"})
    assert r.status_code == 200
    page = r.json()
    assert page["type"] == "FeatureCollection" and page["numberMatched"] == 2
    first = page["features"][0]["properties"]
    assert first["code"] == f"{tag}-1-001" and first["unit_id"] is None

    r = client.post("/units", json={"name": f"{tag} 市城管局", "kind": "government", "contact": "李四",
                                    "phone": "0736-7221234"})
    assert r.status_code == 201
    unit = r.json()["id"]
    r = client.post(f"/sections/{first['id']}/assignments",
                    json={"unit_id": unit, "valid_from": "2026-01-01"})
    assert r.status_code == 201 and r.json()["duty_day"] == 5
    assignment = r.json()["id"]

    # bad input: each a 4xx naming the field
    r = client.post(f"/sections/{first['id']}/assignments",
                    json={"unit_id": unit, "valid_from": "2027-01-01", "valid_to": "2026-12-31"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "valid_to"
    assignments = f"/sections/{first['id']}/assignments"
    r = client.post(assignments, json={"unit_id": 999999999, "valid_from": "2030-01-01"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "unit_id"
    r = client.post(assignments, json={"unit_id": unit, "valid_from": "2026-06-01"})
    assert r.status_code == 409 and "is held by" in r.json()["detail"]
    r = client.post(f"/sections/{first['id']}/split", json={"lon": 112.705, "lat": 28.01})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "point"
    r = client.post("/roads/cut", json={"method": "max_length"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "max_length_m"
    assert client.get("/sections/999999999").status_code == 404

    r = client.get(f"/sections/{first['id']}/assignments")
    assert r.status_code == 200 and [a["unit_id"] for a in r.json()] == [unit]
    r = client.post(f"/assignments/{assignment}/end", json={"valid_to": "2026-12-31"})
    assert r.status_code == 200 and r.json()["valid_to"] == "2026-12-31"

    r = client.get("/roads/coverage", params={"on": "2026-06-01"})
    assert r.status_code == 200
    report = r.json()
    assert report["total"]["assigned_m"] > 0 and report["total"]["sections"] >= 4

    r = client.get("/roads/unassigned", params={"on": "2026-06-01"})
    assert r.status_code == 200 and first["id"] not in {s["id"] for s in r.json()}
    r = client.get("/roads", params={"limit": 10000})
    assert r.status_code == 200 and {f"{tag}-1", f"{tag}-2"} <= {x["ref"] for x in r.json()["items"]}
    r = client.get("/roads/overlaps")
    assert r.status_code == 200 and isinstance(r.json(), list)
    r = client.get("/roads/frontage", params={"section_id": first["id"]})
    assert r.status_code == 200 and r.json() == []  # no shops along it
    assert client.get("/roads/frontage", params={"max_distance_m": 0}).status_code == 422

    r = client.get(f"/units/{unit}/roster.xlsx", params={"on": "2026-06-01"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxml")
    sheet = load_workbook(BytesIO(r.content))["值勤表 Roster"]
    assert sheet["A5"].value == f"{tag}-1-001"

    r = client.get("/maps/roads", params={"on": "2026-06-01"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert f"{tag} 市城管局" in r.text and "未分配 unassigned" in r.text
    assert "cdn" not in r.text.lower() and "unpkg" not in r.text.lower()

    r = client.delete(f"/units/{unit}")
    assert r.status_code == 409  # it held a section: its history is kept


def test_units_crud_and_errors(client, tag):
    r = client.post("/units", json={"name": f"{tag} 第一中学", "kind": "school"})
    assert r.status_code == 201
    unit = r.json()["id"]
    assert client.post("/units", json={"name": f"{tag} 第一中学"}).status_code == 409
    r = client.post("/units", json={"name": f"{tag} X", "kind": "alien"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"
    r = client.patch(f"/units/{unit}", json={"phone": "12"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "phone"
    r = client.patch(f"/units/{unit}", json={"contact": "王老师", "phone": "13800001111"})
    assert r.status_code == 200 and r.json()["contact"] == "王老师"
    assert any(u["id"] == unit for u in client.get("/units").json())
    assert client.delete(f"/units/{unit}").status_code == 204
    assert client.get(f"/units/{unit}").status_code == 404
    assert client.get("/units/99999999999999999999").status_code == 422
