"""Which rows each user of the access world should get back, computed as the database owner (no
row-level security, no API code): from the user's grants alone, the way the access model is written
in gis/access/roles.py and the README. The permission matrix compares every list, export, statistics,
OGC, tile and map answer with these sets, so a route that returns rows beyond the reader's scope (or
drops rows inside it) fails even when its status code is right."""

from __future__ import annotations

import csv
import io
import json
import re

import psycopg

from gis.access.roles import ADMIN, COUNTS, REGISTER
from tests.access.matrix_world import TILE_ZOOM, Extras, tile_of

ROW_ZOOM = 16

NAME_RE = re.compile(r"person (\d+)")  # the world's persons are named "person <serial>"


def scopes(user, roles: frozenset[str]) -> list[str]:
    return [g.scope for g in user.grants if g.role in roles]


def _like(prefixes: list[str]) -> list[str]:
    return [p + "%" for p in prefixes]


class Owner:
    """Set queries as the owner, answering for one user."""

    def __init__(self, db: psycopg.Connection, w, ex: Extras) -> None:
        self.db, self.w, self.ex = db, w, ex

    def ids(self, query: str, params: dict | list | None = None) -> set:
        return {r[0] for r in self.db.execute(query, params).fetchall()}

    def households(self, user) -> set[int]:
        """Households of the user's register scopes; outside every grid: those lying in a community
        under one of their admin scopes (all of them for an admin of everything)."""
        register = scopes(user, REGISTER)
        if "" in register:
            return self.ids("SELECT id FROM household")
        return self.ids(
            "SELECT h.id FROM household h WHERE h.grid_code LIKE ANY(%(r)s) OR (h.grid_code IS NULL"
            " AND EXISTS (SELECT 1 FROM community c"
            "             WHERE c.code LIKE ANY(%(a)s) AND ST_Intersects(c.geom, h.geom)))",
            {"r": _like(register), "a": _like(scopes(user, frozenset({ADMIN})))})

    def persons(self, user, area: str = "") -> set[int]:
        hh = self.households(user)
        return self.ids("SELECT p.id FROM person p JOIN household h ON h.id = p.household_id"
                        " WHERE p.household_id = ANY(%s) AND coalesce(h.grid_code, '') LIKE %s",
                        [sorted(hh), area + "%"])

    def serials(self, person_ids: set[int]) -> set[str]:
        names = self.ids("SELECT name FROM person WHERE id = ANY(%s)", [sorted(person_ids)])
        return {m.group(1) for n in names if (m := NAME_RE.fullmatch(n))}

    def workers(self, user, roles: frozenset[str], directory: bool = False) -> set[int]:
        """The world's grid workers serving a grid under one of the user's scopes for these roles; in the
        directory, an admin of any scope sees every worker (migration 005: to assign an existing one)."""
        if directory and ADMIN in roles and scopes(user, frozenset({ADMIN})):
            return {self.ex.worker_in, self.ex.worker_out}
        mine = scopes(user, roles)
        return self.ids("SELECT DISTINCT worker_id FROM grid_worker_grid WHERE worker_id = ANY(%s)"
                        " AND grid_code LIKE ANY(%s)",
                        [[self.ex.worker_in, self.ex.worker_out], _like(mine)]) if mine else set()

    def envelope(self, zoom: int) -> str:
        z, x, y = tile_of(self.ex.x0 + 0.005, self.ex.y0 + 0.002, zoom)
        return f"ST_Transform(ST_TileEnvelope({z}, {x}, {y}, margin => 64.0 / 4096), 4326)"


