"""One table from domain errors to HTTP status codes, and one error shape for every 4xx/5xx.

Body: {"detail": "summary", "errors": [{"row": n|null, "field": "...", "reason": "..."}]}.
A 5xx body never carries the exception text: it would leak the database's internals.
"""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis.errors import Conflict, GridmapError, InvalidInput, NotFound, TooLarge

log = logging.getLogger("gridmap.api")

STATUS: dict[type[Exception], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    TooLarge: 413,
    GridmapError: 400,
}


def error_body(detail: str, errors: list[dict] | None = None) -> dict:
    return {"detail": detail, "errors": errors or []}


def _domain(request: Request, exc: Exception) -> JSONResponse:
    status = next(code for cls, code in STATUS.items() if isinstance(exc, cls))
    errors = []
    if isinstance(exc, InvalidInput):
        errors = [{"row": p.row, "field": p.field, "reason": p.reason} for p in exc.problems]
    return JSONResponse(error_body(str(exc), errors), status_code=status)


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"row": None, "field": ".".join(str(x) for x in e["loc"] if x not in ("body", "query", "path")),
         "reason": e["msg"]}
        for e in exc.errors()
    ]
    return JSONResponse(error_body("invalid request", errors), status_code=422)


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(error_body(str(exc.detail)), status_code=exc.status_code, headers=exc.headers)


def _database(request: Request, exc: Exception) -> JSONResponse:
    # Constraint violations that slipped past validation are still the caller's fault.
    if isinstance(exc, psycopg.errors.IntegrityError | psycopg.errors.DataError):
        diag = exc.diag
        field = diag.column_name or diag.constraint_name or "body"
        status = 409 if isinstance(exc, psycopg.errors.UniqueViolation) else 422
        return JSONResponse(error_body("rejected by a database constraint",
                                       [{"row": None, "field": field, "reason": diag.message_primary or ""}]),
                            status_code=status)
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        log.warning("refused by the database: %s", exc)  # a missing grant shows here, not as a 500
        # Row-level security refused a row outside the caller's grids (or the service role lacks a right).
        return JSONResponse(error_body("not permitted: outside your scope",
                                       [{"row": None, "field": "body", "reason": "outside your grids"}]),
                            status_code=403)
    if isinstance(exc, psycopg.OperationalError):
        log.error("database unavailable: %s", exc)
        return JSONResponse(error_body("database unavailable, try again"), status_code=503)
    log.exception("database error", exc_info=exc)
    return JSONResponse(error_body("internal error"), status_code=500)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return JSONResponse(error_body("internal error"), status_code=500)


# The error shape as JSON Schema, for the OpenAPI document: FastAPI documents its own 422 body
# ({"detail": [...]}) by default, which is not what _validation sends.
ERROR_SCHEMA: dict = {
    "title": "Error", "type": "object", "required": ["detail", "errors"],
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["row", "field", "reason"],
            "properties": {"row": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                           "field": {"type": "string"}, "reason": {"type": "string"}}}},
    },
}


# Documented on every route (create_app adds them when it includes the routers), so that clients and
# the schemathesis run know the statuses an operation may answer besides its own.
ERROR_RESPONSES: dict[int | str, dict] = {
    code: {"description": description, "content": {"application/json": {"schema": ERROR_SCHEMA}}}
    for code, description in [(400, "Bad request"), (401, "Not signed in (or the token expired or revoked)"),
                              (403, "Not allowed for your roles or scope"), (404, "Not found (or not yours)"),
                              (409, "Conflicts with the stored state (e.g. an edit of a stale version)"),
                              (413, "Upload too large"), (503, "Database unavailable, try again")]
}


def _document_error_shape(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = generate()
            schemas = schema.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = ERROR_SCHEMA
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    _document_error_shape(app)
    app.add_exception_handler(GridmapError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(psycopg.Error, _database)
    app.add_exception_handler(Exception, _unexpected)
