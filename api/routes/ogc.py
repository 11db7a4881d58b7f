"""OGC API - Features at /ogc/: landing page, conformance, OpenAPI 3.0, collections, items (Parts 1-3).

Errors in OGC requests answer 400 with the OGC exception fields (code, description) beside the
service's usual error shape, as OGC clients expect; unknown collections and items answer 404 in the
same shape. HEAD is answered for every route here by api/cors.py (GET without the body).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import URL

from api.deps import Conn, public_root
from api.errors import error_body
from api.routes.ogc_openapi import GEOJSON, JSON, OPENAPI, openapi_document, property_schema
from gis.errors import InvalidInput, NotFound, Problem
from gis.ogc import cql
from gis.ogc import items as ogc
from gis.ogc.collections import Collection, visible_collections

router = APIRouter(prefix="/ogc", tags=["OGC API - Features"])

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
]
# datetime filters on the collection's temporal property (400 where it has none).
ITEMS_PARAMS = {"limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "filter", "filter-lang",
                "filter-crs", "sortby", "properties", "skipGeometry", "f"}


def _visible(request: Request, conn: Conn) -> list[Collection]:
    """The collections the caller's roles may read (gis/access/roles.py) and whose tables exist."""
    user = getattr(request.state, "user", None)
    return visible_collections(conn, user.roles if user is not None else frozenset())


def _visible_one(request: Request, conn: Conn, collection_id: str) -> Collection:
    found = next((c for c in _visible(request, conn) if c.id == collection_id), None)
    if found is None:
        raise NotFound("collection", collection_id)
    return found


def _base(request: Request) -> str:
    return public_root(request) + router.prefix


def _this_url(request: Request) -> URL:
    """The request's own URL (path and query) on the public root, not on the Host it was sent to."""
    query = request.url.query
    return URL(public_root(request) + request.url.path + (f"?{query}" if query else ""))


def _bad_request(exc: InvalidInput) -> JSONResponse:
    body = error_body(str(exc), [{"row": p.row, "field": p.field, "reason": p.reason} for p in exc.problems])
    body |= {"code": "InvalidParameterValue", "description": str(exc)}
    return JSONResponse(body, status_code=400)


def _not_found(exc: NotFound) -> JSONResponse:
    return JSONResponse(error_body(str(exc)) | {"code": "NotFound", "description": str(exc)}, status_code=404)


def _ogc_errors(route: Callable[..., Any]) -> Callable[..., Any]:
    """Answer the route's NotFound (404) and InvalidInput (400) with the OGC exception fields."""
    @functools.wraps(route)
    def answer(*args: Any, **kwargs: Any) -> Any:
        try:
            return route(*args, **kwargs)
        except NotFound as exc:
            return _not_found(exc)
        except InvalidInput as exc:
            return _bad_request(exc)
    return answer


@router.get("/", summary="Landing page")
@router.get("", include_in_schema=False)
def landing(request: Request) -> dict[str, Any]:
    base = _base(request)
    return {
        "title": "gridmap OGC API - Features",
        "description": "Grids, communities, buildings, schools, places, road sections and perimeter "
                       "violations of the grid management service (网格化管理).",
        "links": [
            {"href": f"{base}/", "rel": "self", "type": JSON, "title": "This document"},
            {"href": f"{base}/api", "rel": "service-desc", "type": OPENAPI, "title": "The API definition"},
            {"href": f"{base}/conformance", "rel": "conformance", "type": JSON, "title": "Conformance"},
            {"href": f"{base}/collections", "rel": "data", "type": JSON, "title": "Collections"},
        ],
    }


@router.get("/conformance", summary="Conformance classes")
def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


def _collection_json(base: str, coll: Collection, extent: ogc.Extent | None) -> dict[str, Any]:
    url = f"{base}/collections/{coll.id}"
    body: dict[str, Any] = {
        "id": coll.id, "title": coll.title, "description": coll.description, "itemType": "feature",
        "crs": [c.uri for c in ogc.SUPPORTED_CRS], "storageCrs": ogc.CRS84,
        "links": [
            {"href": url, "rel": "self", "type": JSON},
            {"href": f"{url}/items", "rel": "items", "type": GEOJSON, "title": coll.title},
            {"href": f"{url}/queryables", "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
             "type": "application/schema+json"},
        ],
    }
    if extent is not None and extent.bbox is not None:
        body["extent"] = {"spatial": {"bbox": [extent.bbox], "crs": ogc.CRS84}}
    if extent is not None and extent.interval is not None:
        # the interval of the property that datetime filters on (null ends: no rows yet)
        body.setdefault("extent", {})["temporal"] = {
            "interval": [extent.interval], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return body


@router.get("/collections", summary="The collections")
def collections(request: Request, conn: Conn) -> dict[str, Any]:
    base = _base(request)
    visible = _visible(request, conn)
    extents = ogc.extents(conn, visible)
    return {
        "links": [{"href": f"{base}/collections", "rel": "self", "type": JSON}],
        "collections": [_collection_json(base, c, extents.get(c.id)) for c in visible],
    }


@router.get("/collections/{collection_id}", summary="One collection")
@_ogc_errors
def collection(collection_id: str, request: Request, conn: Conn) -> dict[str, Any]:
    coll = _visible_one(request, conn, collection_id)
    return _collection_json(_base(request), coll, ogc.extents(conn, [coll]).get(coll.id))


@router.get("/collections/{collection_id}/queryables", summary="Queryable properties (JSON Schema)")
@_ogc_errors
def queryables(collection_id: str, request: Request, conn: Conn) -> Response:
    coll = _visible_one(request, conn, collection_id)
    props: dict[str, Any] = {"geom": {"title": "Geometry", "format": f"geometry-{coll.geometry_type.lower()}"
                                      if coll.geometry_type != "Geometry" else "geometry-any"}}
    for p in coll.queryable_properties():
        props[p.name] = property_schema(p)
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{_base(request)}/collections/{coll.id}/queryables",
        "type": "object", "title": coll.title, "properties": props, "additionalProperties": False,
    }
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/schema+json")


