"""Persons over HTTP: ID numbers checked, derived and masked; tags; optimistic updates; bad input."""

from __future__ import annotations

import pytest

INJECTION = "'; DROP TABLE person;--"


@pytest.fixture
def household(client, two_grids):
    d = two_grids()
    r = client.post(
        "/households", json={"address": "五一路8号", "lon": d["x0"] + 0.005, "lat": d["y0"] + 0.01}
    )
    assert r.status_code == 201, r.text
    return {**d, "id": r.json()["id"]}


def _person(client, household, **fields):
    return client.post("/persons", json={"household_id": household["id"], "name": "李四", **fields})


def test_create_derives_and_masks(client, household, h):
    id_number = h.id_number(born="19850315", male=False)
    r = _person(
        client,
        household,
        id_number=id_number.lower(),
        phone="13912345678",
        relation="head",
        residence="floating",
        employment="employed",
        poverty="dibao",
        key_person="petitioner",
        volunteer=True,
    )
    assert r.status_code == 201, r.text
    p = r.json()
    # The masked ID number hides the birth date: only the year is given beside it.
    assert p["birth_date"] is None and p["birth_year"] == 1985 and p["sex"] == "F"
    assert client.get(f"/persons/{p['id']}?unmasked=true").json()["birth_date"] == "1985-03-15"
    assert p["id_number"] == id_number[:6] + "********" + id_number[-4:]
    assert p["phone"] == "139****5678"
    assert p["grid_code"] == household["west"] and p["key_person"] == "petitioner" and p["version"] == 1
    got = client.get(f"/persons/{p['id']}")
    assert got.json() == p and got.headers["etag"] == '"1"'
    detail = client.get(f"/households/{household['id']}").json()
    assert [m["id"] for m in detail["persons"]] == [p["id"]] and detail["members"] == 1
    # Full values never appear anywhere in the API.
    for path in (
        f"/persons/{p['id']}",
        f"/households/{household['id']}",
        f"/persons?household={household['id']}",
    ):
        text = client.get(path).text
        assert id_number not in text and id_number.lower() not in text and "13912345678" not in text
        assert "19850315" not in text and "1985-03-15" not in text


def test_id_number_problems_are_422_naming_the_field(client, household, h):
    good = h.id_number(born="19900101", male=True)
    cases = [
        ({"id_number": good[:-1] + ("0" if good[-1] != "0" else "1")}, "id_number", "checksum"),
        ({"id_number": "12345"}, "id_number", "17 digits"),
        ({"id_number": good, "sex": "F"}, "sex", "does not match"),
        ({"id_number": good, "birth_date": "1990-01-02"}, "birth_date", "does not match"),
        ({"phone": "call me"}, "phone", ""),
        ({"poverty": "rich"}, "poverty", ""),
        ({"key_person": INJECTION}, "key_person", ""),
        ({"relation": "cousin"}, "relation", ""),
        ({"household_id": 10**30}, "household_id", ""),
        ({"household_id": 999_999_999}, "household_id", ""),
        ({"name": "   "}, "name", ""),
    ]
    for fields, field, reason in cases:
        r = _person(client, household, **fields)
        assert r.status_code == 422, (fields, r.text)
        errors = r.json()["errors"]
        assert errors and errors[0]["field"] == field, (fields, errors)
        assert reason in errors[0]["reason"], (fields, errors)
    # An ID number is unique in the register.
    assert _person(client, household, id_number=good).status_code == 201
    assert _person(client, household, id_number=good).status_code == 409


