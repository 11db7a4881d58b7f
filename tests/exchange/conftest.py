"""Fixtures of the import/export tests of the campaign's records: the folder's own database (its tests
commit and delete facilities and compounds), the small world of tests/exchange/world.py and the
campaign world of the duties (a planner, an inspector, unit accounts)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import own_database
from tests.duties import campaign_world
from tests.exchange import world as exchange_world

database_url, settings, admin_token = own_database("gridmap_exchange")


@pytest.fixture(scope="module")
def world(database_url: str, settings) -> dict:
    return exchange_world.build(database_url, settings)


@pytest.fixture(scope="module")
def api(settings) -> Iterator:
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def as_user(world):
    return lambda name: {"Authorization": f"Bearer {world['tokens'][name]}"}


@pytest.fixture(scope="module")
def campaign(database_url: str, settings) -> dict:
    with psycopg.connect(database_url) as conn:
        return campaign_world.build(conn, settings)


@pytest.fixture
def owner(database_url: str):
    """A connection as the database's owner (row-level security does not apply): to set up and to read
    what an import stored, independently of the exporter."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn
