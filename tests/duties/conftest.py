"""Fixtures of the duty tests: the folder's own database (its tests commit records) and the campaign
world (tests/duties/campaign_world.py)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import own_database
from tests.duties import campaign_world

database_url, settings, admin_token = own_database("gridmap_duties")


@pytest.fixture(scope="module")
def world(database_url: str, settings) -> dict:
    with psycopg.connect(database_url) as conn:
        return campaign_world.build(conn, settings)


@pytest.fixture(scope="module")
def api(settings) -> Iterator:
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def as_user(world):
    return lambda name: {"Authorization": f"Bearer {world['tokens'][name]}"}
