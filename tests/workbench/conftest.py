"""Fixtures of the workbench tests: a small demo street of the folder's own database, one user per
role (a grid worker of one grid, a street's viewer, admins, an inspector, a planner), the app served
for real browsers, and a TestClient per user signed in with the login cookie as a browser is."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from gis.access import accounts
from tests.conftest import own_database

# A database of this folder's own: the street and the users are committed for the served app.
database_url, settings, admin_token = own_database("gridmap_workbench")

PASSWORD = "workbench horse battery"


@dataclass(frozen=True)
class Street:
    grid: str  # the grid worker's grid
    community: str
    street: str
    users: dict[str, str]  # role name -> username


def role_grants(grid: str) -> dict[str, list[tuple[str, str]]]:
    return {
        "admin": [("admin", "")],
        "street_admin": [("admin", grid[:9])],
        "worker": [("grid_worker", grid)],
        "inspector": [("inspector", "")],
        "planner": [("planner", "")],
        "viewer": [("viewer", grid[:9])],
        "unit": [("unit", grid[:9])],  # 责任单位: which unit it acts for is unit_account (migration 021)
        "reporter": [("reporter", grid[:9])],
    }


@pytest.fixture(scope="session")
def street(database_url: str) -> Street:
    from gis.demo.street import generate_street, load_demo

    demo = generate_street(seed=12, communities=2, grids=4, households=120, persons=260, schools=2, places=40)
    grid = str(demo.grids["code"].iloc[0])
    tag = uuid.uuid4().hex[:6]
    users: dict[str, str] = {}
    with psycopg.connect(database_url) as conn:
        load_demo(conn, demo)
        for name, grants in role_grants(grid).items():
            username = f"wb-{tag}-{name.replace('_', '-')}"
            accounts.create_user(conn, username, PASSWORD)
            for role, scope in grants:
                accounts.grant(conn, username, role, scope)
            users[name] = username
        conn.commit()
    return Street(grid=grid, community=grid[:12], street=grid[:9], users=users)


@pytest.fixture(scope="session")
def password() -> str:
    return PASSWORD


@pytest.fixture(scope="session")
def app(settings):
    from api.app import create_app

    return create_app(settings)


@pytest.fixture(scope="session")
def signed_in(app, street: Street) -> Iterator:
    """``signed_in("worker")``: a TestClient that signed in at /login (it holds the cookie)."""
    from fastapi.testclient import TestClient

    clients: list[TestClient] = []

    def make(name: str) -> TestClient:
        c = TestClient(app, base_url="http://127.0.0.1")
        c.__enter__()
        clients.append(c)
        r = c.post("/login", data={"username": street.users[name], "password": PASSWORD, "next": "/"},
                   follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/", r.text
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)
