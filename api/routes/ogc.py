"""OGC API - Features at /ogc/: landing page, conformance, OpenAPI 3.0, collections, items (Parts 1-3).

Errors in OGC requests answer 400 with the OGC exception fields (code, description) beside the
service's usual error shape, as OGC clients expect; unknown collections and items answer 404.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from api.deps import Conn
from api.errors import error_body
from api.policy import COLLECTIONS
from gis.errors import InvalidInput, NotFound, Problem
from gis.ogc import items as ogc

router = APIRouter(prefix="/ogc", tags=["OGC API - Features"])

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
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
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
]
# datetime is a core parameter; no collection has a temporal extent yet, so it selects everything.
ITEMS_PARAMS = {"limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "filter", "filter-lang",
                "filter-crs", "f"}


def _visible(request: Request, conn: Conn) -> list[ogc.Collection]:
    """The collections the caller's roles may read (api/policy.py) and whose tables exist."""
    user = getattr(request.state, "user", None)
    roles = user.roles if user is not None else frozenset()
    return [c for c in ogc.visible_collections(conn, user)
            if c.id in COLLECTIONS and COLLECTIONS[c.id].roles & roles]


def _visible_one(request: Request, conn: Conn, collection_id: str) -> ogc.Collection:
    found = next((c for c in _visible(request, conn) if c.id == collection_id), None)
    if found is None:
        raise NotFound("collection", collection_id)
    return found


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + router.prefix


def _bad_request(exc: InvalidInput) -> JSONResponse:
    body = error_body(str(exc), [{"row": p.row, "field": p.field, "reason": p.reason} for p in exc.problems])
    body |= {"code": "InvalidParameterValue", "description": str(exc)}
    return JSONResponse(body, status_code=400)


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


def _collection_json(base: str, coll: ogc.Collection, extent: list[float] | None) -> dict[str, Any]:
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
    if extent is not None:
        body["extent"] = {"spatial": {"bbox": [extent], "crs": ogc.CRS84}}
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
def collection(collection_id: str, request: Request, conn: Conn) -> dict[str, Any]:
    coll = _visible_one(request, conn, collection_id)
    return _collection_json(_base(request), coll, ogc.extents(conn, [coll]).get(coll.id))


@router.get("/collections/{collection_id}/queryables", summary="Queryable properties (JSON Schema)")
def queryables(collection_id: str, request: Request, conn: Conn) -> Response:
    coll = _visible_one(request, conn, collection_id)
    props: dict[str, Any] = {"geom": {"title": "Geometry", "format": f"geometry-{coll.geometry_type.lower()}"
                                      if coll.geometry_type != "Geometry" else "geometry-any"}}
    for p in coll.queryable_properties():
        props[p.name] = _schema(p)
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{_base(request)}/collections/{coll.id}/queryables",
        "type": "object", "title": coll.title, "properties": props, "additionalProperties": False,
    }
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/schema+json")


def _schema(p: ogc.Property) -> dict[str, Any]:
    if p.type == "date":
        return {"type": "string", "format": "date", "title": p.title or p.name}
    return {"type": p.type, "title": p.title or p.name}


def _parse_items(coll: ogc.Collection, request: Request) -> ogc.ItemsQuery:
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
    lang = qp.get("filter-lang", "cql2-text")
    if lang != "cql2-text":
        problems.append(Problem("filter-lang", "only cql2-text is supported"))
    q.filter = qp.get("filter") or None
    if problems:
        raise InvalidInput(problems)
    return q


def _set_paging(q: ogc.ItemsQuery, limit: str | None, offset: str | None) -> None:
    q.limit, q.offset = ogc.parse_paging(limit, offset)


