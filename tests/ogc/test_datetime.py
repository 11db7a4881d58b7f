"""datetime filters on the collection's temporal property (perimeter_violations: found_on), which
the collection declares in its temporal extent; GDAL's date comparisons in -where arrive as
datetime= and must come back right. Expectations are the rows read as the owner, filtered in Python."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import httpx
import psycopg
import pytest

from tests.ogc.test_gdal_client import gdal, needs_gdal, pyogrio_read

# Violations on days either side of the bounds the tests use (none on a bound that GDAL's
# inclusive datetime= would treat differently from the strict < of its -where).
DAYS = ["1999-06-01", "2000-01-02", "2005-03-15", "2005-03-16", "2019-12-31", "2020-01-01", "2023-12-31"]


@pytest.fixture(scope="module")
def dated(ogc_database_url) -> Iterator[dict[int, date]]:
    """Open violations found on DAYS (committed for the live server, removed afterwards); back: every
    open violation's id and day, as the owner reads them."""
    with psycopg.connect(ogc_database_url) as conn:
        added = [r[0] for r in conn.execute(
            """INSERT INTO violation (place_id, school_id, distance_m, reason, status, found_on)
               SELECT p.id, s.id, 90, 'dated for the datetime tests', 'open', d::date
               FROM unnest(%s::text[]) WITH ORDINALITY AS x(d, n)
               JOIN place p ON p.ref = 'P' || (1000 + x.n)
               CROSS JOIN school s WHERE s.ref = 'S1' RETURNING id""", [DAYS]).fetchall()]
        conn.commit()
        rows = conn.execute("SELECT id, found_on FROM violation WHERE status <> 'closed'").fetchall()
        yield dict(rows)
        conn.execute("DELETE FROM violation WHERE id = ANY(%s)", [added])
        conn.commit()


def served(live, datetime: str, collection: str = "perimeter_violations") -> httpx.Response:
    return httpx.get(f"{live.url}/ogc/collections/{collection}/items", headers=live.headers,
                     params={"datetime": datetime, "limit": 1000}, timeout=60)


def ids(response: httpx.Response) -> set[int]:
    assert response.status_code == 200, response.text
    return {f["id"] for f in response.json()["features"]}


D = date.fromisoformat


@pytest.mark.parametrize(("value", "start", "end"), [
    ("2005-03-15", D("2005-03-15"), D("2005-03-15")),                   # an instant: that day
    ("2005-03-15T10:00:00Z", D("2005-03-15"), D("2005-03-15")),         # an instant within the day
    ("2005-03-15T23:30:00-02:00", D("2005-03-16"), D("2005-03-16")),    # the day in UTC
    ("../2000-01-01", None, D("2000-01-01")),                           # open start
    ("/2000-01-01", None, D("2000-01-01")),
    ("2020-01-01/..", D("2020-01-01"), None),                           # open end
    ("2020-01-01/", D("2020-01-01"), None),
    ("2000-01-01/2019-12-31", D("2000-01-01"), D("2019-12-31")),        # closed, ends included
    ("2000-01-02T00:00:00Z/2005-03-15T12:00:00Z", D("2000-01-02"), D("2005-03-15")),
    ("../..", None, None),
])
def test_datetime_selects_the_days_within(live, dated, value, start, end):
    want = {i for i, day in dated.items() if (start is None or day >= start) and (end is None or day <= end)}
    assert ids(served(live, value)) == want, value
    assert want or value == "2005-03-15T23:30:00-02:00"


@pytest.mark.parametrize("value", ["yesterday", "2020-13-01", "2020-01-01/2019-01-01", "2020-01-01/2021/2022",
                                   "2020-01-01T25:00:00Z", ""])
def test_unparseable_datetime_is_400(live, dated, value):
    r = served(live, value)
    assert r.status_code == 400, (value, r.text)
    assert r.json()["code"] == "InvalidParameterValue" and r.json()["errors"][0]["field"] == "datetime"


@pytest.mark.parametrize("collection", ["places", "grids", "road_sections"])
def test_datetime_on_a_collection_without_time_is_400(live, collection):
    r = served(live, "2020-01-01", collection)
    assert r.status_code == 400, r.text
    assert "temporal" in r.json()["description"]


def test_temporal_extent_is_declared(live, dated):
    body = httpx.get(f"{live.url}/ogc/collections/perimeter_violations", headers=live.headers).json()
    first, last = min(dated.values()), max(dated.values())
    assert body["extent"]["temporal"]["interval"] == [[f"{first}T00:00:00Z", f"{last}T23:59:59Z"]]
    places = httpx.get(f"{live.url}/ogc/collections/places", headers=live.headers).json()
    assert "temporal" not in places["extent"]
    listed = httpx.get(f"{live.url}/ogc/collections", headers=live.headers).json()["collections"]
    assert next(c for c in listed if c["id"] == "perimeter_violations")["extent"] == body["extent"]


WHERE = [
    ("found_on < '2000-01-01'", lambda d: d < D("2000-01-01")),
    ("found_on >= '2020-01-01'", lambda d: d >= D("2020-01-01")),
    ("found_on = '2005-03-15'", lambda d: d == D("2005-03-15")),
    ("found_on >= '2000-01-01' AND found_on <= '2019-12-31'",
     lambda d: D("2000-01-01") <= d <= D("2019-12-31")),
]


@needs_gdal
@pytest.mark.parametrize(("where", "keep"), WHERE)
def test_ogr2ogr_where_on_a_date_through_datetime(live, dated, tmp_path, where, keep):
    """GDAL 3.6 sends a date range as datetime= and trusts the answer: it does not filter again.
    (An equality it filters itself, from unfiltered pages.)"""
    out = tmp_path / "v.geojson"
    before = len(live.seen)
    gdal(live, "ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{live.url}/ogc", "perimeter_violations",
         "-where", where)
    got = {f["properties"]["id"] for f in json.loads(out.read_text())["features"]}
    assert got == {i for i, d in dated.items() if keep(d)}, where
    sent = [q for p, q, _ in live.seen[before:] if p.endswith("/items")]
    if "<" in where or ">" in where:
        assert any("datetime=" in q for q in sent), (where, sent)


@pytest.mark.parametrize(("where", "keep"), WHERE)
def test_pyogrio_gdal_312_where_on_a_date(live, dated, where, keep):
    rows = pyogrio_read(live, f"OAPIF:{live.url}/ogc", "perimeter_violations", where=where)
    assert {r["id"] for r in rows} == {i for i, d in dated.items() if keep(d)}, where
