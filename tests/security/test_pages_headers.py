"""Issue 10 classes 3 and 11 over HTTP: the security headers of every response, no caching of
personal data, and links that do not take the Host header from the client.

Before the fix: no response had a Content-Security-Policy, X-Content-Type-Options or frame
protection; the register, persons, households, exports, audit, OGC household items and household
tiles could be kept by a browser's or a proxy's cache (only the grid and street maps said
no-store); and the OGC landing page, collections and items wrote ``Host: evil.example`` into their
links (``request.base_url``), so a client or cache could be handed links to another site.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.access.conftest import World, build_world
from tests.conftest import own_database

# A database of this module's own: the world is committed for the app's pool.
database_url, settings, admin_token = own_database("gridmap_sec_headers")

EVIL = "evil.example"


@pytest.fixture(scope="module")
def world(database_url: str) -> World:
    with psycopg.connect(database_url) as c:
        w = build_world(c)
        c.commit()
    return w


@pytest.fixture(scope="module")
def box(database_url: str, world: World) -> str:
    """A viewport around the world's first grid, for the street map's data routes."""
    with psycopg.connect(database_url) as c:
        row = c.execute("SELECT ST_X(geom), ST_Y(geom) FROM household WHERE id = %s",
                        [world.households[world.g1][0]]).fetchone()
    assert row is not None
    x, y = row
    return f"{x - 0.1},{y - 0.1},{x + 0.1},{y + 0.1}"


@pytest.fixture(scope="module")
def client(settings, admin_token) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {admin_token}"}) as c:
        yield c


def _policy(response) -> dict[str, str]:
    """The Content-Security-Policy as directive -> value."""
    header = response.headers.get("content-security-policy", "")
    return {d.split()[0]: " ".join(d.split()[1:]) for d in header.split(";") if d.strip()}


def _assert_protected(response, path: str) -> None:
    policy = _policy(response)
    scripts = policy.get("script-src", "")
    assert scripts and "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, (path, policy)
    assert re.fullmatch(r"'nonce-[A-Za-z0-9_-]{16,}'", scripts), (path, scripts)
    assert policy.get("object-src") == "'none'" and policy.get("base-uri") == "'none'", path
    # The maps may be framed by our own pages (the grid worker's home page), nothing else by any page.
    framed = response.url.path.startswith("/maps/")
    assert policy.get("frame-ancestors") == ("'self'" if framed else "'none'"), path
    assert response.headers.get("x-content-type-options") == "nosniff", path
    assert response.headers.get("x-frame-options") == ("SAMEORIGIN" if framed else "DENY"), path


def _personal_paths(w: World, box: str) -> list[str]:
    hid, pid = w.households[w.g1][0], w.persons[w.g1][0]
    return [
        "/households", f"/households/{hid}", "/persons", f"/persons/{pid}",
        f"/grids/{w.g1}/register.csv", f"/grids/{w.g1}/register.xlsx",
        f"/communities/{w.community}/register.csv", f"/communities/{w.community}/unplaced",
        "/exports/households", "/exports/persons", "/exports/grid_workers", "/audit",
        f"/maps/grids/{w.g1}", f"/maps/communities/{w.community}", "/maps/", f"/maps/street/{w.street}",
        f"/maps/street/{w.street}/households?bbox={box}", f"/maps/street/{w.street}/places?bbox={box}",
        "/ogc/collections/households/items", f"/ogc/collections/households/items/{hid}",
        "/tiles/households/0/0/0.mvt", "/auth/me", "/stats",
    ]


def test_personal_data_is_never_cached(client, world, box):
    """Every response holding register data says Cache-Control: no-store (before: only two maps)."""
    for path in _personal_paths(world, box):
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:200])
        assert r.headers.get("cache-control") == "no-store", (path, r.headers.get("cache-control"))
        _assert_protected(r, path)


def test_every_response_carries_the_security_headers(client, world, settings):
    """Successes, refusals and errors, HTML, JSON and files: the same protective headers."""
    with TestClient(create_app(settings)) as anonymous:
        _check_every_response(client, anonymous, world)


def _check_every_response(client: TestClient, anonymous: TestClient, world: World) -> None:
    answers = {
        "login form": anonymous.get("/login"),
        "401": anonymous.get("/households"),
        "303 to login": anonymous.get(f"/maps/grids/{world.g1}", headers={"Accept": "text/html"},
                                      follow_redirects=False),
        "404": client.get("/households/999999999"),
        "422": client.get("/maps/grids/not-a-code"),
        "405": client.delete("/maps/"),
        "openapi": anonymous.get("/openapi.json"),
        "perimeter map": client.get("/maps/perimeter"),
        "roads map": client.get("/maps/roads"),
        "roads map inline": client.get("/maps/roads?inline=true"),
        "static": anonymous.get("/static/leaflet/leaflet.js"),
    }
    for name, r in answers.items():
        _assert_protected(r, name)
        if name != "static":
            assert r.headers.get("cache-control") == "no-store", name
    # Public files without data stay cacheable; the docs pages keep working with their CDN.
    assert "no-store" not in answers["static"].headers.get("cache-control", "")
    docs = anonymous.get("/docs")
    assert docs.status_code == 200
    nonce = _policy(docs)["script-src"].split()[0]
    assert docs.text.count("<script") == docs.text.count(f'<script nonce="{nonce[7:-1]}"') > 0


def test_each_page_gets_its_own_nonce_on_every_script(client, world):
    """The policy's nonce is fresh per response and is on every script the map page holds."""
    pages = [client.get(f"/maps/grids/{world.g1}") for _ in range(2)]
    nonces = []
    for r in pages:
        nonce = _policy(r)["script-src"][len("'nonce-"):-1]
        nonces.append(nonce)
        tags = re.findall(r"<script\b[^>]*>", r.text)
        assert tags and all(f'nonce="{nonce}"' in t for t in tags), tags
    assert nonces[0] != nonces[1]