def _csv_rows(body: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def _mvt_features(body: bytes, layer: str) -> list[dict]:
    """The features' properties, with the feature id as ``id`` where no property holds one."""
    import mapbox_vector_tile

    decoded = mapbox_vector_tile.decode(body) if body else {}
    return [{"id": f.get("id"), **f["properties"]} for f in decoded.get(layer, {}).get("features", [])]


# Layers everyone allowed reads whole: the owner's count of the export (or OGC) rows.
EXPORT_COUNTS = {
    "communities": "SELECT count(*) FROM community", "grids": "SELECT count(*) FROM grid",
    "buildings": "SELECT count(*) FROM building", "schools": "SELECT count(*) FROM school",
    "places": "SELECT count(*) FROM place", "licences": "SELECT count(*) FROM licence",
    "roads": "SELECT count(*) FROM road", "units": "SELECT count(*) FROM responsible_unit",
}
OGC_COUNTS = {
    "communities": "SELECT count(*) FROM community", "grids": "SELECT count(*) FROM grid",
    "buildings": "SELECT count(*) FROM building", "schools": "SELECT count(*) FROM school",
    "places": "SELECT count(*) FROM place",
    "road_sections": "SELECT count(*) FROM road_section WHERE retired_on IS NULL",
    "perimeter_violations": "SELECT count(*) FROM violation WHERE status <> 'closed'",
}
TILE_IDS = {
    "places": ("id", "SELECT id FROM place t WHERE t.geom && {env}"),
    "grids": ("code", "SELECT code FROM grid t WHERE t.geom && {env}"),
    "road_sections": ("id", "SELECT id FROM road_section t WHERE t.geom && {env} AND t.retired_on IS NULL"),
}


def read_requests(w, ex: Extras) -> list[tuple[str, str, str | None, dict]]:
    """(method, template, layer, request kwargs) of the reads whose rows are compared."""
    box = f"{ex.x0 - 0.3},{ex.y0 - 0.2},{ex.x0 + 0.2},{ex.y0 + 0.2}"
    z, x, y = tile_of(ex.x0 + 0.005, ex.y0 + 0.002, TILE_ZOOM)
    reads: list[tuple[str, str, str | None, dict]] = [
        ("/households", "/households", None, {"params": {"limit": 1000}}),
        ("/persons", "/persons", None, {"params": {"limit": 1000}}),
        ("/grids/{code}/register.csv", f"/grids/{w.g1}/register.csv", None, {}),
        ("/communities/{code}/register.csv", f"/communities/{w.community}/register.csv", None, {}),
        ("/maps/grids/{code}", f"/maps/grids/{w.g1}", None, {}),
        ("/maps/communities/{code}", f"/maps/communities/{w.community}", None, {}),
        ("/maps/street/{code}/households", f"/maps/street/{w.street}/households", None,
         {"params": {"bbox": box}}),
        ("/stats", "/stats", None, {}),
        ("/grid-workers", "/grid-workers", None, {}),
        ("/communities", "/communities", None, {}),
        ("/grids", "/grids", None, {}),
    ]
    for layer in ("households", "persons", "grid_workers", *EXPORT_COUNTS):
        reads.append(("/exports/{layer}", f"/exports/{layer}", layer, {"params": {"format": "csv"}}))
    for layer in ("households", *OGC_COUNTS):
        reads.append(("/ogc/collections/{collection_id}/items", f"/ogc/collections/{layer}/items", layer,
                      {"params": {"limit": 10000}}))
    for layer in ("households", *TILE_IDS):
        reads.append(("/tiles/{layer}/{z}/{x}/{y}.mvt", f"/tiles/{layer}/{z}/{x}/{y}.mvt", layer, {}))
    # Households at a street's zoom may come as counts per cell; one zoom where they are rows.
    z, x, y = tile_of(ex.x0 + 0.005, ex.y0 + 0.002, ROW_ZOOM)
    reads.append(("/tiles/{layer}/{z}/{x}/{y}.mvt", f"/tiles/households/{z}/{x}/{y}.mvt", "households", {}))
    return reads


def compare(template: str, layer: str | None, body: bytes, user, owner: Owner, url: str = "") -> str | None:
    """None if the rows answered are exactly the user's; else what differs."""
    w, ex = owner.w, owner.ex
    world_h, world_p = w.all("households"), w.all("persons")

    def diff(what: str, got: set, want: set) -> str | None:
        if got == want:
            return None
        return f"{what}: {len(got - want)} beyond the scope {sorted(got - want)[:5]}, " \
               f"{len(want - got)} missing {sorted(want - got)[:5]}"

    def count(what: str, got: int, query: str) -> str | None:
        want = owner.db.execute(query).fetchone()[0]
        return None if got == want else f"{what}: {got} rows, the owner counts {want}"

    if template == "/households":
        return diff("households", {i["id"] for i in json.loads(body)["items"]}, owner.households(user))
    if template == "/persons":
        return diff("persons", {i["id"] for i in json.loads(body)["items"]}, owner.persons(user))
    if template.endswith("/register.csv"):
        area = w.g1 if template.startswith("/grids") else w.community
        return diff("register persons", set(NAME_RE.findall(body.decode("utf-8-sig"))),
                    owner.serials(owner.persons(user, area)))
    if template.startswith("/maps/grids") or template.startswith("/maps/communities"):
        area = w.g1 if template.startswith("/maps/grids") else w.community
        got = set(NAME_RE.findall(body.decode()))
        want = owner.serials(owner.persons(user, area))
        if got - want or (want and not got):
            return diff("names on the map", got, want)
        return None
    if template == "/maps/street/{code}/households":
        got = {r[0] for r in json.loads(body)["rows"]}
        x, y = ex.x0, ex.y0
        boxed = owner.ids("SELECT id FROM household WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
                          [x - 0.3, y - 0.2, x + 0.2, y + 0.2])
        return diff("street map households", got & world_h, owner.households(user) & world_h & boxed)
    if template == "/stats":
        # Every grid may be listed (the division is public); counts only where the reader may count.
        grids = {g["code"]: g["figures"] for g in json.loads(body)["grids"] if g["code"]}
        counted = scopes(user, COUNTS)
        problems = []
        for g in (w.g1, w.g2, w.g3):
            mine = any(g.startswith(s) for s in counted)
            figure = grids.get(g, {}).get("households", 0)
            n = figure["count"] if isinstance(figure, dict) else figure
            if n != (len(w.households[g]) if mine else 0):
                problems.append(f"grid {g} ({'in' if mine else 'out of'} scope): {n} households counted")
        return "; ".join(problems) or None
    if template == "/grid-workers":
        got = {r["id"] for r in json.loads(body)} & {ex.worker_in, ex.worker_out}
        return diff("grid workers", got, owner.workers(user, COUNTS, directory=True))
    if template == "/communities":
        return diff("communities", {r["code"] for r in json.loads(body)},
                    owner.ids("SELECT code FROM community"))
    if template == "/grids":
        return diff("grids", {f["properties"]["code"] for f in json.loads(body)["features"]},
                    owner.ids("SELECT code FROM grid"))
    if template == "/exports/{layer}":
        rows = _csv_rows(body)
        if layer == "households":
            want = owner.households(user)
            refs = owner.ids("SELECT ref FROM household WHERE id = ANY(%s)", [sorted(want & world_h)])
            world_refs = owner.ids("SELECT ref FROM household WHERE id = ANY(%s)", [sorted(world_h)])
            return diff("exported households", {r["ref"] for r in rows} & world_refs, refs) or (
                None if len(rows) == len(want) else f"exported households: {len(rows)} rows, {len(want)}")
        if layer == "persons":
            want = owner.persons(user)
            named = set(NAME_RE.findall(body.decode("utf-8-sig"))) & owner.serials(world_p)
            return diff("exported persons", named, owner.serials(want & world_p)) or (
                None if len(rows) == len(want) else f"exported persons: {len(rows)} rows, {len(want)}")
        if layer == "grid_workers":
            refs = {r["ref"] for r in rows} & {f"{w.tag}-worker-{g}" for g in (w.g1, w.g3)}
            want = owner.ids("SELECT ref FROM grid_worker WHERE id = ANY(%s)",
                             [sorted(owner.workers(user, REGISTER))])
            return diff("exported grid workers", refs, want)
        return count(f"exported {layer}", len(rows), EXPORT_COUNTS[layer])
    if template == "/ogc/collections/{collection_id}/items":
        features = json.loads(body)["features"]
        if layer == "households":
            return diff("OGC households", {int(f["id"]) for f in features}, owner.households(user))
        return count(f"OGC {layer}", len(features), OGC_COUNTS[str(layer)])
    if template == "/tiles/{layer}/{z}/{x}/{y}.mvt":
        props = _mvt_features(body, str(layer))
        env = owner.envelope(int(url.split("/")[3]))
        if layer == "households":
            want = owner.households(user) & owner.ids(f"SELECT id FROM household t WHERE t.geom && {env}")
            if not want:
                return "the tile holds none of the reader's households: the comparison would prove nothing"
            if props and "count" in props[0]:  # counts per cell: they add up to the rows in scope
                n = sum(p["count"] for p in props)
                return None if n == len(want) else f"tile households: {n} counted, {len(want)} in scope"
            return diff("tile households", {p["id"] for p in props}, want)
        key, query = TILE_IDS[str(layer)]
        return diff(f"tile {layer}", {p[key] for p in props}, owner.ids(query.format(env=env)))
    raise AssertionError(f"no comparison for {template}")
