"""Division check (全覆盖、无缝隙、不交叉) on a deliberately broken division, with known areas."""

from __future__ import annotations

import pytest
from pyproj import Geod
from shapely.geometry import box as sbox

from gis.division import communities, grids
from gis.division.check import check_division

GEOD = Geod(ellps="WGS84")


def geodesic_area(x0, y0, x1, y1) -> float:
    area, _ = GEOD.geometry_area_perimeter(sbox(x0, y0, x1, y1))
    return abs(area)


@pytest.fixture
def broken(conn, h):
    """West [0, 0.010], east [0.008, 0.018] reaching 0.001 north of the community [0, 0.02]²:
    an overlap strip 0.002 wide, a gap strip 0.002 wide, and a 0.010 x 0.001 piece outside."""
    code = h.new_community_code()
    x, y = h.spot(code)
    communities.create_community(conn, code, "破损社区", h.box(x, y, x + 0.02, y + 0.02))
    # A grid reaching outside its community is refused (gis/migrations/010) unless the check is put
    # off to the end of the transaction, which is never reached here: a division drawn before the rule.
    conn.execute("SET CONSTRAINTS grid_within_community DEFERRED")
    grids.create_grid(conn, code + "001", code, "西", h.box(x, y, x + 0.010, y + 0.02))
    grids.create_grid(conn, code + "002", code, "东", h.box(x + 0.008, y, x + 0.018, y + 0.021))
    return code, x, y


def test_broken_division_reports_gap_overlap_outside(conn, broken):
    code, x, y = broken
    result = check_division(conn, code)
    assert result["type"] == "FeatureCollection" and result["community"] == code and result["ok"] is False
    by_kind = {f["properties"]["kind"]: f for f in result["features"]}
    assert sorted(f["properties"]["kind"] for f in result["features"]) == ["gap", "outside", "overlap"]
    expected = {
        "gap": geodesic_area(x + 0.018, y, x + 0.02, y + 0.02),
        "overlap": geodesic_area(x + 0.008, y, x + 0.010, y + 0.02),
        "outside": geodesic_area(x + 0.008, y + 0.02, x + 0.018, y + 0.021),
    }
    for kind, area in expected.items():
        assert by_kind[kind]["properties"]["area_m2"] == pytest.approx(area, rel=0.01), kind
        assert by_kind[kind]["geometry"]["type"] == "Polygon"
    assert by_kind["overlap"]["properties"]["grids"] == [code + "001", code + "002"]
    assert by_kind["outside"]["properties"]["grids"] == [code + "002"]
    assert by_kind["gap"]["properties"]["grids"] == [code + "002"]  # the grid bordering the gap
    # A tolerance above every fault hides them all.
    assert check_division(conn, code, tolerance_m2=1e7)["ok"] is True


def test_noise_on_shared_edges_is_not_reported(conn, h):
    """A shared diagonal edge drawn with two vertices in one grid and eight in the other (a
    T-junction, as digitised by hand): the overlay leaves hair-thin slivers that are not faults."""
    code = h.new_community_code()
    # Coordinates known to leave slivers after the overlay (most do, not all); no h.spot() is here.
    x, y = 112.98 + 0.0001234567, 28.19 + 0.000098765
    communities.create_community(conn, code, "整齐社区", h.box(x, y, x + 0.02, y + 0.02))
    a, b = (x + 0.005, y), (x + 0.015, y + 0.02)
    mids = [[a[0] + (b[0] - a[0]) * t / 7, a[1] + (b[1] - a[1]) * t / 7] for t in range(6, 0, -1)]
    west = [[x, y], list(a), list(b), [x, y + 0.02], [x, y]]
    east = [list(a), [x + 0.02, y], [x + 0.02, y + 0.02], list(b), *mids, list(a)]
    grids.create_grid(conn, code + "001", code, "西", {"type": "Polygon", "coordinates": [west]})
    grids.create_grid(conn, code + "002", code, "东", {"type": "Polygon", "coordinates": [east]})
    raw = check_division(conn, code, tolerance_m2=0)
    assert raw["features"], "the overlay is expected to leave slivers on this edge"
    assert max(f["properties"]["area_m2"] for f in raw["features"]) < 0.001
    assert check_division(conn, code)["ok"] is True


def test_community_without_grids_is_one_gap(conn, h):
    code = h.new_community_code()
    x, y = h.spot(code)
    communities.create_community(conn, code, "空社区", h.box(x, y, x + 0.01, y + 0.01))
    result = check_division(conn, code)
    assert [f["properties"]["kind"] for f in result["features"]] == ["gap"]
    assert result["features"][0]["properties"]["area_m2"] == pytest.approx(
        geodesic_area(x, y, x + 0.01, y + 0.01), rel=0.001
    )


def test_division_endpoint(client, two_grids, h):
    d = two_grids()
    r = client.get(f"/communities/{d['community']}/division")
    assert r.status_code == 200 and r.json()["ok"] is True and r.json()["features"] == []
    # Break it through the API: the east grid shrinks, leaving a gap.
    x, y = d["x0"], d["y0"]
    r = client.put(
        f"/grids/{d['east']}", json={"name": "东", "geometry": h.box(x + 0.01, y, x + 0.019, y + 0.02)}
    )
    assert r.status_code == 200, r.text
    r = client.get(f"/communities/{d['community']}/division")
    body = r.json()
    assert body["ok"] is False and body["summary"]["gap"]["count"] == 1
    assert body["summary"]["gap"]["area_m2"] == pytest.approx(
        geodesic_area(x + 0.019, y, x + 0.02, y + 0.02), rel=0.01
    )
    r = client.get(f"/communities/{d['community']}/division", params={"format": "geojson"})
    assert r.headers["content-type"].startswith("application/geo+json")
    assert set(r.json()) == {"type", "features"} and len(r.json()["features"]) == 1
    assert client.get("/communities/430102999998/division").status_code == 404
    assert client.get("/communities/12345/division").status_code == 422
    assert client.get(f"/communities/{d['community']}/division", params={"format": "kml"}).status_code == 422
