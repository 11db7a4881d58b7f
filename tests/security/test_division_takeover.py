"""Register takeover by geometry (issue 10, class 2), attacked as the service's database role and over
HTTP: a community admin cannot draw the division over a neighbouring community, and no re-placement of
households caused by one admin moves another scope's households or key persons.

Before migration 010 each of these passed for the attacker: a grid could be drawn anywhere under one's
own code, a community could be stretched over the neighbour, and the SECURITY DEFINER trigger of
migration 007 re-placed households with the owner's rights, so the neighbour's next grid edit moved
their households into the attacker's grid (the lowest code wins).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from gis.access import accounts
from tests.access.conftest import PASSWORD, as_user
from tests.conftest import own_database

database_url, settings, admin_token = own_database("gridmap_security_division")

_serial = itertools.count(random.randrange(0, 400))
ROOT = Path(__file__).resolve().parents[2]


def box(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def ewkt(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"SRID=4326;MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))"


@dataclass
class Neighbours:
    """Community A (the attacker's, the lower code, so its grids win placement ties) and community B
    east of it, each with one grid covering it, households, persons and key persons; a community
    admin for each. With ``overlap`` the city drew A 0.01° into B (a fault of old data): B's
    households at x0 + 0.025 then lie in both communities."""

    a: str
    b: str
    x0: float
    y0: float
    overlap: bool
    households: dict[str, list[int]] = field(default_factory=dict)  # grid -> ids
    key_persons: dict[str, list[int]] = field(default_factory=dict)
    users: dict[str, accounts.Principal] = field(default_factory=dict)

    @property
    def a1(self) -> str:
        return self.a + "001"

    @property
    def b1(self) -> str:
        return self.b + "001"


def build(conn: psycopg.Connection, overlap: bool = False) -> Neighbours:
    k = next(_serial) % 499
    a, b = f"439902{2 * k + 1:03d}001", f"439902{2 * k + 2:03d}001"
    x0, y0 = 101.0 + (k % 40) * 0.1, 30.0 + (k // 40) * 0.1
    n = Neighbours(a, b, x0, y0, overlap)
    conn.execute("INSERT INTO community (code, name, geom) VALUES (%s, 'A', %s), (%s, 'B', %s)",
                 [a, ewkt(x0, y0, x0 + (0.03 if overlap else 0.02), y0 + 0.02),
                  b, ewkt(x0 + 0.02, y0, x0 + 0.04, y0 + 0.02)])
    conn.execute("INSERT INTO grid (code, community_code, name, geom) VALUES (%s, %s, 'A1', %s),"
                 " (%s, %s, 'B1', %s)",
                 [n.a1, a, ewkt(x0, y0, x0 + 0.02, y0 + 0.02),
                  n.b1, b, ewkt(x0 + 0.02, y0, x0 + 0.04, y0 + 0.02)])
    for grid, x in ((n.a1, x0 + 0.005), (n.b1, x0 + 0.025)):
        ids = [r[0] for r in conn.execute(
            "INSERT INTO household (ref, address, grid_code, placement, geom)"
            " SELECT %s || '-' || i, 'road ' || i, %s, 'inside',"
            "        ST_SetSRID(ST_MakePoint(%s, %s + i * 0.004), 4326)"
            " FROM generate_series(1, 3) i RETURNING id", [f"div-{grid}", grid, x, y0]).fetchall()]
        n.households[grid] = ids
        persons = [conn.execute("INSERT INTO person (household_id, name) VALUES (%s, 'p') RETURNING id",
                                [hid]).fetchone()[0] for hid in ids]
        conn.execute("INSERT INTO key_person (person_id, category) SELECT unnest(%s::bigint[]), 'petitioner'",
                     [persons])
        n.key_persons[grid] = persons
    for name, scope in (("admin-a", a), ("admin-b", b)):
        username = f"div{k}-{name}-{random.randrange(10**6)}"
        accounts.create_user(conn, username, PASSWORD)
        accounts.grant(conn, username, "admin", scope)
        n.users[name] = accounts.Principal(accounts.user_id(conn, username), username,
                                           (accounts.Grant("admin", scope),))
    return n


def placements(conn: psycopg.Connection, ids: list[int]) -> dict[int, tuple[str | None, str]]:
    return {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT id, grid_code, placement::text FROM household WHERE id = ANY(%s)", [ids])}


def key_person_grids(conn: psycopg.Connection, ids: list[int]) -> set[str | None]:
    return {r[0] for r in conn.execute(
        "SELECT h.grid_code FROM key_person k JOIN person p ON p.id = k.person_id"
        " JOIN household h ON h.id = p.household_id WHERE k.person_id = ANY(%s)", [ids])}


def refused(conn: psycopg.Connection, statement: str, params: list, error: type[Exception]) -> Exception:
    with pytest.raises(error) as caught, conn.transaction():
        conn.execute(statement, params)
    return caught.value


# --- as the service's database role, acting for a community admin ---------------------------------

def test_a_grid_covering_the_neighbour_is_refused_by_the_database(conn: psycopg.Connection) -> None:
    n = build(conn)
    before = placements(conn, n.households[n.b1])
    as_user(conn, n.users["admin-a"])
    x0, y0 = n.x0, n.y0
    err = refused(conn, "INSERT INTO grid (code, community_code, name, geom) VALUES (%s, %s, 'x', %s)",
                  [n.a + "009", n.a, ewkt(x0, y0, x0 + 0.04, y0 + 0.02)], psycopg.errors.CheckViolation)
    assert err.diag.constraint_name == "grid_within_community" and err.diag.column_name == "geom"
    refused(conn, "UPDATE grid SET geom = %s WHERE code = %s", [ewkt(x0, y0, x0 + 0.04, y0 + 0.02), n.a1],
            psycopg.errors.CheckViolation)
    # Within the tolerance (digitising noise, ~0.5 m past the shared edge) is still a grid of A.
    conn.execute("UPDATE grid SET geom = %s WHERE code = %s", [ewkt(x0, y0, x0 + 0.020005, y0 + 0.02), n.a1])
    conn.execute("RESET ROLE")
    assert placements(conn, n.households[n.b1]) == before


def test_stretching_ones_community_over_the_neighbour_is_refused(conn: psycopg.Connection) -> None:
    """Else "a grid within its community" would hold for a grid drawn after the stretch."""
    n = build(conn)
    as_user(conn, n.users["admin-a"])
    x0, y0 = n.x0, n.y0
    redraw = "UPDATE community SET geom = %s WHERE code = %s"
    err = refused(conn, redraw, [ewkt(x0, y0, x0 + 0.04, y0 + 0.02), n.a], psycopg.errors.CheckViolation)
    assert err.diag.constraint_name == "community_within_scope" and n.b in err.diag.message_primary
    # Shrinking it away from its own grid is refused too: the grid would lie outside its community.
    err = refused(conn, redraw, [ewkt(x0, y0, x0 + 0.01, y0 + 0.02), n.a], psycopg.errors.CheckViolation)
    assert err.diag.constraint_name == "grid_within_community"


def test_the_neighbours_grid_edit_moves_none_of_their_households(conn: psycopg.Connection) -> None:
    """Old data let community A overlap B. A's admin draws a grid of A over B's households (it lies in A,
    so it stands): A's re-placement cannot touch B's households. B's admin then edits B's grid: placing
    B's households again would put them in A's grid (lower code), which B may not write, so the edit is
    refused, not done with more rights (before: 007's trigger moved them into A's grid as the owner)."""
    n = build(conn, overlap=True)
    before = placements(conn, n.households[n.b1])
    x0, y0 = n.x0, n.y0
    as_user(conn, n.users["admin-a"])
    conn.execute("INSERT INTO grid (code, community_code, name, geom) VALUES (%s, %s, 'over B', %s)",
                 [n.a + "002", n.a, ewkt(x0 + 0.02, y0, x0 + 0.03, y0 + 0.02)])
    as_user(conn, n.users["admin-b"])
    refused(conn, "UPDATE grid SET geom = %s WHERE code = %s",
            [ewkt(x0 + 0.02, y0, x0 + 0.039, y0 + 0.02), n.b1], psycopg.errors.InsufficientPrivilege)
    assert key_person_grids(conn, n.key_persons[n.b1]) == {n.b1}  # B still reads its key persons
    as_user(conn, n.users["admin-a"])
    seen = conn.execute("SELECT count(*) FROM household WHERE id = ANY(%s)", [n.households[n.b1]]).fetchone()
    assert seen == (0,)
    assert key_person_grids(conn, n.key_persons[n.b1]) == set()
    conn.execute("RESET ROLE")
    assert placements(conn, n.households[n.b1]) == before
    assert key_person_grids(conn, n.key_persons[n.b1]) == {n.b1}


def test_deleting_a_grid_replaces_only_the_deleters_households(conn: psycopg.Connection) -> None:
    """A's admin deletes A's grid that also covers B's households (old overlapping data): A's households
    move to A's other grid (placed before the delete, while they are still A's to see and write: after
    it, a scoped admin's policies would no longer find them), B's stay in B's grid."""
    n = build(conn, overlap=True)
    x0, y0 = n.x0, n.y0
    conn.execute("UPDATE grid SET geom = %s WHERE code = %s", [ewkt(x0, y0, x0 + 0.03, y0 + 0.02), n.a1])
    conn.execute("INSERT INTO grid (code, community_code, name, geom) VALUES (%s, %s, 'A2', %s)",
                 [n.a + "002", n.a, ewkt(x0, y0, x0 + 0.01, y0 + 0.02)])
    conn.execute("UPDATE household SET grid_code = %s, placement = 'inside' WHERE id = ANY(%s)",
                 [n.b1, n.households[n.b1]])  # stored as B's, as before the city widened A
    before = placements(conn, n.households[n.b1])
    as_user(conn, n.users["admin-a"])
    assert conn.execute("DELETE FROM grid WHERE code = %s", [n.a1]).rowcount == 1
    conn.execute("RESET ROLE")
    assert set(placements(conn, n.households[n.a1]).values()) == {(n.a + "002", "inside")}
    assert placements(conn, n.households[n.b1]) == before
    assert key_person_grids(conn, n.key_persons[n.b1]) == {n.b1}


def test_no_replacement_runs_with_the_owners_rights(conn: psycopg.Connection) -> None:
    """No trigger on grid or household runs SECURITY DEFINER (before: 007's replace_households_of_grids),
    and the re-placement function itself runs with the caller's rights."""
    definers = conn.execute(
        "SELECT t.tgname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
        " WHERE t.tgrelid IN ('grid'::regclass, 'community'::regclass, 'household'::regclass)"
        " AND p.prosecdef").fetchall()
    assert definers == []
    assert conn.execute("SELECT bool_or(prosecdef) FROM pg_proc WHERE proname = 'replace_households'"
                        ).fetchone()[0] is False


def test_household_replacement_has_one_home() -> None:
    """Only replace_households (migration 010) writes a household's grid after the fact: no copy in the
    grid routes or the grids import (before: 007's trigger, grids.reassign_households, specs._REASSIGN)."""
    writers = []
    for path in sorted((ROOT / "gis").rglob("*")):
        if path.suffix not in (".py", ".sql") or path.parent.name == "migrations":
            continue
        text = " ".join(path.read_text(encoding="utf-8").split())
        if "UPDATE household" in text and "grid_code =" in text.split("UPDATE household", 1)[1][:200]:
            writers.append(path.relative_to(ROOT).as_posix())
    assert writers == []


# --- over HTTP, with the community admins' tokens ----------------------------------------------------

@dataclass
class Api:
    """The secured app and the community admins' Authorization headers."""

    client: TestClient
    headers: dict[str, dict[str, str]]

    def __call__(self, who: str, method: str, url: str, **kwargs):
        return self.client.request(method, url, headers=self.headers[who], **kwargs)


@pytest.fixture
def world(database_url: str, settings) -> Iterator[tuple[Neighbours, Api]]:
    """Neighbours committed (the app's requests run in their own transactions), and the app."""
    from api.app import create_app

    with psycopg.connect(database_url) as c:
        n = build(c, overlap=True)
        c.commit()
        hour = timedelta(hours=1)
        tokens = {name: accounts.issue_token(c, p.username, PASSWORD, settings.secret_key, hour)[0]
                  for name, p in n.users.items()}
        c.commit()
    with TestClient(create_app(settings)) as client:
        yield n, Api(client, {name: {"Authorization": f"Bearer {t}"} for name, t in tokens.items()})


def stored(database_url: str, n: Neighbours) -> tuple[dict, set]:
    with psycopg.connect(database_url) as c:
        return placements(c, n.households[n.b1]), key_person_grids(c, n.key_persons[n.b1])


def test_http_covering_grid_and_stretched_community_are_422_on_geom(world, database_url) -> None:
    n, api = world
    before = stored(database_url, n)
    x0, y0 = n.x0, n.y0
    everything = box(x0, y0, x0 + 0.04, y0 + 0.02)
    r = api("admin-a", "POST", "/grids",
            json={"code": n.a + "009", "community_code": n.a, "name": "全覆盖", "geometry": everything})
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["geom"]
    r = api("admin-a", "PUT", f"/grids/{n.a1}", json={"name": "A1", "geometry": everything})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "geom", r.text
    r = api("admin-a", "PUT", f"/communities/{n.a}",
            json={"name": "A", "geometry": box(x0, y0, x0 + 0.04, y0 + 0.02)})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "geom", r.text
    assert stored(database_url, n) == before


def test_http_neighbours_edit_and_deletion_leave_the_other_register_alone(world, database_url) -> None:
    """A draws a grid of its (overlapping) community over B's households; B edits its grid; A deletes
    that grid: B's households and key persons stay in B's grid and out of A's sight throughout
    (before: B's edit moved them into A's grid through 007's SECURITY DEFINER trigger)."""
    n, api = world
    before = stored(database_url, n)
    x0, y0 = n.x0, n.y0
    r = api("admin-a", "POST", "/grids", json={"code": n.a + "002", "community_code": n.a, "name": "B 之上",
                                               "geometry": box(x0 + 0.02, y0, x0 + 0.03, y0 + 0.02)})
    assert r.status_code == 201, r.text
    r = api("admin-b", "PUT", f"/grids/{n.b1}",
            json={"name": "B1", "geometry": box(x0 + 0.02, y0, x0 + 0.039, y0 + 0.02)})
    assert r.status_code == 403, r.text  # would move B's households into A's grid: not B's to do
    r = api("admin-b", "PUT", f"/grids/{n.b1}",
            json={"name": "B1 新名", "geometry": box(x0 + 0.02, y0, x0 + 0.04, y0 + 0.02)})
    assert r.status_code == 200, r.text  # the same boundary: nothing to move
    assert stored(database_url, n) == before
    for hid in n.households[n.b1]:
        assert api("admin-a", "GET", f"/households/{hid}").status_code == 404
        assert api("admin-b", "GET", f"/households/{hid}").status_code == 200
    assert api("admin-a", "DELETE", f"/grids/{n.a}002").status_code == 204
    assert stored(database_url, n) == before
