"""Fixtures of the media store's tests: the folder's own database (its tests commit photos), a place
with an inspection, and a signed-in client per role (an inspector, a viewer, a planner)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest

from gis.access import accounts
from tests.conftest import own_database

database_url, settings, admin_token = own_database("gridmap_media")
# the planner holds no perimeter right (a grid worker neither: tests/workbench checks hers)
ROLES = {"inspector": ("inspector", ""), "viewer": ("viewer", ""), "planner": ("planner", "")}


@pytest.fixture(scope="module")
def world(database_url: str, settings) -> dict:
    """A place, one inspection of it, and a bearer token per role."""
    tag = uuid.uuid4().hex[:6]
    tokens: dict[str, str] = {}
    with psycopg.connect(database_url) as conn:
        place = conn.execute("INSERT INTO place (ref, name, category, geom) VALUES (%s, 'cafe',"
                             " 'internet_cafe', ST_Point(113.0, 25.8, 4326)) RETURNING id",
                             [f"media-{tag}"]).fetchone()[0]
        inspection = conn.execute("INSERT INTO inspection (place_id, inspector, result)"
                                  " VALUES (%s, 'someone', 'violation') RETURNING id", [place]).fetchone()[0]
        for name, (role, scope) in ROLES.items():
            username, password = f"media-{tag}-{name}", uuid.uuid4().hex
            accounts.create_user(conn, username, password)
            accounts.grant(conn, username, role, scope)
            tokens[name], _ = accounts.issue_token(conn, username, password, settings.secret_key,
                                                   timedelta(hours=1))
        conn.commit()
    return {"place": f"media-{tag}", "inspection": inspection, "tokens": tokens}


@pytest.fixture(scope="module")
def api(settings) -> Iterator:
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def as_role(api, world):
    """``as_role("viewer")``: request headers of that role's bearer token."""
    return lambda name: {"Authorization": f"Bearer {world['tokens'][name]}"}