def test_tiles_of_households_are_not_cached_but_others_may_be(client):
    households = client.get("/tiles/households/0/0/0.mvt")
    places = client.get("/tiles/places/0/0/0.mvt")
    assert households.status_code == places.status_code == 200
    assert households.headers["cache-control"] == "no-store"
    assert places.headers["cache-control"] == "private, max-age=60"


def _ogc_documents(client: TestClient, world: World, **kw: Any) -> dict[str, str]:
    hid = world.households[world.g1][0]
    paths = ["/ogc", "/ogc/", "/ogc/api", "/ogc/collections", "/ogc/collections/grids",
             "/ogc/collections/grids/queryables", "/ogc/collections/grids/items?limit=1",
             "/ogc/collections/households/items?limit=1&offset=1", f"/ogc/collections/households/items/{hid}"]
    out = {}
    for path in paths:
        r = client.get(path, **kw)
        assert r.status_code == 200, (path, r.status_code, r.text[:200])
        out[path] = r.text
    return out


def _hrefs(text: str) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("href", "url", "$id") and isinstance(v, str):
                    found.append(v)
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(json.loads(text))
    return found


def test_ogc_links_ignore_the_host_header(client, world):
    """Host: evil.example (and X-Forwarded-Host) never reach a link (before: every link)."""
    docs = _ogc_documents(client, world, headers={"Host": EVIL, "X-Forwarded-Host": EVIL})
    for path, text in docs.items():
        assert EVIL not in text, path
        assert _hrefs(text), path  # there are links to check
    items = json.loads(docs["/ogc/collections/households/items?limit=1&offset=1"])
    rels = {link["rel"] for link in items["links"]}
    assert {"self", "collection", "next", "prev"} <= rels


def test_ogc_links_use_the_configured_public_url(settings, admin_token, world):
    public = "https://gridmap.city.example/gis"
    app = create_app(settings.model_copy(update={"public_url": public}))
    with TestClient(app, headers={"Authorization": f"Bearer {admin_token}", "Host": EVIL}) as c:
        docs = _ogc_documents(c, world)
    for path, text in docs.items():
        hrefs = [h for h in _hrefs(text) if h.startswith("http") and "opengis.net" not in h
                 and "json-schema.org" not in h]
        assert hrefs and all(h.startswith(f"{public}/ogc") for h in hrefs), (path, hrefs)
