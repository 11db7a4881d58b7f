"""The security headers of every response: a Content-Security-Policy with the request's script
nonce, nosniff, no framing (the maps: by our own pages only), no referrer, and no caching unless the
response is a public asset.

The policy runs only the scripts the service writes itself: each map page's scripts carry the
nonce made here for the request (``Nonce`` hands it to the route, layers/shell.py writes it), so a
script that a name from the database smuggled into a page would not run even if its escaping
failed. Styles stay inline-capable (Leaflet and the popups set them); plugins, <base>, framing by
other sites and form posts elsewhere are refused. Nothing is loaded from another origin but the
basemap's tiles: the API viewers' assets are local too.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis.settings import Settings
from layers.assets import STATIC_PREFIX
from layers.shell import basemap_origins

NONCE_STATE = "csp_nonce"
# Public files that hold no data: browsers may cache them. Everything else the service answers
# (register, maps, exports, OGC items, audit, the sign-in form) is kept out of every cache.
PUBLIC_PREFIXES = (f"{STATIC_PREFIX}/",)
# The API viewers (Swagger UI, ReDoc): fixed pages (no stored data) written by FastAPI from the app's
# configuration, with their scripts and styles served from /static/docs (api/workbench/docs.py).
DOCS_PAGES = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
# The maps may be framed by the service's own pages (the grid worker's home page shows her grid's map
# beside her lists); every other response by no page at all.
FRAMED_BY_SELF = ("/maps/",)


def content_security_policy(nonce: str, images: list[str], docs: bool = False, framed: bool = False) -> str:
    """The policy for one response; ``images`` are the basemap's tile origins. The API viewers differ
    in one point only: ReDoc runs its search index in a worker it makes from a blob. ``framed``: our
    own pages may frame it (a map)."""
    return "; ".join([
        "default-src 'self'",
        f"script-src 'nonce-{nonce}'",
        "style-src 'self' 'unsafe-inline'",
        " ".join(["img-src 'self' data:", *images]),
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:" if docs else "worker-src 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'self'" if framed else "frame-ancestors 'none'",
        "form-action 'self'",
    ])


class SecurityHeaders:
    """ASGI middleware: makes the request's nonce (``request.state.csp_nonce``) and sets the headers
    on its response. Headers a route sets itself (a tile's Cache-Control) are kept."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.images = basemap_origins(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})[NONCE_STATE] = nonce
        path: str = scope["path"]
        docs = path in DOCS_PAGES
        framed = path.startswith(FRAMED_BY_SELF)
        policy = content_security_policy(nonce, self.images, docs, framed)
        public = path.startswith(PUBLIC_PREFIXES)

        def with_headers(message: Message) -> Message:
            headers = MutableHeaders(scope=message)
            headers["Content-Security-Policy"] = policy
            headers["X-Content-Type-Options"] = "nosniff"
            headers["X-Frame-Options"] = "SAMEORIGIN" if framed else "DENY"
            headers["Referrer-Policy"] = "no-referrer"
            if not public and "cache-control" not in headers:
                headers["Cache-Control"] = "no-store"
            return message

        if not docs:
            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message = with_headers(message)
                await send(message)

            await self.app(scope, receive, send_with_headers)
            return

        # The API viewers' own inline scripts get the nonce: FastAPI writes these pages from the
        # app's configuration alone, so every <script> in them is FastAPI's.
        start: Message | None = None
        body = bytearray()

        async def send_docs(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body", False):
                return
            assert start is not None
            page = bytes(body).replace(b"<script", f'<script nonce="{nonce}"'.encode())
            MutableHeaders(scope=start)["Content-Length"] = str(len(page))
            await send(with_headers(start))
            await send({"type": "http.response.body", "body": page, "more_body": False})

        await self.app(scope, receive, send_docs)


def csp_nonce(request: Request) -> str | None:
    """The nonce of this response's Content-Security-Policy, for the scripts a page writes (None when
    the app runs without SecurityHeaders: the page then carries a policy of its own)."""
    nonce = getattr(request.state, NONCE_STATE, None)
    return nonce if isinstance(nonce, str) else None


Nonce = Annotated[str | None, Depends(csp_nonce)]
