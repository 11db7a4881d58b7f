"""A black entry's evidence comes from the list's area (w3 guards): a place lies in the community its
point intersects (the lowest code on a border). The entry form offers only the area's closed violations
and inspections, and the API refuses evidence from another community or street with a 422 naming the
field, even for an admin who reads the other street's records."""

from __future__ import annotations

import re
from datetime import date

import psycopg
import pytest


def _place_with_evidence(conn: psycopg.Connection, tag: str, name: str, x: float, y: float) -> dict:
    one = lambda q, p: conn.execute(q, p).fetchone()[0]  # noqa: E731
    pid = one("INSERT INTO place (ref, name, category, geom) VALUES (%s, %s, 'bar', ST_Point(%s, %s, 4326))"
              " RETURNING id", [f"{tag}-{name}", name, x, y])
    closed = one("INSERT INTO violation (place_id, distance_m, reason, status, found_on)"
                 " VALUES (%s, 10, 'r', 'closed', current_date) RETURNING id", [pid])
    found = one("INSERT INTO inspection (place_id, inspector, result) VALUES (%s, 'i', 'violation')"
                " RETURNING id", [pid])
    return {"id": pid, "closed": closed, "found": found}


@pytest.fixture(scope="module")
def places(world, database_url) -> dict:
    """Places with a closed violation and an inspection that found one: in community A, on the border
    of A and B (A's: the lower code), in community B, and in a community C of another street."""
    x0, y0 = world["x0"], world["y0"]
    other_street = f"{int(world['street']) + 1:09d}"
    c = other_street + "001"
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO community (code, name, geom) VALUES"
                     " (%s, 'C', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)))",
                     [c, x0 + 0.04, y0, x0 + 0.06, y0 + 0.01])
        made = {
            "a": _place_with_evidence(conn, world["tag"], "in A", x0 + 0.004, y0 + 0.006),
            "border": _place_with_evidence(conn, world["tag"], "A|B", x0 + 0.02, y0 + 0.006),
            "b": _place_with_evidence(conn, world["tag"], "in B", x0 + 0.03, y0 + 0.006),
            "c": _place_with_evidence(conn, world["tag"], "in C", x0 + 0.05, y0 + 0.006),
        }
        conn.commit()
    return made


@pytest.fixture(scope="module")
def black_list(api, world) -> dict:
    r = api.post("/honours/lists", headers={"Authorization": f"Bearer {world['tokens']['admin']}"},
                 json={"kind": "food_trade", "scope": world["a"], "series": f"evidence-{date.today()}",
                       "title": "食品红黑榜"})
    assert r.status_code == 201, r.text
    return r.json()


def test_evidence_of_another_area_is_refused_naming_the_field(api, world, places, black_list,
                                                              admin_token) -> None:
    url = f"/honours/lists/{black_list['id']}/entries"
    # an admin of everything reads every street's records: the list's area still decides
    city = {"Authorization": f"Bearer {admin_token}"}
    for where in ("b", "c"):
        p = places[where]
        for field, value in (("violation_id", p["closed"]), ("inspection_id", p["found"])):
            r = api.post(url, json={"colour": "black", "place_id": p["id"], "reason": "r", field: value},
                         headers=city)
            assert r.status_code == 422, r.text
            errors = r.json()["errors"]
            assert [e["field"] for e in errors] == [field]
            assert "outside the list's area" in errors[0]["reason"]
    for where in ("a", "border"):
        p = places[where]
        for field, value in (("violation_id", p["closed"]), ("inspection_id", p["found"])):
            r = api.post(url, json={"colour": "black", "place_id": p["id"], "reason": "r", field: value},
                         headers=city)
            assert r.status_code == 201, (where, r.text)


def test_the_picker_offers_the_lists_area_only(api, world, places, black_list) -> None:
    headers = {"Authorization": f"Bearer {world['tokens']['admin']}", "Accept": "text/html"}
    r = api.get(f"/honours/lists/{black_list['id']}", headers=headers)
    assert r.status_code == 200, r.text[:300]
    offered = {name: {int(v) for v in re.findall(r'<option value="(\d+)"', _select(r.text, name))}
               for name in ("violation_id", "inspection_id")}
    assert {places[w]["closed"] for w in ("a", "border")} <= offered["violation_id"]
    assert {places[w]["found"] for w in ("a", "border")} <= offered["inspection_id"]
    assert not {places[w]["closed"] for w in ("b", "c")} & offered["violation_id"]
    assert not {places[w]["found"] for w in ("b", "c")} & offered["inspection_id"]


def _select(page: str, name: str) -> str:
    """The options of the page's <select name=...>."""
    found = re.search(rf'<select[^>]* name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert found, name
    return found.group(1)
