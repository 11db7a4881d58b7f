"""How a workbench page shares an address with the JSON API: a route class that matches only a
browser's page request (PageRoute) or only a form post (FormRoute); every other request goes on to
the API's route at the same method and path."""

from __future__ import annotations

from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.routing import Match
from starlette.types import Scope

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class PageRoute(APIRoute):
    """A route that matches a browser's page request only (Accept names text/html): the API's JSON
    route at the same path answers everyone else."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and "text/html" not in Headers(scope=scope).get("accept", ""):
            return Match.NONE, {}
        return super().matches(scope)


class FormRoute(APIRoute):
    """A route that matches a form post only (form-encoded or multipart): the API's JSON route at the
    same method and path answers everyone else."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        kind = Headers(scope=scope).get("content-type", "") if scope["type"] == "http" else ""
        if not kind.startswith(FORM_TYPES):
            return Match.NONE, {}
        return super().matches(scope)
