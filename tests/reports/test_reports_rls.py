"""Row-level security of reports, as the service's database role (gridmap_app) acting for one user at a
time: a reporter reads only her reports, a unit account only its unit's, a grid worker only those lying
in her grids, a street admin (and a viewer) only their street's; the history is append-only (no UPDATE
or DELETE of report_event, no event but filing inserted directly) and the reporter is never rewritten.

The expected sets come from the owner's plain reading of the stored columns (reporter_id, unit_id,
routed_grid, area_code), never from the policies."""

from __future__ import annotations

import functools
import uuid

import psycopg
import pytest

from gis.access import accounts
from gis.reports.file import NewReport, file_reports
from tests.reports import truth

PASSWORD = "a long enough password"


@functools.cache
def _hash() -> str:
    return accounts.hash_password(PASSWORD)


def _user(conn: psycopg.Connection, tag: str, name: str, grants: list[tuple[str, str]]) -> accounts.Principal:
    username = f"{tag}-{name}"
    conn.execute("INSERT INTO app_user (username, password_hash) VALUES (%s, %s)", [username, _hash()])
    for role, scope in grants:
        accounts.grant(conn, username, role, scope)
    return accounts.Principal(accounts.user_id(conn, username), username,
                              tuple(accounts.Grant(r, s) for r, s in grants))


def act(conn: psycopg.Connection, who: accounts.Principal | None) -> None:
    """The rest of the transaction as gridmap_app for ``who`` (None: back to the owner)."""
    conn.execute("RESET ROLE")
    if who is not None:
        accounts.act_as(conn, who, client="pytest")


@pytest.fixture
def street(conn: psycopg.Connection) -> dict:
    """The truth street (tests/reports/truth.py) with accounts, and 120 of its cases filed today, the
    first half by one reporter, the rest by another."""
    w = truth.build(conn, n=700 + uuid.uuid4().int % 150)
    tag = f"rls{uuid.uuid4().hex[:6]}"
    grid = w.grids[0, 0]
    people = {
        "reporter": _user(conn, tag, "reporter", [("reporter", w.street)]),
        "reporter2": _user(conn, tag, "reporter2", [("reporter", w.street)]),
        "unit0": _user(conn, tag, "unit0", [("unit", w.street)]),
        "unit1": _user(conn, tag, "unit1", [("unit", w.street)]),
        "worker": _user(conn, tag, "worker", [("grid_worker", grid)]),
        "street_admin": _user(conn, tag, "street-admin", [("admin", w.street)]),
        "other_admin": _user(conn, tag, "other-admin", [("admin", w.c3[:9])]),
        "viewer": _user(conn, tag, "viewer", [("viewer", w.c3[:9])]),
    }
    for name, unit in (("unit0", w.units[0]), ("unit1", w.units[1])):
        conn.execute("INSERT INTO unit_account (user_id, unit_id) VALUES (%s, %s)",
                     [people[name].user_id, unit])
    chosen = w.cases[::4][:120]  # junctions, offsets, borders, strips, outside: a bit of everything
    ids = []
    for who, part in (("reporter", chosen[:60]), ("reporter2", chosen[60:])):
        act(conn, people[who])  # filed through the policies, by the reporter herself
        made = file_reports(conn, [NewReport(c.category, c.lon, c.lat, description=c.what) for c in part])
        ids += [i for i, _ in made]
    act(conn, None)
    return {"w": w, "people": people, "ids": ids, "grid": grid}


def _visible(conn: psycopg.Connection, who: accounts.Principal, ids: list[int]) -> set[int]:
    act(conn, who)
    seen = {i for (i,) in conn.execute("SELECT id FROM report WHERE id = ANY (%s)", [ids])}
    events = {i for (i,) in conn.execute(
        "SELECT DISTINCT report_id FROM report_event WHERE report_id = ANY (%s)", [ids])}
    act(conn, None)
    assert events == seen, "the history is read exactly where the report is"
    return seen


def test_each_reads_exactly_the_reports_that_are_theirs(conn: psycopg.Connection, street: dict) -> None:
    w, people, ids = street["w"], street["people"], street["ids"]
    rows = conn.execute("SELECT id, reporter_id, owner_kind, unit_id, routed_grid, area_code FROM report"
                        " WHERE id = ANY (%s)", [ids]).fetchall()
    assert len(rows) == 120
    expected = {
        "reporter": {r[0] for r in rows if r[1] == people["reporter"].user_id},
        "reporter2": {r[0] for r in rows if r[1] == people["reporter2"].user_id},
        "unit0": {r[0] for r in rows if r[2] == "unit" and r[3] == w.units[0]},
        "unit1": {r[0] for r in rows if r[2] == "unit" and r[3] == w.units[1]},
        "worker": {r[0] for r in rows if r[4] == street["grid"]},
        "street_admin": {r[0] for r in rows if r[5].startswith(w.street)},
        "other_admin": {r[0] for r in rows if r[5].startswith(w.c3[:9])},
        "viewer": {r[0] for r in rows if r[5].startswith(w.c3[:9])},
    }
    for name, want in expected.items():
        assert want and len(want) < len(rows), f"{name}: the world must give her some, not all"
        assert _visible(conn, people[name], ids) == want, name
    # the two reporters, the two units and the two streets share nothing
    assert not expected["reporter"] & expected["reporter2"]
    assert not expected["unit0"] & expected["unit1"]
    assert not expected["street_admin"] & expected["other_admin"]


def test_the_history_and_the_reporter_cannot_be_rewritten(conn: psycopg.Connection, street: dict) -> None:
    people, ids = street["people"], street["ids"]
    admin = people["street_admin"]
    refused = []
    for statement in ("UPDATE report_event SET note = 'changed' WHERE report_id = ANY (%s)",
                      "DELETE FROM report_event WHERE report_id = ANY (%s)",
                      "UPDATE report SET reporter = 'someone else' WHERE id = ANY (%s)",
                      "UPDATE report SET reporter_id = 1 WHERE id = ANY (%s)",
                      "DELETE FROM report WHERE id = ANY (%s)"):
        for who in (admin, people["reporter"]):
            act(conn, who)
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                with conn.transaction():
                    conn.execute(statement, [ids])
            refused.append(statement)
    # an event other than filing cannot be slipped in beside report_transition()
    act(conn, admin)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        with conn.transaction():
            conn.execute("INSERT INTO report_event (report_id, action, from_state, to_state, actor_id, actor,"
                         " owner_kind) VALUES (%s, 'close', 'new', 'closed', 0, '', 'unit')", [ids[0]])
    act(conn, None)
    assert len(refused) == 10
    reporters = conn.execute("SELECT count(DISTINCT reporter) FROM report WHERE id = ANY (%s)",
                             [ids]).fetchone()
    assert reporters == (2,)
    events = conn.execute("SELECT count(*) FROM report_event WHERE report_id = ANY (%s)", [ids]).fetchone()
    assert events == (120,)  # one 'file' step each, untouched
