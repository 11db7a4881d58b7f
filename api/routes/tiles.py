"""Vector tiles: /tiles/{layer}/{z}/{x}/{y}.mvt from ST_AsMVT, with Cache-Control and ETag."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request, Response

from api.deps import Conn
from gis.ogc import tiles

router = APIRouter(prefix="/tiles", tags=["vector tiles"])

MVT = "application/vnd.mapbox-vector-tile"


@router.get("/{layer}/{z}/{x}/{y}.mvt", summary="One vector tile (Mapbox Vector Tile)",
            response_class=Response,
            responses={200: {"content": {MVT: {}}}, 304: {"description": "Unchanged"}})
def tile(layer: str, z: int, x: int, y: int, request: Request, conn: Conn) -> Response:
    found = tiles.tile_layer(conn, layer)
    data = tiles.tile(conn, found, z, x, y)
    etag = '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'
    # Tiles are for signed-in users: the client's own cache may keep them, shared caches may not;
    # edits show up within a minute and the ETag makes the revalidation after that a cheap 304.
    # Where households are is personal data: those tiles are kept by no cache at all.
    cache = "no-store" if found.personal else "private, max-age=60"
    headers = {"Cache-Control": cache, "ETag": etag, "Vary": "Authorization"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=MVT, headers=headers)
