"""Fixtures of the access tests: a small world of two streets, three grids, households, persons and
key persons, and one user per role, each scoped to part of it."""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
import pytest
from fastapi import Request

from gis.access import accounts
from gis.codes import id_number_check_digit
from tests.conftest import own_database

# A database of this folder's own: the access tests commit their world, users and tokens.
database_url, settings, admin_token = own_database("gridmap_access")

PASSWORD = "correct horse battery"
_serial = itertools.count(random.randrange(1, 300) * 10)


@functools.cache
def _hash() -> str:
    return accounts.hash_password(PASSWORD)


@dataclass
class World:
    """Codes and ids of the world, and the users (username -> Principal) acting in it."""

    tag: str
    street: str  # 9 digits: the street of grids g1 and g2
    community: str  # 12 digits, grids g1 and g2
    other_community: str  # another street, grid g3
    g1: str
    g2: str
    g3: str
    households: dict[str, list[int]] = field(default_factory=dict)  # grid code ('' = none) -> ids
    persons: dict[str, list[int]] = field(default_factory=dict)
    key_persons: dict[str, list[int]] = field(default_factory=dict)
    users: dict[str, accounts.Principal] = field(default_factory=dict)

    def all(self, kind: str) -> set[int]:
        return {i for ids in getattr(self, kind).values() for i in ids}


def _square(x: float, y: float, size: float) -> str:
    return (f"SRID=4326;MULTIPOLYGON((({x} {y},{x + size} {y},{x + size} {y + size},{x} {y + size},"
            f"{x} {y})))")


def _id_number(n: int) -> str:
    first17 = f"439901{1970 + n % 40}0{1 + n % 9}1{n % 9}{n % 1000:03d}"[:17]
    return first17 + id_number_check_digit(first17)


