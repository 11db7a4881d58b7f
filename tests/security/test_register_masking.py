"""Masked ID numbers cannot be rebuilt (issue 10, class 4): the mask (430503********1234) hides exactly
the birth date, digits 7-14, so no output a masked reader gets may hold those digits of any person in
any form (YYYYMMDD, YYYY-MM-DD, YYYY/MM/DD, a spreadsheet date). Every byte of every response is
searched (XLSX and zipped files unpacked), for an admin of everything, a street admin, a grid worker and
a worker who is also a viewer. The birth year stays, for ages and age groups.

Fails on the code before the fix: the API's persons, the register files and the persons export carried
``birth_date`` (1985-03-15) beside the masked ID number."""

from __future__ import annotations

import io
import json
import zipfile

import openpyxl
import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.access.conftest import World, api_world, secured_app  # noqa: F401 - fixtures
from tests.conftest import own_database
from tests.security.test_register_world import Extras, auth, extras, owner, tile_of  # noqa: F401 - fixtures

database_url, settings, admin_token = own_database("gridmap_sec_register_masking")
READERS = ["admin", "street_admin", "worker", "worker_viewer"]


@pytest.fixture(scope="module")
def api(settings):
    with TestClient(secured_app(settings)) as c:
        yield c


@pytest.fixture
def hidden(owner: psycopg.Connection, extras: Extras) -> dict[str, list[bytes]]:  # noqa: F811
    """Per person: the hidden digits of their ID number in every spelling a date takes."""
    out = {}
    for (id_number,) in owner.execute("SELECT id_number FROM person WHERE id_number IS NOT NULL"):
        y, m, d = id_number[6:10], id_number[10:12], id_number[12:14]
        out[id_number] = [s.encode() for s in (f"{y}{m}{d}", f"{y}-{m}-{d}", f"{y}/{m}/{d}")]
    assert len(out) > 20
    return out


def unpacked(body: bytes) -> bytes:
    """The bytes of a response, zip members (XLSX, zipped Shapefiles) unpacked beside them."""
    if not body.startswith(b"PK"):
        return body
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return body + b"".join(z.read(n) for n in z.namelist())


def spreadsheet_dates(body: bytes) -> list:
    """Cells an XLSX stores as dates (a number with a date format: the bytes show no date at all)."""
    if not body.startswith(b"PK") or b"xl/workbook" not in body:
        return []
    book = openpyxl.load_workbook(io.BytesIO(body))
    return [c.value for s in book.worksheets for row in s.iter_rows() for c in row if c.is_date]


def masked_outputs(api, headers: dict, w: World, e: Extras, db: psycopg.Connection) -> dict[str, bytes]:
    """Every output that carries persons or households, as the reader gets it (masked: the default)."""
    paths = ["/persons?limit=1000", "/households?limit=1000", "/stats",
             "/ogc/collections/households/items?limit=1000"]
    paths += [f"/persons/{p}" for p in w.persons[w.g1][:2]]
    paths += [f"/households/{h}" for h in (w.households[w.g1][0], e.ungridded["c"])]
    for area in (f"communities/{w.community}", f"grids/{w.g1}"):
        paths += [f"/{area}/register.csv", f"/{area}/register.xlsx"]
    for layer, formats in (("persons", ("geojson", "gpkg", "csv", "xlsx")),
                           ("households", ("geojson", "gpkg", "shp", "csv", "xlsx"))):
        paths += [f"/exports/{layer}?format={f}" for f in formats]
        paths += [f"/exports/{layer}?format=csv&community={w.community}"]
    paths += [f"/maps/grids/{w.g1}", f"/maps/communities/{w.community}", f"/maps/street/{w.street}"]
    x0, y0 = e.origin
    paths += [f"/maps/street/{w.street}/households?bbox={x0 - 0.01},{y0 - 0.01},{x0 + 0.08},{y0 + 0.06}"]
    z = 13
    points = db.execute("SELECT DISTINCT ST_X(geom), ST_Y(geom) FROM household").fetchall()
    paths += [f"/tiles/households/{z}/{x}/{y}.mvt" for x, y in {tile_of(lon, lat, z) for lon, lat in points}]
    got = {}
    for path in paths:
        r = api.get(path, headers=headers)
        assert r.status_code in (200, 403, 404), (path, r.status_code, r.text[:300])  # out of scope
        if r.status_code == 200:
            got[path] = r.content
    return got


@pytest.mark.parametrize("reader", READERS)
def test_no_masked_output_holds_the_hidden_digits(api, auth, api_world, extras, owner, hidden,  # noqa: F811
                                                  reader) -> None:
    outputs = masked_outputs(api, auth(reader), api_world, extras, owner)
    assert len(outputs) > 20 and any(p.startswith("/persons/") for p in outputs)
    leaks = [(path, id_number, form) for path, body in outputs.items() for id_number, forms in hidden.items()
             for form in forms if form in unpacked(body)]
    assert leaks == []
    dates = {path: d for path, body in outputs.items() if (d := spreadsheet_dates(body))}
    assert dates == {}


def test_the_birth_year_stays_and_unmasking_shows_the_date(api, auth, api_world, owner) -> None:  # noqa: F811
    pid = api_world.persons[api_world.g1][0]
    id_number, born = owner.execute("SELECT id_number, birth_date FROM person WHERE id = %s",
                                    [pid]).fetchone()
    masked = api.get(f"/persons/{pid}", headers=auth("worker")).json()
    assert masked["birth_year"] == born.year and masked["birth_date"] is None
    assert masked["id_number"] == id_number[:6] + "*" * 8 + id_number[-4:]
    full = api.get(f"/persons/{pid}?unmasked=true", headers=auth("worker")).json()
    assert full["birth_date"] == born.isoformat() and full["id_number"] == id_number
    rows = api.get(f"/grids/{api_world.g1}/register.csv", headers=auth("worker")).content.decode("utf-8-sig")
    assert "出生年份 Birth year" in rows.splitlines()[0] and str(born.year) in rows
    # A person without an ID number keeps the birth date: there is nothing for it to give away.
    r = api.post("/persons", headers=auth("worker"), json={
        "household_id": api_world.households[api_world.g1][0], "name": "no id", "birth_date": "2015-06-01"})
    assert r.status_code == 201, r.text
    assert r.json()["birth_date"] == "2015-06-01" and r.json()["birth_year"] == 2015
    assert api.delete(f"/persons/{r.json()['id']}", headers=auth("worker")).status_code == 204


def test_a_birth_date_alone_is_no_oracle(api, auth, api_world, owner) -> None:  # noqa: F811
    """PATCHing only the birth date of a person with an ID number is refused the same way whether the
    guess is right or wrong (else a masked writer could find the hidden digits by trying dates)."""
    pid = api_world.persons[api_world.g1][1]
    born, version = owner.execute("SELECT birth_date, version FROM person WHERE id = %s", [pid]).fetchone()
    answers = []
    for guess in (born.isoformat(), "1999-12-31"):
        r = api.patch(f"/persons/{pid}", headers=auth("worker"),
                      json={"birth_date": guess, "version": version})
        answers.append((r.status_code, json.dumps(r.json(), sort_keys=True)))
    assert answers[0] == answers[1] and answers[0][0] == 422
