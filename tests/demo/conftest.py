"""Demo streets shared by the demo tests (generated once per session), and a database of its own
for the CLI test, which commits."""

from __future__ import annotations

import pytest

from gis.demo.street import DemoStreet, generate_street

SMALL = {"seed": 7, "communities": 3, "grids": 14, "households": 1_500, "persons": 3_800}


@pytest.fixture(scope="session")
def small_sizes() -> dict[str, int]:
    return dict(SMALL)


@pytest.fixture(scope="session")
def street() -> DemoStreet:
    """The default street: 6 communities, 60 grids, 20,000 households, 50,000 persons."""
    return generate_street()


@pytest.fixture(scope="session")
def small_street() -> DemoStreet:
    return generate_street(**SMALL)


@pytest.fixture(scope="session")
def defect_street() -> DemoStreet:
    return generate_street(**SMALL, with_defects=True)


@pytest.fixture
def own_database_url(fresh_database) -> str:
    """A fresh migrated database for a test that commits (the CLI)."""
    return fresh_database("gridmap_demo")
