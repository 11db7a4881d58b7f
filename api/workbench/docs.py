"""The API viewers, Swagger UI at /docs and ReDoc at /redoc, with their assets served from this host.

FastAPI's own viewers load Swagger UI and ReDoc from a CDN: on a street office's network without
internet they stay blank. The files come from the fastapi-offline package (Swagger UI's bundle and
stylesheet, ReDoc's standalone build) and are served under /static/docs; api/headers.py gives the
pages' inline scripts the request's nonce. The routes are plain Starlette routes (no data, public:
api/policy.py PUBLIC_PATHS).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

from layers.assets import STATIC_PREFIX

DOCS_ASSETS = Path(str(files("fastapi_offline") / "static"))
DOCS_STATIC = f"{STATIC_PREFIX}/docs"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"


def install_docs(app: FastAPI) -> None:
    """Mount the viewers' assets and add /docs, its OAuth2 redirect page and /redoc to ``app``
    (created with ``docs_url=None, redoc_url=None``)."""
    app.mount(DOCS_STATIC, StaticFiles(directory=DOCS_ASSETS), name="static-docs")
    title = app.title

    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{title} API",
            swagger_js_url=f"{DOCS_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_STATIC}/favicon.png", oauth2_redirect_url=OAUTH2_REDIRECT)

    async def oauth2_redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{title} API",
                              redoc_js_url=f"{DOCS_STATIC}/redoc.standalone.js",
                              redoc_favicon_url=f"{DOCS_STATIC}/favicon.png", with_google_fonts=False)

    app.add_route("/docs", swagger_ui, include_in_schema=False)
    app.add_route(OAUTH2_REDIRECT, oauth2_redirect, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
