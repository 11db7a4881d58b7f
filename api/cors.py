"""What browsers and GIS clients need of HTTP around the routes: CORS answers and HEAD.

CORS is off unless GRIDMAP_CORS_ORIGINS names origins: a browser page on another host (a web map
reading /ogc) then gets the Access-Control-* headers. Credentials (cookies) are not offered across
origins: such a page signs in with a bearer token in the Authorization header.

HEAD is a GET without its body (RFC 9110 9.3.2). The OGC routes are GET operations in the access
policy (api/policy.py); answering HEAD here, by running the GET and dropping the body, keeps one
decision per route and the same status, headers and Content-Length.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis.settings import Settings

HEAD_PREFIXES = ("/ogc", "/tiles")
# Headers a cross-origin script may read: the CRS of the features, the paging links and totals.
EXPOSED = ["Content-Crs", "Link", "Content-Length", "X-Total-Count"]


def install_cors(app: FastAPI, settings: Settings) -> None:
    """CORS headers for the configured origins (none: nothing is installed), and HEAD on the OGC
    routes. Call once, after the routes and other middleware, so that it runs first."""
    app.add_middleware(HeadAsGet, prefixes=HEAD_PREFIXES)
    if not settings.cors_origins:
        return
    app.add_middleware(
        CORSMiddleware, allow_origins=list(settings.cors_origins), allow_credentials=False,
        allow_methods=["GET", "HEAD", "OPTIONS"], allow_headers=["Authorization", "Accept", "Content-Type"],
        expose_headers=EXPOSED, max_age=600,
    )


class HeadAsGet:
    """Serve HEAD under these path prefixes as the GET it stands for, without the body."""

    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...]) -> None:
        self.app, self.prefixes = app, prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        head = scope["type"] == "http" and scope["method"] == "HEAD"
        if not head or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(dict(scope, method="GET"), receive, headers_only)
