"""The OGC API - Features as an OpenAPI 3.0 document (served at /ogc/api), built from the collections."""

from __future__ import annotations

from typing import Any

from gis.ogc.collections import Collection, Property
from gis.ogc.items import DEFAULT_LIMIT, MAX_LIMIT, SUPPORTED_CRS

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


def property_schema(p: Property) -> dict[str, Any]:
    """A property as JSON Schema, for the queryables and the items parameters."""
    if p.type == "date":
        return {"type": "string", "format": "date", "title": p.title or p.name}
    return {"type": p.type, "title": p.title or p.name}


def _param(name: str, description: str, schema: dict[str, Any], style: str | None = None) -> dict[str, Any]:
    p: dict[str, Any] = {"name": name, "in": "query", "required": False, "description": description,
                         "schema": schema}
    if style:
        p |= {"style": style, "explode": False}
    return p


def openapi_document(base: str, colls: list[Collection]) -> dict[str, Any]:
    """The OGC API as OpenAPI 3.0: each collection's items path lists its queryables as parameters,
    which is what makes GDAL forward an attribute filter to the server."""
    crs_enum = {"type": "string", "enum": [c.uri for c in SUPPORTED_CRS]}
    standard = [
        _param("limit", "Number of features per page (default 100, at most 10000)",
               {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}),
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
        props = [_param(p.name, f"Features whose {p.name} equals this value", property_schema(p))
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