def test_updates_are_optimistic(client, household, h):
    pid = _person(client, household).json()["id"]
    r = client.patch(
        f"/persons/{pid}", json={"volunteer": True, "key_person": "released_prisoner", "version": 1}
    )
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["key_person"] == "released_prisoner"
    stale = client.patch(f"/persons/{pid}", json={"volunteer": False, "version": 1})
    assert stale.status_code == 409
    assert client.get(f"/persons/{pid}").json()["volunteer"] is True
    # PATCH with only an ID number derives birth date and sex; a birth date against it is refused
    # by the database even when the ID number was stored earlier.
    id_number = h.id_number(born="19700707", male=True)
    r = client.patch(f"/persons/{pid}", headers={"If-Match": '"2"'}, json={"id_number": id_number})
    assert r.status_code == 200 and r.json()["birth_year"] == 1970 and r.json()["sex"] == "M"
    assert client.get(f"/persons/{pid}?unmasked=true").json()["birth_date"] == "1970-07-07"
    # A birth date alone, against a stored ID number, is refused whether it is right or wrong: else the
    # answer would tell whether a guess at the masked digits is right.
    for guess in ("1971-01-01", "1970-07-07"):
        r = client.patch(f"/persons/{pid}", json={"birth_date": guess, "version": 3})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "birth_date"
        assert r.json()["errors"][0]["reason"].startswith("follows from the ID number")
    # PUT replaces: tags not sent are reset, the key-person row is removed.
    r = client.put(f"/persons/{pid}", json={"household_id": household["id"], "name": "李四", "version": 3})
    assert r.status_code == 200, r.text
    assert r.json()["key_person"] is None and r.json()["volunteer"] is False and r.json()["id_number"] is None
    assert client.patch(f"/persons/{pid}", json={"name": "王五"}).status_code == 422  # no version
    assert client.patch("/persons/999999999", json={"name": "x", "version": 1}).status_code == 404
    assert client.delete(f"/persons/{pid}", headers={"If-Match": '"1"'}).status_code == 409
    assert client.delete(f"/persons/{pid}").status_code == 204
    assert client.get(f"/persons/{pid}").status_code == 404


def test_filters_and_paging(client, household):
    specs = [
        {"residence": "floating", "employment": "employed"},
        {"residence": "floating", "poverty": "tekun"},
        {"key_person": "community_correction"},
        {"elderly_alone": True, "disabled": True},
        {"activist": True, "name": "赵六"},
        {},
    ]
    ids = [_person(client, household, **s).json()["id"] for s in specs]
    base = {"household": household["id"]}

    def total(**params):
        r = client.get("/persons", params={**base, **params})
        assert r.status_code == 200, r.text
        return r.json()["total"]

    assert total() == 6
    assert total(residence="floating") == 2 and total(residence="registered") == 4
    assert total(employment="employed") == 1 and total(employment="unknown") == 5
    assert total(poverty="any") == 1 and total(poverty="tekun") == 1 and total(poverty="dibao") == 0
    assert total(key_person="any") == 1 and total(key_person="community_correction") == 1
    assert total(elderly_alone="true") == 1 and total(disabled="true", elderly_alone="true") == 1
    assert total(activist="true") == 1 and total(volunteer="true") == 0 and total(activist="false") == 5
    assert total(q="赵") == 1 and total(q=INJECTION) == 0 and total(q="%") == 0
    assert total(grid=household["west"]) == 6 and total(grid=household["east"]) == 0
    assert total(community=household["community"]) == 6
    page = client.get("/persons", params={**base, "limit": 4, "offset": 4}).json()
    assert page["total"] == 6 and [p["id"] for p in page["items"]] == ids[4:]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": -1},
        {"limit": 1001},
        {"offset": -1},
        {"household": 10**30},
        {"employment": "astronaut"},
        {"residence": INJECTION},
        {"grid": "1"},
        {"elderly_alone": "maybe"},
        {"q": "x" * 1000},
    ],
)
def test_bad_list_parameters_are_422(client, params):
    r = client.get("/persons", params=params)
    assert r.status_code == 422 and r.json()["errors"], r.text


def test_injection_in_text_fields_is_stored_as_text(client, household):
    r = _person(client, household, name=INJECTION)
    assert r.status_code == 201 and r.json()["name"] == INJECTION
    assert client.get("/persons", params={"q": "DROP TABLE"}).json()["total"] >= 1


def test_nul_characters_are_422_naming_the_field(client, household):
    r = _person(client, household, name="a\x00b")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"
    r = client.get("/persons", params={"q": "a\x00b"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "q"
    r = client.post("/households", json={"address": "a\x00", "lon": household["x0"] + 0.001,
                                         "lat": household["y0"] + 0.001})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "address"
    r = client.get("/households", params={"q": "\x00"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "q"
