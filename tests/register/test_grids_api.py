"""Communities, grids and grid workers over HTTP: CRUD round trips and their error paths."""

from __future__ import annotations


def test_community_crud(client, h):
    code = h.new_community_code()
    x, y = h.spot(code)
    body = {
        "code": code,
        "name": "东风社区",
        "street_name": "东风街道",
        "geometry": h.box(x, y, x + 0.01, y + 0.01),
    }
    r = client.post("/communities", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["geometry"]["type"] == "MultiPolygon" and r.json()["grids"] == 0
    assert client.post("/communities", json=body).status_code == 409
    assert code in [c["code"] for c in client.get("/communities").json()]
    r = client.put(f"/communities/{code}", json={**body, "name": "东风新社区"})
    assert r.status_code == 200 and r.json()["name"] == "东风新社区"
    # The geometry may come in CGCS2000 (practically equal to WGS 84 at this scale).
    r = client.put(f"/communities/{code}", json={**body, "crs": "EPSG:4490"})
    assert (
        r.status_code == 200
        and abs(r.json()["area_m2"] - client.get(f"/communities/{code}").json()["area_m2"]) < 1
    )
    r = client.post(
        "/grids",
        json={
            "code": code + "001",
            "community_code": code,
            "name": "一",
            "geometry": h.box(x, y, x + 0.01, y + 0.01),
        },
    )
    assert r.status_code == 201
    assert client.delete(f"/communities/{code}").status_code == 409  # it still has grids
    assert client.delete(f"/grids/{code}001").status_code == 204
    assert client.delete(f"/communities/{code}").status_code == 204
    assert client.get(f"/communities/{code}").status_code == 404
    assert client.put(f"/communities/{code}", json=body).status_code == 404


def test_community_bad_input(client, h):
    code = h.new_community_code()
    x, y = h.spot(code)
    good = {"code": code, "name": "社区", "geometry": h.box(x, y, x + 0.01, y + 0.01)}
    for bad, field in (
        ({"code": "430102000001"}, "code"),
        ({"code": "1"}, "code"),
        ({"name": ""}, "name"),
        ({"geometry": {"type": "Polygon"}}, "geometry"),
        ({"geometry": h.box(y, x, y + 0.01, x + 0.01)}, "geometry"),
        ({"geometry": "'; DROP TABLE community;--"}, "geometry"),
        ({"crs": "EPSG:9999"}, "crs"),
    ):
        r = client.post("/communities", json={**good, **bad})
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["errors"][0]["field"] == field, (bad, r.json())
    assert client.get("/communities/43010200100").status_code == 422
    assert client.get("/communities/430102999999").status_code == 404


def test_grid_crud_and_collection(client, two_grids, h):
    d = two_grids()
    x, y = d["x0"], d["y0"]
    r = client.get("/grids", params={"community": d["community"]})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    assert [f["properties"]["code"] for f in fc["features"]] == [d["west"], d["east"]]
    assert all(f["properties"]["area_m2"] > 1e6 for f in fc["features"])
    body = {
        "code": d["community"] + "003",
        "community_code": d["community"],
        "name": "三",
        "geometry": h.box(x, y, x + 0.001, y + 0.001),
    }
    assert client.post("/grids", json=body).status_code == 201
    assert client.post("/grids", json=body).status_code == 409
    wrong = {**body, "code": "430102999999001"}
    r = client.post("/grids", json=wrong)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "code"
    r = client.post("/grids", json={**body, "code": "430102999999001", "community_code": "430102999999"})
    assert r.status_code == 404
    r = client.put(f"/grids/{body['code']}", json={"name": "三号", "geometry": body["geometry"]})
    assert (
        r.status_code == 200
        and r.json()["name"] == "三号"
        and r.json()["statistics"]["households"]["count"] == 0
    )
    assert (
        client.put("/grids/430102999999001", json={"name": "x", "geometry": body["geometry"]}).status_code
        == 404
    )
    assert client.delete(f"/grids/{body['code']}").status_code == 204
    assert client.delete(f"/grids/{body['code']}").status_code == 404
    assert client.get("/grids/4301020").status_code == 422
    assert client.get("/grids", params={"community": "x'; --"}).status_code == 422


def test_grid_workers(client, two_grids):
    d = two_grids()
    r = client.post("/grid-workers", json={"name": "王网格", "phone": "13800138000", "grids": [d["west"]]})
    assert r.status_code == 201, r.text
    worker = r.json()
    assert worker["phone"] == "138****8000" and worker["grids"] == [
        {"grid_code": d["west"], "role": "worker"}
    ]
    r = client.post(f"/grids/{d['east']}/workers", json={"worker_id": worker["id"], "role": "team"})
    assert r.status_code == 200 and len(r.json()["grids"]) == 2
    archive = client.get(f"/grids/{d['east']}").json()
    assert [(w["name"], w["role"], w["phone"]) for w in archive["workers"]] == [
        ("王网格", "team", "138****8000")
    ]
    assert [w["id"] for w in client.get("/grid-workers", params={"grid": d["west"]}).json()] == [worker["id"]]
    assert client.get(f"/grid-workers/{worker['id']}").json()["name"] == "王网格"
    assert client.delete(f"/grids/{d['east']}/workers/{worker['id']}").status_code == 204
    assert client.delete(f"/grids/{d['east']}/workers/{worker['id']}").status_code == 404
    assert client.post(f"/grids/{d['east']}/workers", json={"worker_id": 999_999_999}).status_code == 404
    assert client.post("/grid-workers", json={"name": "x", "grids": ["430102999999001"]}).status_code == 422
    assert client.post("/grid-workers", json={"name": ""}).status_code == 422
    assert client.get("/grid-workers/999999999").status_code == 404