def build_world(conn: psycopg.Connection) -> World:
    """Two streets of one county (439901): street A has community A with grids g1, g2; street B has
    community B with grid g3. Three households per grid and one outside every grid, two persons per
    household, the first of each household a key person (重点人员). Users: see ROLE_USERS."""
    n = next(_serial)
    street_a, street_b = f"439901{n % 999 + 1:03d}", f"439901{(n + 1) % 999 + 1:03d}"
    ca, cb = street_a + "001", street_b + "001"
    w = World(tag=f"t{n}", street=street_a, community=ca, other_community=cb,
              g1=ca + "001", g2=ca + "002", g3=cb + "001")
    x0, y0 = 100.0 + (n % 50) * 0.1, 38.0 + (n // 50 % 20) * 0.1
    conn.execute("INSERT INTO community (code, name, geom) VALUES (%s, 'A', %s), (%s, 'B', %s)",
                 [ca, _square(x0, y0, 0.02), cb, _square(x0 + 0.05, y0, 0.02)])
    conn.execute(
        "INSERT INTO grid (code, community_code, name, geom) VALUES"
        " (%s, %s, 'g1', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326))),"
        " (%s, %s, 'g2', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326))),"
        " (%s, %s, 'g3', ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)))",
        [w.g1, ca, x0, y0, x0 + 0.01, y0 + 0.02, w.g2, ca, x0 + 0.01, y0, x0 + 0.02, y0 + 0.02,
         w.g3, cb, x0 + 0.05, y0, x0 + 0.07, y0 + 0.02])
    spots = {w.g1: x0 + 0.005, w.g2: x0 + 0.015, w.g3: x0 + 0.06, "": x0 - 0.5}
    serial = n * 100
    for grid, x in spots.items():
        count = 1 if grid == "" else 3
        ids = [r[0] for r in conn.execute(
            "INSERT INTO household (ref, address, grid_code, placement, geom)"
            " SELECT %s || '-' || i, 'road ' || i, nullif(%s, ''), %s::grid_placement,"
            "        ST_SetSRID(ST_MakePoint(%s, %s + i * 0.001), 4326)"
            " FROM generate_series(1, %s) i RETURNING id",
            [f"{w.tag}-{grid or 'none'}", grid, "inside" if grid else "outside", x, y0, count]).fetchall()]
        w.households[grid] = ids
        w.persons[grid], w.key_persons[grid] = [], []
        for hid in ids:
            for k in range(2):
                serial += 1
                pid = conn.execute(
                    "INSERT INTO person (household_id, name, id_number, phone, relation)"
                    " VALUES (%s, %s, %s, '13812345678', %s) RETURNING id",
                    [hid, f"person {serial}", _id_number(serial), "head" if k == 0 else "child"],
                ).fetchone()[0]
                w.persons[grid].append(pid)
                if k == 0:
                    conn.execute("INSERT INTO key_person (person_id, category) VALUES (%s, 'petitioner')",
                                 [pid])
                    w.key_persons[grid].append(pid)
    for name, grants in role_users(w).items():
        username = f"{w.tag}-{name}"
        # One argon2 hash for all (0.1-0.3 s each): create_user itself is tested in test_accounts.
        conn.execute("INSERT INTO app_user (username, password_hash) VALUES (%s, %s)", [username, _hash()])
        for role, scope in grants:
            accounts.grant(conn, username, role, scope)
        uid = accounts.user_id(conn, username)
        w.users[name] = accounts.Principal(uid, username, tuple(accounts.Grant(r, s) for r, s in grants))
    return w


def role_users(w: World) -> dict[str, list[tuple[str, str]]]:
    """The users of the world and their grants (role, scope)."""
    return {
        "admin": [("admin", "")],  # everything
        "street_admin": [("admin", w.street)],  # street A: g1, g2
        "worker": [("grid_worker", w.g1)],  # 网格员 of g1 only
        "inspector": [("inspector", "")],
        "planner": [("planner", "")],
        "viewer": [("viewer", w.street)],
    }


def as_user(conn: psycopg.Connection, principal: accounts.Principal | None) -> None:
    """Continue this transaction as the service role, acting for ``principal`` (None: nobody)."""
    conn.execute("RESET ROLE")
    accounts.act_as(conn, principal, client="pytest")


@pytest.fixture
def world(conn: psycopg.Connection) -> World:
    """The world inside the test's transaction (rolled back afterwards)."""
    return build_world(conn)


@pytest.fixture
def acting(conn: psycopg.Connection) -> Iterator:
    """``acting(principal)`` switches the test's transaction to the service role for that user."""
    yield lambda principal: as_user(conn, principal)
    conn.execute("RESET ROLE")


def secured_app(settings):
    """The app exactly as create_app builds it: the policy and RLS are part of it."""
    from api.app import create_app

    return create_app(settings)


@pytest.fixture(scope="module")
def api_world(database_url: str) -> Iterator[World]:
    """The world committed (the app's requests run in their own transactions), removed afterwards."""
    with psycopg.connect(database_url) as c:
        w = build_world(c)
        c.commit()
    yield w
    with psycopg.connect(database_url) as c:
        c.execute("DELETE FROM household WHERE id = ANY(%s)", [sorted(w.all("households"))])
        c.execute("DELETE FROM grid_worker_grid WHERE grid_code = ANY(%s)", [[w.g1, w.g2, w.g3]])
        c.execute("DELETE FROM grid WHERE code = ANY(%s)", [[w.g1, w.g2, w.g3]])
        c.execute("DELETE FROM community WHERE code = ANY(%s)", [[w.community, w.other_community]])
        c.execute("DELETE FROM app_user WHERE username LIKE %s", [f"{w.tag}-%"])
        c.commit()


@pytest.fixture(scope="module")
def extras(database_url: str, settings, api_world: World) -> Iterator:
    """The roads and perimeter objects beside the committed world (tests/access/matrix_world.py), and
    a photo on its inspection (the photo routes read through it)."""
    from gis.media import store
    from gis.perimeter.inspections import add_photos
    from tests.access.matrix_cases import PNG
    from tests.access.matrix_world import build_extras, remove_extras

    with psycopg.connect(database_url) as c:
        made = build_extras(c, api_world)
        photo = store.store(c, settings.data_dir, PNG, "matrix")
        add_photos(c, made.inspection, [(photo.sha256, "p.png")])
        c.commit()
    yield made
    with psycopg.connect(database_url) as c:
        remove_extras(c, api_world)
        c.commit()


@pytest.fixture(scope="module")
def tokens(database_url: str, settings, api_world: World) -> dict[str, str]:
    """A live bearer token per user of the world (issued directly: the matrix's requests roll back)."""
    from datetime import timedelta

    with psycopg.connect(database_url) as c:
        hour = timedelta(hours=1)
        made = {name: accounts.issue_token(c, p.username, PASSWORD, settings.secret_key, hour)[0]
                for name, p in api_world.users.items()}
        c.commit()
    return made


@pytest.fixture(scope="module")
def app(settings):
    return secured_app(settings)


@pytest.fixture(scope="module")
def api(app) -> Iterator:
    """A client of the secured app whose requests commit as usual."""
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def dry_api(settings) -> Iterator:
    """A client whose every request is rolled back at its end: the matrix may call DELETE and PUT
    on real objects without changing them. Everything else (role, policy, RLS) is as in production."""
    from fastapi.testclient import TestClient

    from api.deps import get_conn

    dry = secured_app(settings)

    def rolled_back_conn(request: Request):  # the same as api.deps.get_conn, but never commits
        with request.app.state.pool.connection() as conn, conn.transaction(force_rollback=True):
            accounts.act_as(conn, None)
            yield conn

    dry.dependency_overrides[get_conn] = rolled_back_conn
    with TestClient(dry) as c:
        c.app_under_test = dry
        yield c


@pytest.fixture(scope="session")
def password() -> str:
    """Every world user's password."""
    return PASSWORD


@pytest.fixture(scope="module")
def bearer(tokens: dict[str, str]):
    """``bearer("worker")``: the Authorization header of a world user."""
    return lambda name: {"Authorization": f"Bearer {tokens[name]}"}


@pytest.fixture(scope="module")
def world_admin_token(database_url: str, settings, api_world: World) -> str:
    from datetime import timedelta

    with psycopg.connect(database_url) as c:
        token, _ = accounts.issue_token(c, api_world.users["admin"].username, PASSWORD, settings.secret_key,
                                        timedelta(hours=1))
        c.commit()
    return token


@pytest.fixture(scope="session")
def make_app():
    """``make_app(settings)``: the secured app."""
    return secured_app