def _parse_items(coll: Collection, request: Request) -> ogc.ItemsQuery:
    qp = request.query_params
    problems: list[Problem] = []
    queryable = {p.name: p for p in coll.queryable_properties()}
    unknown = [k for k in qp if k not in ITEMS_PARAMS and k not in queryable]
    if unknown:
        problems.append(Problem(unknown[0], f"unknown query parameter; use {sorted(ITEMS_PARAMS)} or a "
                                            f"queryable: {sorted(queryable)}"))
    q = ogc.ItemsQuery()
    for step in (
        lambda: setattr(q, "crs", ogc.parse_crs(qp.get("crs"), "crs")),
        lambda: setattr(q, "filter_crs", ogc.parse_crs(qp.get("filter-crs"), "filter-crs")),
        lambda: setattr(q, "bbox", ogc.parse_bbox(qp.get("bbox"),
                                                  ogc.parse_crs(qp.get("bbox-crs"), "bbox-crs"))),
        lambda: _set_paging(q, qp.get("limit"), qp.get("offset")),
    ):
        try:
            step()
        except InvalidInput as exc:
            problems.extend(exc.problems)
    for name, prop in queryable.items():
        if name in qp:
            try:
                q.equals[name] = ogc.coerce(prop, qp[name], name)
            except InvalidInput as exc:
                problems.extend(exc.problems)
    for step in (
        lambda: setattr(q, "datetime", ogc.parse_datetime(qp.get("datetime"), coll)),
        lambda: setattr(q, "sortby", ogc.parse_sortby(qp.get("sortby"), coll)),
        lambda: setattr(q, "properties", ogc.parse_properties(qp.get("properties"), coll)),
        lambda: setattr(q, "skip_geometry", ogc.parse_flag(qp.get("skipGeometry"), "skipGeometry")),
    ):
        try:
            step()
        except InvalidInput as exc:
            problems.extend(exc.problems)
    q.filter_lang = qp.get("filter-lang") or "cql2-text"
    if q.filter_lang not in cql.FILTER_LANGS:
        problems.append(Problem("filter-lang", f"use one of {', '.join(cql.FILTER_LANGS)}"))
    q.filter = qp.get("filter") or None
    if problems:
        raise InvalidInput(problems)
    return q


def _set_paging(q: ogc.ItemsQuery, limit: str | None, offset: str | None) -> None:
    q.limit, q.offset = ogc.parse_paging(limit, offset)


@router.get("/collections/{collection_id}/items", summary="Features of a collection (GeoJSON)",
            response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
@_ogc_errors
def items(collection_id: str, request: Request, conn: Conn) -> Response:
    coll = _visible_one(request, conn, collection_id)
    try:
        q = _parse_items(coll, request)
        matched, returned, features = ogc.items(conn, coll, q)
    except InvalidInput as exc:
        return _bad_request(exc)
    url = _this_url(request)
    links = [{"href": str(url), "rel": "self", "type": GEOJSON},
             {"href": f"{_base(request)}/collections/{coll.id}", "rel": "collection", "type": JSON}]
    if q.offset + returned < matched:
        links.append({"href": str(url.include_query_params(offset=q.offset + q.limit, limit=q.limit)),
                      "rel": "next", "type": GEOJSON})
    if q.offset > 0:
        links.append({"href": str(url.include_query_params(offset=max(0, q.offset - q.limit), limit=q.limit)),
                      "rel": "prev", "type": GEOJSON})
    # The features are already JSON text from PostGIS: splice them in rather than parse and re-dump.
    body = (f'{{"type":"FeatureCollection","numberMatched":{matched},"numberReturned":{returned},'
            f'"links":{json.dumps(links)},"features":{features}}}')
    return Response(body, media_type=GEOJSON, headers={"Content-Crs": f"<{q.crs.uri}>"})


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature (GeoJSON)",
            response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
@_ogc_errors
def feature(collection_id: str, feature_id: str, request: Request, conn: Conn,
            crs: str | None = None) -> Response:
    coll = _visible_one(request, conn, collection_id)
    try:
        out = ogc.parse_crs(crs, "crs")
    except InvalidInput as exc:
        return _bad_request(exc)
    text = ogc.item(conn, coll, feature_id, out)
    links = [{"href": str(_this_url(request)), "rel": "self", "type": GEOJSON},
             {"href": f"{_base(request)}/collections/{coll.id}", "rel": "collection", "type": JSON}]
    body = text[:-1] + f',"links":{json.dumps(links)}}}'
    return Response(body, media_type=GEOJSON, headers={"Content-Crs": f"<{out.uri}>"})


@router.get("/api", summary="OpenAPI 3.0 definition of the OGC API", response_class=Response)
def openapi(request: Request, conn: Conn) -> Response:
    doc = openapi_document(_base(request), _visible(request, conn))
    return Response(json.dumps(doc, ensure_ascii=False), media_type=OPENAPI)
