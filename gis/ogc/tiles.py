"""Mapbox vector tiles (MVT) from PostGIS ST_AsMVT for households, places, grids, road sections,
compounds and facilities, and the documents clients find them by: TileJSON 3.0.0 and OGC API - Tiles
tileset metadata.

The tile is cut in Web Mercator (ST_TileEnvelope) but the rows are found on the stored EPSG:4326
geometry with `geom && <tile envelope in 4326>`, so the GiST index does the selection. Every feature
carries its row's id as the MVT feature id (clients highlight and de-duplicate across tiles by it).
Tiles carry no names: a household is its id and grid code only, but where households are is personal
data, so their tiles are marked ``personal`` and kept out of every cache.

Below ``aggregate_below`` (households: z15) a tile would hold thousands of points stacked on a few
pixels (the demo street's 20,000 households fit in one z12 tile): there each cell of CELL x CELL tile
units becomes one point, at the mean position of its households, with their ``count``. The cells are
counted over the rows the reader's row-level security lets through, so a grid worker's counts are of
her grids only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from gis.errors import InvalidInput, NotFound, Problem

MIN_ZOOM, MAX_ZOOM = 0, 22
EXTENT, BUFFER = 4096, 64  # MVT defaults: 4096 units a side, 64 units of buffer against edge artefacts
CELL = 128  # aggregation cell in tile units: 32 x 32 cells a tile, 8 px on a 256-px tile
CELL_OFFSET = -(-BUFFER // CELL)  # cells reaching into the buffer on the left/top side
CELL_COLUMNS = EXTENT // CELL + 2 * CELL_OFFSET + 1  # cell columns in the tile and its buffer
WEB_MERCATOR_QUAD = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
CRS_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GEOMETRY_DIMENSION = {"point": 0, "line": 1, "polygon": 2}
JSON_TYPES = {"Number": "integer", "String": "string"}  # TileJSON field type -> JSON Schema type


@dataclass(frozen=True)
class TileLayer:
    """A tile layer: the table, the attributes it carries with their types (fixed; never from a
    request), the integer feature id, its geometry kind and a row filter."""

    id: str
    table: str
    title: str
    fields: tuple[tuple[str, str], ...]  # (attribute, TileJSON type: "Number" or "String")
    geometry: str  # point, line or polygon
    feature_id: str = "t.id"  # constant SQL on alias t: a non-negative integer, unique in the layer
    condition: str = "true"  # constant SQL on alias t
    personal: bool = False  # rows about residents: never cached by a browser or a proxy
    aggregate_below: int | None = None  # below this zoom: counts per cell instead of the rows

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields)

    def aggregated(self, z: int) -> bool:
        return self.aggregate_below is not None and z < self.aggregate_below


TILE_LAYERS: tuple[TileLayer, ...] = (
    TileLayer("households", "household", "Households (住户)", (("id", "Number"), ("grid_code", "String")),
              "point", personal=True, aggregate_below=15),
    TileLayer("places", "place", "Places (场所)",
              (("id", "Number"), ("name", "String"), ("category", "String")), "point"),
    # A grid code is 15 digits: it is its own integer feature id.
    TileLayer("grids", "grid", "Grids (网格)",
              (("code", "String"), ("name", "String"), ("community_code", "String")), "polygon",
              feature_id="t.code::bigint"),
    TileLayer("road_sections", "road_section", "Road sections (责任路段)",
              (("id", "Number"), ("code", "String"), ("road_name", "String"), ("grid_code", "String")),
              "line", condition="t.retired_on IS NULL"),
    # the campaign's records (issue 16): the reader's compounds (row-level security, migration 030), and
    # facilities, public places every role reads
    TileLayer("compounds", "compound", "Unmanaged compounds (无人管理小区)",
              (("id", "Number"), ("name", "String"), ("management", "String")), "polygon"),
    TileLayer("facilities", "facility", "Facilities (阵地)",
              (("id", "Number"), ("kind", "String"), ("name", "String")), "point"),
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
    if not MIN_ZOOM <= z <= MAX_ZOOM:
        problems.append(Problem("z", f"must be {MIN_ZOOM}..{MAX_ZOOM}"))
    else:
        n = 2 ** z
        if not 0 <= x < n:
            problems.append(Problem("x", f"must be 0..{n - 1} at zoom {z}"))
        if not 0 <= y < n:
            problems.append(Problem("y", f"must be 0..{n - 1} at zoom {z}"))
    if problems:
        raise InvalidInput(problems)


# The MVT feature id is a column of its own (fid), so that `id` stays a property too: clients that
# read properties (GDAL, QGIS' identify) and those that read feature ids (MapLibre's feature-state) agree.
_FEATURES = """WITH bounds AS (
       SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS merc,
              ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s), 4326) AS lonlat
   ), features AS (
       SELECT ST_AsMVTGeom(ST_Transform(t.geom, 3857), b.merc, %(extent)s, %(buffer)s, true) AS geom,
              {feature_id} AS fid{attrs}
       FROM {table} AS t, bounds AS b
       WHERE t.geom && b.lonlat AND {condition}
   )"""
_ROWS = "SELECT ST_AsMVT(features.*, {name}, %(extent)s, 'geom', 'fid') FROM features WHERE geom IS NOT NULL"
# One point per cell of the tile (and its buffer) at the mean position of its rows, with their count;
# the cell's id is its place in the tile's grid of cells (unique within the tile).
_CELLS = """, cells AS (
       SELECT floor(ST_X(geom) / %(cell)s)::int AS cx, floor(ST_Y(geom) / %(cell)s)::int AS cy,
              count(*) AS count, round(avg(ST_X(geom))) AS px, round(avg(ST_Y(geom))) AS py
       FROM features WHERE geom IS NOT NULL
       GROUP BY 1, 2
   )
   SELECT ST_AsMVT(c.*, {name}, %(extent)s, 'geom', 'fid')
   FROM (SELECT ST_Point(px, py) AS geom, (cy + %(cell_offset)s) * %(cell_columns)s + cx + %(cell_offset)s + 1
                AS fid, count
         FROM cells) AS c"""


def tile_sql(layer: TileLayer, aggregated: bool = False) -> sql.Composed:
    """The statement for one tile of a layer; parameters from tile_params. ``aggregated``: counts
    per cell instead of the rows (the layer's low zooms)."""
    attrs = sql.SQL("").join(sql.SQL(", t.{}").format(sql.Identifier(a))
                             for a in ([] if aggregated else layer.attributes))
    text = _FEATURES + (_CELLS if aggregated else _ROWS)
    return sql.SQL(text).format(
        feature_id=sql.SQL(layer.feature_id), attrs=attrs, table=sql.Identifier(layer.table),
        condition=sql.SQL(layer.condition), name=sql.Literal(layer.id))


def tile_params(z: int, x: int, y: int) -> dict[str, int | float]:
    return {"z": z, "x": x, "y": y, "margin": BUFFER / EXTENT, "extent": EXTENT, "buffer": BUFFER,
            "cell": CELL, "cell_offset": CELL_OFFSET, "cell_columns": CELL_COLUMNS}


def tile(conn: psycopg.Connection, layer: TileLayer, z: int, x: int, y: int) -> bytes:
    """The MVT bytes of one tile (empty bytes when the tile has no features)."""
    check_tile(z, x, y)
    row = conn.execute(tile_sql(layer, layer.aggregated(z)), tile_params(z, x, y)).fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


# --- the documents clients find the tiles by -------------------------------------------------------

Bounds = tuple[float, float, float, float]  # minlon, minlat, maxlon, maxlat
MERCATOR_LAT = 85.0511287798066  # Web Mercator's latitude limit


def layer_bounds(conn: psycopg.Connection, layer: TileLayer) -> Bounds | None:
    """The extent of the rows the reader may see (row-level security applies), None with no rows."""
    row = conn.execute(sql.SQL(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(t.geom) AS e "
        "FROM {table} AS t WHERE {condition}) AS x").format(
        table=sql.Identifier(layer.table), condition=sql.SQL(layer.condition)),
        ).fetchone()
    if row is None or row[0] is None:
        return None
    return (round(row[0], 6), round(max(row[1], -MERCATOR_LAT), 6),
            round(row[2], 6), round(min(row[3], MERCATOR_LAT), 6))


def fitting_zoom(bounds: Bounds) -> int:
    """The largest zoom at which the bounds fit in about one 512-pixel view (a point: z16)."""
    minlon, minlat, maxlon, maxlat = bounds

    def merc_y(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    span = max((maxlon - minlon) / 360, (merc_y(maxlat) - merc_y(minlat)) / (2 * math.pi))
    if span <= 0:
        return 16
    return max(MIN_ZOOM, min(16, int(math.floor(math.log2(1 / span))) + 1))


def center(bounds: Bounds) -> tuple[float, float, int]:
    minlon, minlat, maxlon, maxlat = bounds
    return round((minlon + maxlon) / 2, 6), round((minlat + maxlat) / 2, 6), fitting_zoom(bounds)


def tile_template(root: str, layer: TileLayer, z: str = "{z}", x: str = "{x}", y: str = "{y}") -> str:
    return f"{root}/tiles/{layer.id}/{z}/{x}/{y}.mvt"


def _vector_layer(layer: TileLayer) -> dict[str, Any]:
    """The layer's TileJSON vector_layers entry: its fields at the highest zoom, and the aggregated
    ``count`` below the threshold (a client styles both from one source)."""
    fields = dict(layer.fields)
    description = f"{layer.title}; {layer.geometry}s, the MVT feature id is the row id"
    if layer.aggregate_below is not None:
        fields["count"] = "Number"
        description += (f". Below zoom {layer.aggregate_below}: one point per cell with `count` "
                        f"(households in the cell) and no other field")
    return {"id": layer.id, "description": description, "minzoom": MIN_ZOOM, "maxzoom": MAX_ZOOM,
            "fields": fields}


def tilejson(root: str, layer: TileLayer, bounds: Bounds | None, region: Bounds) -> dict[str, Any]:
    """TileJSON 3.0.0 for a layer; ``root`` is the service's public base URL; ``bounds`` the data's
    extent (the configured region when the reader sees no rows)."""
    extent = bounds or region
    return {
        "tilejson": "3.0.0",
        "name": layer.title,
        "description": f"gridmap {layer.id} as Mapbox vector tiles",
        "version": "1.0.0",
        "scheme": "xyz",
        "tiles": [tile_template(root, layer)],
        "minzoom": MIN_ZOOM,
        "maxzoom": MAX_ZOOM,
        "bounds": list(extent),
        "center": list(center(extent)),
        "vector_layers": [_vector_layer(layer)],
    }


def _properties_schema(layer: TileLayer) -> dict[str, Any]:
    fields = _vector_layer(layer)["fields"]
    return {"type": "object", "properties": {
        name: {"type": JSON_TYPES[kind], **({"x-ogc-role": "id"} if name == "id" else {})}
        for name, kind in fields.items()}}


def tileset(root: str, layer: TileLayer, bounds: Bounds | None, region: Bounds) -> dict[str, Any]:
    """OGC API - Tiles tileset metadata (OGC 2D Tile Matrix Set and Tile Set Metadata 2.0) for a layer
    in WebMercatorQuad, with links to the tile template and the TileJSON."""
    extent = bounds or region
    lon, lat, zoom = center(extent)
    base = f"{root}/tiles/{layer.id}"
    box = {"lowerLeft": list(extent[:2]), "upperRight": list(extent[2:]), "crs": CRS84}
    return {
        "title": layer.title,
        "description": _vector_layer(layer)["description"],
        "dataType": "vector",
        "crs": CRS_3857,
        "tileMatrixSetURI": WEB_MERCATOR_QUAD,
        "mediaTypes": ["application/vnd.mapbox-vector-tile"],
        "boundingBox": box,
        "centerPoint": {"coordinates": [lon, lat], "crs": CRS84, "tileMatrix": str(zoom)},
        "layers": [{
            "id": layer.id, "title": layer.title, "dataType": "vector",
            "geometryDimension": GEOMETRY_DIMENSION[layer.geometry],
            "minTileMatrix": str(MIN_ZOOM), "maxTileMatrix": str(MAX_ZOOM), "boundingBox": box,
            "propertiesSchema": _properties_schema(layer),
        }],
        "links": [
            {"rel": "self", "type": "application/json", "title": "This tileset", "href": f"{base}/tileset"},
            {"rel": "item", "type": "application/vnd.mapbox-vector-tile", "templated": True,
             "title": "A tile", "href": tile_template(root, layer, "{tileMatrix}", "{tileCol}", "{tileRow}")},
            {"rel": "alternate", "type": "application/json", "title": "TileJSON",
             "href": f"{base}/tilejson.json"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "type": "application/json",
             "title": "WebMercatorQuad", "href": WEB_MERCATOR_QUAD},
        ],
    }
