"""The import path of the division, attacked by scoped admins (issue 10, classes 2 and 6): a grids file
cannot carry a grid over the neighbour nor one of the neighbour's codes, a communities file cannot
stretch over another street, and a buildings file cannot place buildings outside the importer's scope;
every refusal names the rows. A grids import within scope re-places only the importer's households.

Before migration 010 and these checks, the covering grid, the stretched community and the buildings
were all imported (200), and a grid of the neighbour's code was refused by the row policy as a bare 403
naming no row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import geopandas as gpd
import psycopg
import pytest
import shapely

from gis.access import accounts
from gis.catalog import load_frame
from gis.errors import InvalidInput
from tests.access.conftest import PASSWORD, as_user
from tests.conftest import own_database
from tests.security.test_division_takeover import (
    Api,
    Neighbours,
    box,
    build,
    key_person_grids,
    placements,
)
from tests.security.test_division_takeover import world as world  # noqa: F401 - the fixture

database_url, settings, admin_token = own_database("gridmap_security_division_imports")


def geojson(*features: tuple[dict, dict]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": geometry} for props, geometry in features]},
        ensure_ascii=False).encode()


def upload(api: Api, who: str, layer: str, body: bytes):
    file = (f"{layer}.geojson", body, "application/geo+json")
    return api(who, "POST", f"/imports/{layer}", files={"file": file})


def problems(response) -> list[tuple[int | None, str]]:
    return [(e["row"], e["field"]) for e in response.json()["errors"]]


def point(x: float, y: float) -> dict:
    return {"type": "Point", "coordinates": [x, y]}


def test_grids_file_over_the_neighbour_is_refused_row_by_row(world, database_url) -> None:
    n, api = world
    x0, y0 = n.x0, n.y0
    with psycopg.connect(database_url) as c:
        before = placements(c, n.households[n.b1])
    covering = geojson(({"code": n.a + "009", "name": "全覆盖"}, box(x0, y0, x0 + 0.04, y0 + 0.02)))
    r = upload(api, "admin-a", "grids", covering)
    assert r.status_code == 422, r.text
    assert problems(r) == [(1, "geom")]
    mixed = geojson(({"code": n.a + "003", "name": "本社区"}, box(x0, y0, x0 + 0.01, y0 + 0.01)),
                    ({"code": n.b + "009", "name": "别社区"}, box(x0 + 0.02, y0, x0 + 0.03, y0 + 0.01)))
    r = upload(api, "admin-a", "grids", mixed)
    assert r.status_code == 422, r.text
    assert problems(r) == [(2, "code")]
    with psycopg.connect(database_url) as c:
        assert placements(c, n.households[n.b1]) == before
        assert c.execute("SELECT count(*) FROM grid WHERE code IN (%s, %s, %s)",
                         [n.a + "009", n.a + "003", n.b + "009"]).fetchone()[0] == 0


def test_grids_import_within_scope_replaces_only_the_importers_households(world, database_url) -> None:
    """A's community overlaps B's (old data); A imports a grid there, over B's households: the import's
    re-placement, with A's rights, leaves them in B's grid, key persons included."""
    n, api = world
    x0, y0 = n.x0, n.y0
    with psycopg.connect(database_url) as c:
        before = placements(c, n.households[n.b1])
    r = upload(api, "admin-a", "grids", geojson(({"code": n.a + "004", "name": "B 之上"},
                                                 box(x0 + 0.02, y0, x0 + 0.03, y0 + 0.02))))
    assert r.status_code == 200, r.text
    with psycopg.connect(database_url) as c:
        assert placements(c, n.households[n.b1]) == before
        assert key_person_grids(c, n.key_persons[n.b1]) == {n.b1}


def test_buildings_outside_the_importers_scope_are_refused(world, database_url) -> None:
    n, api = world
    x0, y0 = n.x0, n.y0
    body = geojson(({"name": "本楼"}, point(x0 + 0.005, y0 + 0.005)),
                   ({"name": "别楼"}, point(x0 + 0.035, y0 + 0.005)),
                   ({"name": "野楼"}, point(x0 - 0.5, y0 - 0.5)))
    r = upload(api, "admin-a", "buildings", body)
    assert r.status_code == 422, r.text
    assert problems(r) == [(2, "geom"), (3, "geom")]
    r = upload(api, "admin-a", "buildings", geojson(({"name": "本楼"}, point(x0 + 0.005, y0 + 0.005))))
    assert r.status_code == 200, r.text
    with psycopg.connect(database_url) as c:
        assert c.execute("SELECT count(*) FROM building"
                         " WHERE ST_DWithin(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326), 1e-9)"
                         " AND grid_code = %s", [x0 + 0.005, y0 + 0.005, n.a1]).fetchone()[0] == 1


@pytest.fixture
def street_admin(world, database_url, settings) -> Iterator[str]:
    """An admin of A's street: may draw new communities there, not into B's street."""
    n, api = world
    username = f"street-{n.a}"
    with psycopg.connect(database_url) as c:
        accounts.create_user(c, username, PASSWORD)
        accounts.grant(c, username, "admin", n.a[:9])
        token = accounts.issue_token(c, username, PASSWORD, settings.secret_key, timedelta(hours=1))[0]
        c.commit()
    api.headers["street-a"] = {"Authorization": f"Bearer {token}"}
    yield "street-a"


def test_a_communities_file_cannot_reach_into_another_street(world, street_admin) -> None:
    n, api = world
    x0, y0 = n.x0, n.y0
    street = n.a[:9]
    touching = box(x0, y0 + 0.02, x0 + 0.04, y0 + 0.03)  # north of A and B: shares B's edge only
    reaching = box(x0 + 0.01, y0 - 0.01, x0 + 0.04, y0 + 0.005)  # 0.005° into B (and A, its own)
    body = geojson(({"code": street + "002", "name": "越界社区"}, touching),
                   ({"code": street + "003", "name": "伸入社区"}, reaching))
    r = upload(api, street_admin, "communities", body)
    assert r.status_code == 422, r.text
    assert problems(r) == [(2, "geom")]


def test_the_import_as_the_service_role_names_the_rows(conn: psycopg.Connection) -> None:
    """The same rules for an import run inside the database role's transaction (gis, no HTTP)."""
    n: Neighbours = build(conn)
    x0, y0 = n.x0, n.y0
    as_user(conn, n.users["admin-a"])
    frame = gpd.GeoDataFrame({"code": [n.a + "009"], "name": ["全覆盖"]},
                             geometry=[shapely.box(x0, y0, x0 + 0.04, y0 + 0.02)], crs=4326)
    with pytest.raises(InvalidInput) as err:
        load_frame(conn, "grids", frame)
    assert [(p.row, p.field) for p in err.value.problems] == [(1, "geom")]
