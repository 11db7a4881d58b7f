"""Households over HTTP: CRUD round trip, placement, CRS, swapped coordinates, paging, 404/409/422."""

from __future__ import annotations

import numpy as np
import pytest

from gis.crs import wgs84_to_gcj02

INJECTION = "'; DROP TABLE household;--"


@pytest.fixture
def d(two_grids):
    return two_grids()


def _post(client, d, dx=0.005, dy=0.01, **extra):
    body = {
        "address": "芙蓉路1号",
        "building": "1栋",
        "unit": "2单元",
        "room": "301",
        "lon": d["x0"] + dx,
        "lat": d["y0"] + dy,
        **extra,
    }
    return client.post("/households", json=body)


def test_crud_round_trip(client, d):
    r = _post(client, d)
    assert r.status_code == 201, r.text
    h = r.json()
    assert (
        h["grid_code"] == d["west"] and h["placement"] == "inside" and h["community_code"] == d["community"]
    )
    assert h["version"] == 1 and r.headers["etag"] == '"1"' and h["persons"] == []
    assert client.get(f"/households/{h['id']}").json()["address"] == "芙蓉路1号"

    # Moving the household re-assigns its grid in the same statement.
    r = client.patch(
        f"/households/{h['id']}", json={"lon": d["x0"] + 0.015, "lat": d["y0"] + 0.01, "version": 1}
    )
    assert r.status_code == 200, r.text
    assert r.json()["grid_code"] == d["east"] and r.json()["version"] == 2
    # If-Match instead of a body version; PUT replaces every field.
    r = client.put(
        f"/households/{h['id']}",
        headers={"If-Match": '"2"'},
        json={"address": "芙蓉路2号", "lon": d["x0"] + 0.03, "lat": d["y0"] + 0.01},
    )
    assert r.status_code == 200, r.text
    assert r.json()["placement"] == "outside" and r.json()["grid_code"] is None
    assert r.json()["building"] is None and r.json()["version"] == 3

    assert client.delete(f"/households/{h['id']}", headers={"If-Match": '"2"'}).status_code == 409
    assert client.delete(f"/households/{h['id']}").status_code == 204
    assert client.get(f"/households/{h['id']}").status_code == 404
    assert client.delete(f"/households/{h['id']}").status_code == 404


def test_stale_version_is_409_and_version_is_required(client, d):
    hid = _post(client, d).json()["id"]
    assert client.patch(f"/households/{hid}", json={"room": "302", "version": 1}).status_code == 200
    r = client.patch(f"/households/{hid}", json={"room": "303", "version": 1})
    assert r.status_code == 409 and "version 2" in r.json()["detail"]
    assert client.get(f"/households/{hid}").json()["room"] == "302"
    r = client.patch(f"/households/{hid}", json={"room": "303"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "version"
    r = client.patch(f"/households/{hid}", json={"room": "303"}, headers={"If-Match": "abc"})
    assert r.status_code == 422
    assert client.patch("/households/999999999", json={"room": "1", "version": 1}).status_code == 404


def test_border_and_crs(client, d):
    assert _post(client, d, dx=0.01).json()["placement"] == "border"
    lon, lat = d["x0"] + 0.005, d["y0"] + 0.01
    glon, glat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    r = client.post(
        "/households",
        json={"address": "火星坐标", "lon": float(glon[0]), "lat": float(glat[0]), "crs": "gcj02"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["lon"] == pytest.approx(lon, abs=1e-7) and r.json()["lat"] == pytest.approx(lat, abs=1e-7)
    r = client.post("/households", json={"address": "x", "lon": lon, "lat": lat, "crs": "EPSG:3857"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "crs"


def test_swapped_and_outside_coordinates_refused(client, d):
    r = _post(client, d, dx=0, dy=0, lon=d["y0"], lat=d["x0"])
    assert r.status_code == 422
    assert (
        r.json()["errors"][0]["field"] == "lon" and "lat/lon look swapped" in r.json()["errors"][0]["reason"]
    )
    r = _post(client, d, lon=2.35, lat=48.85)
    assert r.status_code == 422 and "swapped" not in r.json()["errors"][0]["reason"]
    assert _post(client, d, lon=1e308).status_code == 422
    for raw in ('{"address": "x", "lon": -1e400, "lat": 28.2}', '{"address": "x", "lon": NaN, "lat": 28.2}'):
        r = client.post("/households", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 422, r.text


def test_filters_and_paging(client, d):
    offsets = [0.001, 0.002, 0.003, 0.004, 0.005, 0.010, 0.015]
    ids = []
    for i, dx in enumerate(offsets, start=1):
        r = _post(client, d, dx=dx, address=f"测试路{i}号")
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    # Five in the west grid, one on the border (0.010), one in the east grid.
    r = client.get("/households", params={"grid": d["west"], "limit": 2, "offset": 0})
    assert r.json()["total"] == 6 and len(r.json()["items"]) == 2  # border belongs to the lowest code
    pages = [
        client.get("/households", params={"community": d["community"], "limit": 3, "offset": o}).json()
        for o in (0, 3, 6, 9)
    ]
    assert [len(p["items"]) for p in pages] == [3, 3, 1, 0] and {p["total"] for p in pages} == {7}
    assert [i["id"] for p in pages for i in p["items"]] == sorted(ids)
    r = client.get("/households", params={"community": d["community"], "placement": "border"})
    assert r.json()["total"] == 1 and r.json()["items"][0]["id"] == ids[5]
    r = client.get("/households", params={"community": d["community"], "q": "路7"})
    assert [i["id"] for i in r.json()["items"]] == [ids[6]]
    r = client.get("/households", params={"community": d["community"], "q": "%"})
    assert r.json()["total"] == 0  # % is a character, not a wildcard


@pytest.mark.parametrize(
    "params",
    [
        {"limit": -1},
        {"limit": 0},
        {"limit": 1001},
        {"offset": -5},
        {"limit": 10**30},
        {"grid": "12'; DROP TABLE grid;--"},
        {"community": "abc"},
        {"placement": "nowhere"},
    ],
)
def test_bad_list_parameters_are_422(client, params):
    r = client.get("/households", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["errors"] and r.json()["errors"][0]["field"]


def test_injection_strings_are_data(client, d):
    r = _post(client, d, address=INJECTION, room=INJECTION)
    assert r.status_code == 201 and r.json()["address"] == INJECTION
    r = client.get("/households", params={"q": INJECTION, "community": d["community"]})
    assert r.status_code == 200 and r.json()["total"] == 1
    assert client.get("/households", params={"limit": 1}).status_code == 200  # the table is still there


@pytest.mark.parametrize(
    "path", ["/households/0", "/households/-1", "/households/abc", f"/households/{10**30}"]
)
def test_malformed_ids_are_422(client, path):
    assert client.get(path).status_code == 422


def test_blank_address_is_422(client, d):
    r = _post(client, d, address="   ")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "address"
    r = client.post("/households", json={"lon": 113, "lat": 28})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "address"
