"""Vector tiles: /tiles/{layer}/{z}/{x}/{y}.mvt from ST_AsMVT, gzip-encoded when the client accepts
it, with Cache-Control and an ETag per encoding; and the documents clients find them by:
/tiles/{layer}/tilejson.json (TileJSON 3.0.0) and /tiles/{layer}/tileset (OGC API - Tiles)."""

from __future__ import annotations

import gzip
import hashlib

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from api.deps import AppSettings, Conn, public_root
from gis.ogc import tiles

router = APIRouter(prefix="/tiles", tags=["vector tiles"])

MVT = "application/vnd.mapbox-vector-tile"


def _cache_headers(layer: tiles.TileLayer) -> dict[str, str]:
    # Tiles are for signed-in users: the client's own cache may keep them, shared caches may not;
    # edits show up within a minute and the ETag makes the revalidation after that a cheap 304.
    # Where households are is personal data: those tiles are kept by no cache at all.
    return {"Cache-Control": "no-store" if layer.personal else "private, max-age=60"}


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header (RFC 9110 12.5.3) lets us answer gzip: gzip (or x-gzip, or
    *) listed with a non-zero quality; an explicit gzip;q=0 refuses it even beside *."""
    quality: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding:
            quality[coding.lower()] = q
    named = [quality[c] for c in ("gzip", "x-gzip") if c in quality]
    return max(named) > 0 if named else quality.get("*", 0) > 0


@router.get("/{layer}/{z}/{x}/{y}.mvt", summary="One vector tile (Mapbox Vector Tile)",
            response_class=Response,
            responses={200: {"content": {MVT: {}}}, 304: {"description": "Unchanged"}})
def tile(layer: str, z: int, x: int, y: int, request: Request, conn: Conn) -> Response:
    found = tiles.tile_layer(conn, layer)
    data = tiles.tile(conn, found, z, x, y)
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    encode = bool(data) and accepts_gzip(request.headers.get("accept-encoding", ""))
    # One ETag per representation (RFC 9110 8.8.3): the gzip bytes are not the plain bytes.
    etag = f'"{digest}-gzip"' if encode else f'"{digest}"'
    headers = {**_cache_headers(found), "ETag": etag, "Vary": "Authorization, Accept-Encoding"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if encode:
        # mtime=0: the same tile gives the same bytes (no timestamp in the gzip header)
        return Response(gzip.compress(data, compresslevel=6, mtime=0), media_type=MVT,
                        headers={**headers, "Content-Encoding": "gzip"})
    return Response(data, media_type=MVT, headers=headers)


@router.get("/{layer}/tilejson.json", summary="TileJSON 3.0.0 of a tile layer (MapLibre, Mapbox GL, QGIS)")
def tilejson(layer: str, request: Request, conn: Conn, settings: AppSettings) -> JSONResponse:
    found = tiles.tile_layer(conn, layer)
    bounds = tiles.layer_bounds(conn, found)
    doc = tiles.tilejson(public_root(request), found, bounds, settings.region_bbox)
    return JSONResponse(doc, headers=_cache_headers(found))


@router.get("/{layer}/tileset", summary="OGC API - Tiles tileset metadata of a tile layer (WebMercatorQuad)")
def tileset(layer: str, request: Request, conn: Conn, settings: AppSettings) -> JSONResponse:
    found = tiles.tile_layer(conn, layer)
    bounds = tiles.layer_bounds(conn, found)
    doc = tiles.tileset(public_root(request), found, bounds, settings.region_bbox)
    return JSONResponse(doc, headers=_cache_headers(found))
