"""The street map's data and routes: the overview, the viewport queries and their error paths."""

from __future__ import annotations

import json
import re

import psycopg
import pytest
import shapely
import shapely.geometry

from gis.errors import InvalidInput, NotFound
from gis.maps.street import households_in_box, parse_bbox, places_in_box, street_overview
from gis.perimeter.specs import PLACE_CATEGORIES

WHOLE = (113.19, 28.29, 113.24, 28.33)


def test_overview_has_every_grid_with_its_household_count(bigmap_url, street):
    with psycopg.connect(bigmap_url) as conn:
        o = street_overview(conn, street.code)
    assert o.grid_count == street.grids and o.community_count == 2
    assert o.household_count == street.households  # the one outside every grid is counted nowhere
    counts = {f["properties"]["c"]: f["properties"]["h"] for f in o.grids["features"]}
    assert set(counts.values()) == {40}
    assert o.bbox == pytest.approx((113.2, 28.3, 113.232, 28.32))
    # coordinates rounded to 6 decimals, label points inside their grid's square
    text = json.dumps(o.grids)
    assert not re.search(r"\d\.\d{7,}", text)
    for f in o.grids["features"]:
        lat, lon = f["properties"]["p"]
        assert shapely.geometry.shape(f["geometry"]).contains(shapely.Point(lon, lat))


def test_overview_refuses_bad_and_unknown_streets(conn):
    with pytest.raises(InvalidInput, match="9-digit"):
        street_overview(conn, "4399020")
    with pytest.raises(NotFound):
        street_overview(conn, "439902999")


def test_households_in_a_box_are_those_inside_it(bigmap_url, street):
    box = (113.2, 28.3, 113.204, 28.304)  # exactly the first grid
    with psycopg.connect(bigmap_url) as conn:
        answer = json.loads(households_in_box(conn, box))
        everything = json.loads(households_in_box(conn, WHOLE))
        cut = json.loads(households_in_box(conn, WHOLE, limit=100))
    assert not answer["truncated"] and len(answer["rows"]) == 40
    for _hid, lat, lon, placement, address, grid, persons in answer["rows"]:
        assert box[0] <= lon <= box[2] and box[1] <= lat <= box[3]
        assert placement == 0 and grid == street.code + "001001" and persons in (1, 2)
        assert address.startswith("大图路")
    assert len(everything["rows"]) == street.households + 1
    assert [r for r in everything["rows"] if r[3] == 2][0][5] is None  # outside every grid
    assert cut["truncated"] and len(cut["rows"]) == 100


def test_places_in_a_box_carry_their_category(bigmap_url, street):
    with psycopg.connect(bigmap_url) as conn:
        answer = json.loads(places_in_box(conn, WHOLE))
        count = conn.execute("SELECT count(*) FROM place WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
                             WHOLE).fetchone()[0]
    assert len(answer["rows"]) == count >= street.places
    categories = {PLACE_CATEGORIES[r[3]] for r in answer["rows"] if r[4].startswith("大图商店")}
    assert categories == {"internet_cafe", "food_shop", "small_shop", "restaurant"}


@pytest.mark.parametrize("bad", ["1,2,3", "a,b,c,d", "113.3,28,113.2,28.1", "100,20,101,21", "1e999,0,1,1"])
def test_bad_boxes_are_refused(bad):
    with pytest.raises(InvalidInput):
        parse_bbox(bad)


def test_page_and_data_routes(street_client, street):
    page = street_client.get(f"/maps/street/{street.code}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "gridmapReady" in page.text and "preferCanvas" in page.text
    # The page grows with the grids, not the register: no household or place rides in it.
    assert "大图路" not in page.text and "大图商店" not in page.text
    assert page.text.count('"type":"Feature"') == street.grids + 2  # grids + community boundaries
    assert "https://" not in re.sub(r"<script>.*?</script>", "", page.text, flags=re.S).split("<body>")[0]
    box = "113.2,28.3,113.204,28.304"
    households = street_client.get(f"/maps/street/{street.code}/households", params={"bbox": box})
    assert households.status_code == 200 and households.headers["content-type"] == "application/json"
    assert len(households.json()["rows"]) == 40
    places = street_client.get(f"/maps/street/{street.code}/places", params={"bbox": box, "limit": 5})
    assert places.status_code == 200 and len(places.json()["rows"]) <= 5


@pytest.mark.parametrize(("path", "params", "status"), [
    ("/maps/street/43990", {}, 422),
    ("/maps/street/439902999", {}, 404),
    ("/maps/street/{code}/households", {"bbox": "nonsense"}, 422),
    ("/maps/street/{code}/households", {"bbox": "nan,nan,nan,nan"}, 422),
    ("/maps/street/4399x/places", {"bbox": "113.2,28.3,113.21,28.31"}, 422),
    ("/maps/street/{code}/households", {}, 422),
    ("/maps/street/{code}/places", {"bbox": "100,20,110,30"}, 422),
    ("/maps/street/{code}/places", {"bbox": "113.2,28.3,113.21,28.31", "limit": 0}, 422),
])
def test_route_errors_are_4xx_with_the_error_shape(street_client, street, path, params, status):
    r = street_client.get(path.format(code=street.code), params=params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
