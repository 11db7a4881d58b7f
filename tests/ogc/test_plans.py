"""The bbox, CQL2 spatial and tile queries can use the GiST indexes (no full scans at city scale).

With sequential scans priced out, the planner still falls back to one when no index applies, so a
plan naming the GiST index proves the predicate is indexable as written.
"""

from __future__ import annotations

import pytest

from gis.ogc import items as ogc
from gis.ogc import tiles
from gis.ogc.collections import collection_definition


def plan(db, query, params) -> str:
    db.execute("SET LOCAL enable_seqscan = off")
    rows = db.execute(b"EXPLAIN " + query.as_bytes(db), params).fetchall()
    return "\n".join(r[0] for r in rows)


@pytest.mark.parametrize(("collection", "index"), [
    ("places", "place_geom_idx"), ("grids", "grid_geom_idx"), ("buildings", "building_geom_idx"),
    ("road_sections", "road_section_geom_idx"),
])
def test_items_bbox_uses_the_gist_index(db, collection, index):
    query, params = ogc.items_sql(collection_definition(collection),
                                  ogc.ItemsQuery(bbox=(113.0, 25.75, 113.01, 25.76)))
    assert index in plan(db, query, params)


def test_cql2_spatial_filter_uses_the_gist_index(db):
    q = ogc.ItemsQuery(filter="S_INTERSECTS(geom, POLYGON((113 25.75, 113.01 25.75, 113.01 25.76, "
                              "113 25.75))) AND category = 'bar'")
    query, params = ogc.items_sql(collection_definition("places"), q)
    assert "place_geom_idx" in plan(db, query, params)


@pytest.mark.parametrize(("layer", "index"), [
    ("places", "place_geom_idx"), ("households", "household_geom_idx"), ("grids", "grid_geom_idx"),
    ("road_sections", "road_section_geom_idx"),
])
def test_tile_query_uses_the_gist_index(db, layer, index):
    found = next(t for t in tiles.TILE_LAYERS if t.id == layer)
    assert index in plan(db, tiles.tile_sql(found), tiles.tile_params(14, 13334, 6977))