@router.get("/collections/{collection_id}/items", summary="Features of a collection (GeoJSON)",
            response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def items(collection_id: str, request: Request, conn: Conn) -> Response:
    coll = _visible_one(request, conn, collection_id)
    try:
        q = _parse_items(coll, request)
        matched, returned, features = ogc.items(conn, coll, q)
    except InvalidInput as exc:
        return _bad_request(exc)
    url = request.url
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
def feature(collection_id: str, feature_id: str, request: Request, conn: Conn,
            crs: str | None = None) -> Response:
    coll = _visible_one(request, conn, collection_id)
    try:
        out = ogc.parse_crs(crs, "crs")
    except InvalidInput as exc:
        return _bad_request(exc)
    text = ogc.item(conn, coll, feature_id, out)
    links = [{"href": str(request.url), "rel": "self", "type": GEOJSON},
             {"href": f"{_base(request)}/collections/{coll.id}", "rel": "collection", "type": JSON}]
    body = text[:-1] + f',"links":{json.dumps(links)}}}'
    return Response(body, media_type=GEOJSON, headers={"Content-Crs": f"<{out.uri}>"})


@router.get("/api", summary="OpenAPI 3.0 definition of the OGC API", response_class=Response)
def openapi(request: Request, conn: Conn) -> Response:
    doc = openapi_document(_base(request), _visible(request, conn))
    return Response(json.dumps(doc, ensure_ascii=False), media_type=OPENAPI)


def _param(name: str, description: str, schema: dict[str, Any], style: str | None = None) -> dict[str, Any]:
    p: dict[str, Any] = {"name": name, "in": "query", "required": False, "description": description,
                         "schema": schema}
    if style:
        p |= {"style": style, "explode": False}
    return p


def openapi_document(base: str, colls: list[ogc.Collection]) -> dict[str, Any]:
    """The OGC API as OpenAPI 3.0: each collection's items path lists its queryables as parameters,
    which is what makes GDAL forward an attribute filter to the server."""
    crs_enum = {"type": "string", "enum": [c.uri for c in ogc.SUPPORTED_CRS]}
    standard = [
        _param("limit", "Number of features per page (default 100, at most 10000)",
               {"type": "integer", "minimum": 1, "maximum": ogc.MAX_LIMIT, "default": ogc.DEFAULT_LIMIT}),
        _param("offset", "Features to skip (paging)", {"type": "integer", "minimum": 0, "default": 0}),
        _param("bbox", "minx,miny,maxx,maxy in bbox-crs (default CRS84: lon,lat)",
               {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}, style="form"),
        _param("bbox-crs", "CRS of bbox", crs_enum),
        _param("crs", "CRS of the response geometries", crs_enum),
        _param("datetime", "Accepted for conformance; the collections have no temporal extent",
               {"type": "string"}),
        _param("filter", "CQL2-text filter on the queryables", {"type": "string"}),
        _param("filter-lang", "Filter language", {"type": "string", "enum": ["cql2-text"]}),
        _param("filter-crs", "CRS of geometries in the filter", crs_enum),
    ]
    error = {"description": "Bad request", "content": {JSON: {"schema": {"type": "object"}}}}
    paths: dict[str, Any] = {
        "/": {"get": {"summary": "Landing page", "operationId": "getLandingPage",
                      "responses": {"200": {"description": "Links to the API, conformance and data"}}}},
        "/conformance": {"get": {"summary": "Conformance classes", "operationId": "getConformance",
                                 "responses": {"200": {"description": "conformsTo"}}}},
        "/collections": {"get": {"summary": "Collections", "operationId": "getCollections",
                                 "responses": {"200": {"description": "The collections"}}}},
    }
    for c in colls:
        props = [_param(p.name, f"Features whose {p.name} equals this value", _schema(p))
                 for p in c.queryable_properties()]
        paths[f"/collections/{c.id}"] = {"get": {
            "summary": c.title, "operationId": f"describe_{c.id}",
            "responses": {"200": {"description": "The collection"}, "404": {"description": "Not found"}}}}
        paths[f"/collections/{c.id}/items"] = {"get": {
            "summary": f"{c.title}: features", "operationId": f"getFeatures_{c.id}",
            "parameters": standard + props,
            "responses": {"200": {"description": "GeoJSON FeatureCollection",
                                  "content": {GEOJSON: {"schema": {"type": "object"}}}},
                          "400": error}}}
        paths[f"/collections/{c.id}/items/{{featureId}}"] = {"get": {
            "summary": f"{c.title}: one feature", "operationId": f"getFeature_{c.id}",
            "parameters": [{"name": "featureId", "in": "path", "required": True,
                            "schema": {"type": "string"}},
                           _param("crs", "CRS of the response geometry", crs_enum)],
            "responses": {"200": {"description": "GeoJSON Feature", "content": {GEOJSON: {}}},
                          "404": {"description": "Not found"}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "gridmap OGC API - Features", "version": "1.0.0",
                 "description": "Grid management layers (网格化管理) as OGC API - Features."},
        "servers": [{"url": base}],
        "paths": paths,
    }
