"""Local TM SRIDs: one per 0.25-degree centre, registered once, and right where they are centred."""

from __future__ import annotations

import pytest
from pyproj import Transformer

from gis.local_tm import local_tm_srid
from tests.perimeter.conftest import GEOD, HARBIN, SANYA, offset


def test_one_srid_per_rounded_centre(conn):
    a = local_tm_srid(conn, *HARBIN)
    assert local_tm_srid(conn, HARBIN[0] + 0.1, HARBIN[1] - 0.1) == a  # rounds to the same centre
    b = local_tm_srid(conn, *SANYA)
    assert b != a and 910001 <= min(a, b) and max(a, b) <= 998999
    proj = conn.execute("SELECT proj4text FROM spatial_ref_sys WHERE srid = %s", [b]).fetchone()[0]
    assert "+lon_0=109.50 +lat_0" not in proj and "+lat_0=18.25 +lon_0=109.50" in proj


def test_planar_distances_near_the_centre_match_geodesics(conn):
    srid = local_tm_srid(conn, *HARBIN)
    a = offset(*HARBIN, 90, 20_000)
    b = offset(*a, 33, 199.9)
    got = conn.execute("SELECT ST_Distance(ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s),"
                       " ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s))",
                       [*a, srid, *b, srid]).fetchone()[0]
    assert got == pytest.approx(GEOD.inv(*a, *b)[2], abs=0.007)
    proj = conn.execute("SELECT proj4text FROM spatial_ref_sys WHERE srid = %s", [srid]).fetchone()[0]
    x, _ = Transformer.from_crs("EPSG:4326", proj, always_xy=True).transform(*a)
    assert abs(x) < 20_000 + 0.125 * 78_000  # centred within half a 0.25-degree step of Harbin
