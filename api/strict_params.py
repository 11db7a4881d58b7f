"""Unknown query parameters answer 400, as in the OGC API: `/persons?tag=key_person` is a mistake
(there is no such filter), and answering all 50,000 persons as if it had been applied is silently wrong.

An app-wide dependency that runs after the access policy (so a caller who may not use the route still
gets 401/403, and the refusal is audited) and before the route's own parameters and endpoint: it
compares the request's parameter names with those the matched route declares, read from its FastAPI
dependant (its dependencies included) and the app-wide dependencies. Routes under /ogc parse their
own parameters and keep their own 400 (queryables are parameters there).
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from api.errors import error_body

OWN_QUERY_PARSING = ("/ogc",)  # these routes read request.query_params themselves
_APP_DECLARED = "strict_params_app_declared"  # app.state: the names app-wide dependencies declare


class UnknownQueryParameters(Exception):
    """Query parameters the route does not declare, and the ones it does (for the answer)."""

    def __init__(self, unknown: list[str], declared: frozenset[str]) -> None:
        super().__init__(", ".join(unknown))
        self.unknown, self.declared = unknown, declared


def declared_query(dependant: Dependant) -> frozenset[str]:
    """The query parameter names a dependant accepts, its sub-dependencies' included, as sent (aliases)."""
    names: set[str] = set()
    stack = [dependant]
    while stack:
        d = stack.pop()
        for field in d.query_params:
            annotation: Any = field.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                # Annotated[Model, Query()]: the model's fields are the parameters
                names.update(f.alias or n for n, f in annotation.model_fields.items())
            else:
                names.add(field.alias)
        stack.extend(d.dependencies)
    return frozenset(names)


def _route_declared(route: APIRoute, app_declared: frozenset[str]) -> frozenset[str]:
    cached: frozenset[str] | None = getattr(route, "_strict_query", None)
    if cached is None:
        cached = declared_query(route.dependant) | app_declared
        route._strict_query = cached  # type: ignore[attr-defined]  # per route, computed once
    return cached


def refuse_unknown_query(request: Request) -> None:
    """The app-wide dependency: raise UnknownQueryParameters for a name the route does not declare."""
    route = request.scope.get("route")
    if not request.url.query or not isinstance(route, APIRoute) or route.path.startswith(OWN_QUERY_PARSING):
        return
    declared = _route_declared(route, getattr(request.app.state, _APP_DECLARED, frozenset()))
    unknown = sorted({name for name in request.query_params if name not in declared})
    if unknown:
        raise UnknownQueryParameters(unknown, declared)


def _answer(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnknownQueryParameters)
    accepted = ", ".join(sorted(exc.declared)) or "no query parameters"
    return JSONResponse(error_body(
        f"unknown query parameter{'s' if len(exc.unknown) > 1 else ''}: {', '.join(exc.unknown)}",
        [{"row": None, "field": name, "reason": f"unknown query parameter; this route accepts {accepted}"}
         for name in exc.unknown]), status_code=400)


def install(app: FastAPI) -> None:
    """Refuse unknown query parameters on every route of ``app`` except /ogc.

    Call it in create_app right after FastAPI(...) and before any include_router: FastAPI copies the
    app-wide dependencies into each route when it is included. Added after the app's own
    dependencies (the access policy), so those run first.
    """
    if any(d.dependency is refuse_unknown_query for d in app.router.dependencies):
        return  # installed already
    if any(isinstance(r, APIRoute) for r in app.routes) or any(
            type(r).__name__ == "_IncludedRouter" for r in app.routes):
        raise RuntimeError("strict_params.install(app) must come before the routers are included")
    app_declared: set[str] = set()
    for depends in app.router.dependencies:
        if depends.dependency is not None:
            app_declared |= declared_query(get_dependant(path="", call=depends.dependency))
    setattr(app.state, _APP_DECLARED, frozenset(app_declared))
    app.router.dependencies.append(Depends(refuse_unknown_query))
    app.add_exception_handler(UnknownQueryParameters, _answer)
