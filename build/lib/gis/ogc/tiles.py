"""Mapbox vector tiles (MVT) from PostGIS ST_AsMVT for households, places, grids and road sections.

The tile is cut in Web Mercator (ST_TileEnvelope) but the rows are found on the stored EPSG:4326
geometry with `geom && <tile envelope in 4326>`, so the GiST index does the selection. Tiles carry
no names: a household is its id and grid code only, but where households are is personal data, so
their tiles are marked ``personal`` and kept out of every cache.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from gis.errors import InvalidInput, NotFound, Problem

MAX_ZOOM = 22
EXTENT, BUFFER = 4096, 64  # MVT defaults: 4096 units a side, 64 units of buffer against edge artefacts


@dataclass(frozen=True)
class TileLayer:
    """A tile layer: the table, the attributes it carries (fixed; never from a request) and a row filter."""

    id: str
    table: str
    attributes: tuple[str, ...]
    condition: str = "true"  # constant SQL on alias t
    personal: bool = False  # rows about residents: never cached by a browser or a proxy


TILE_LAYERS: tuple[TileLayer, ...] = (
    TileLayer("households", "household", ("id", "grid_code"), personal=True),
    TileLayer("places", "place", ("id", "name", "category")),
    TileLayer("grids", "grid", ("code", "name", "community_code")),
    TileLayer("road_sections", "road_section", ("id", "code", "road_name", "grid_code"),
              condition="t.retired_on IS NULL"),
)


def tile_layer(conn: psycopg.Connection, layer_id: str) -> TileLayer:
    """The layer if it exists (its migration has run). Who may read it is decided by the layer's
    readers (gis/access/roles.py); the household rows by the database's row-level security."""
    layer = next((t for t in TILE_LAYERS if t.id == layer_id), None)
    if layer is None:
        raise NotFound("tile layer", layer_id)
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [layer.table]).fetchone()
    if not exists or not exists[0]:
        raise NotFound("tile layer", layer_id)
    return layer


def check_tile(z: int, x: int, y: int) -> None:
    problems = []
    if not 0 <= z <= MAX_ZOOM:
        problems.append(Problem("z", f"must be 0..{MAX_ZOOM}"))
    else:
        n = 2 ** z
        if not 0 <= x < n:
            problems.append(Problem("x", f"must be 0..{n - 1} at zoom {z}"))
        if not 0 <= y < n:
            problems.append(Problem("y", f"must be 0..{n - 1} at zoom {z}"))
    if problems:
        raise InvalidInput(problems)


def tile_sql(layer: TileLayer) -> sql.Composed:
    """The statement for one tile of a layer; parameters z, x, y, margin, extent, buffer."""
    attrs = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(a)) for a in layer.attributes)
    query = sql.SQL(
        """WITH bounds AS (
               SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS merc,
                      ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s), 4326) AS lonlat
           ), features AS (
               SELECT ST_AsMVTGeom(ST_Transform(t.geom, 3857), b.merc, %(extent)s, %(buffer)s, true) AS geom,
                      {attrs}
               FROM {table} AS t, bounds AS b
               WHERE t.geom && b.lonlat AND {condition}
           )
           SELECT ST_AsMVT(features.*, {name}, %(extent)s, 'geom') FROM features WHERE geom IS NOT NULL"""
    ).format(attrs=attrs, table=sql.Identifier(layer.table), condition=sql.SQL(layer.condition),  # type: ignore[arg-type]
             name=sql.Literal(layer.id))
    return query


def tile_params(z: int, x: int, y: int) -> dict[str, int | float]:
    return {"z": z, "x": x, "y": y, "margin": BUFFER / EXTENT, "extent": EXTENT, "buffer": BUFFER}


def tile(conn: psycopg.Connection, layer: TileLayer, z: int, x: int, y: int) -> bytes:
    """The MVT bytes of one tile (empty bytes when the tile has no features)."""
    check_tile(z, x, y)
    row = conn.execute(tile_sql(layer), tile_params(z, x, y)).fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""
