"""Import with the CLI, check with the CLI and over HTTP in every format, edit rules, record
inspections through a violation's life, and draw the maps; all against committed data."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
import shapely
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from PIL import Image
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from tests.perimeter.conftest import CHENZHOU, campus, offset

# CSV and XLSX: Chinese headers (Excel on a Chinese PC), the CSV after a UTF-8 BOM
HEADER = "场所编号,场所名称,类别,地址,学校编号,学校名称,违反规则,距离（米）,证照状态,经度,纬度"
DAY = "2026-06-01"


def _north(poly: shapely.Polygon, metres: float) -> tuple[float, float]:
    minx, _, maxx, maxy = poly.bounds
    return offset((minx + maxx) / 2, maxy, 0, metres)


@pytest.fixture(scope="module")
def city(perimeter_url, tmp_path_factory):
    """Schools (GeoJSON) and places (CSV) imported with `gridmap import`, committed."""
    import psycopg

    with psycopg.connect(perimeter_url) as c:
        c.execute("TRUNCATE violation_event, violation, inspection_photo, inspection, licence, place, school"
                  " RESTART IDENTITY CASCADE")
        c.execute("DELETE FROM perimeter_rule WHERE region <> 'national' OR distance_m <> 200")
    folder = tmp_path_factory.mktemp("city")
    s1, s2 = campus(*CHENZHOU), campus(*offset(*CHENZHOU, 90, 2000))
    kg = offset(*CHENZHOU, 90, 4000)
    features = [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g),
         "properties": {"id": ref, "name": name, "level": level}}
        for ref, name, level, g in [("S1", "一小 No. 1 Primary", "小学", s1),
                                    ("S2", "二中 No. 2 Middle", "middle", s2),
                                    ("S3", "幼儿园 Kindergarten", "kindergarten", shapely.Point(kg))]
    ]
    (folder / "schools.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    rows = [
        ("P1", "星空网吧", "网吧", *_north(s1, 50), "", ""),
        ("P2", "Corner food", "food_shop", *_north(s2, 120), "2026-05-01", "yes"),
        ("P3", "Good food", "food_shop", *_north(s2, 100), "2027-01-01", "yes"),
        ("P4", "Noodles", "restaurant", *_north(s1, 10), "", ""),
        ("P5", "Far cafe", "internet_cafe", *_north(s1, 300), "", ""),
        ("P6", "Kids cafe", "internet_cafe", *offset(*kg, 0, 50), "", ""),
    ]
    with open(folder / "places.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "name", "category", "lon", "lat", "licence_valid_until", "licence_displayed"])
        writer.writerows(rows)
    return folder


@pytest.fixture
def runner(perimeter_url, monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDMAP_DATABASE_URL", perimeter_url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return CliRunner()


@pytest.fixture(scope="module")
def imported(city, perimeter_url):
    import os

    old = os.environ.get("GRIDMAP_DATABASE_URL")
    os.environ["GRIDMAP_DATABASE_URL"] = perimeter_url
    try:
        r = CliRunner().invoke(cli, ["import", "schools", str(city / "schools.geojson"), "--id-field", "id"])
        assert r.exit_code == 0, r.output
        r = CliRunner().invoke(cli, ["import", "places", str(city / "places.csv"), "--id-field", "id",
                                     "--category-field", "category"])
        assert r.exit_code == 0, r.output
    finally:
        if old is None:
            os.environ.pop("GRIDMAP_DATABASE_URL")
        else:
            os.environ["GRIDMAP_DATABASE_URL"] = old
    return city


@pytest.fixture
def client(imported, perimeter_settings, perimeter_url):
    from tests.conftest import sign_in_admin  # every route needs a signed-in user

    token = sign_in_admin(perimeter_url, perimeter_settings)
    with TestClient(create_app(perimeter_settings), headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


@pytest.fixture
def undo_violation_life(perimeter_url):
    """After the violation's life: no recorded violations or inspections, and P2 without the renewed
    licence it imported, so the other tests see the city as imported whatever order they run in."""
    yield
    import psycopg

    with psycopg.connect(perimeter_url) as c:
        # CASCADE: honour list entries (migration 026) point at violations as their evidence
        c.execute("TRUNCATE violation_event, violation, inspection_photo, inspection"
                  " RESTART IDENTITY CASCADE")
        c.execute("DELETE FROM licence WHERE number = 'JY1'")


def test_cli_check_csv(imported, runner):
    result = runner.invoke(cli, ["check", "perimeter", "--format", "csv", "--date", DAY])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("\ufeff")
    lines = result.stdout.lstrip("\ufeff").splitlines()
    assert lines[0] == HEADER
    rows = list(csv.DictReader(io.StringIO(result.stdout.lstrip("\ufeff"))))
    assert [(r["场所编号"], r["学校编号"]) for r in rows] == [("P1", "S1"), ("P2", "S2")]
    assert float(rows[0]["距离（米）"]) == pytest.approx(50, abs=0.01)
    assert rows[0]["违反规则"] == "网吧：200 米内禁止（校园边界，全国）"
    assert rows[0]["场所名称"] == "星空网吧" and rows[0]["类别"] == "网吧"


def test_cli_check_json_geojson_and_bad_date(imported, runner, tmp_path):
    result = runner.invoke(cli, ["check", "perimeter", "--format", "geojson", "--date", DAY])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["features"]) == 2
    result = runner.invoke(cli, ["check", "perimeter", "--format", "json", "--date", "2027-06-01"])
    body = json.loads(result.stdout)
    assert body["count"] == 3  # P3's licence has expired by then
    result = runner.invoke(cli, ["check", "perimeter", "--date", "01/06/2026"])
    assert result.exit_code == 2 and "not a date" in result.output
    out = tmp_path / "v.xlsx"
    result = runner.invoke(cli, ["check", "perimeter", "--format", "xlsx", "--date", DAY,
                                 "--output", str(out)])
    assert result.exit_code == 0 and load_workbook(out).active["A2"].value == "P1"


def test_api_formats(client):
    r = client.get("/perimeter/violations", params={"date": DAY})
    assert r.status_code == 200 and r.json()["count"] == 2
    v = r.json()["violations"][0]
    assert {"place_ref", "school_ref", "rule", "distance_m", "licence_state", "lon", "lat"} <= v.keys()
    r = client.get("/perimeter/violations", params={"date": DAY, "format": "geojson"})
    assert r.headers["content-type"].startswith("application/geo+json")
    assert [f["properties"]["place_ref"] for f in r.json()["features"]] == ["P1", "P2"]
    r = client.get("/perimeter/violations", params={"date": DAY, "format": "csv"})
    assert r.headers["content-type"].startswith("text/csv") and r.content.startswith(b"\xef\xbb\xbf")
    assert r.content.decode("utf-8-sig").splitlines()[0] == HEADER
    r = client.get("/perimeter/violations", params={"date": DAY, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(r.content)).active
    header = [c.value for c in sheet[1]]
    assert header[:11] == HEADER.split(",")
    assert sheet["A3"].value == "P2" and sheet["I3"].value == "证照过期"
    assert sheet.cell(3, header.index("证照状态代码") + 1).value == "expired"


def test_api_scopes_and_errors(client):
    r = client.get("/perimeter/schools/S2/violations", params={"date": DAY})
    assert [v["place_ref"] for v in r.json()["violations"]] == ["P2"]
    r = client.get("/perimeter/violations", params={"school": "nope"})
    assert r.status_code == 404 and r.json()["detail"]
    assert client.get("/perimeter/violations", params={"date": "2026-13-01"}).status_code == 422
    assert client.get("/perimeter/violations", params={"format": "pdf"}).status_code == 422
    r = client.get("/perimeter/violations", params={"community": "431002001999"})
    assert r.status_code == 404
    r = client.get("/perimeter/violations", params={"school": "S1", "grid": "431002001001001"})
    assert r.status_code == 422


def test_rules_are_editable(client):
    rules = client.get("/perimeter/rules").json()
    assert {(r["category"], r["kind"]) for r in rules} >= {("internet_cafe", "forbidden"),
                                                          ("food_shop", "licence_required")}
    bad = client.post("/perimeter/rules", json={"category": "casino", "school_levels": ["nursery"],
                                                "distance_m": -5, "kind": "forbidden", "region": "Hunan"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"category", "school_levels", "distance_m", "region"}
    new = {"region": "43", "category": "internet_cafe", "school_levels": ["kindergarten"], "distance_m": 100,
           "kind": "forbidden"}
    r = client.post("/perimeter/rules", json=new)
    assert r.status_code == 201, r.text
    rule_id = r.json()["id"]
    assert client.post("/perimeter/rules", json=new).status_code == 409
    # No community places the kindergarten in Hunan (43): only national rules apply to it.
    assert client.get("/perimeter/violations", params={"date": DAY}).json()["count"] == 2
    r = client.put(f"/perimeter/rules/{rule_id}", json={**new, "region": "national"})
    assert r.status_code == 200 and r.json()["region"] == "national"
    body = client.get("/perimeter/violations", params={"date": DAY}).json()
    refs = [v["place_ref"] for v in body["violations"]]
    assert refs == ["P1", "P6", "P2"]  # ordered by distance: 50, 50 (point school), 120
    assert client.delete(f"/perimeter/rules/{rule_id}").status_code == 204
    assert client.delete(f"/perimeter/rules/{rule_id}").status_code == 404
    assert client.put("/perimeter/rules/999999", json=new).status_code == 404


def test_maps(client):
    r = client.get("/maps/perimeter", params={"date": DAY})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "违规场所" in page and "周边范围（实地距离）" in page  # the legend
    assert json.dumps("星空网吧")[1:-1] in page  # the popup, inside the layer's JSON
    assert "违规场所 2 处" in page
    assert "cdn.jsdelivr" not in page and "unpkg.com" not in page
    r = client.get("/maps/perimeter/schools/S1", params={"date": DAY})
    assert r.status_code == 200 and "一小" in r.text
    assert client.get("/maps/perimeter/schools/nope").status_code == 404


def test_inspections_and_violation_life(client, runner, imported, tmp_path, undo_violation_life):
    r = client.post("/perimeter/violations/record", params={"date": DAY})
    assert r.json() == {"found": 2, "opened": 2, "updated": 0}
    assert client.post("/perimeter/violations/record", params={"date": DAY}).json()["opened"] == 0
    recorded = {v["place_ref"]: v for v in client.get("/perimeter/violations/recorded").json()}
    food = recorded["P2"]["id"]
    r = client.patch(f"/perimeter/violations/recorded/{food}", json={"status": "notified"})
    assert r.status_code == 200 and r.json()["status"] == "notified"
    r = client.patch(f"/perimeter/violations/recorded/{food}", json={"status": "open"})
    assert r.status_code == 409
    # The shop says it fixed things, but its licence is still expired: the re-check reopens it.
    r = client.post("/perimeter/places/P2/inspections", params={"date": DAY},
                    json={"result": "rectified", "note": "says renewed"})
    assert r.status_code == 201 and r.json()["violation"]["status"] == "open"
    # The renewed licence arrives (import), the next visit finds it displayed: closed.
    (tmp_path / "lic.csv").write_text("place_ref,kind,number,valid_until,displayed\n"
                                      "P2,食品经营许可证,JY1,2027-06-01,是\n", encoding="utf-8")
    result = runner.invoke(cli, ["import", "licences", str(tmp_path / "lic.csv")])
    assert result.exit_code == 0, result.output
    client.patch(f"/perimeter/violations/recorded/{food}", json={"status": "notified"})
    r = client.post("/perimeter/places/P2/inspections", params={"date": DAY},
                    json={"result": "rectified", "licence_displayed": True})
    body = r.json()["violation"]
    assert body["status"] == "closed"
    assert [h["to_status"] for h in body["history"]] == ["open", "notified", "rectified", "open", "notified",
                                                         "rectified", "closed"]
    assert body["history"][-1]["note"] == "re-check: no longer violates"
    # Who acted is the signed-in user, never a name the client sends.
    me = client.get("/auth/me").json()["username"]
    assert {h["actor"] for h in body["history"][1:]} == {me}
    inspection = r.json()["inspection_id"]
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 30)).save(jpeg, "JPEG")
    r = client.put(f"/perimeter/inspections/{inspection}/photo",
                   files={"file": ("shop.jpg", jpeg.getvalue(), "image/jpeg")})
    sha = hashlib.sha256(jpeg.getvalue()).hexdigest()
    assert r.status_code == 200 and r.json()["photo"] == sha
    r = client.put(f"/perimeter/inspections/{inspection}/photo",
                   files={"file": ("x.jpg", b"\xff\xd8\xff fake jpeg", "image/jpeg")})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    inspected = client.get("/perimeter/places/P2/inspections").json()
    assert [i["result"] for i in inspected] == ["rectified"] * 2
    assert [i["inspector"] for i in inspected] == [me] * 2
    assert [p["sha256"] for p in inspected[-1]["photos"]] == [sha]
    assert client.get(f"/perimeter/inspections/{inspection}/photos/{sha}/thumbnail").status_code == 200
    for sent in ({"inspector": "x", "result": "compliant"}, {"result": "compliant", "actor": "x"}):
        r = client.post("/perimeter/places/P2/inspections", json=sent)
        assert r.status_code == 422, sent  # no client-named actor is accepted, not even ignored
    r = client.patch(f"/perimeter/violations/recorded/{food}", json={"status": "open", "actor": "x"})
    assert r.status_code == 422
    r = client.post("/perimeter/places/nope/inspections", json={"result": "compliant"})
    assert r.status_code == 404
