"""Fixtures of the register tests: unique codes and ID numbers, and a community with two grids.

API tests commit into the folder's database, so every test makes its own community (unique code)
and its own ID numbers instead of sharing fixed ones.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from gis.codes import id_number_check_digit
from tests.conftest import own_database

# A database of this folder's own: the API tests commit.
database_url, settings, admin_token = own_database("gridmap_register")

_serial = itertools.count(random.randrange(1, 400))
_person = itertools.count(random.randrange(0, 10_000) * 100)


def box(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def spot(code: str) -> tuple[float, float]:
    """A south-west corner of its own for each community code, so test divisions never overlap
    (API tests commit, and grid_for_point would otherwise pick another test's grid)."""
    n = int(code[6:9]) * 1000 + int(code[9:12])
    return 110.0 + (n % 100) * 0.05, 25.0 + (n // 100 % 100) * 0.05


def new_community_code() -> str:
    n = next(_serial)
    return f"430102{n // 999 + 1:03d}{n % 999 + 1:03d}"


def id_number(born: str = "19800101", male: bool = True) -> str:
    """A valid, unique ID number (GB 11643) born on ``born`` with the given sex."""
    n = next(_person)
    first17 = f"43{n // 100 % 10000:04d}{born}{n % 100:02d}{1 if male else 0}"
    return first17 + id_number_check_digit(first17)


@pytest.fixture
def community_code() -> str:
    return new_community_code()


@pytest.fixture
def two_grids(client) -> Callable[..., dict]:
    """Create (through the API) a community 0.02° square with grids west (001) and east (002)."""

    def make() -> dict:
        code = new_community_code()
        x0, y0 = spot(code)
        r = client.post(
            "/communities",
            json={
                "code": code,
                "name": f"测试社区 {code}",
                "street_name": "测试街道",
                "geometry": box(x0, y0, x0 + 0.02, y0 + 0.02),
            },
        )
        assert r.status_code == 201, r.text
        for seq, (a, b) in enumerate([(x0, x0 + 0.01), (x0 + 0.01, x0 + 0.02)], start=1):
            r = client.post(
                "/grids",
                json={
                    "code": f"{code}{seq:03d}",
                    "community_code": code,
                    "name": f"第{seq}网格",
                    "geometry": box(a, y0, b, y0 + 0.02),
                },
            )
            assert r.status_code == 201, r.text
        return {"community": code, "west": f"{code}001", "east": f"{code}002", "x0": x0, "y0": y0}

    return make


@pytest.fixture(scope="session")
def h() -> SimpleNamespace:
    """The helpers above for test modules (with --import-mode=importlib they cannot import conftest)."""
    return SimpleNamespace(box=box, new_community_code=new_community_code, id_number=id_number, spot=spot)
