"""Refuse a request body before reading it, when the request will be refused anyway.

FastAPI reads (and for a multipart upload, spools to disk) the whole body before any dependency
runs, so an anonymous 50 MB upload used to be received in full only to get its 401. This ASGI
middleware runs first: a request with a body to a route that is not public (api/policy.py) must
declare its length, stay under the upload limit, and carry a bearer token or a login cookie (the
workbench's forms) that authenticates, or it is answered at once, its body never read. The full
policy check still runs later (api/security.py, which also wants the CSRF token beside the cookie):
this only decides who may make the server read a body at all.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_body
from api.policy import POLICY
from api.security import TOKEN_COOKIE
from gis.access import accounts

MULTIPART_SLACK = 1024 * 1024  # the multipart envelope around an upload of the largest allowed size


class UploadGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(headers := Headers(scope=scope)) or _public(scope):
            await self.app(scope, receive, send)
            return
        refusal = await self._refusal(scope, headers)
        if refusal is not None:
            refusal.headers["Connection"] = "close"  # the unread body must not become the next request
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _refusal(self, scope: Scope, headers: Headers) -> JSONResponse | None:
        settings = scope["app"].state.settings
        length = headers.get("content-length")
        if length is None or not length.isdigit():
            return JSONResponse(error_body("a request body needs a Content-Length"), status_code=411)
        limit_mb = settings.max_upload_mb
        if int(length) > limit_mb * 1024 * 1024 + MULTIPART_SLACK:
            return JSONResponse(error_body(f"the upload is larger than the limit of {limit_mb} MB "
                                           "(GRIDMAP_MAX_UPLOAD_MB)"), status_code=413)
        token = _presented(headers)
        if token is None or not await run_in_threadpool(_authenticates, scope["app"], token):
            return JSONResponse(error_body("not authenticated: sign in at POST /auth/token"),
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return None


def _presented(headers: Headers) -> str | None:
    """The bearer token, else (no Authorization header at all) the login cookie."""
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None
    # parsed as Request.cookies parses it, so both see the same token
    return cookie_parser(headers.get("cookie", "")).get(TOKEN_COOKIE) or None


def _has_body(headers: Headers) -> bool:
    length = headers.get("content-length")
    return (length is not None and length != "0") or "transfer-encoding" in headers


@functools.cache
def _templates() -> dict[str, list[tuple[re.Pattern[str], bool]]]:
    """Per method, each policy template as a regex (Starlette's own path compiler) and whether the
    route is public."""
    by_method: dict[str, list[tuple[re.Pattern[str], bool]]] = {}
    for (method, template), rule in POLICY.items():
        by_method.setdefault(method, []).append((compile_path(template)[0], rule.public))
    return by_method


def _public(scope: Scope) -> bool:
    """Whether the request goes to a public route (the sign-in), or to none the policy knows (the
    router answers 404/405, or api/security.py refuses it, with no body of interest)."""
    matching = [public for pattern, public in _templates().get(scope["method"], [])
                if pattern.match(scope["path"])]
    return not matching or all(matching)


def _authenticates(app: Any, token: str) -> bool:
    """Whether the token belongs to a live account: the same lookup api.security makes, one short
    transaction of its own."""
    with app.state.pool.connection() as conn, conn.transaction():
        accounts.act_as(conn, None)
        return accounts.authenticate(conn, token, app.state.settings.secret_key) is not None
