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

from gis.errors import Conflict, GridmapError, InvalidInput, NotFound

log = logging.getLogger("gridmap.api")

STATUS: dict[type[Exception], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
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
    if isinstance(exc, psycopg.OperationalError):
        log.error("database unavailable: %s", exc)
        return JSONResponse(error_body("database unavailable, try again"), status_code=503)
    log.exception("database error", exc_info=exc)
    return JSONResponse(error_body("internal error"), status_code=500)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return JSONResponse(error_body("internal error"), status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(GridmapError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(psycopg.Error, _database)
    app.add_exception_handler(Exception, _unexpected)
