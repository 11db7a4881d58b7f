"""Fixtures of the honours tests: the folder's own database and the shared small world
(tests/facilities/world.py)."""

from __future__ import annotations

from tests.conftest import own_database
from tests.facilities.world import fixtures

database_url, settings, admin_token = own_database("gridmap_honours")
world, api, as_user = fixtures()
