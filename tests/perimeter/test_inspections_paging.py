"""GET /perimeter/violations/recorded pages as the register lists do: limit (default 100, at most
1000) and offset, oldest first, with X-Total-Count; compared with the violation table read directly."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from gis.settings import Settings
from tests.conftest import sign_in_admin
from tests.perimeter.conftest import CHENZHOU, campus, offset

CAFES = 230  # internet cafes (网吧) within 200 m of one school: more than two default pages


@pytest.fixture(scope="module")
def paging_client(fresh_database, tmp_path_factory) -> Iterator[tuple[TestClient, str]]:
    from api.app import create_app

    url = fresh_database("gridmap_paging")
    lon, lat = CHENZHOU
    school = campus(lon, lat)
    edge = school.bounds[3]
    spots = [offset(lon - 0.0008 + 0.0016 * (i % 23) / 22, edge, 0, 20 + 150 * (i // 23) / 10)
             for i in range(CAFES)]
    with psycopg.connect(url) as c:
        c.execute("INSERT INTO school (ref, name, level, geom) VALUES ('S1', '一小', 'primary',"
                  " ST_GeomFromText(%s, 4326))", [school.wkt])
        c.execute("INSERT INTO place (ref, name, category, geom)"
                  " SELECT 'C' || i, '网吧 ' || i, 'internet_cafe', ST_SetSRID(ST_MakePoint(x, y), 4326)"
                  " FROM unnest(%s::float8[], %s::float8[])"
                  " WITH ORDINALITY AS t(x, y, i)", [[s[0] for s in spots], [s[1] for s in spots]])
    settings = Settings(database_url=url, data_dir=tmp_path_factory.mktemp("paging"),
                        _env_file=None)  # type: ignore[call-arg]
    token = sign_in_admin(url, settings)
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"}) as client:
        recorded = client.post("/perimeter/violations/record?date=2026-06-01")
        assert recorded.status_code == 200 and recorded.json()["opened"] == CAFES, recorded.text
        with psycopg.connect(url) as c:  # some move on, for the status filter
            c.execute("UPDATE violation SET status = 'notified' WHERE id % 3 = 0")
        yield client, url


def _ids(url: str, status: str | None = None) -> list[int]:
    with psycopg.connect(url) as c:
        return [r[0] for r in c.execute("SELECT id FROM violation WHERE %(s)s::text IS NULL OR status = %(s)s"
                                        " ORDER BY id", {"s": status})]


def test_default_page_and_total(paging_client) -> None:
    client, url = paging_client
    r = client.get("/perimeter/violations/recorded")
    assert r.status_code == 200
    every = _ids(url)
    assert len(every) == CAFES
    assert [v["id"] for v in r.json()] == every[:100]
    assert r.headers["X-Total-Count"] == str(CAFES)


def test_pages_walk_every_row_once_in_order(paging_client) -> None:
    client, url = paging_client
    seen: list[int] = []
    for start in range(0, CAFES + 40, 40):
        page = client.get("/perimeter/violations/recorded", params={"limit": 40, "offset": start})
        assert page.status_code == 200 and page.headers["X-Total-Count"] == str(CAFES)
        seen += [v["id"] for v in page.json()]
    assert seen == _ids(url)
    assert client.get("/perimeter/violations/recorded?limit=1000").json().__len__() == CAFES
    assert client.get(f"/perimeter/violations/recorded?offset={CAFES}").json() == []


def test_status_filter_pages_too(paging_client) -> None:
    client, url = paging_client
    notified = _ids(url, "notified")
    r = client.get("/perimeter/violations/recorded", params={"status": "notified", "limit": 10, "offset": 5})
    assert [v["id"] for v in r.json()] == notified[5:15]
    assert all(v["status"] == "notified" for v in r.json())
    assert r.headers["X-Total-Count"] == str(len(notified))


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "offset=-1", "limit=ten"])
def test_a_page_out_of_range_is_refused_naming_the_field(paging_client, query: str) -> None:
    client, _ = paging_client
    r = client.get(f"/perimeter/violations/recorded?{query}")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == query.split("=")[0]


def test_the_domain_function_refuses_a_page_too(paging_client) -> None:
    from gis.errors import InvalidInput
    from gis.perimeter.inspections import list_violations

    _, url = paging_client
    with psycopg.connect(url) as c:
        total, rows = list_violations(c, None, 3, 2)
        assert total == CAFES and [r["id"] for r in rows] == _ids(url)[2:5]
        with pytest.raises(InvalidInput):
            list_violations(c, None, 0, 0)
        with pytest.raises(InvalidInput):
            list_violations(c, None, 10, -1)
