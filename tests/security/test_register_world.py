"""The world the register's attack tests share (tests/security/test_register_*.py), no tests of its own.

The access tests' world (tests/access/conftest.py: street A with community A and grids g1, g2; street B
with community B and grid g3; a household outside every grid and outside both communities; one user per
role), committed in a database of the importing module's own, plus what the attacks need:
- users holding two roles: ``worker_viewer`` (grid worker of g1 and viewer of street A) and
  ``street_b_admin`` (admin of street B);
- a community C in street A and D in street B without grids, each with a household outside every grid
  (persons with ID numbers inside);
- a road section in community A held by a unit whose contact person and phone are known;
- every person's birth date, derived from their ID number as the register keeps it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import psycopg
import pytest

from gis.access import accounts
from gis.codes import id_number_check_digit
from tests.access.conftest import PASSWORD, World, _hash, api_world  # noqa: F401 - fixtures

UNIT_CONTACT = "Contact Person Qiu"  # ASCII: a map's page may carry non-ASCII text as \\u escapes
UNIT_PHONE = "13907359246"


@dataclass
class Extras:
    """What the register attacks add to the world."""

    users: dict[str, accounts.Principal] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # world users and extra users
    community_c: str = ""  # street A, no grids
    community_d: str = ""  # street B, no grids
    ungridded: dict[str, int] = field(default_factory=dict)  # "c", "d" -> household id
    origin: tuple[float, float] = (0.0, 0.0)  # (x0, y0): the south-west corner of community A
    section: int = 0
    assignment: int = 0


def _square(x: float, y: float, size: float) -> str:
    return (f"SRID=4326;MULTIPOLYGON((({x} {y},{x + size} {y},{x + size} {y + size},{x} {y + size},"
            f"{x} {y})))")


def _id_number(serial: int) -> str:
    first17 = f"439902{1971 + serial % 30}{1 + serial % 12:02d}{1 + serial % 28:02d}{serial % 1000:03d}"
    return first17 + id_number_check_digit(first17)


def extra_users(w: World) -> dict[str, list[tuple[str, str]]]:
    return {"worker_viewer": [("grid_worker", w.g1), ("viewer", w.street)],
            "street_b_admin": [("admin", w.other_community[:9])]}


def build_extras(c: psycopg.Connection, w: World, secret: str) -> Extras:
    x0, y0 = c.execute("SELECT ST_XMin(geom), ST_YMin(geom) FROM community WHERE code = %s",
                       [w.community]).fetchone()
    e = Extras(community_c=w.street + "902", community_d=w.other_community[:9] + "902", origin=(x0, y0))
    c.execute("INSERT INTO community (code, name, geom) VALUES (%s, 'C', %s), (%s, 'D', %s)",
              [e.community_c, _square(x0, y0 + 0.03, 0.02),
               e.community_d, _square(x0 + 0.05, y0 + 0.03, 0.02)])
    serial = int(w.tag[1:]) * 100 + 50
    for key, x in (("c", x0 + 0.01), ("d", x0 + 0.06)):
        hid = c.execute("INSERT INTO household (ref, address, grid_code, placement, geom)"
                        " VALUES (%s, 'lane 1', NULL, 'outside', ST_SetSRID(ST_MakePoint(%s, %s), 4326))"
                        " RETURNING id", [f"{w.tag}-ungridded-{key}", x, y0 + 0.04]).fetchone()[0]
        e.ungridded[key] = hid
        for _ in range(2):
            serial += 1
            c.execute("INSERT INTO person (household_id, name, id_number, phone) VALUES (%s, %s, %s, %s)",
                      [hid, f"person {serial}", _id_number(serial), "13812345678"])
    # Birth dates as the register keeps them: derived from the ID number (the access world leaves them out).
    c.execute("UPDATE person SET birth_date = make_date(substr(id_number, 7, 4)::int,"
              " substr(id_number, 11, 2)::int, substr(id_number, 13, 2)::int)"
              " WHERE id_number IS NOT NULL AND birth_date IS NULL")
    for name, grants in extra_users(w).items():
        username = f"{w.tag}-{name}"
        c.execute("INSERT INTO app_user (username, password_hash) VALUES (%s, %s)", [username, _hash()])
        for role, scope in grants:
            accounts.grant(c, username, role, scope)
        uid = accounts.user_id(c, username)
        e.users[name] = accounts.Principal(uid, username, tuple(accounts.Grant(r, s) for r, s in grants))
    road = c.execute("INSERT INTO road (ref, name, geom) VALUES (%s, 'Test Road', ST_SetSRID("
                     "ST_MakeLine(ST_MakePoint(%s, %s), ST_MakePoint(%s, %s)), 4326)) RETURNING id",
                     [f"{w.tag}R", x0, y0 + 0.01, x0 + 0.02, y0 + 0.01]).fetchone()[0]
    e.section = c.execute(
        "INSERT INTO road_section (road_id, code, road_name, length_m, community_code, grid_code, grid_codes,"
        " geom) SELECT id, %s, name, 2000, %s, %s, %s, geom FROM road WHERE id = %s RETURNING id",
        [f"{w.tag}R-001", w.community, w.g1, [w.g1, w.g2], road]).fetchone()[0]
    unit = c.execute("INSERT INTO responsible_unit (name, contact, phone) VALUES (%s, %s, %s) RETURNING id",
                     [f"{w.tag} unit", UNIT_CONTACT, UNIT_PHONE]).fetchone()[0]
    e.assignment = c.execute(
        "INSERT INTO road_section_assignment (section_id, unit_id, valid)"
        " VALUES (%s, %s, daterange(current_date - 10, NULL)) RETURNING id", [e.section, unit]).fetchone()[0]
    hour = timedelta(hours=1)
    for name, p in {**w.users, **e.users}.items():
        e.tokens[name] = accounts.issue_token(c, p.username, PASSWORD, secret, hour)[0]
    return e


def remove_extras(c: psycopg.Connection, w: World, e: Extras) -> None:
    c.execute("DELETE FROM road WHERE ref = %s", [f"{w.tag}R"])
    c.execute("DELETE FROM responsible_unit WHERE name = %s", [f"{w.tag} unit"])
    c.execute("DELETE FROM household WHERE ref LIKE %s", [f"{w.tag}-%"])
    c.execute("DELETE FROM community WHERE code = ANY(%s)", [[e.community_c, e.community_d]])


@pytest.fixture(scope="module")
def extras(database_url: str, settings, api_world: World) -> Iterator[Extras]:  # noqa: F811
    with psycopg.connect(database_url) as c:
        e = build_extras(c, api_world, settings.secret_key)
        c.commit()
    yield e
    with psycopg.connect(database_url) as c:
        remove_extras(c, api_world, e)
        c.commit()


@pytest.fixture(scope="module")
def auth(extras: Extras):
    """``auth("worker_viewer")``: the Authorization header of a world or extra user."""
    return lambda name: {"Authorization": f"Bearer {extras.tokens[name]}"}


@pytest.fixture
def owner(database_url: str) -> Iterator[psycopg.Connection]:
    """The owner's connection (not subject to row-level security): the independent answer."""
    with psycopg.connect(database_url) as c:
        yield c
        c.rollback()


def column(owner: psycopg.Connection, query: str, params: list | None = None) -> set:
    return {r[0] for r in owner.execute(query, params)}  # type: ignore[arg-type]


def names_in(text: str, names: set[str]) -> set[str]:
    """Which of these person names ("person 12345") occur in the text as whole names."""
    return {n for n in names if re.search(re.escape(n) + r"(?!\d)", text)}


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y
